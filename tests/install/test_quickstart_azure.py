"""docs/quickstart-azure.md: every command is marked, and the checked ones do what the guide says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portico.manifests import load_manifests
from tests.install.chart import ROOT, of_kind, only, render
from tests.install.docs import CHECKED, REAL_CLUSTER, option, shell_blocks
from tests.install.test_quickstart import _commands, _conditions, _install_values, _statuses

AZURE = ROOT / "docs" / "quickstart-azure.md"
GUIDES = [AZURE, ROOT / "examples" / "azure-workload-identity" / "README.md"]


def _identity_values() -> dict[str, Any]:
    """What `terraform output -json helm_values` of terraform/azure prints, for an example cluster."""
    return {
        "clusterId": "prod-weu",
        "serviceAccount": {"azureClientId": "11111111-2222-3333-4444-555555555555"},
        "azure": {"subscriptionId": "00000000-0000-0000-0000-0000000000aa", "resourceGroup": "rg-gateways"},
    }


@pytest.mark.parametrize("guide", GUIDES, ids=[p.name for p in GUIDES])
def test_every_command_block_says_what_it_needs(guide: Path) -> None:
    for block in shell_blocks(guide):
        assert block.marker in (REAL_CLUSTER, CHECKED), block.text


def test_azure_install_renders_an_appgw_class_with_the_identity() -> None:
    objects = render(_install_values(AZURE, {"azure-values.json": _identity_values()}))
    (gateway_class,) = of_kind(objects, "GatewayClass")
    assert gateway_class["spec"]["controllerName"] == "portico.dev/azure-appgw"
    assert f"kubectl get gatewayclass {gateway_class['metadata']['name']}" in AZURE.read_text()
    account = only(objects, "ServiceAccount")
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"].startswith("11111111")
    pod = only(objects, "Deployment")["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    args = pod["spec"]["containers"][0]["args"]
    assert {"--cluster-id=prod-weu", "--azure-resource-group=rg-gateways"} <= set(args)
    assert "--azure-subscription-id=00000000-0000-0000-0000-0000000000aa" in args
    params = only(objects, "GatewayParameters")["spec"]["azure"]
    assert params["location"] == "westeurope" and params["subnetId"].endswith("/subnets/appgw")


def test_azure_manifests_are_accepted() -> None:
    (apply,) = _commands(AZURE, "kubectl")
    directory = ROOT / str(option(apply, "-f"))
    objects = render(_install_values(AZURE, {"azure-values.json": _identity_values()}))
    statuses = _statuses(objects + [m.obj for m in load_manifests([directory])], "azure-appgw")
    assert _conditions(statuses[("Gateway", "demo", "web")])["Accepted"][:2] == ("True", "Accepted")
    (parent,) = statuses[("HTTPRoute", "demo", "echo")]["parents"]
    assert {t: s for t, (s, _, _) in _conditions(parent).items()} == {"Accepted": "True", "ResolvedRefs": "True"}
