"""Offline plans of tests/golden/azure_appgw/<case>.in.yaml (IR in, desired Application Gateway out).

Each desired gateway must also pass the ARM fake's checks (API model and Application Gateway
rules), so a golden file cannot bless a body Azure would refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.mgmt.network import models

from portico.ir import GatewayIR
from portico.provider import ProviderContext, load_provider
from portico_providers.azure_appgw.naming import resource_id
from portico_providers.azure_appgw.provider import OFFLINE_GROUP, OFFLINE_SUBSCRIPTION
from tests.golden.golden import check_golden
from tests.providers.azure.appgw_rules import check_gateway
from tests.providers.azure.arm_model import validate

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "azure_appgw"
CASES = sorted(GOLDEN.glob("*.in.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.yaml") for p in CASES])
def test_offline_plan_golden(case: Path, update_golden: bool) -> None:
    ir = GatewayIR.from_yaml(case.read_text())
    provider = load_provider("azure-appgw", ProviderContext(cluster_id="golden"))
    plan = provider.plan(ir, None)
    assert not plan.problems, plan.problems
    document = plan.to_document()
    assert all(step["action"] == "create" for step in document["steps"])
    check_golden(case.with_name(case.name.replace(".in.yaml", ".out.yaml")), document, update_golden)
    (spec,) = [d.spec.model_dump() for d in plan.desired if d.kind == "application-gateway"]
    body = spec["body"]
    gateway_id = resource_id(OFFLINE_SUBSCRIPTION, OFFLINE_GROUP, "applicationGateways", spec["name"])
    assert validate(body, models.ApplicationGateway) == []
    certificates = {c["name"].lower() for c in body["properties"]["sslCertificates"]}
    check_gateway(body, gateway_id, certificates, lambda rid: "Succeeded")


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3
