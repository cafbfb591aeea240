"""Offline plans (the desired resources `build` makes) for tests/golden/aws_*/<case>.in.yaml IR files."""

from __future__ import annotations

from pathlib import Path

import pytest

from portico.ir import GatewayIR
from portico.provider import ProviderContext, load_provider
from tests.golden.golden import check_golden

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CASES = sorted([*(GOLDEN / "aws_alb").glob("*.in.yaml"), *(GOLDEN / "aws_lattice").glob("*.in.yaml")])
PROVIDERS = {"aws_alb": "aws-alb", "aws_lattice": "aws-lattice"}


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name.removesuffix('.in.yaml')}" for p in CASES])
def test_offline_plan_golden(case: Path, update_golden: bool) -> None:
    ir = GatewayIR.from_yaml(case.read_text())
    provider = load_provider(PROVIDERS[case.parent.name], ProviderContext(cluster_id="golden"))
    document = provider.plan(ir, None).to_document()
    assert all(step["action"] == "create" for step in document["steps"])
    check_golden(case.with_name(case.name.replace(".in.yaml", ".out.yaml")), document, update_golden)


def test_goldens_exist_for_both_providers() -> None:
    assert {p.parent.name for p in CASES} == set(PROVIDERS)
