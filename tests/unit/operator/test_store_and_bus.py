"""The store's reverse indexes and the bus's coalescing."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

from portico.handlers.bus import Bus, Outcome
from portico.handlers.store import Store, trimmed_node


def obj(kind: str, namespace: str, name: str, **rest: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"namespace": namespace, "name": name, **rest.pop("meta", {})}, **rest}


def route(name: str, gateways: list[str], services: list[str]) -> dict[str, Any]:
    return obj(
        "HTTPRoute",
        "shop",
        name,
        spec={
            "parentRefs": [{"name": g, "namespace": "default"} for g in gateways],
            "rules": [{"backendRefs": [{"name": s, "port": 80} for s in services]}],
        },
    )


def test_changes_reach_exactly_the_gateways_that_read_them() -> None:
    store = Store()
    store.upsert(obj("GatewayClass", "", "portico", spec={"controllerName": "portico.dev/proxy"}))
    tls = {"listeners": [{"name": "https", "tls": {"certificateRefs": [{"name": "cert"}]}}]}
    store.upsert(obj("Gateway", "default", "a", spec={"gatewayClassName": "portico", **tls}))
    store.upsert(obj("Gateway", "default", "b", spec={"gatewayClassName": "portico"}))
    assert store.upsert(route("r1", ["a"], ["svc"])) == {("Gateway", "default", "a")}
    store.upsert(route("r2", ["b"], ["other"]))

    assert store.upsert(obj("Service", "shop", "svc")) == {("Gateway", "default", "a")}
    slice_labels = {"labels": {"kubernetes.io/service-name": "other"}}
    assert store.upsert(obj("EndpointSlice", "shop", "other-1", meta=slice_labels)) == {("Gateway", "default", "b")}
    assert store.upsert(obj("Secret", "default", "cert")) == {("Gateway", "default", "a")}
    assert store.upsert(obj("GatewayClass", "", "portico", spec={})) == {
        ("GatewayClass", "", "portico"),
        ("Gateway", "default", "a"),
        ("Gateway", "default", "b"),
    }

    # moving a route from a to b wakes both; afterwards the service only concerns b
    assert store.upsert(route("r1", ["b"], ["svc"])) == {("Gateway", "default", "a"), ("Gateway", "default", "b")}
    assert store.upsert(obj("Service", "shop", "svc")) == {("Gateway", "default", "b")}
    assert [r["metadata"]["name"] for r in store.routes_for(("default", "b"))] == ["r1", "r2"]
    assert store.delete(route("r1", ["b"], ["svc"])) == {("Gateway", "default", "b")}
    assert store.upsert(obj("Service", "shop", "svc")) == set()


def test_a_node_wakes_the_gateways_whose_endpoints_it_hosts_and_is_kept_trimmed() -> None:
    store = Store()
    store.upsert(obj("Gateway", "default", "a", spec={"gatewayClassName": "portico"}))
    store.upsert(route("r1", ["a"], ["svc"]))
    slice_meta = {"labels": {"kubernetes.io/service-name": "svc"}}
    endpoints = [{"addresses": ["10.1.0.1"], "nodeName": "node-1"}]
    store.upsert(obj("EndpointSlice", "shop", "svc-1", meta=slice_meta, endpoints=endpoints))
    raw = {
        "kind": "Node",
        "metadata": {"name": "node-1", "resourceVersion": "7", "labels": {"zone": "1"}},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "10.240.0.4"}, {"type": "Hostname", "address": "n"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "images": [{"names": ["app"]}],
        },
    }
    node = trimmed_node(raw)
    assert node["status"] == {"addresses": [{"type": "InternalIP", "address": "10.240.0.4"}]}
    assert "labels" not in node["metadata"]
    assert store.upsert(node) == {("Gateway", "default", "a")}
    assert store.upsert(trimmed_node({**raw, "metadata": {"name": "node-2"}})) == set()
    services = store.services_for(store.routes_for(("default", "a")))
    assert [o["kind"] for o in services] == ["EndpointSlice", "Node"]
    # the endpoint moves to node-2: node-1 no longer concerns Gateway a
    store.upsert(
        obj("EndpointSlice", "shop", "svc-1", meta=slice_meta, endpoints=[{**endpoints[0], "nodeName": "node-2"}])
    )
    assert store.upsert(node) == set()


async def test_a_burst_of_publishes_is_one_reconcile() -> None:
    calls: list[Hashable] = []

    async def reconcile(key: Hashable) -> Outcome:
        calls.append(key)
        return Outcome(finished=True)

    bus = Bus(reconcile, quiet_seconds=0.01, max_delay_seconds=1.0)
    for _ in range(100):
        bus.publish("a")
    bus.publish("b")
    while bus.workers:
        await asyncio.sleep(0.01)
    assert sorted(calls) == ["a", "b"]  # type: ignore[type-var]


async def test_a_failing_reconcile_does_not_block_other_keys() -> None:
    done: list[Hashable] = []

    async def reconcile(key: Hashable) -> Outcome:
        if key == "slow":
            await asyncio.Event().wait()  # never returns, like a hung provider
        done.append(key)
        return Outcome(finished=True)

    bus = Bus(reconcile, quiet_seconds=0.01)
    bus.publish("slow")
    bus.publish("fast")
    while "fast" not in done:
        await asyncio.sleep(0.01)
    assert bus.workers == 1
    await bus.close()
