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


NODE_PORT = Path(__file__).resolve().parent / "manifests" / "node-port.yaml"


def test_portico_plan_reads_nodes_and_pods_given_with_f(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(NODE_PORT), "--provider", "azure-appgw"]) == 0
    captured = capsys.readouterr()
    assert "ignored" not in captured.err  # Nodes and Pods are read, not skipped as unknown kinds
    [entry] = yaml.safe_load(captured.out)["gateways"]
    props = entry["plan"]["steps"][1]["spec"]["body"]["properties"]
    pools = {p["name"].split("-")[2]: p["properties"].get("backendAddresses") for p in props["backendAddressPools"]}
    assert pools["web"] == [{"ipAddress": "10.224.0.4"}, {"ipAddress": "10.224.0.5"}]
    [probe] = props["probes"]
    assert probe["properties"]["path"] == "/ready"
    assert any("has no nodePort" in note for note in entry["plan"]["notes"])


def test_the_node_port_golden_input_is_what_translation_makes_of_the_manifests() -> None:
    objects = [m.obj for m in load_manifests([NODE_PORT])]
    capabilities = {"portico.dev/azure-appgw": load_provider("azure-appgw").capabilities()}
    (ir,) = translate(build_snapshot(objects), capabilities).ir_by_gateway.values()
    golden = Path(__file__).resolve().parents[2] / "golden" / "azure_appgw" / "node-port-probes.in.yaml"
    assert ir.to_yaml() == golden.read_text()
