"""ListenerSets through the operator (over HTTP against the emulated API server): the parent
Gateway's worker writes the ListenerSet's status, the route's ListenerSet parent entry and
attachedListenerSets, and programs the ListenerSet's listener; an API server without the
ListenerSet CRD, where the operator runs, says so, and no GatewayClass claims ListenerSet."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from portico.kube.resources import GW
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import condition
from tests.e2e.test_tls_route_operator import features

GATEWAY: dict[str, Any] = {
    "apiVersion": f"{GW}/v1",
    "kind": "Gateway",
    "metadata": {"name": "shared", "namespace": "default"},
    "spec": {
        "gatewayClassName": "portico",
        "allowedListeners": {
            "namespaces": {"from": "Selector", "selector": {"matchLabels": {"gateway-access": "true"}}}
        },
        "listeners": [{"name": "http", "port": 80, "protocol": "HTTP", "hostname": "gw.example.com"}],
    },
}


def listener_set(name: str, hostname: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GW}/v1",
        "kind": "ListenerSet",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "parentRef": {"name": "shared", "namespace": "default"},
            "listeners": [{"name": "web", "port": 80, "protocol": "HTTP", "hostname": hostname}],
        },
    }


ROUTE: dict[str, Any] = {
    "apiVersion": f"{GW}/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "on-set", "namespace": "shop"},
    "spec": {
        "parentRefs": [{"group": GW, "kind": "ListenerSet", "name": "shop-set"}],
        "rules": [{"backendRefs": [{"name": "app", "port": 8080}]}],
    },
}


def set_parent(route: dict[str, Any] | None) -> dict[str, Any] | None:
    parents = ((route or {}).get("status") or {}).get("parents") or []
    return next((p for p in parents if p["parentRef"].get("kind") == "ListenerSet"), None)


async def test_listenerset_statuses_and_its_listener_programmed(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(GATEWAY)
    await cluster.create(listener_set("shop-set", "shop.example.com"))
    await cluster.create(listener_set("clashing", "gw.example.com"))
    await cluster.create(ROUTE)

    async def attached() -> dict[str, Any] | None:
        found = await cluster.get("ListenerSet", "shop", "shop-set")
        listeners = ((found or {}).get("status") or {}).get("listeners") or []
        programmed = (condition(found, "Programmed") or {}).get("status") == "True"  # once the Gateway is
        return found if programmed and listeners and listeners[0]["attachedRoutes"] == 1 else None

    found = await cluster.wait_for("ListenerSet programmed, its listener counting the route", attached)
    assert (condition(found, "Accepted") or {}).get("status") == "True"
    assert found["status"]["listeners"][0]["supportedKinds"] == [
        {"group": GW, "kind": "HTTPRoute"},
        {"group": GW, "kind": "GRPCRoute"},
    ]
    route = await cluster.wait_for("route parent entry", lambda: _with_set_parent(cluster))
    entry = set_parent(route)
    assert entry is not None and entry["controllerName"] == "portico.dev/proxy"
    assert {c["type"]: c["status"] for c in entry["conditions"]}["Accepted"] == "True"

    clashing = await cluster.get("ListenerSet", "shop", "clashing")
    assert (condition(clashing, "Accepted") or {}).get("reason") == "ListenersNotValid"
    (listener,) = clashing["status"]["listeners"]  # type: ignore[index]
    assert {c["type"]: c["reason"] for c in listener["conditions"]}["Conflicted"] == "HostnameConflict"
    gateway = await cluster.get("Gateway", "default", "shared")
    assert gateway["status"]["attachedListenerSets"] == 1  # type: ignore[index]
    assert "ListenerSet" in features(await cluster.get("GatewayClass", "", "portico"))

    async def served() -> list[str] | None:
        config = await cluster.get("ConfigMap", "default", "portico-shared")
        ir = json.loads(str((config or {}).get("data", {}).get("ir.json", "{}")))
        names = [listener["name"] for listener in ir.get("listeners", [])]
        return names if "shop/shop-set/web" in names else None

    assert await cluster.wait_for("the ListenerSet's listener in the proxy's IR", served) == [
        "http",
        "shop/shop-set/web",
    ]

    # Deleted: the route's entry for it goes, and the Gateway counts no ListenerSet.
    await cluster.delete("ListenerSet", "shop", "shop-set")
    await cluster.wait_for("ListenerSet parent entry cleared", lambda: _without_set_parent(cluster))

    async def uncounted() -> dict[str, Any] | None:
        found = await cluster.get("Gateway", "default", "shared")
        return found if ((found or {}).get("status") or {}).get("attachedListenerSets") == 0 else None

    await cluster.wait_for("attachedListenerSets 0", uncounted)


async def _with_set_parent(cluster: Cluster) -> dict[str, Any] | None:
    route = await cluster.get("HTTPRoute", "shop", "on-set")
    return route if set_parent(route) is not None else None


async def _without_set_parent(cluster: Cluster) -> bool:
    route = await cluster.get("HTTPRoute", "shop", "on-set")
    return route is not None and set_parent(route) is None


async def test_without_the_listenerset_crd_the_operator_runs_and_does_not_claim_it(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.emulator.undeclare_group(GW, "listenersets")
    await cluster.apply("base.yaml")
    running = RunningOperator(cluster)
    with caplog.at_level(logging.WARNING, "portico.operator"):
        await running.start()
    try:

        async def class_status() -> dict[str, Any] | None:
            found = await cluster.get("GatewayClass", "", "portico")
            return found if condition(found, "Accepted") else None

        claimed = features(await cluster.wait_for("GatewayClass status", class_status))
        assert "HTTPRoute" in claimed and "ListenerSet" not in claimed
        assert f"CRD listenersets.{GW} is not installed" in caplog.text

        async def programmed() -> bool:
            gateway = await cluster.get("Gateway", "default", "web")
            return (condition(gateway, "Programmed") or {}).get("status") == "True"

        await cluster.wait_for("Gateway web Programmed", programmed)
    finally:
        await running.stop()
