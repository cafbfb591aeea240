"""ListenerSets in the operator's memory and status merge: a ListenerSet wakes its parent Gateway
(the old and the new one when its parentRef moves), a route or Secret reached through a ListenerSet
wakes that Gateway, and a ListenerSet's part of a route status touches only its own entries."""

from __future__ import annotations

from typing import Any

from portico.handlers.listener_sets import with_parent_programmed
from portico.handlers.store import Store
from portico.handlers.writer import merged_status
from tests.unit.operator.test_status_merge import OURS, cond
from tests.unit.operator.test_store_and_bus import obj

GW = "gateway.networking.k8s.io"


def listener_set(name: str, gateway: str, secret: str | None = None) -> dict[str, Any]:
    tls = {"tls": {"certificateRefs": [{"name": secret}]}} if secret else {}
    return obj(
        "ListenerSet",
        "team",
        name,
        spec={"parentRef": {"name": gateway, "namespace": "default"}, "listeners": [{"name": "web", **tls}]},
    )


def set_route(name: str, listener_set_name: str, service: str) -> dict[str, Any]:
    return obj(
        "HTTPRoute",
        "team",
        name,
        spec={
            "parentRefs": [{"group": GW, "kind": "ListenerSet", "name": listener_set_name}],
            "rules": [{"backendRefs": [{"name": service, "port": 80}]}],
        },
    )


def test_listenersets_and_what_they_reach_wake_their_parent_gateway() -> None:
    store = Store()
    for name in ("a", "b"):
        store.upsert(obj("Gateway", "default", name, spec={"gatewayClassName": "portico"}))
    assert store.upsert(listener_set("apps", "a", secret="cert")) == {("Gateway", "default", "a")}
    assert store.upsert(set_route("r", "apps", "svc")) == {("Gateway", "default", "a")}
    assert store.upsert(obj("Service", "team", "svc")) == {("Gateway", "default", "a")}
    assert store.upsert(obj("Secret", "team", "cert")) == {("Gateway", "default", "a")}
    assert [r["metadata"]["name"] for r in store.routes_for_listener_set(("team", "apps"))] == ["r"]
    assert [s["metadata"]["name"] for s in store.listener_sets_for(("default", "a"))] == ["apps"]

    # Moved to b: both Gateways; afterwards the Service concerns b only.
    moved = store.upsert(listener_set("apps", "b", secret="cert"))
    assert moved == {("Gateway", "default", "a"), ("Gateway", "default", "b")}
    assert store.upsert(obj("Service", "team", "svc")) == {("Gateway", "default", "b")}
    assert store.listener_sets_for(("default", "a")) == []

    assert store.missing_listener_sets() == []
    assert store.delete(listener_set("apps", "b")) == {("Gateway", "default", "b")}
    assert store.missing_listener_sets() == [("team", "apps")]  # the route still names it


def _entry(kind: str, name: str) -> dict[str, Any]:
    return {
        "parentRef": {"group": GW, "kind": kind, "name": name},
        "controllerName": "portico.dev/proxy",
        "conditions": [cond("Accepted", "True", "t1")],
    }


def test_a_listenersets_part_replaces_only_its_own_route_entries() -> None:
    # A Gateway and a ListenerSet may share a namespace and a name; their entries stay apart.
    route = {
        "metadata": {"namespace": "team"},
        "spec": {"parentRefs": [{"name": "apps"}, {"group": GW, "kind": "ListenerSet", "name": "apps"}]},
        "status": {"parents": [_entry("Gateway", "apps"), _entry("ListenerSet", "apps")]},
    }
    cleared = merged_status("HTTPRoute", route, {"ListenerSet:team/apps": {"parents": []}}, OURS)
    assert [p["parentRef"]["kind"] for p in cleared["parents"]] == ["Gateway"]
    cleared = merged_status("HTTPRoute", route, {"team/apps": {"parents": []}}, OURS)
    assert [p["parentRef"]["kind"] for p in cleared["parents"]] == ["ListenerSet"]


def test_an_accepted_listenerset_is_programmed_only_once_its_gateway_is() -> None:
    accepted = {
        "conditions": [cond("Accepted", "True", "t"), {**cond("Programmed", "True", "t"), "reason": "Programmed"}]
    }
    pending = {"conditions": [{**cond("Programmed", "False", "t"), "reason": "Pending", "message": "no ready replica"}]}
    out = with_parent_programmed(accepted, pending)
    programmed = out["conditions"][1]
    assert (programmed["status"], programmed["reason"]) == ("False", "ParentNotProgrammed")
    assert programmed["message"] == "the parent Gateway is not programmed: Pending: no ready replica"
    assert with_parent_programmed(accepted, None)["conditions"][1]["reason"] == "ParentNotProgrammed"
    ready = {"conditions": [cond("Programmed", "True", "t")]}
    assert with_parent_programmed(accepted, ready) == accepted
    refused = {"conditions": [cond("Accepted", "False", "t"), cond("Programmed", "False", "t")]}
    assert with_parent_programmed(refused, pending) == refused  # keeps its own reason
