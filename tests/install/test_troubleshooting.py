"""docs/troubleshooting.md explains every (condition type, reason) Portico can write."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from portico.handlers import prerequisites
from tests.install.chart import ROOT

DOC = ROOT / "docs" / "troubleshooting.md"
# Condition constructors and the position of their `reason` argument.
CONSTRUCTORS = {"true": 1, "false": 1, "unknown": 1, "condition": 2}


def documented() -> set[tuple[str, str]]:
    pairs = set()
    condition = ""
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^### `(\w+)`$", line)
        if heading:
            condition = heading.group(1)
        row = re.match(r"^\| `(\w+)` \| (True|False) \|", line)
        if row and condition:
            pairs.add((condition, row.group(1)))
    return pairs


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def from_code() -> Iterator[tuple[str, str, str]]:
    """(type, reason, file) of every condition built with literal arguments in Portico's code."""
    for path in sorted((ROOT / "operator" / "portico").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            position = CONSTRUCTORS.get(name)
            if position is None or not node.args:
                continue
            type_ = _literal(node.args[0])
            if type_ is None:
                continue
            if len(node.args) > position:
                reason = _literal(node.args[position])
            else:  # true("Accepted") defaults its reason to the type
                reason = type_ if name == "true" and not node.keywords else None
            if reason is not None:
                yield type_, reason, str(path.relative_to(ROOT))


def _conditions(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if {"type", "status", "reason"} <= node.keys():
            yield node["type"], node["reason"]
        for value in node.values():
            yield from _conditions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _conditions(value)


def from_golden() -> Iterator[tuple[str, str, str]]:
    for path in sorted((ROOT / "tests" / "golden").rglob("*.out.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            for type_, reason in _conditions(document):
                yield type_, reason, str(path.relative_to(ROOT))


def from_translation_doc() -> Iterator[tuple[str, str, str]]:
    """The reasons table of docs/translation.md: | Object | `Type` | `Reason`; ... |."""
    for line in (ROOT / "docs" / "translation.md").read_text().splitlines():
        row = re.match(r"^\| [\w ]+ \| `(\w+)` \| (.*) \|$", line)
        if row:
            for reason in re.findall(r"`(\w+)`", row.group(2)):
                yield row.group(1), reason, "docs/translation.md"


def test_every_reason_is_explained() -> None:
    known = documented()
    sources = [*from_code(), *from_golden(), *from_translation_doc()]
    assert len({(t, r) for t, r, _ in sources}) > 20
    missing = sorted({f"{t}/{r} (from {where})" for t, r, where in sources if (t, r) not in known})
    assert not missing, "docs/troubleshooting.md does not explain: " + ", ".join(missing)


def test_events_are_explained() -> None:
    text = DOC.read_text()
    assert f"| `{prerequisites.EVENT_REASON}` |" in text
    for path in sorted((ROOT / "operator" / "portico").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "post" and len(node.args) >= 3:
                reason = _literal(node.args[2])
                if reason is not None:
                    assert f"| `{reason}` |" in text, f"event {reason} ({Path(path).name}) is not explained"
