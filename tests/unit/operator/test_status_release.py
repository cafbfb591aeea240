"""Letting go: a Gateway worker's empty part clears our route entries for it; a released Gateway
loses the conditions Portico wrote for an older generation, never those of the new controller."""

from __future__ import annotations

from portico.handlers.status import merge_route_status, released_gateway_status
from portico.handlers.writer import RELEASE, merged_status
from tests.unit.operator.test_status_merge import OURS, cond, entry


def test_the_covering_gateways_entry_goes_even_while_the_route_still_names_it() -> None:
    existing = {
        "parents": [
            entry("web", "portico.dev/proxy", cond("Accepted", "True", "t1")),
            entry("edge", "portico.dev/proxy", cond("Accepted", "True", "t1")),
            entry("web", "example.com/ctl", cond("Accepted", "True", "t1")),
        ]
    }
    refs = [{"name": "web", "namespace": "default"}, {"name": "edge", "namespace": "default"}]
    out = merge_route_status(
        existing,
        {"parents": []},
        controller_prefix=OURS,
        route_namespace="shop",
        spec_parent_refs=refs,
        covers=("default", "web"),
    )
    assert [(p["parentRef"]["name"], p["controllerName"]) for p in out["parents"]] == [
        ("edge", "portico.dev/proxy"),
        ("web", "example.com/ctl"),
    ]


def test_an_empty_part_adds_nothing_to_a_route_without_status() -> None:
    out = merge_route_status(
        {}, {"parents": []}, controller_prefix=OURS, route_namespace="shop", spec_parent_refs=[], covers=("a", "b")
    )
    assert out == {}


def test_a_released_gateway_loses_what_portico_wrote_for_the_old_generation() -> None:
    ours = {
        "conditions": [{**cond("Programmed", "True", "t1"), "observedGeneration": 3}],
        "listeners": [{"name": "http", "attachedRoutes": 1}],
        "addresses": [{"type": "IPAddress", "value": "192.0.2.1"}],
    }
    assert released_gateway_status(ours, generation=4) == {}


def test_a_released_gateway_keeps_the_new_controllers_status() -> None:
    theirs = {"conditions": [{**cond("Accepted", "True", "t2"), "observedGeneration": 4}], "addresses": []}
    assert released_gateway_status(theirs, generation=4) == theirs


def test_the_writer_applies_a_release_and_route_parts_by_their_source() -> None:
    gateway = {
        "metadata": {"generation": 2},
        "status": {"conditions": [{**cond("Accepted", "True", "t"), "observedGeneration": 1}]},
    }
    assert merged_status("Gateway", gateway, {RELEASE: {}}, OURS) == {}
    route = {
        "metadata": {"namespace": "shop"},
        "spec": {"parentRefs": [{"name": "web", "namespace": "default"}]},
        "status": {"parents": [entry("web", "portico.dev/proxy", cond("Accepted", "True", "t1"))]},
    }
    assert merged_status("HTTPRoute", route, {"default/web": {"parents": []}}, OURS) == {"parents": []}
