"""`portico run` as a process under API faults: stale route parents, lost status writes, deletions
missed while a watch was away. Faults come from the emulator (portico.devcluster.faults), seeded."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from portico.devcluster.faults import FaultRule
from tests.e2e.conftest import Cluster
from tests.e2e.process import OperatorProcess
from tests.e2e.test_operator_e2e import condition, parent, parent_condition, programmed

Start = Callable[..., Awaitable[OperatorProcess]]
STANDALONE = ("--standalone",)


def route_to(name: str, gateway: str, path: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "parentRefs": [{"name": gateway, "namespace": "default"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                    "backendRefs": [{"name": "app", "port": 8080}],
                }
            ],
        },
    }


def gateway(name: str, class_name: str = "portico") -> dict[str, Any]:
    listener = {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"gatewayClassName": class_name, "listeners": [listener]},
    }


async def entry_state(cluster: Cluster, route: str, gateway_name: str) -> str | None:
    """Accepted status of Portico's entry for `gateway_name` in the route, "absent" without one."""
    found = await cluster.get("HTTPRoute", "shop", route)
    if found is None:
        return None
    return parent_condition(found, gateway_name, "Accepted") or "absent"


async def attached(cluster: Cluster, name: str = "web") -> int | None:
    found = await cluster.get("Gateway", "default", name)
    listeners = ((found or {}).get("status") or {}).get("listeners") or [{}]
    value = listeners[0].get("attachedRoutes")
    return int(value) if value is not None else None


async def test_route_parents_go_when_the_gateway_is_deleted_detached_or_moved(
    cluster: Cluster, operator_processes: Start
) -> None:
    await operator_processes(*STANDALONE)
    await cluster.apply("base.yaml")
    await cluster.create(gateway("web2"))
    await cluster.create(route_to("shop2", "web2", "/two"))
    await cluster.wait_for("shop accepted by web", lambda: _is(entry_state(cluster, "shop", "web"), "True"))
    await cluster.wait_for("shop2 accepted by web2", lambda: _is(entry_state(cluster, "shop2", "web2"), "True"))

    # (a) The Gateway is deleted: its route keeps no entry for it.
    await cluster.delete("Gateway", "default", "web2")
    await cluster.wait_for("shop2's entry for web2 gone", lambda: _is(entry_state(cluster, "shop2", "web2"), "absent"))

    # (b) A route re-pointed at a Gateway that does not exist keeps no entry for the old one.
    await cluster.patch("HTTPRoute", "shop", "shop", {"spec": {"parentRefs": [{"name": "nowhere"}]}})
    await cluster.wait_for("shop's entry for web gone", lambda: _is(entry_state(cluster, "shop", "web"), "absent"))
    await cluster.wait_for("web with no route attached", lambda: _is(attached(cluster), 0))

    # (c) A Gateway moved to another controller's class: objects, finalizer, conditions and entries go.
    await cluster.patch(
        "HTTPRoute", "shop", "shop", {"spec": {"parentRefs": [{"name": "web", "namespace": "default"}]}}
    )
    await cluster.wait_for("shop accepted by web again", lambda: _is(entry_state(cluster, "shop", "web"), "True"))
    foreign = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass"}
    await cluster.create({**foreign, "metadata": {"name": "other"}, "spec": {"controllerName": "example.com/other"}})
    await cluster.patch("Gateway", "default", "web", {"spec": {"gatewayClassName": "other"}})

    async def released() -> dict[str, Any] | None:
        found = await cluster.get("Gateway", "default", "web")
        status = (found or {}).get("status") or {}
        if found is None or found["metadata"].get("finalizers") or status.get("conditions"):
            return None
        return found

    web = await cluster.wait_for("web released by Portico", released)
    assert not web["status"].get("listeners") and not web["status"].get("addresses")
    await cluster.wait_for("shop's entry for web gone", lambda: _is(entry_state(cluster, "shop", "web"), "absent"))
    assert await cluster.get("ConfigMap", "default", "portico-web") is None


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


