"""Property: a field set to null is the same as the field left out, for every object kind.

The API server prunes nulls before a controller reads an object, so Portico must answer exactly as it
does without them. Inputs are the golden translation cases; hypothesis picks where to put the null.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.api import build_snapshot
from portico.manifests import load_manifests
from portico.translate import translate

CASES = sorted((Path(__file__).parents[1] / "golden" / "translate").rglob("*.in.yaml"))
# Optional fields of the Gateway API and core objects; added as null where they are absent.
OPTIONAL_FIELDS = (
    "hostname",
    "hostnames",
    "sectionName",
    "namespace",
    "port",
    "group",
    "kind",
    "weight",
    "filters",
    "matches",
    "headers",
    "queryParams",
    "method",
    "path",
    "add",
    "set",
    "remove",
    "tls",
    "allowedRoutes",
    "kinds",
    "addresses",
    "infrastructure",
    "timeouts",
    "backendRefs",
    "parentRefs",
    "name",
    "labels",
    "annotations",
    "appProtocol",
    "percent",
    "fraction",
    "statusCode",
)


@cache
def case_objects(path: Path) -> tuple[dict[str, Any], ...]:
    return tuple(m.obj for m in load_manifests([path]))


def outcome(objects: list[dict[str, Any]]) -> tuple[Any, Any]:
    result = translate(build_snapshot(objects), now="2026-01-01T00:00:00Z")
    ir = {key: ir.to_dict() for key, ir in result.ir_by_gateway.items()}
    return result.statuses, ir


def mappings(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths of every mapping inside `node` (the object itself included)."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        found.append(path)
        for key, value in node.items():
            found += mappings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += mappings(value, (*path, index))
    return found


def at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_null_equals_absent(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES), label="case")
    objects = [copy.deepcopy(o) for o in case_objects(case)]
    index = data.draw(st.integers(0, len(objects) - 1), label="object")
    where = data.draw(st.sampled_from(mappings(objects[index])), label="mapping")
    target = at(objects[index], where)
    existing = sorted(k for k in target if target[k] is not None)
    if existing and data.draw(st.booleans(), label="null an existing field"):
        key = data.draw(st.sampled_from(existing), label="field")
        absent = copy.deepcopy(objects)
        del at(absent[index], where)[key]
        target[key] = None
        assert outcome(objects) == outcome(absent), f"{case.name}: {where}.{key}: null differs from absent"
    else:
        missing = [k for k in OPTIONAL_FIELDS if k not in target]
        if not missing:
            return
        key = data.draw(st.sampled_from(missing), label="field")
        before = outcome(objects)
        target[key] = None
        assert outcome(objects) == before, f"{case.name}: {where}.{key}: null changed the outcome"
