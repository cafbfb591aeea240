"""Pure: where Application Gateway sends a backend's traffic - pod IPs at the target port, or the
InternalIPs of the nodes hosting its endpoints at the Service's nodePort (targetType nodePort, for
clusters whose pod IPs are not routable from the gateway's subnet, e.g. kubenet or overlay CNIs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portico.ir import Backend
from portico_providers.azure_appgw import limits
from portico_providers.azure_appgw.naming import azure_name

POD_IP = "ip"
NODE_PORT = "nodePort"


@dataclass(frozen=True)
class Targets:
    """`addresses` empty and `unusable` set: the backend cannot be reached this way (answer 502)."""

    port: int
    addresses: tuple[str, ...]
    notes: tuple[str, ...] = ()
    unusable: str | None = None


def _bounded(backend: Backend, addresses: list[str], notes: list[str]) -> tuple[str, ...]:
    if len(addresses) > limits.MAX_ADDRESSES_PER_POOL:
        notes.append(
            f"backend {backend.id}: {len(addresses)} addresses; Application Gateway takes "
            f"{limits.MAX_ADDRESSES_PER_POOL} per pool, the first ones in address order are used"
        )
        addresses = addresses[: limits.MAX_ADDRESSES_PER_POOL]
    return tuple(addresses)


def targets(backend: Backend, target_type: str) -> Targets:
    notes: list[str] = []
    if target_type == NODE_PORT:
        if backend.node_port is None:
            why = (
                f"backend {backend.id}: spec.azure.targetType nodePort needs a Service of type NodePort or "
                "LoadBalancer (this one has no nodePort)"
            )
            return Targets(port=0, addresses=(), unusable=why)
        nodes: set[str] = set()
        for endpoint in backend.endpoints:
            if endpoint.node_address is None:
                notes.append(
                    f"backend {backend.id}: endpoint {endpoint.address} is on node "
                    f"{endpoint.node_name or '(unknown)'} without a known InternalIP; left out"
                )
            else:
                nodes.add(endpoint.node_address)
        return Targets(backend.node_port, _bounded(backend, sorted(nodes), notes), tuple(notes))
    port = backend.target_port or (backend.endpoints[0].port if backend.endpoints else None) or backend.port or 80
    addresses = sorted({e.address for e in backend.endpoints})
    return Targets(port, _bounded(backend, addresses, notes), tuple(notes))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def learnt_probe(
    backend: Backend, target_type: str, protocol: str, path_parameter: str | None
) -> tuple[tuple[str, dict[str, Any]] | None, list[str]]:
    """(name, body) of the probe from the pods' readinessProbe/livenessProbe, by AGIC's rules (path,
    port, period, timeout, failure threshold; spec.azure.healthCheckPath still overrides the path),
    and notes. None: no learnt health check, or one Application Gateway cannot reach."""
    check = backend.health_check
    if check is None:
        return None, []
    notes: list[str] = []
    body: dict[str, Any] = {
        "protocol": protocol,
        "host": check.host or "localhost",
        "path": path_parameter or check.path,
        "interval": _clamp(check.period_s, limits.MIN_PROBE_SECONDS, limits.MAX_PROBE_SECONDS),
        "timeout": _clamp(check.timeout_s, limits.MIN_PROBE_SECONDS, limits.MAX_PROBE_SECONDS),
        "unhealthyThreshold": _clamp(check.failure_threshold, 1, limits.MAX_UNHEALTHY_THRESHOLD),
        "pickHostNameFromBackendHttpSettings": False,
        "minServers": 0,
        "match": {"statusCodes": ["200-399"]},  # what the kubelet counts as success
    }
    serving = backend.endpoints[0].port if backend.endpoints else backend.target_port
    if check.port != serving:
        if target_type == NODE_PORT:
            notes.append(
                f"backend {backend.id}: the pods' {check.source} port {check.port} is not the port the Service "
                "targets, so the nodePort does not reach it; the probe is Application Gateway's default"
            )
            return None, notes
        body["port"] = check.port  # in nodePort mode the probe goes to the settings' port, the nodePort
    if check.scheme.capitalize() != protocol:
        notes.append(
            f"backend {backend.id}: the pods' {check.source} uses {check.scheme}; the probe uses {protocol}, "
            "the protocol of the backend settings"
        )
    return (azure_name("probe", backend.namespace, backend.name, backend.port, protocol), body), notes
