"""Rules the cloud refused are reported on their routes, next to what translation reported.

Translated from a golden input (one route with seven rules), so the route entry edited here is the
one the operator writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portico.api import build_snapshot
from portico.handlers.refused_rules import by_route, with_refused_rules
from portico.manifests import load_manifests
from portico.translate import translate

CASE = Path(__file__).parents[2] / "golden" / "translate" / "precedence" / "path-match-order.in.yaml"
ROUTE = ("HTTPRoute", "default", "path-order")
GATEWAY = ("default", "gw")
NOW = "2026-01-01T00:00:00Z"


def translated() -> tuple[Any, dict[str, Any]]:
    result = translate(build_snapshot([m.obj for m in load_manifests([CASE])]))
    return result.ir_by_gateway[GATEWAY], result.statuses[ROUTE]


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [entry] = status["parents"]
    return {c["type"]: c for c in entry["conditions"]}


def test_a_refused_rule_is_a_dropped_rule_naming_the_clouds_reason() -> None:
    ir, status = translated()
    [listener] = ir.listeners
    refused_rule = next(r for r in listener.rules if r.rule_index == 2)
    reason = "create rule x: ValidationError: too many conditions"
    refused = by_route(ir, {refused_rule.id: reason, "a-rule-no-longer-in-the-ir": "ignored"})
    assert refused == {ROUTE: {2: reason}}
    out = with_refused_rules(status, GATEWAY, "default", refused[ROUTE], 7, NOW)
    found = conditions(out)
    assert found["Accepted"]["status"] == "True"
    partial = found["PartiallyInvalid"]
    assert (partial["status"], partial["reason"]) == ("True", "UnsupportedValue")
    assert partial["message"] == f"Dropped Rule(s): spec.rules[2]: refused by the cloud: {reason}"
    assert partial["observedGeneration"] == found["Accepted"]["observedGeneration"]
    assert conditions(status).keys() == {"Accepted", "ResolvedRefs"}  # the translated status is not changed


def test_a_route_whose_every_rule_is_refused_is_not_accepted() -> None:
    ir, status = translated()
    [listener] = ir.listeners
    refused = by_route(ir, {r.id: "InvalidParameter: no" for r in listener.rules})
    assert sorted(refused[ROUTE]) == list(range(7))
    out = with_refused_rules(status, GATEWAY, "default", refused[ROUTE], 7, NOW)
    accepted = conditions(out)["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedValue")
    assert accepted["message"].startswith("no rule can be served: spec.rules[0]: refused by the cloud")


def test_another_gateways_entry_is_left_alone() -> None:
    ir, status = translated()
    [listener] = ir.listeners
    refused = by_route(ir, {listener.rules[0].id: "no"})
    assert with_refused_rules(status, ("default", "other"), "default", refused[ROUTE], 7, NOW) == status