async def test_status_writes_refused_by_the_api_are_written_once_it_answers(
    cluster: Cluster, operator_processes: Start
) -> None:
    faults = cluster.emulator.faults
    faults.reseed(18)
    statuses = frozenset({"gateways/status", "httproutes/status", "gatewayclasses/status"})
    throttled = faults.add(FaultRule(429, verbs=frozenset({"patch"}), resources=statuses))
    failing = faults.add(FaultRule(500, rate=0.5, verbs=frozenset({"get"}), resources=frozenset({"httproutes"})))
    await operator_processes(*STANDALONE)
    await cluster.apply("base.yaml")
    await cluster.wait_for("status writes refused", lambda: _at_least(lambda: throttled.injected, 3))
    rules = [{"backendRefs": [{"name": "no-such-service", "port": 80}]}]
    await cluster.patch("HTTPRoute", "shop", "shop", {"spec": {"rules": rules}})
    await cluster.wait_for("the edit's write refused", lambda: _at_least(lambda: throttled.injected, 6))
    assert (await cluster.get("Gateway", "default", "web") or {}).get("status") is None
    faults.clear()

    gateway_obj = await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    assert "provider error" not in json.dumps(gateway_obj["status"])

    async def unresolved() -> bool:
        route = await cluster.get("HTTPRoute", "shop", "shop")
        return parent_condition(route, "web", "ResolvedRefs") == "False"

    await cluster.wait_for("route ResolvedRefs=False", unresolved)
    assert failing.injected > 0 or throttled.injected > 0


async def _at_least(count: Callable[[], int], wanted: int) -> bool:
    return count() >= wanted


async def test_api_errors_on_portico_own_writes_are_not_provider_errors(
    cluster: Cluster, operator_processes: Start
) -> None:
    faults = cluster.emulator.faults
    refused = faults.add(FaultRule(429, verbs=frozenset({"patch"}), resources=frozenset({"gateways"})))
    await operator_processes(*STANDALONE)
    await cluster.apply("base.yaml")
    await cluster.wait_for("the finalizer patch refused 3 times", lambda: _at_least(lambda: refused.injected, 3))
    route = await cluster.wait_for("route accepted", lambda: _is(entry_state(cluster, "shop", "web"), "True"))
    assert route
    web = await cluster.get("Gateway", "default", "web")
    assert "provider error" not in json.dumps((web or {}).get("status") or {})
    faults.clear()
    web = await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    assert condition(web, "Programmed")["reason"] == "Programmed"  # type: ignore[index]


async def test_a_deletion_missed_while_the_watch_was_away_is_dropped_on_the_next_list(
    cluster: Cluster, operator_processes: Start
) -> None:
    await operator_processes(*STANDALONE)
    await cluster.apply("base.yaml")
    await cluster.create(route_to("extra", "web", "/extra"))
    await cluster.wait_for("two routes attached", lambda: _is(attached(cluster), 2))

    faults = cluster.emulator.faults
    away = faults.add(FaultRule(500, verbs=frozenset({"watch"}), resources=frozenset({"httproutes"})))
    faults.cut_watches()
    await cluster.wait_for("the route watch refused", lambda: _at_least(lambda: away.injected, 1))
    await cluster.delete("HTTPRoute", "shop", "extra")  # its DELETED event is never delivered
    faults.expire(int(cluster.emulator.store.resource_version))  # resuming now answers 410 Gone
    faults.clear()

    await cluster.wait_for("one route attached", lambda: _is(attached(cluster), 1))
    config = await cluster.get("ConfigMap", "default", "portico-web")
    assert "/extra" not in json.dumps(config)
    # The next edit still builds from a store without the deleted route.
    await cluster.patch(
        "HTTPRoute",
        "shop",
        "shop",
        {"metadata": {"labels": {"edited": "yes"}}, "spec": {"hostnames": ["x.example.com"]}},
    )
    await cluster.wait_for("one route attached after an edit", lambda: _is(attached(cluster), 1))
    assert parent(await cluster.get("HTTPRoute", "shop", "shop"), "web") is not None
