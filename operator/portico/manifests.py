"""Reading Kubernetes manifests from YAML/JSON files, directories, pipes and stdin (the CLI's input).

Every problem is a `ManifestError` whose text is `file:line: message`; line 0 means the file as a
whole (missing, unreadable, not a file). Objects are checked the way the API server would check
them before storing: a mapping with kind, apiVersion and a valid metadata.name/namespace.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

from portico import yamltree
from portico.names import name_problem, namespace_problem

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
MERGE_TAG = "tag:yaml.org,2002:merge"


class ManifestError(Exception):
    """Unreadable input, with `file:line: message` as its text."""


class SyntaxProblem(ManifestError):
    """The text is not YAML (as opposed to YAML that is not a valid object)."""


class DuplicateKey(yaml.constructor.ConstructorError):
    """A key twice in one mapping: PyYAML keeps the last silently, kubectl refuses the file."""


def _first_duplicate(entries: list[tuple[Node, Node]]) -> tuple[Node, Node] | None:
    """The second occurrence of a key and the first, among a mapping's own entries (not `<<` merges,
    whose keys the mapping's own keys override on purpose)."""
    first: dict[tuple[str, object], Node] = {}
    for key, _ in entries:
        if key.tag == MERGE_TAG or not isinstance(key, ScalarNode):
            continue
        earlier = first.setdefault((key.tag, key.value), key)
        if earlier is not key:
            return key, earlier
    return None


def _refuse_duplicate(entries: list[tuple[Node, Node]]) -> None:
    if (found := _first_duplicate(entries)) is not None:
        key, earlier = found
        raise DuplicateKey(
            None,
            None,
            f"duplicate key {key.value!r} in one mapping (first at line {earlier.start_mark.line + 1})",
            key.start_mark,
        )


