"""Portico's CRDs: valid, structural, documented, and the chart ships exactly the top-level ones."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.install.chart import CHART, KUBE_VERSIONS, ROOT
from tests.install.schemas import structural_violations

TOP_LEVEL = sorted((ROOT / "crds").glob("*.yaml"))


def test_chart_crds_equal_top_level_crds() -> None:
    chart = {p.name: p.read_bytes() for p in (CHART / "crds").iterdir()}
    top = {p.name: p.read_bytes() for p in TOP_LEVEL}
    assert chart == top, "charts/portico/crds/ differs from crds/: run `python scripts/generate.py`"


def _nodes(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from _nodes(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), Mapping):
            yield from _nodes(node[key], f"{path}[{key}]")


@pytest.mark.parametrize("path", TOP_LEVEL, ids=[p.name for p in TOP_LEVEL])
def test_crd_is_valid_and_structural(path: Path) -> None:
    crd = yaml.safe_load(path.read_text())
    for version in KUBE_VERSIONS:
        kubernetes_validate.validate(crd, version, strict=True)
    assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{crd['spec']['group']}"
    for served in crd["spec"]["versions"]:
        found = list(structural_violations(served["schema"]["openAPIV3Schema"]))
        assert not found, f"{path.name}: " + "\n".join(found)


@pytest.mark.parametrize(
    ("schema", "violation"),
    [
        ({"type": "object", "properties": {"a": {"description": "x"}}}, "openAPIV3Schema.a: no type"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "openAPIV3Schema.a: $ref is not allowed"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
            "openAPIV3Schema: properties and additionalProperties together",
        ),
        (
            {"type": "object", "additionalProperties": False},
            "openAPIV3Schema: additionalProperties false is not allowed",
        ),
        (
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "openAPIV3Schema: uniqueItems true is not allowed (use x-kubernetes-list-type: set)",
        ),
        (
            {"type": "string", "anyOf": [{"type": "string", "description": "x"}]},
            "openAPIV3Schema[junctor 0]: type inside allOf/anyOf/oneOf/not",
        ),
        (
            {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "boolean"}]},
            "openAPIV3Schema: int-or-string with anyOf other than integer, string",
        ),
        (
            {"type": "object", "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
            "openAPIV3Schema[additionalProperties]: no type",
        ),
    ],
)
def test_structural_check_notices(schema: dict[str, Any], violation: str) -> None:
    assert violation in list(structural_violations(schema))


def test_every_parameters_field_is_described() -> None:
    crd = yaml.safe_load((ROOT / "crds" / "portico.dev_gatewayparameters.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    for where, node in _nodes(spec, "spec"):
        if "[" not in where.rsplit(".", 1)[-1]:
            assert node.get("description"), f"{where} has no description"
