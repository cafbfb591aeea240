"""Backend services, health checks and zonal GCE_VM_IP_PORT NEGs for the backends rules use.

One backend service (and health check) per Service port and protocol; one NEG per Service
port and zone holding the pod endpoints of that zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.ir import Backend, BackendProtocol, RouteKind
from portico_providers.gcp_alb import model
from portico_providers.gcp_alb.model import (
    BACKEND_SERVICE,
    HEALTH_CHECK,
    INSTANCE_GROUP,
    NEG,
    GrpcPortCheck,
    NetworkEndpoint,
    PortCheck,
    desired,
)
from portico_providers.gcp_alb.naming import ComputeOwnership, scope_of, short_hash, suffix_of, versioned
from portico_providers.gcp_alb.params import GcpParameters
from portico_providers.kit.resources import Desired

# Capacity is not what Portico balances on: RATE mode needs a ceiling, so one no endpoint reaches.
MAX_RATE_PER_ENDPOINT = 100_000_000.0


def service_protocol(backend: Backend, kind: RouteKind) -> str:
    """The backend service protocol: gRPC always needs HTTP/2 (H2C in clear text, HTTP2 over TLS)."""
    if backend.protocol is BackendProtocol.HTTPS:
        return "HTTP2" if kind is RouteKind.GRPC else "HTTPS"
    if backend.protocol is BackendProtocol.H2C or kind is RouteKind.GRPC:
        return "H2C"
    return "HTTP"


@dataclass
class Backends:
    owner: ComputeOwnership
    project: str
    scope: str
    params: GcpParameters
    services: dict[str, tuple[Backend, RouteKind, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def link(self, scope: str, kind: str, rid: str) -> str:
        return f"projects/{self.project}/{scope}/{model.COLLECTIONS[kind]}/{self.owner.name(rid)}"

    @property
    def by_nodes(self) -> bool:
        return self.params.backend_type == "InstanceGroup"

    def _port_name(self, backend: Backend) -> str | None:
        return f"np-{backend.node_port}" if self.by_nodes and backend.node_port is not None else None

    def ref(self, backend: Backend, kind: RouteKind) -> str:
        protocol = service_protocol(backend, kind)
        # The scheme and named port cannot change in place: they are part of the name.
        unique = f"{backend.id}/{protocol}/{kind.value}/{self.params.load_balancing_scheme}/{self._port_name(backend)}"
        rid = "bs-" + short_hash(unique, 10)
        self.services.setdefault(rid, (backend, kind, protocol))
        return self.link(self.scope, BACKEND_SERVICE, rid)

    @property
    def empty_id(self) -> str:
        return versioned("bs-none", self.params.load_balancing_scheme)

    @property
    def empty(self) -> str:
        """A backend service with no backends, behind every fault-injected 404 or 500 answer."""
        return self.link(self.scope, BACKEND_SERVICE, self.empty_id)

    def _zone(self, zone: str | None, backend: Backend) -> str | None:
        zone = zone or self.params.default_zone
        if zone is None:
            self.problems.append(
                f"backend {backend.id}: an endpoint has no zone (EndpointSlice zone hint); set spec.gcp.defaultZone"
            )
        elif self.params.region and not zone.startswith(self.params.region + "-"):
            self.problems.append(f"backend {backend.id}: zone {zone} is not in region {self.params.region}")
            return None
        return zone

    def _negs(self, backend: Backend) -> list[Desired]:
        port = backend.target_port or (backend.endpoints[0].port if backend.endpoints else backend.port) or 80
        # The network and default port cannot change in place: they are part of the name.
        rid = "neg-" + short_hash(f"{backend.namespace}/{backend.name}:{backend.port}/{self.params.network}/{port}", 10)
        by_zone: dict[str, list[NetworkEndpoint]] = {}
        for endpoint in backend.endpoints:
            zone = self._zone(endpoint.zone, backend)
            if zone is not None:
                member = NetworkEndpoint(ip_address=endpoint.address, port=endpoint.port, instance=endpoint.node_name)
                by_zone.setdefault(zone, []).append(member)
        network = f"projects/{self.project}/global/networks/{self.params.network}"
        return [
            desired(
                NEG,
                f"zones/{zone}",
                rid,
                model.NetworkEndpointGroup(
                    name=self.owner.name(rid),
                    description=self.owner.marker(f"zones/{zone}", rid),
                    network=network,
                    default_port=port,
                    network_endpoints=tuple(sorted(set(members), key=lambda e: (e.ip_address, e.port))),
                ),
            )
            for zone, members in sorted(by_zone.items())
        ]

    def _nodes(self) -> dict[str, set[str]]:
        """zone -> names of the nodes hosting endpoints of any backend (each serves every nodePort)."""
        nodes: dict[str, set[str]] = {}
        for backend, _, _ in self.services.values():
            if backend.node_port is None:
                self.problems.append(
                    f"backend {backend.id}: spec.gcp.backendType InstanceGroup needs a Service with a nodePort"
                )
            for endpoint in backend.endpoints:
                zone = self._zone(endpoint.zone, backend)
                if endpoint.node_name is None:
                    self.problems.append(f"backend {backend.id}: endpoint {endpoint.address} names no node")
                elif zone is not None:
                    nodes.setdefault(zone, set()).add(endpoint.node_name)
        return nodes

    def _instance_groups(self) -> list[Desired]:
        ports = sorted({b.node_port for b, _, _ in self.services.values() if b.node_port is not None})
        named = tuple(model.NamedPort(name=f"np-{port}", port=port) for port in ports) or None
        network = f"projects/{self.project}/global/networks/{self.params.network}"
        rid = versioned("ig", network)
        return [
            desired(
                INSTANCE_GROUP,
                f"zones/{zone}",
                rid,
                model.InstanceGroup(
                    name=self.owner.name(rid),
                    description=self.owner.marker(f"zones/{zone}", rid),
                    network=network,
                    named_ports=named,
                    instances=tuple(f"projects/{self.project}/zones/{zone}/instances/{node}" for node in sorted(names)),
                ),
            )
            for zone, names in sorted(self._nodes().items())
        ]

    def _health_check(self, rid: str, protocol: str, kind: RouteKind) -> Desired:
        hc = self.params.health_check
        check = PortCheck(request_path=hc.request_path)
        fields: dict[str, object] = {}
        if kind is RouteKind.GRPC and protocol == "H2C":
            fields = {"type": "GRPC", "grpc_health_check": GrpcPortCheck()}
        elif protocol in ("HTTPS", "HTTP2"):
            fields = {"type": protocol, f"{protocol.lower()}_health_check": check}
        else:
            fields = {"type": "HTTP", "http_health_check": check}
        body = model.HealthCheck.model_validate(
            {
                "name": self.owner.name(rid),
                "description": self.owner.marker(self.scope, rid),
                "check_interval_sec": hc.check_interval_sec,
                "timeout_sec": hc.timeout_sec,
                "healthy_threshold": hc.healthy_threshold,
                "unhealthy_threshold": hc.unhealthy_threshold,
                **fields,
            }
        )
        return desired(HEALTH_CHECK, self.scope, rid, body)

    def resources(self) -> list[Desired]:
        out: list[Desired] = []
        negs: dict[str, Desired] = {}
        empty = model.BackendService(
            name=self.owner.name(self.empty_id),
            description=self.owner.marker(self.scope, self.empty_id),
            load_balancing_scheme=self.params.load_balancing_scheme,
            protocol="HTTP",
            timeout_sec=self.params.backend_timeout_sec,
        )
        out.append(desired(BACKEND_SERVICE, self.scope, self.empty_id, empty))
        by_nodes = self.by_nodes
        instance_groups = self._instance_groups() if by_nodes else []
        for rid, (backend, kind, protocol) in sorted(self.services.items()):
            groups = [
                model.Backend(
                    group=self.link(scope_of(ig.id), INSTANCE_GROUP, suffix_of(ig.id)),
                    max_rate_per_instance=MAX_RATE_PER_ENDPOINT,
                )
                for ig in instance_groups
            ]
            for neg in [] if by_nodes else self._negs(backend):
                negs.setdefault(neg.id, neg)
                groups.append(
                    model.Backend(
                        group=self.link(scope_of(neg.id), NEG, suffix_of(neg.id)),
                        max_rate_per_endpoint=MAX_RATE_PER_ENDPOINT,
                    )
                )
            check_id = "hc-" + rid.removeprefix("bs-")
            out.append(self._health_check(check_id, protocol, kind))
            body = model.BackendService(
                name=self.owner.name(rid),
                description=self.owner.marker(self.scope, rid),
                load_balancing_scheme=self.params.load_balancing_scheme,
                protocol=protocol,
                health_checks=(self.link(self.scope, HEALTH_CHECK, check_id),),
                backends=tuple(groups) or None,
                port_name=self._port_name(backend),
                timeout_sec=self.params.backend_timeout_sec,
            )
            out.append(desired(BACKEND_SERVICE, self.scope, rid, body))
        return list(negs.values()) + instance_groups + out
