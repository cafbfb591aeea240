"""Backend resolution: kind checks, ReferenceGrant, Service ports, ready endpoints, protocol."""

from __future__ import annotations

from dataclasses import dataclass

from portico.api import Snapshot
from portico.api.core import Service, ServicePort
from portico.api.filters import BackendObjectReference
from portico.ir import Backend, BackendProtocol, BackendTLS, Endpoint
from portico.translate.backend_tls import policy_for
from portico.translate.probes import learn_health_check

H2C = "kubernetes.io/h2c"
WEBSOCKET = "kubernetes.io/ws"


@dataclass(frozen=True)
class RefProblem:
    reason: str
    message: str


def _protocol(port: ServicePort, route_kind: str) -> BackendProtocol | RefProblem:
    app = (port.app_protocol or "").lower()
    if route_kind in ("TLSRoute", "TCPRoute", "UDPRoute"):
        return BackendProtocol.HTTP  # bytes are relayed as they are: the appProtocol does not matter
    if route_kind == "GRPCRoute":
        if app in ("", H2C, "grpc", "h2c", "http2"):
            return BackendProtocol.H2C
        return RefProblem("UnsupportedProtocol", f"appProtocol {port.app_protocol!r} cannot carry gRPC")
    if app in (H2C, "h2c"):
        return BackendProtocol.H2C
    if app in ("https", "kubernetes.io/https"):
        return BackendProtocol.HTTPS
    return BackendProtocol.HTTP


def _endpoints(snapshot: Snapshot, service: Service, port: ServicePort) -> tuple[Endpoint, ...]:
    found: list[Endpoint] = []
    seen: set[tuple[str, int]] = set()
    for eps in snapshot.endpoint_slices.get(service.key, ()):
        number: int | None = None
        for candidate in eps.ports or ():
            if (candidate.name or "") == (port.name or "") and candidate.port is not None:
                number = candidate.port
                break
        if number is None and isinstance(port.target_port, int):
            number = port.target_port
        if number is None and not eps.ports:
            number = port.port
        if number is None:
            continue
        for endpoint in eps.endpoints:
            if not endpoint.is_ready:
                continue
            node = snapshot.nodes.get(endpoint.node_name) if endpoint.node_name else None
            for address in endpoint.addresses:
                if (address, number) not in seen:
                    seen.add((address, number))
                    found.append(
                        Endpoint(
                            address=address,
                            port=number,
                            zone=endpoint.zone,
                            node_name=endpoint.node_name,
                            node_address=node.internal_ip(address) if node else None,
                        )
                    )
    return tuple(sorted(found, key=lambda e: (e.address, e.port)))


def resolve_backend(
    snapshot: Snapshot, ref: BackendObjectReference, *, route_kind: str, route_namespace: str, weight: int = 1
) -> tuple[Backend, RefProblem | None]:
    """The IR backend for a ref; an invalid one keeps its weight and carries the reason (answer 500).

    Memoized in the snapshot: thousands of routes name the same few Services, and the frozen result
    (with its endpoints) is then one object instead of one copy per rule."""
    memo_key = ("backend", ref.group, ref.kind, ref.namespace, ref.name, ref.port, route_kind, route_namespace, weight)
    found: tuple[Backend, RefProblem | None] | None = snapshot.memo.get(memo_key)
    if found is None:
        found = snapshot.memo[memo_key] = _resolve_backend(snapshot, ref, route_kind, route_namespace, weight)
    return found


def _resolve_backend(
    snapshot: Snapshot, ref: BackendObjectReference, route_kind: str, route_namespace: str, weight: int
) -> tuple[Backend, RefProblem | None]:
    namespace = ref.namespace or route_namespace
    base = Backend(kind=ref.kind, group=ref.group, namespace=namespace, name=ref.name, port=ref.port, weight=weight)
    where = f"backendRef {namespace}/{ref.name}"

    def invalid(reason: str, message: str) -> tuple[Backend, RefProblem]:
        return base.model_copy(update={"invalid_reason": reason, "invalid_message": message}), RefProblem(
            reason, message
        )

    if ref.group != "" or ref.kind != "Service":
        return invalid(
            "InvalidKind",
            f"{where}: kind {ref.group or 'core'}/{ref.kind} is not supported; only core Services are",
        )
    if namespace != route_namespace and not any(
        g.permits("gateway.networking.k8s.io", route_kind, route_namespace, "", "Service", ref.name)
        for g in snapshot.grants_in(namespace)
    ):
        return invalid(
            "RefNotPermitted",
            f"{where}: no ReferenceGrant in namespace {namespace} allows {route_kind}s from {route_namespace}",
        )
    service = snapshot.services.get((namespace, ref.name))
    if service is None:
        return invalid("BackendNotFound", f"{where}: Service not found")
    if service.spec.type == "ExternalName":
        return invalid("InvalidKind", f"{where}: ExternalName Services are not supported")
    port = service.port(ref.port or 0)
    if port is None:
        return invalid("BackendNotFound", f"{where}: Service has no port {ref.port}")
    protocol = _protocol(port, route_kind)
    if isinstance(protocol, RefProblem):
        return invalid(protocol.reason, f"{where}: {protocol.message}")
    tls: BackendTLS | None = None
    verdict = policy_for(snapshot, namespace, ref.name, port)
    if verdict is not None:
        if protocol is BackendProtocol.H2C:
            return invalid(
                "UnsupportedProtocol",
                f"{where}: BackendTLSPolicy {verdict.policy.display} asks for TLS to an h2c (HTTP/2) port, "
                "which Portico does not offer",
            )
        protocol, tls = BackendProtocol.HTTPS, verdict.tls
        if not verdict.usable:
            # The policy's status says why; the route's references are fine, its share gets 500.
            message = f"{where}: BackendTLSPolicy {verdict.policy.display} has no valid CA certificate"
            return base.model_copy(
                update={"invalid_reason": "NoValidCACertificate", "invalid_message": message, "tls": tls}
            ), None
    elif protocol is BackendProtocol.HTTPS:
        # No policy: the certificate must still be valid (system CAs) for the Service's DNS name.
        tls = BackendTLS(hostname=f"{ref.name}.{namespace}.svc")
    target_port = port.target_port if isinstance(port.target_port, int) else None
    endpoints = _endpoints(snapshot, service, port)
    backend = base.model_copy(
        update={
            "tls": tls,
            "protocol": protocol,
            "target_port": target_port,
            "node_port": port.node_port,
            "endpoints": endpoints,
            "health_check": learn_health_check(snapshot, service.key, endpoints) if snapshot.pods else None,
        }
    )
    return backend, None
