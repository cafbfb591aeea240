"""Offline plans of the gcp-alb provider for tests/golden/gcp_alb/<case>.in.yaml IR files.

Every body the plan would send is also parsed strictly as its Compute v1 message type.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portico.ir import GatewayIR
from portico.provider import ProviderContext, load_provider
from portico_providers.gcp_alb.model import COLLECTIONS, MEMBERS
from tests.golden.golden import check_golden
from tests.providers.gcp.fake_model import check_resource

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "gcp_alb"
CASES = sorted(GOLDEN.glob("*.in.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.yaml") for p in CASES])
def test_offline_plan_golden(case: Path, update_golden: bool) -> None:
    ir = GatewayIR.from_yaml(case.read_text())
    provider = load_provider("gcp-alb", ProviderContext(cluster_id="golden"))
    document = provider.plan(ir, None).to_document()
    assert "problems" not in document, document.get("problems")
    assert all(step["action"] == "create" for step in document["steps"])
    for step in document["steps"]:
        body = {k: v for k, v in step["spec"].items() if k != MEMBERS.get(step["kind"])}
        check_resource(COLLECTIONS[step["kind"]], body, creating=True)
    check_golden(case.with_name(case.name.replace(".in.yaml", ".out.yaml")), document, update_golden)


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 2
