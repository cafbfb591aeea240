"""The operator end to end: kopf over HTTP against the emulated API server, proxy provider."""

from __future__ import annotations

from typing import Any

from conftest import Cluster, RunningOperator

from portico.handlers.reconcile import FINALIZER


def condition(obj: dict[str, Any] | None, type_: str, where: str = "") -> dict[str, Any] | None:
    status = (obj or {}).get("status") or {}
    conditions = status.get("conditions") or []
    return next((c for c in conditions if c.get("type") == type_), None)


def parent(route: dict[str, Any] | None, gateway: str) -> dict[str, Any] | None:
    for entry in ((route or {}).get("status") or {}).get("parents") or []:
        if entry["parentRef"]["name"] == gateway:
            return dict(entry)
    return None


def parent_condition(route: dict[str, Any] | None, gateway: str, type_: str) -> str | None:
    entry = parent(route, gateway) or {}
    return next((c["status"] for c in entry.get("conditions") or [] if c["type"] == type_), None)


async def programmed(cluster: Cluster, name: str = "web") -> dict[str, Any] | None:
    gateway = await cluster.get("Gateway", "default", name)
    cond = condition(gateway, "Programmed")
    return gateway if cond and cond["status"] == "True" else None


async def test_statuses_objects_and_finalizer(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    gateway = await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))

    assert gateway["status"]["addresses"][0]["type"] == "IPAddress"
    assert gateway["status"]["addresses"][0]["value"].startswith("192.0.2.")
    assert FINALIZER in gateway["metadata"]["finalizers"]
    listener = gateway["status"]["listeners"][0]
    assert listener["name"] == "http" and listener["attachedRoutes"] == 1
    gw_class = await cluster.get("GatewayClass", "", "portico")
    assert condition(gw_class, "Accepted")["status"] == "True"  # type: ignore[index]

    route = await cluster.wait_for(
        "route status", lambda: cluster.get("HTTPRoute", "shop", "shop"), timeout=5
    )
    route = await cluster.wait_for(
        "route accepted",
        lambda: _route_with(cluster, "shop", "shop", lambda r: parent_condition(r, "web", "Accepted") == "True"),
    )
    assert parent_condition(route, "web", "ResolvedRefs") == "True"
    assert parent(route, "web")["controllerName"] == "portico.dev/proxy"  # type: ignore[index]

    config = await cluster.get("ConfigMap", "default", "portico-web")
    deployment = await cluster.get("Deployment", "default", "portico-web")
    service = await cluster.get("Service", "default", "portico-web")
    assert config is not None and deployment is not None and service is not None
    assert '"/api"' in config["data"]["ir.json"]
    assert config["metadata"]["ownerReferences"][0]["uid"] == gateway["metadata"]["uid"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"][:3] == [
        "proxy", "--config", "/etc/portico/ir.json"
    ]
    assert [p["port"] for p in service["spec"]["ports"]] == [80]
    assert service["spec"]["type"] == "LoadBalancer"


async def _route_with(cluster: Cluster, namespace: str, name: str, check: Any) -> dict[str, Any] | None:
    route = await cluster.get("HTTPRoute", namespace, name)
    return route if route is not None and check(route) else None
