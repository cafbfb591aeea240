"""Reading Kubernetes manifests from YAML/JSON files and directories (the CLI's input)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """Unreadable input, with `file:line: message` as its text."""


@dataclass(frozen=True)
class Manifest:
    source: str
    line: int
    obj: dict[str, Any]


def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise ManifestError(f"{path}:0: no such file or directory")


def _expand(obj: Any, source: str, line: int) -> Iterator[Manifest]:
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise ManifestError(f"{source}:{line}: expected a Kubernetes object (a mapping), got {type(obj).__name__}")
    if obj.get("kind") == "List" or (str(obj.get("kind", "")).endswith("List") and "items" in obj):
        for item in obj.get("items") or []:
            yield from _expand(item, source, line)
        return
    if "kind" not in obj or "apiVersion" not in obj:
        raise ManifestError(f"{source}:{line}: object has no kind/apiVersion")
    yield Manifest(source, line, obj)


def read_text(text: str, source: str) -> list[Manifest]:
    out: list[Manifest] = []
    if source.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{source}:{error.lineno}: {error.msg}") from error
        return list(_expand(data, source, 1))
    try:
        loader = yaml.SafeLoader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                line = node.start_mark.line + 1
                out.extend(_expand(loader.construct_document(node), source, line))
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise ManifestError(f"{source}:{line}: {getattr(error, 'problem', None) or error}") from error
    return out


def load_manifests(paths: Iterable[str | Path]) -> list[Manifest]:
    """Every object in the files and directories, in a stable order."""
    out: list[Manifest] = []
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ManifestError(f"{path}:0: {error}") from error
        out.extend(read_text(text, str(path)))
    return out
