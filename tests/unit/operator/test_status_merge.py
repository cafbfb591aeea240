"""The pure status merge: timestamps, foreign route parents, stale entries, merge patches."""

from __future__ import annotations

from typing import Any

from portico.handlers.status import carry_conditions, merge_owned_status, merge_patch, merge_route_status

OURS = "portico.dev/"


def cond(type_: str, status: str, when: str, reason: str = "R") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "lastTransitionTime": when}


def entry(gateway: str, controller: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    ref = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "default", "name": gateway}
    return {"parentRef": ref, "controllerName": controller, "conditions": list(conditions)}


def test_transition_time_is_kept_unless_the_status_flips() -> None:
    old = [cond("Accepted", "True", "t1"), cond("Programmed", "True", "t1")]
    new = [cond("Accepted", "True", "t2", reason="Other"), cond("Programmed", "False", "t2")]
    out = carry_conditions(old, new)
    assert out[0] == cond("Accepted", "True", "t1", reason="Other")
    assert out[1]["lastTransitionTime"] == "t2"


def test_listener_conditions_carry_by_listener_name() -> None:
    old = {"listeners": [{"name": "http", "conditions": [cond("Accepted", "True", "t1")]}]}
    new = {
        "listeners": [
            {"name": "http", "conditions": [cond("Accepted", "True", "t2")]},
            {"name": "https", "conditions": [cond("Accepted", "True", "t2")]},
        ]
    }
    out = merge_owned_status(old, new)
    assert [item["conditions"][0]["lastTransitionTime"] for item in out["listeners"]] == ["t1", "t2"]


def test_route_merge_keeps_foreign_and_sibling_entries_and_drops_stale_ones() -> None:
    existing = {
        "parents": [
            entry("other", "example.com/ctl", cond("Accepted", "True", "t0")),
            entry("web", "portico.dev/proxy", cond("Accepted", "True", "t1")),
            entry("edge", "portico.dev/aws-alb", cond("Accepted", "True", "t1")),
            entry("gone", "portico.dev/proxy", cond("Accepted", "True", "t1")),
        ]
    }
    desired = {"parents": [entry("web", "portico.dev/proxy", cond("Accepted", "True", "t9"))]}
    refs = [
        {"name": "web", "namespace": "default"},
        {"name": "edge", "namespace": "default"},
        {"name": "other", "namespace": "default"},
    ]
    out = merge_route_status(existing, desired, controller_prefix=OURS, route_namespace="shop", spec_parent_refs=refs)
    names = [p["parentRef"]["name"] for p in out["parents"]]
    assert names == ["other", "web", "edge"]
    assert out["parents"][1]["conditions"][0]["lastTransitionTime"] == "t1"


def test_route_merge_appends_new_parents() -> None:
    desired = {"parents": [entry("web", "portico.dev/proxy", cond("Accepted", "False", "t9"))]}
    out = merge_route_status(
        None, desired, controller_prefix=OURS, route_namespace="default", spec_parent_refs=[{"name": "web"}]
    )
    assert out == desired


def test_parent_refs_match_with_defaults_filled_in() -> None:
    existing = {"parents": [entry("web", "portico.dev/proxy", cond("Accepted", "True", "t1"))]}
    short = {
        "parentRef": {"name": "web"},
        "controllerName": "portico.dev/proxy",
        "conditions": [cond("Accepted", "True", "t2")],
    }
    out = merge_route_status(
        existing,
        {"parents": [short]},
        controller_prefix=OURS,
        route_namespace="default",
        spec_parent_refs=[{"name": "web"}],
    )
    assert len(out["parents"]) == 1 and out["parents"][0]["conditions"][0]["lastTransitionTime"] == "t1"


def test_merge_patch_removes_keys_and_replaces_lists() -> None:
    old = {"addresses": [{"value": "a"}], "conditions": [1], "nested": {"keep": 1, "drop": 2}}
    new = {"conditions": [1, 2], "nested": {"keep": 1}}
    assert merge_patch(old, new) == {"addresses": None, "conditions": [1, 2], "nested": {"drop": None}}
    assert merge_patch(new, new) == {}
