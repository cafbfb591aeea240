"""Rendering the Helm chart offline (helm-python-sdk binds Helm's Go SDK; no helm binary, no cluster)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "portico"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
NAMESPACE = "portico-system"
RELEASE = "portico"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest the validator knows.
KUBE_VERSIONS = ("1.28.0", "1.37.0")


def values_of(path: Path | None) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) if path is not None else {}


def render(values: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every object the chart renders (templates only; CRDs are read from crds/ separately)."""
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        objects += [doc for doc in yaml.safe_load_all(text) if doc]
    return objects


def notes(values: Mapping[str, Any] | None = None) -> str:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
    return next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))


def only(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of every CRD the chart ships."""
    out = {}
    for path in sorted((CHART / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            out[(api_version, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return out


def closed_schema(openapi: Mapping[str, Any]) -> dict[str, Any]:
    """A CRD schema as JSON Schema with unknown fields rejected (the API server would prune them)."""
    generate = load_script("generate")
    schema: dict[str, Any] = generate.to_json_schema(openapi)
    # Every object has these whether or not its CRD lists them.
    implicit = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    schema["properties"] = {**implicit, **schema.get("properties", {})}
    return schema


def load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"portico_scripts_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