def _construct_unique_mapping(self: SafeConstructor, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
    own = list(node.value)
    mapping: dict[Any, Any] = SafeConstructor.construct_mapping(self, node, deep=deep)
    # Fewer keys than entries is the only sign of a duplicate (or of a merge): the check costs
    # nothing on the common path, which keeps the C loader's speed on large files.
    if len(mapping) < len(node.value):
        _refuse_duplicate(own)
    return mapping


def _construct(loader: yaml.SafeLoader, node: Node) -> Any:
    """The document's data: built directly when it is plain data, else by PyYAML's constructor."""
    try:
        return yamltree.build(loader, node, lambda mapping: _refuse_duplicate(mapping.value))
    except (yamltree.Unsupported, RecursionError):
        return loader.construct_document(node)


# libyaml composes nodes in C; only construction (node -> dict) is Python. ~7x the pure loader.
SafeLoader: type[yaml.SafeLoader] = type(
    "UniqueKeysLoader",
    (getattr(yaml, "CSafeLoader", yaml.SafeLoader),),
    {"construct_mapping": _construct_unique_mapping, "resolve": yamltree.resolve},
)
PureSafeLoader: type[yaml.SafeLoader] = type(
    "PureUniqueKeysLoader",
    (yaml.SafeLoader,),
    {"construct_mapping": _construct_unique_mapping, "resolve": yamltree.resolve},
)


@dataclass(frozen=True)
class Manifest:
    source: str
    line: int
    obj: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def _kind_of(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Regular files and pipes (`-f <(kubectl get ...)`) in argument order, each once; directories recursively."""
    seen: set[Path] = set()
    for path in _candidates(paths):
        resolved = path.resolve() if str(path) != STDIN else path
        if resolved not in seen:
            seen.add(resolved)
            yield path


def _candidates(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if str(raw) == STDIN:
            yield path
            continue
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ManifestError(f"{path}:0: no such file or directory") from None
        except OSError as error:
            raise ManifestError(f"{path}:0: {error.strerror or error}") from error
        if stat.S_ISDIR(mode):
            yield from sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
            yield path
        else:
            raise ManifestError(f"{path}:0: {_kind_of(mode)}, not a YAML/JSON file, pipe or directory")


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, source: str) -> str:
    """UTF-8 text, or a ManifestError naming the line of the first byte that is not."""
    if data.startswith(UTF16_32_BOMS):
        raise ManifestError(f"{source}:1: not a UTF-8 YAML/JSON file (it starts with a UTF-16/32 byte order mark)")
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start if nul < 0 else min(nul, error.start)
        byte = data[offset : offset + 1].hex()
        raise ManifestError(
            f"{source}:{_line_at(data, offset)}: not a UTF-8 YAML/JSON file (byte 0x{byte} at offset {offset})"
        ) from None
    if nul >= 0:
        raise ManifestError(f"{source}:{_line_at(data, nul)}: not a UTF-8 YAML/JSON file (NUL byte at offset {nul})")
    return text.removeprefix("\ufeff")


def _check_object(obj: dict[str, Any], where: str) -> None:
    for key in ("apiVersion", "kind"):
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            shown = "missing" if value is None else f"a {type(value).__name__}, not a non-empty string"
            raise ManifestError(f"{where}: {key}: {shown}")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        shown = "missing" if meta is None else f"a {type(meta).__name__}, not a mapping"
        raise ManifestError(f"{where}: metadata: {shown}")
    problem = name_problem(obj["kind"], meta.get("name"))
    if problem is not None:
        raise ManifestError(f"{where}: metadata.name: {problem}")
    if meta.get("namespace") is not None:
        problem = namespace_problem(meta["namespace"])
        if problem is not None:
            raise ManifestError(f"{where}: metadata.namespace: {problem}")


def _expand(obj: Any, source: str, line: int) -> Iterator[Manifest]:
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise ManifestError(f"{source}:{line}: expected a Kubernetes object (a mapping), got {type(obj).__name__}")
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in obj:
        items = obj.get("items") or []
        if not isinstance(items, list):
            raise ManifestError(f"{source}:{line}: items: a {type(items).__name__}, not a list")
        for item in items:
            yield from _expand(item, source, line)
        return
    _check_object(obj, f"{source}:{line}")
    yield Manifest(source, line, obj)


def _read_json(text: str, source: str) -> list[Manifest]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{source}:{error.lineno}: {error.msg}") from error
    except RecursionError:
        raise ManifestError(f"{source}:1: nested too deeply to be a Kubernetes object") from None
    return list(_expand(data, source, 1))


def _read_yaml(text: str, source: str, loader_class: type[yaml.SafeLoader]) -> list[Manifest]:
    out: list[Manifest] = []
    line = 1
    try:
        loader = loader_class(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                line = node.start_mark.line + 1
                out.extend(_expand(_construct(loader, node), source, line))
        finally:
            loader.dispose()
    except DuplicateKey as error:
        assert error.problem_mark is not None
        raise ManifestError(f"{source}:{error.problem_mark.line + 1}: {error.problem}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
        where = min(mark.line + 1, max(last_line, 1)) if mark is not None else line
        raise SyntaxProblem(f"{source}:{where}: {error.problem or error}") from error
    except yaml.YAMLError as error:
        raise SyntaxProblem(f"{source}:{line}: {error}") from error
    except RecursionError:
        raise ManifestError(f"{source}:{line}: nested too deeply to be a Kubernetes object") from None
    return out


def read_text(text: str, source: str) -> list[Manifest]:
    if source.endswith(".json"):
        return _read_json(text, source)
    try:
        return _read_yaml(text, source, SafeLoader)
    except SyntaxProblem:
        if not hasattr(yaml, "CSafeLoader"):
            raise
    # libyaml follows YAML 1.1 in places where PyYAML's own scanner accepts more (`{a:, b:}`);
    # what read before still reads, and errors are the pure loader's.
    return _read_yaml(text, source, PureSafeLoader)


def _read_bytes(path: Path, stdin: BinaryIO | None) -> bytes:
    if str(path) == STDIN:
        return (stdin or sys.stdin.buffer).read()
    try:
        with path.open("rb") as handle:
            return handle.read()
    except OSError as error:
        raise ManifestError(f"{path}:0: {error.strerror or error}") from error


def load_manifests(paths: Iterable[str | Path], stdin: BinaryIO | None = None) -> list[Manifest]:
    """Every object in the files and directories, in a stable order; `-` is standard input."""
    out: list[Manifest] = []
    for path in _files(paths):
        source = "<stdin>" if str(path) == STDIN else str(path)
        out.extend(read_text(decode(_read_bytes(path, stdin), source), source))
    return out
