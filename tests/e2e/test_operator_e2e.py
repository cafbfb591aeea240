"""The operator end to end: kopf over HTTP against the emulated API server, proxy provider."""

from __future__ import annotations

from typing import Any

import pytest

from portico.handlers.cleanup import FINALIZER
from portico.handlers.reconcile import Timing
from portico.kube.resources import DEPLOYMENT
from tests.e2e.conftest import Cluster, RunningOperator
from tests.proxy.certs import self_signed


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

    route = await cluster.wait_for("route status", lambda: cluster.get("HTTPRoute", "shop", "shop"), timeout=5)
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
        "proxy",
        "--config",
        "/etc/portico/ir.json",
    ]
    assert [p["port"] for p in service["spec"]["ports"]] == [80]
    assert service["spec"]["type"] == "LoadBalancer"

    # A new listener port changes the proxy's Service and Deployment in place.
    listeners = [*gateway["spec"]["listeners"], {"name": "alt", "port": 8080, "protocol": "HTTP"}]
    await cluster.patch("Gateway", "default", "web", {"spec": {"listeners": listeners}})

    async def both_ports() -> bool:
        found = await cluster.get("Service", "default", "portico-web")
        return [p["port"] for p in (found or {}).get("spec", {}).get("ports", [])] == [80, 8080]

    await cluster.wait_for("the Service with both listener ports", both_ports)


async def _route_with(cluster: Cluster, namespace: str, name: str, check: Any) -> dict[str, Any] | None:
    route = await cluster.get("HTTPRoute", namespace, name)
    return route if route is not None and check(route) else None


async def _config(cluster: Cluster) -> str:
    config = await cluster.get("ConfigMap", "default", "portico-web")
    return str((config or {}).get("data", {}).get("ir.json", ""))


async def test_a_burst_of_route_edits_changes_the_config_once(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    before = len(cluster.writes("configmaps"))

    for index in range(20):
        rules = [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": f"/v{index}"}}],
                "backendRefs": [{"name": "api", "port": 9090}],
            }
        ]
        await cluster.patch("HTTPRoute", "shop", "shop", {"spec": {"rules": rules}})

    async def has_last_edit() -> bool:
        return '"/v19"' in await _config(cluster)

    await cluster.wait_for("the last edit in the ConfigMap", has_last_edit)
    assert await operator.operator.writer.flushed() is None  # type: ignore[union-attr]
    assert len(cluster.writes("configmaps")) - before == 1


