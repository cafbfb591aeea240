"""examples/gcp through the whole pipeline: manifests -> translate -> offline plan, and -> the Compute fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from portico.api import build_snapshot
from portico.cli import main
from portico.manifests import load_manifests
from portico.provider import load_provider, reconcile_once
from portico.translate import translate
from portico_providers.gcp_alb.model import COLLECTIONS, MEMBERS
from tests.providers.gcp.conftest import PROJECT, REGION, Compute, converge, provider_for
from tests.providers.gcp.fake_model import check_resource
from tests.providers.gcp.fake_state import ComputeState

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "gcp"


def test_portico_plan_prints_the_load_balancers_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLES), "--provider", "gcp-alb"]) == 0
    document: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    plans = {entry["gateway"]: entry["plan"] for entry in document["gateways"]}
    assert set(plans) == {"shop/web", "shop/internal"}
    web = plans["shop/web"]
    assert web["mode"] == "offline dry run" and "problems" not in web
    kinds = [(step["kind"], step["id"]) for step in web["steps"] if step["action"] == "create"]
    assert [i.rsplit("-", 1)[0] for k, i in kinds if k == "forwardingRule"] == ["global/fr-80", "global/fr-443"]
    url_map = next(s["spec"] for s in web["steps"] if s["id"] == "global/um-443")
    routes = [r for m in url_map["pathMatchers"] for r in m["routeRules"]]
    assert all(isinstance(r["priority"], int) for r in routes) and len(routes) >= 8
    assert "PRIVATE KEY" not in yaml.safe_dump(document)  # the Secret's key never reaches a plan document
    for plan in plans.values():
        for step in plan["steps"]:
            if step["action"] == "create":
                body = {k: v for k, v in step["spec"].items() if k != MEMBERS.get(step["kind"])}
                check_resource(COLLECTIONS[step["kind"]], body, creating=True)


def test_examples_are_programmed_on_the_fake(compute: Compute) -> None:
    manifests = load_manifests([EXAMPLES])
    capabilities = {"portico.dev/gcp-alb": load_provider("gcp-alb").capabilities()}
    irs = translate(build_snapshot([m.obj for m in manifests]), capabilities, now="2026-01-01T00:00:00Z").ir_by_gateway
    state: ComputeState = compute.state
    network = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/prod"
    state.put(
        (f"regions/{REGION}", "subnetworks", "proxy-only"),
        {"network": network, "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"},
    )
    provider = provider_for(compute)
    for key in (("shop", "web"), ("shop", "internal")):
        ir = irs[key].model_copy(
            update={"infrastructure": irs[key].infrastructure.model_copy(update={"parameters": _project(irs[key])})}
        )
        result = converge(provider, ir)
        assert result.addresses, key
    assert reconcile_once(provider, ir).programmed


def _project(ir: Any) -> dict[str, Any]:
    """The examples name a real-looking project; the fake serves the test project."""
    parameters = dict(ir.infrastructure.parameters)
    parameters["gcp"] = {**parameters["gcp"], "project": PROJECT}
    return parameters
