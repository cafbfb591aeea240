"""examples/azure through the pipeline: manifests -> translate (with the provider's verdicts) -> offline plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from portico.api import build_snapshot
from portico.cli import main
from portico.manifests import load_manifests
from portico.provider import load_provider
from portico.translate import translate

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "azure"


def test_portico_plan_prints_the_application_gateway_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLES), "--provider", "azure-appgw"]) == 0
    document: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    [entry] = document["gateways"]
    plan = entry["plan"]
    assert plan["mode"] == "offline dry run" and "problems" not in plan
    assert [(s["action"], s["kind"]) for s in plan["steps"]] == [
        ("create", "public-ip"),
        ("create", "application-gateway"),
    ]
    props = plan["steps"][1]["spec"]["body"]["properties"]
    routes = {r["name"].split("-")[2]: r["properties"]["priority"] for r in props["requestRoutingRules"]}
    assert routes["www.shop.example.com"] < routes["star.shop.example.com"]  # exact host before the wildcard
    (www,) = [m for m in props["urlPathMaps"] if "443-www" in m["name"]]
    paths = [rule["properties"]["paths"] for rule in www["properties"]["pathRules"]]
    assert paths == [["/healthz"], ["/v1/api", "/v1/api/*"], ["/api", "/api/*"], ["/*"]]
    (redirect,) = props["redirectConfigurations"]
    assert redirect["properties"]["targetUrl"] == "https://www.shop.example.com"
    assert redirect["properties"]["redirectType"] == "Permanent"
    assert "PRIVATE KEY" not in yaml.safe_dump(plan)


def test_the_canary_route_is_rejected_per_rule_with_the_reason() -> None:
    objects = [m.obj for m in load_manifests([EXAMPLES])]
    capabilities = {"portico.dev/azure-appgw": load_provider("azure-appgw").capabilities()}
    statuses = translate(build_snapshot(objects), capabilities).statuses
    (parent,) = statuses[("HTTPRoute", "shop", "canary")]["parents"]
    accepted = next(c for c in parent["conditions"] if c["type"] == "Accepted")
    assert accepted["reason"] == "UnsupportedValue"
    assert "header match 'x-beta': Application Gateway routes on host and path only" in accepted["message"]
    assert "no weighted split" in accepted["message"]
    (store,) = statuses[("HTTPRoute", "shop", "store")]["parents"]
    assert all(c["status"] == "True" for c in store["conditions"])
