"""The GatewayParameters CRD (generated from the providers' models) and the models describe the same fields."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from portico_providers.parameters import GatewayParametersSpec
from tests.install.chart import CI_VALUES, ROOT, of_kind, render, values_of
from tests.install.schemas import differences


def _crd_spec() -> dict[str, Any]:
    crd = yaml.safe_load((ROOT / "crds" / "portico.dev_gatewayparameters.yaml").read_text())
    spec: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return spec


def test_crd_schema_and_model_agree() -> None:
    model = GatewayParametersSpec.model_json_schema(by_alias=True)
    found = list(differences(_crd_spec(), model, "spec"))
    assert not found, "\n".join(found)


def test_comparison_notices_a_missing_field() -> None:
    crd = _crd_spec()
    crd["properties"]["proxy"]["properties"]["replicaz"] = {"type": "integer"}
    model = GatewayParametersSpec.model_json_schema(by_alias=True)
    assert "spec.proxy.replicaz: in the CRD, not in the model" in list(differences(crd, model, "spec"))


@pytest.mark.parametrize("values_file", CI_VALUES, ids=[p.name for p in CI_VALUES])
def test_chart_parameters_parse_with_the_model(values_file: Any) -> None:
    for params in of_kind(render(values_of(values_file)), "GatewayParameters"):
        GatewayParametersSpec.model_validate(params["spec"])


def test_examples_parse_with_the_model() -> None:
    documents = [d for p in sorted((ROOT / "examples").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
    parameters = [d for d in documents if d and d.get("kind") == "GatewayParameters"]
    assert parameters
    for params in parameters:
        GatewayParametersSpec.model_validate(params["spec"])


def test_model_rejects_a_typo_naming_it() -> None:
    with pytest.raises(ValidationError, match="serviceTyp"):
        GatewayParametersSpec.model_validate({"proxy": {"serviceTyp": "NodePort"}})
