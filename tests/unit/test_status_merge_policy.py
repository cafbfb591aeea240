"""BackendTLSPolicy status: each Gateway's worker owns its ancestor entry; other entries stay."""

from __future__ import annotations

from typing import Any

from portico.handlers.status import merge_policy_status


def entry(gateway: str, controller: str = "portico.dev/proxy", reason: str = "Accepted") -> dict[str, Any]:
    condition = {"type": "Accepted", "status": "True", "reason": reason, "lastTransitionTime": "t0"}
    return {
        "ancestorRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "ns", "name": gateway},
        "controllerName": controller,
        "conditions": [condition],
    }


def test_a_gateway_replaces_only_its_own_entry() -> None:
    existing = {"ancestors": [entry("other", "example.com/x"), entry("a"), entry("b")]}
    new = entry("a")
    new["conditions"][0]["lastTransitionTime"] = "t1"
    merged = merge_policy_status(existing, {"ancestors": [new]}, controller_prefix="portico.dev/", covers=("ns", "a"))
    assert [e["ancestorRef"]["name"] for e in merged["ancestors"]] == ["other", "a", "b"]
    assert merged["ancestors"][1]["conditions"][0]["lastTransitionTime"] == "t0"  # status did not flip


def test_an_empty_part_drops_the_gateways_entry_only() -> None:
    existing = {"ancestors": [entry("other", "example.com/x"), entry("a"), entry("b")]}
    merged = merge_policy_status(existing, {"ancestors": []}, controller_prefix="portico.dev/", covers=("ns", "a"))
    assert [e["ancestorRef"]["name"] for e in merged["ancestors"]] == ["other", "b"]
    # A foreign controller's entry for the same Gateway stays too.
    existing = {"ancestors": [entry("a", "example.com/x")]}
    merged = merge_policy_status(existing, {"ancestors": []}, controller_prefix="portico.dev/", covers=("ns", "a"))
    assert merged["ancestors"] == existing["ancestors"]


def test_no_entry_where_there_was_nothing() -> None:
    assert merge_policy_status({}, {"ancestors": []}, controller_prefix="portico.dev/", covers=("ns", "a")) == {}
    merged = merge_policy_status(
        None, {"ancestors": [entry("a")]}, controller_prefix="portico.dev/", covers=("ns", "a")
    )
    assert len(merged["ancestors"]) == 1
