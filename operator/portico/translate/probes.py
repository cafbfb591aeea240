"""Health checks learnt from a backend's pods (pure).

One pod speaks for a Service: the first ready endpoint, in address order, whose Pod the snapshot
holds. Its container serving the target port (the one declaring that containerPort, or the only
container) gives its readinessProbe httpGet, else its livenessProbe httpGet; exec, tcpSocket and
grpc probes say nothing about an HTTP path, so they give none. The operator fetches exactly that
pod (portico.handlers.pods); `portico plan` reads Pod manifests given with -f.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from portico.api import Snapshot
from portico.api.core import Container, EndpointSlice, Pod, Probe
from portico.ir import Endpoint, HealthCheck

PodRef = tuple[str, str, str]  # namespace, name, uid ("" when the slice does not say)


def speakers(slices: Iterable[EndpointSlice]) -> list[tuple[str, PodRef]]:
    """(address, pod) of a Service's ready endpoints backed by Pods, in the order they speak for it."""
    found: list[tuple[str, PodRef]] = []
    for eps in slices:
        for endpoint in eps.endpoints:
            ref = endpoint.target_ref
            if endpoint.is_ready and ref is not None and ref.kind == "Pod" and ref.name and endpoint.addresses:
                found.append((endpoint.addresses[0], (ref.namespace or eps.metadata.namespace, ref.name, ref.uid)))
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, PodRef]] = []
    for address, pod in sorted(found):
        if pod[:2] not in seen:
            seen.add(pod[:2])
            out.append((address, pod))
    return out


def _serving(pod: Pod, container_port: int) -> Container | None:
    containers = pod.spec.containers
    declared = [c for c in containers if any(p.container_port == container_port for p in c.ports)]
    if declared:
        return declared[0]
    return containers[0] if len(containers) == 1 else None


def _port(value: int | str, container: Container) -> int | None:
    if isinstance(value, int):
        return value
    if value.isdigit():
        return int(value)
    return next((p.container_port for p in container.ports if p.name == value), None)


def _from_probe(source: Literal["readinessProbe", "livenessProbe"], probe: Probe, container: Container) -> HealthCheck:
    get = probe.http_get
    assert get is not None
    port = _port(get.port, container)
    assert port is not None
    host = next((h.get("value") for h in get.http_headers if str(h.get("name", "")).lower() == "host"), None)
    return HealthCheck(
        source=source,
        path=get.path or "/",
        port=port,
        scheme="HTTPS" if get.scheme.upper() == "HTTPS" else "HTTP",
        host=host or None,
        period_s=probe.period_seconds,
        timeout_s=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
        success_threshold=probe.success_threshold,
    )


def health_check_of(pod: Pod, container_port: int) -> HealthCheck | None:
    """readinessProbe before livenessProbe, httpGet only, with a port that resolves."""
    container = _serving(pod, container_port)
    if container is None:
        return None
    probes: tuple[tuple[Literal["readinessProbe", "livenessProbe"], Probe | None], ...] = (
        ("readinessProbe", container.readiness_probe),
        ("livenessProbe", container.liveness_probe),
    )
    for source, probe in probes:
        if probe is not None and probe.http_get is not None and _port(probe.http_get.port, container) is not None:
            return _from_probe(source, probe, container)
    return None


def learn_health_check(
    snapshot: Snapshot, service: tuple[str, str], endpoints: tuple[Endpoint, ...]
) -> HealthCheck | None:
    """The health check of the pod speaking for `service`, for the port its endpoint is at."""
    ports = {e.address: e.port for e in endpoints}
    for address, (namespace, name, uid) in speakers(snapshot.endpoint_slices.get(service, ())):
        pod = snapshot.pods.get((namespace, name))
        if pod is None or address not in ports or (uid and pod.metadata.uid and pod.metadata.uid != uid):
            continue
        return health_check_of(pod, ports[address])
    return None
