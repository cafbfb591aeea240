"""terraform/azure: a federated identity only the chart's ServiceAccount can use, with a custom role that
grants exactly the ARM actions the azure-appgw provider was recorded calling."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.install.chart import CHART, ROOT
from tests.install.test_terraform import parse

MODULE = ROOT / "terraform" / "azure"
EXAMPLE = ROOT / "examples" / "azure-workload-identity"
ACTIONS = ROOT / "providers" / "portico_providers" / "azure_appgw" / "azure-actions.txt"


def recorded() -> list[str]:
    return [line.strip() for line in ACTIONS.read_text().splitlines() if line.strip() and not line.startswith("#")]


def resources(directory: Any = MODULE) -> dict[str, dict[str, Any]]:
    """{type: {name: body}}."""
    out: dict[str, dict[str, Any]] = {}
    for block in parse(directory).get("resource", []):
        for kind, named in block.items():
            out.setdefault(kind, {}).update(named)
    return out


def blocks(kind: str, directory: Any = MODULE) -> dict[str, dict[str, Any]]:
    return {name: body for block in parse(directory).get(kind, []) for name, body in block.items()}


def test_the_custom_role_grants_exactly_the_recorded_actions() -> None:
    role = resources()["azurerm_role_definition"]["operator"]
    (permissions,) = role["permissions"]
    assert sorted(permissions["actions"]) == recorded()
    assert permissions["not_actions"] == []
    assert role["assignable_scopes"] == "${local.scopes}"
    assignment = resources()["azurerm_role_assignment"]["operator"]
    assert assignment["for_each"] == "${toset(local.scopes)}"
    assert assignment["principal_id"] == "${azurerm_user_assigned_identity.operator.principal_id}"


def test_the_docs_list_the_same_actions() -> None:
    doc = (ROOT / "docs" / "providers" / "azure.md").read_text()
    section = doc.split("<!-- azure-actions -->\n", 1)[1].split("<!-- /azure-actions -->", 1)[0]
    assert [line.strip("`- ") for line in section.splitlines() if line.strip("`- ")] == recorded()


def test_the_federated_credential_is_bound_to_the_service_account() -> None:
    credential = resources()["azurerm_federated_identity_credential"]["operator"]
    assert credential["subject"] == "system:serviceaccount:${var.namespace}:${var.service_account}"
    assert credential["issuer"] == "${var.oidc_issuer_url}"
    assert credential["audience"] == ["api://AzureADTokenExchange"]
    assert credential["parent_id"] == "${azurerm_user_assigned_identity.operator.id}"


def test_outputs_match_the_chart_values() -> None:
    variables = blocks("variable")
    assert variables["namespace"]["default"] == "portico-system"
    assert variables["service_account"]["default"] == "portico"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    helm = blocks("output")["helm_values"]["value"]
    assert helm["serviceAccount"] == {"azureClientId": "${azurerm_user_assigned_identity.operator.client_id}"}
    assert set(helm["azure"]) == set(values["azure"]) == {"subscriptionId", "resourceGroup"}
    assert "azureClientId" in values["serviceAccount"]


@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_every_variable_and_output_is_described(directory: Any) -> None:
    for kind in ("variable", "output"):
        for name, body in blocks(kind, directory).items():
            assert str(body.get("description", "")).strip(), f"{directory.name}: {kind} {name} has no description"


def test_the_example_uses_the_module_and_hands_its_outputs_to_helm() -> None:
    (module,) = blocks("module", EXAMPLE).values()
    assert module["source"] == "../../terraform/azure"
    required = {name for name, body in blocks("variable").items() if "default" not in body}
    assert required <= set(module)
    readme = (EXAMPLE / "README.md").read_text()
    assert "terraform apply" in readme and "helm install" in readme and "azure-values.json" in readme
