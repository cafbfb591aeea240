"""TLSRoute through the operator (kopf over HTTP against the emulated API server): statuses written
by the one status writer; and an API server without the TLSRoute, TCPRoute and UDPRoute CRDs, where
the operator starts, says which CRDs are missing, and no GatewayClass claims their features."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from portico.kube.resources import GW
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import condition, parent_condition

TLS_GATEWAY: dict[str, Any] = {
    "apiVersion": f"{GW}/v1",
    "kind": "Gateway",
    "metadata": {"name": "tls", "namespace": "default"},
    "spec": {
        "gatewayClassName": "portico",
        "listeners": [
            {
                "name": "passthrough",
                "port": 8443,
                "protocol": "TLS",
                "tls": {"mode": "Passthrough"},
                "allowedRoutes": {"namespaces": {"from": "All"}},
            }
        ],
    },
}
TLS_ROUTE: dict[str, Any] = {
    "apiVersion": f"{GW}/v1",
    "kind": "TLSRoute",
    "metadata": {"name": "db", "namespace": "shop"},
    "spec": {
        "parentRefs": [{"name": "tls", "namespace": "default"}],
        "hostnames": ["db.example.com"],
        "rules": [{"backendRefs": [{"name": "app", "port": 8080}]}],
    },
}


def features(gateway_class: dict[str, Any] | None) -> set[str]:
    return {f["name"] for f in ((gateway_class or {}).get("status") or {}).get("supportedFeatures") or []}


async def test_tlsroute_gets_its_status(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(TLS_GATEWAY)
    await cluster.create(TLS_ROUTE)

    async def accepted() -> dict[str, Any] | None:
        route = await cluster.get("TLSRoute", "shop", "db")
        return route if parent_condition(route, "tls", "Accepted") == "True" else None

    route = await cluster.wait_for("TLSRoute accepted", accepted)
    assert parent_condition(route, "tls", "ResolvedRefs") == "True"

    async def counted() -> dict[str, Any] | None:
        gateway = await cluster.get("Gateway", "default", "tls")
        listeners = ((gateway or {}).get("status") or {}).get("listeners") or []
        return gateway if listeners and listeners[0]["attachedRoutes"] == 1 else None

    gateway = await cluster.wait_for("the TLS listener counts the route", counted)
    assert gateway["status"]["listeners"][0]["supportedKinds"] == [{"group": GW, "kind": "TLSRoute"}]
    assert {"TLSRoute", "TLSRouteModeTerminate", "TCPRoute", "UDPRoute"} <= features(
        await cluster.get("GatewayClass", "", "portico")
    )


async def test_without_the_tlsroute_crd_the_operator_runs_and_claims_nothing_of_it(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    for plural in ("tlsroutes", "tcproutes", "udproutes"):
        cluster.emulator.undeclare_group(GW, plural)
    await cluster.apply("base.yaml")
    await cluster.create(TLS_GATEWAY)
    running = RunningOperator(cluster)
    with caplog.at_level(logging.WARNING, "portico.operator"):
        await running.start()
    try:

        async def class_status() -> dict[str, Any] | None:
            found = await cluster.get("GatewayClass", "", "portico")
            return found if condition(found, "Accepted") else None

        gateway_class = await cluster.wait_for("GatewayClass status", class_status)
        claimed = features(gateway_class)
        assert "HTTPRoute" in claimed
        assert not claimed & {"TLSRoute", "TLSRouteModeTerminate", "TLSRouteModeMixed", "TCPRoute", "UDPRoute"}
        for plural in ("tlsroutes", "tcproutes", "udproutes"):
            assert f"CRD {plural}.{GW} is not installed" in caplog.text

        async def listener_status() -> list[dict[str, Any]] | None:
            gateway = await cluster.get("Gateway", "default", "tls")
            return ((gateway or {}).get("status") or {}).get("listeners")

        (listener,) = await cluster.wait_for("TLS listener status", listener_status)
        assert listener["supportedKinds"] == []  # nothing can attach to it here
        await cluster.wait_for("Gateway web Programmed", lambda: _programmed(cluster))
    finally:
        await running.stop()


async def _programmed(cluster: Cluster) -> bool:
    gateway = await cluster.get("Gateway", "default", "web")
    return (condition(gateway, "Programmed") or {}).get("status") == "True"
