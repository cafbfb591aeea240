"""targetType nodePort and probes learnt from readiness, against the ARM fake through the real SDK:
node IPs at the nodePort in the pools, the readiness probe on the backend settings, each change one
PUT, a no-op none; spec.azure.healthCheckPath still wins over what the pods say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from portico.ir import Backend, Endpoint, GatewayIR, HealthCheck
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.conftest import GROUP
from tests.providers.azure.scenario import GOLDEN, converge, gateway, provider


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    with mock.patch("portico_providers.azure_appgw.arm.sleep"):
        yield


def node_port_ir(arm: ArmFake, **azure: Any) -> GatewayIR:
    """tests/providers/azure/manifests/node-port.yaml as translated, pointed at the fake's subnet."""
    ir = GatewayIR.from_yaml((GOLDEN / "node-port-probes.in.yaml").read_text())
    subnet = arm.state.add_subnet(GROUP, "vnet-aks", "appgw")
    params = {**ir.infrastructure.parameters["azure"], "subnetId": subnet, "location": arm.state.location, **azure}
    return ir.model_copy(
        update={"infrastructure": ir.infrastructure.model_copy(update={"parameters": {"azure": params}})}
    )


def with_backend(ir: GatewayIR, service: str, **changes: Any) -> GatewayIR:
    def change(backend: Backend) -> Backend:
        return backend.model_copy(update=changes) if backend.name == service else backend

    listeners = tuple(
        listener.model_copy(
            update={
                "rules": tuple(
                    rule.model_copy(update={"backends": tuple(change(b) for b in rule.backends)})
                    for rule in listener.rules
                )
            }
        )
        for listener in ir.listeners
    )
    return ir.model_copy(update={"listeners": listeners})


def backend_of(ir: GatewayIR, service: str) -> Backend:
    return next(b for listener in ir.listeners for rule in listener.rules for b in rule.backends if b.name == service)


def collection(arm: ArmFake, name: str) -> dict[str, dict[str, Any]]:
    return {item["name"]: item["properties"] for item in gateway(arm)["properties"][name]}


def pool_of(arm: ArmFake, service: str) -> list[str]:
    (pool,) = [p for n, p in collection(arm, "backendAddressPools").items() if n.startswith(f"pool-shop-{service}-")]
    return [a["ipAddress"] for a in pool["backendAddresses"]]


def settings_of(arm: ArmFake, service: str) -> dict[str, Any]:
    (settings,) = [s for n, s in collection(arm, "backendHttpSettingsCollection").items() if f"-{service}-" in n]
    return settings


def probe_of(arm: ArmFake, service: str) -> dict[str, Any] | None:
    ref = settings_of(arm, service).get("probe")
    return collection(arm, "probes")[ref["id"].rsplit("/", 1)[1]] if ref else None


def test_node_ips_at_the_node_port_with_the_readiness_probe(arm: ArmFake) -> None:
    p = provider(arm)
    ir = node_port_ir(arm)
    arm.state.settle()
    converge(p, arm, ir)
    assert pool_of(arm, "web") == ["10.224.0.4", "10.224.0.5"]  # two pods on node 1, one address
    assert pool_of(arm, "api") == ["10.224.0.6"]
    assert settings_of(arm, "web")["port"] == 30080 and settings_of(arm, "api")["port"] == 31900
    probe = probe_of(arm, "web")
    assert probe is not None and "port" not in probe  # the nodePort of the settings reaches the serving port
    assert (probe["path"], probe["interval"], probe["timeout"], probe["unhealthyThreshold"]) == ("/ready", 5, 2, 4)
    assert probe["protocol"] == "Http" and probe["match"] == {"statusCodes": ["200-399"]}
    assert probe_of(arm, "api") is None  # its health port is not behind the nodePort: Azure's default probe

    writes = arm.state.writes
    assert p.reconcile(ir).mutations == 0 and arm.state.writes == writes  # no-op: zero PUTs

    # A pod moves to another node: the pool follows, in one PUT.
    web = backend_of(ir, "web")
    moved = (*web.endpoints[:2], Endpoint(address="10.244.3.4", port=8080, node_name="n3", node_address="10.224.0.7"))
    ir = with_backend(ir, "web", endpoints=moved)
    _, mutations = converge(p, arm, ir)
    assert mutations == 1 and pool_of(arm, "web") == ["10.224.0.4", "10.224.0.5", "10.224.0.7"]

    # The pods roll with a new readiness probe: the probe follows, in one PUT.
    check = web.health_check
    assert check is not None
    ir = with_backend(ir, "web", health_check=check.model_copy(update={"path": "/v2/ready", "failure_threshold": 40}))
    _, mutations = converge(p, arm, ir)
    probe = probe_of(arm, "web")
    assert mutations == 1 and probe is not None
    assert (probe["path"], probe["unhealthyThreshold"]) == ("/v2/ready", 20)  # Azure takes at most 20


def test_the_parameter_path_wins_and_pod_ips_probe_the_probe_port(arm: ArmFake) -> None:
    p = provider(arm)
    ir = node_port_ir(arm, targetType="ip", healthCheckPath="/custom")
    api_check = HealthCheck(source="livenessProbe", path="/healthz", port=9001, scheme="HTTPS", timeout_s=0)
    ir = with_backend(ir, "api", health_check=api_check)
    arm.state.settle()
    converge(p, arm, ir)
    assert pool_of(arm, "web") == ["10.244.0.12", "10.244.1.10", "10.244.1.9"]
    assert settings_of(arm, "web")["port"] == 8080
    web = probe_of(arm, "web")
    assert web is not None and (web["path"], web["interval"]) == ("/custom", 5)  # parameter > readiness
    api = probe_of(arm, "api")
    assert api is not None
    # The pods' own probe port, the settings' protocol (Application Gateway probes as it sends), timeout >= 1.
    assert (api["path"], api["port"], api["protocol"], api["timeout"]) == ("/custom", 9001, "Http", 1)
