"""The operator learns node addresses (a Node watch) and health checks (one GET per speaking Pod).

Through the proxy provider, whose ConfigMap holds the IR the providers receive.
"""

from __future__ import annotations

from typing import Any

from portico.devcluster.faults import FaultRule
from portico.handlers.pods import PodReader
from portico.ir import GatewayIR
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import programmed


def node(name: str, internal_ip: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "addresses": [{"type": "InternalIP", "address": internal_ip}, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(name: str, path: str) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "app",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": 5,
            "timeoutSeconds": 2,
            "failureThreshold": 4,
            "successThreshold": 1,
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [container]},
    }


def endpoint(address: str, node_name: str, target: dict[str, Any]) -> dict[str, Any]:
    ref = {"kind": "Pod", "namespace": "shop", "name": target["metadata"]["name"], "uid": target["metadata"]["uid"]}
    return {"addresses": [address], "conditions": {"ready": True}, "nodeName": node_name, "targetRef": ref}


async def app_backend(cluster: Cluster) -> dict[str, Any] | None:
    config = await cluster.get("ConfigMap", "default", "portico-web")
    if config is None:
        return None
    ir = GatewayIR.from_json(config["data"]["ir.json"])  # the document shares rules between listeners (v2)
    for listener in ir.listeners:
        for rule in listener.rules:
            for backend in rule.backends:
                if backend.name == "app":
                    return backend.model_dump(mode="json")
    return None


async def test_node_addresses_and_readiness_reach_the_ir(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    await cluster.create(node("node-a", "10.240.0.4"))
    first = await cluster.create(pod("app-1", "/ready"))
    slice_patch = {"endpoints": [endpoint("10.1.0.1", "node-a", first)]}
    await cluster.patch("EndpointSlice", "shop", "app-1", slice_patch)

    async def learnt() -> dict[str, Any] | None:
        backend = await app_backend(cluster)
        check = (backend or {}).get("health_check") or {}
        return backend if check.get("path") == "/ready" else None

    backend = await cluster.wait_for("the app backend with its node and health check", learnt)
    assert backend["endpoints"][0]["node_address"] == "10.240.0.4"
    assert backend["health_check"] == {
        "source": "readinessProbe",
        "path": "/ready",
        "port": 8080,
        "scheme": "HTTP",
        "host": None,
        "period_s": 5,
        "timeout_s": 2,
        "failure_threshold": 4,
        "success_threshold": 1,
    }
    pods = operator.operator.reconciler.pods  # type: ignore[union-attr]
    assert pods.reads == 1

    # A new node address wakes the Gateway; kubelet status churn (conditions) is not kept at all.
    await cluster.patch(
        "Node", "", "node-a", {"status": {"addresses": [{"type": "InternalIP", "address": "10.240.0.9"}]}}
    )

    async def moved() -> bool:
        return ((await app_backend(cluster)) or {}).get("endpoints", [{}])[0].get("node_address") == "10.240.0.9"

    await cluster.wait_for("the new node address in the IR", moved)
    stored = operator.operator.store.get("Node", "", "node-a")  # type: ignore[union-attr]
    assert stored is not None and "conditions" not in stored["status"]
    assert pods.reads == 1  # the same Pod is not read again

    # The pods roll: the new speaking Pod is read once, and its probe replaces the old one.
    second = await cluster.create(pod("app-2", "/v2/ready"))
    await cluster.patch("EndpointSlice", "shop", "app-1", {"endpoints": [endpoint("10.1.0.3", "node-a", second)]})

    async def rolled() -> bool:
        return (((await app_backend(cluster)) or {}).get("health_check") or {}).get("path") == "/v2/ready"

    await cluster.wait_for("the new pod's probe in the IR", rolled)
    assert pods.reads == 2


async def test_the_pod_reader_reads_each_speaking_pod_once(cluster: Cluster) -> None:
    await cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    first = await cluster.create(pod("web-a", "/ready"))
    gone = {"metadata": {"name": "web-gone", "uid": "uid-gone"}}
    labels = {"kubernetes.io/service-name": "web"}
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-1", "namespace": "shop", "labels": labels},
        "addressType": "IPv4",
        "endpoints": [endpoint("10.1.0.1", "n", gone), endpoint("10.1.0.2", "n", first)],
    }
    reader = PodReader(cluster.client)
    found = await reader.speaking_pods([slice_])
    assert [p["metadata"]["name"] for p in found] == ["web-a"]
    assert found[0]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert set(found[0]) == {"apiVersion", "kind", "metadata", "spec"}  # trimmed: no status, no image
    assert "image" not in found[0]["spec"]["containers"][0]
    assert reader.reads == 2  # the deleted Pod answered 404, the next one spoke

    assert await reader.speaking_pods([slice_]) == found
    assert reader.reads == 2  # both remembered

    # A StatefulSet-like replacement: same name, new uid, new probe.
    await cluster.delete("Pod", "shop", "web-a")
    second = await cluster.create(pod("web-a", "/v2/ready"))
    replaced = {**slice_, "endpoints": [endpoint("10.1.0.2", "n", second)]}
    (again,) = await reader.speaking_pods([replaced])
    assert again["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/v2/ready"
    assert reader.reads == 3


async def test_pods_the_role_may_not_read_pause_reading_and_break_nothing(cluster: Cluster) -> None:
    await cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    pods = [await cluster.create(pod(name, "/ready")) for name in ("web-a", "api-a")]
    forbidden = cluster.emulator.faults.add(FaultRule(403, verbs=frozenset({"get"}), resources=frozenset({"pods"})))
    slices = [
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{service}-1",
                "namespace": "shop",
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "endpoints": [endpoint(f"10.1.0.{index}", "n", target)],
        }
        for index, (service, target) in enumerate(zip(("web", "api"), pods, strict=True))
    ]
    reader = PodReader(cluster.client)
    assert await reader.speaking_pods(slices) == []
    assert await reader.speaking_pods(slices) == []
    assert forbidden.injected == 1 and reader.reads == 1  # one refusal, then no GET per Service per reconcile
