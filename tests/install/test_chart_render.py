"""The chart lints strictly and every object it renders is valid, for the defaults and each provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest

from tests.install.chart import (
    CHART,
    CI_VALUES,
    KUBE_VERSIONS,
    closed_schema,
    crd_schemas,
    of_kind,
    render,
    values_of,
)

VALUES_FILES = [None, *CI_VALUES]
IDS = ["defaults", *(p.name.removesuffix("-values.yaml") for p in CI_VALUES)]
# Kinds from CRDs the chart does not ship; checked by the assertions below instead.
FOREIGN_KINDS = {
    ("gateway.networking.k8s.io/v1", "GatewayClass"),  # Gateway API, installed first by the user
    ("monitoring.coreos.com/v1", "ServiceMonitor"),  # prometheus-operator, optional
}


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_lint_strict_finds_nothing(values_file: Path | None) -> None:
    report = helm.lint(CHART, values_of(values_file), strict=True, namespace="portico-system", kube_version="v1.28.0")
    assert report["errors"] == []
    assert report["messages"] == []


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_every_rendered_object_is_valid(values_file: Path | None) -> None:
    objects = render(values_of(values_file))
    schemas = crd_schemas()
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if key in schemas:
            jsonschema.validate(obj, closed_schema(schemas[key]))
        elif key in FOREIGN_KINDS:
            assert obj["spec"], where
        else:
            for version in KUBE_VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_each_gateway_class_references_its_rendered_parameters(values_file: Path | None) -> None:
    values = values_of(values_file)
    objects = render(values)
    parameters = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in of_kind(objects, "GatewayParameters")}
    classes = of_kind(objects, "GatewayClass")
    assert len(classes) == len(parameters)
    for gateway_class in classes:
        ref = gateway_class["spec"]["parametersRef"]
        assert (ref["group"], ref["kind"]) == ("portico.dev", "GatewayParameters")
        assert (ref["namespace"], ref["name"]) in parameters
        assert gateway_class["spec"]["controllerName"].startswith("portico.dev/")


def test_each_enabled_provider_gets_a_class_with_its_section() -> None:
    objects = render(values_of(CHART / "ci" / "everything-values.yaml"))
    by_controller = {c["spec"]["controllerName"]: c for c in of_kind(objects, "GatewayClass")}
    assert set(by_controller) == {
        "portico.dev/proxy",
        "portico.dev/aws-alb",
        "portico.dev/aws-lattice",
        "portico.dev/gcp-alb",
    }
    sections = {p["metadata"]["name"]: set(p["spec"]) for p in of_kind(objects, "GatewayParameters")}
    assert sections == {
        "portico-proxy": {"proxy"},
        "portico-aws-alb": {"aws"},
        "portico-aws-lattice": {"awsLattice"},
        "portico-gcp-alb": {"gcp"},
    }


def test_provider_parameters_are_copied_into_the_parameters_object() -> None:
    values: dict[str, Any] = values_of(CHART / "ci" / "aws-alb-values.yaml")
    objects = render(values)
    (params,) = of_kind(objects, "GatewayParameters")
    assert params["spec"]["aws"] == values["providers"]["awsAlb"]["parameters"]