async def test_a_broken_backend_ref_is_reported(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    rules = [{"backendRefs": [{"name": "no-such-service", "port": 80}]}]
    await cluster.patch("HTTPRoute", "shop", "shop", {"spec": {"rules": rules}})

    route = await cluster.wait_for(
        "ResolvedRefs=False",
        lambda: _route_with(cluster, "shop", "shop", lambda r: parent_condition(r, "web", "ResolvedRefs") == "False"),
    )
    reason = next(c["reason"] for c in parent(route, "web")["conditions"] if c["type"] == "ResolvedRefs")  # type: ignore[index]
    assert reason == "BackendNotFound"


async def test_deleting_the_gateway_cleans_up_before_the_finalizer_goes(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    await cluster.delete("GatewayClass", "", "portico")  # the class first: the Gateway must not be stranded
    await cluster.delete("Gateway", "default", "web")

    async def gone() -> bool:
        return await cluster.get("Gateway", "default", "web") is None

    await cluster.wait_for("the Gateway to be gone", gone)
    for kind in ("ConfigMap", "Deployment", "Service"):
        assert await cluster.get(kind, "default", "portico-web") is None, kind


async def test_a_restarted_operator_adopts_instead_of_duplicating(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    await operator.operator.writer.flushed()  # type: ignore[union-attr]
    stopped = operator.operator
    assert stopped is not None and stopped.metrics.registry.get_sample_value("portico_leader") == 1
    await operator.stop()
    assert stopped.metrics.registry.get_sample_value("portico_leader") == 0
    creates = {plural: len(cluster.writes(plural)) for plural in ("configmaps", "deployments", "services")}
    statuses = sum(len(cluster.writes(p, "status")) for p in ("gateways", "httproutes", "gatewayclasses"))

    restarted = await operator.start()
    for key in [("Gateway", "default", "web"), ("GatewayClass", "", "portico")]:
        await cluster.wait_for(f"a reconcile of {key}", lambda key=key: _reconciled(restarted, key))
    await restarted.writer.flushed()

    assert {plural: len(cluster.writes(plural)) for plural in creates} == creates
    assert sum(len(cluster.writes(p, "status")) for p in ("gateways", "httproutes", "gatewayclasses")) == statuses
    objects = [key for key in cluster.emulator.objects if key[1] == "default" and "portico-web" in str(key[2])]
    assert len(objects) == 3


async def _reconciled(operator: Any, key: tuple[str, str, str]) -> bool:
    return key not in operator.bus._tasks or not operator.bus._dirty[key].is_set()


async def test_other_controllers_route_parents_are_kept(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.apply("foreign-parent.yaml")
    route = await cluster.wait_for(
        "our parent entry",
        lambda: _route_with(cluster, "shop", "shared", lambda r: parent_condition(r, "web", "Accepted") == "True"),
    )
    other = parent(route, "other")
    assert other is not None and other["controllerName"] == "example.com/other-controller"
    assert other["conditions"][0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"


async def test_a_class_whose_provider_is_missing_is_not_accepted(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("unavailable-class.yaml")

    async def rejected() -> dict[str, Any] | None:
        gw_class = await cluster.get("GatewayClass", "", "missing-provider")
        cond = condition(gw_class, "Accepted")
        return cond if cond and cond["status"] == "False" else None

    cond = await cluster.wait_for("Accepted=False", rejected)
    assert cond["reason"] == "InvalidParameters"
    assert "not-installed" in cond["message"]


@pytest.mark.kmock(deployments_available=False)
async def test_programmed_follows_the_deployments_availability(cluster: Cluster) -> None:
    # No polling within the test's time: only the watch on the proxy Deployment can wake the Gateway.
    running = RunningOperator(cluster, Timing(not_ready_seconds=600))
    await running.start()
    try:
        await cluster.apply("base.yaml")

        async def waiting() -> dict[str, Any] | None:
            cond = condition(await cluster.get("Gateway", "default", "web"), "Programmed")
            return cond if cond and cond["status"] == "False" else None

        cond = await cluster.wait_for("Programmed=False while no replica is available", waiting)
        assert "replica" in cond["message"]
        operator = running.operator
        assert operator is not None
        await cluster.wait_for("the operator to go idle", lambda: _idle(operator, ("Gateway", "default", "web")))

        available = {"status": {"availableReplicas": 1, "readyReplicas": 1}}
        await cluster.client.patch(DEPLOYMENT, "default", "portico-web", available, subresource="status")
        gateway = await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
        assert gateway["status"]["addresses"][0]["value"].startswith("192.0.2.")
    finally:
        await running.stop()


async def _idle(operator: Any, key: tuple[str, str, str]) -> bool:
    await operator.writer.flushed()
    return bool(operator.bus.idle(key))


async def _policy_with(cluster: Cluster, check: Any) -> dict[str, Any] | None:
    policy = await cluster.get("BackendTLSPolicy", "shop", "app-tls")
    return policy if policy is not None and check(policy) else None


def _ancestors(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(((policy or {}).get("status") or {}).get("ancestors") or [])


async def test_backend_tls_policy_status_and_ca_configmap(cluster: Cluster, operator: RunningOperator) -> None:
    """The policy's ancestor is the Gateway; a CA ConfigMap created later is picked up; the IR verifies."""
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    policy = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "BackendTLSPolicy",
        "metadata": {"name": "app-tls", "namespace": "shop"},
        "spec": {
            "targetRefs": [{"group": "", "kind": "Service", "name": "app"}],
            "validation": {
                "caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "app-ca"}],
                "hostname": "app.example.com",
            },
        },
    }
    await cluster.create(policy)

    def reason(found: dict[str, Any] | None, type_: str) -> str | None:
        ours = [a for a in _ancestors(found) if a["controllerName"] == "portico.dev/proxy"]
        return next((c["reason"] for a in ours for c in a["conditions"] if c["type"] == type_), None)

    missing = await cluster.wait_for(
        "NoValidCACertificate",
        lambda: _policy_with(cluster, lambda p: reason(p, "Accepted") == "NoValidCACertificate"),
    )
    assert reason(missing, "ResolvedRefs") == "InvalidCACertificateRef"
    assert [a["ancestorRef"]["name"] for a in _ancestors(missing)] == ["web"]
    pem = self_signed("Portico e2e CA")[0]
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-ca", "namespace": "shop"}}
    await cluster.create({**config_map, "data": {"ca.crt": pem}})
    await cluster.wait_for(
        "Accepted",
        lambda: _policy_with(cluster, lambda p: reason(p, "Accepted") == "Accepted"),
    )

    async def verified_in_ir() -> bool:
        config = await cluster.get("ConfigMap", "default", "portico-web")
        return '"hostname":"app.example.com"' in ((config or {}).get("data") or {}).get("ir.json", "")

    await cluster.wait_for("the policy in the proxy's IR", verified_in_ir)
    # The route no longer reaches the Service: the Gateway's ancestor entry goes.
    await cluster.patch(
        "HTTPRoute", "shop", "shop", {"spec": {"rules": [{"backendRefs": [{"name": "nowhere", "port": 80}]}]}}
    )
    gone = await cluster.wait_for(
        "ancestor removed",
        lambda: _policy_with(cluster, lambda p: _ancestors(p) == []),
    )
    assert gone["status"]["ancestors"] == []  # type: ignore[index]
