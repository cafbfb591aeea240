"""Core objects Portico reads: Service, EndpointSlice, Secret, Namespace, Node; and ReferenceGrant."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from pydantic import Field

from portico.api.base import Group, Kind, Model, Resource


class ServicePort(Model):
    name: str | None = None
    port: int
    target_port: int | str | None = None
    node_port: int | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None


class ServiceSpec(Model):
    type: str = "ClusterIP"
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: str | None = Field(None, alias="clusterIP")
    external_name: str | None = None


class Service(Resource):
    spec: ServiceSpec = ServiceSpec()

    def port(self, number: int) -> ServicePort | None:
        return next((p for p in self.spec.ports if p.port == number), None)


class EndpointConditions(Model):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class TargetRef(Model):
    kind: str = ""
    namespace: str | None = None
    name: str = ""
    uid: str = ""


class SliceEndpoint(Model):
    addresses: tuple[str, ...] = ()
    conditions: EndpointConditions = EndpointConditions()
    node_name: str | None = None
    zone: str | None = None
    target_ref: TargetRef | None = None

    @property
    def is_ready(self) -> bool:
        # Per the EndpointSlice API, an unset `ready` means ready.
        return self.conditions.ready is not False


class EndpointPort(Model):
    name: str | None = None
    port: int | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None


class EndpointSlice(Resource):
    address_type: str = "IPv4"
    endpoints: tuple[SliceEndpoint, ...] = ()
    ports: tuple[EndpointPort, ...] | None = None

    @property
    def service_name(self) -> str | None:
        return self.metadata.labels.get("kubernetes.io/service-name")


class Secret(Resource):
    type: str = "Opaque"
    data: dict[str, str] = Field(default_factory=dict)
    string_data: dict[str, str] = Field(default_factory=dict)

    def value(self, key: str) -> bytes | None:
        """Decoded value of `key` (stringData wins, as the API server would merge it)."""
        if key in self.string_data:
            return self.string_data[key].encode()
        raw = self.data.get(key)
        if raw is None:
            return None
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None


class Namespace(Resource):
    pass


class HTTPGetAction(Model):
    path: str = "/"
    port: int | str
    scheme: str = "HTTP"
    http_headers: tuple[dict[str, str], ...] = ()


class Probe(Model):
    """The API server fills these defaults in, so a stored Pod always has them."""

    http_get: HTTPGetAction | None = None
    period_seconds: int = 10
    timeout_seconds: int = 1
    failure_threshold: int = 3
    success_threshold: int = 1


class ContainerPort(Model):
    name: str | None = None
    container_port: int
    protocol: str = "TCP"


class Container(Model):
    name: str
    ports: tuple[ContainerPort, ...] = ()
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None


class PodSpec(Model):
    containers: tuple[Container, ...] = ()


class Pod(Resource):
    """Only what health checks need: containers, their ports and probes (immutable in a Pod)."""

    spec: PodSpec = PodSpec()


class NodeAddress(Model):
    type: str
    address: str


class NodeStatus(Model):
    addresses: tuple[NodeAddress, ...] = ()


class Node(Resource):
    status: NodeStatus = NodeStatus()

    def internal_ip(self, like: str) -> str | None:
        """The node's first InternalIP of the same family as `like` (dual-stack nodes list one of each)."""
        try:
            version = ipaddress.ip_address(like).version
        except ValueError:
            return None
        for entry in self.status.addresses:
            if entry.type != "InternalIP":
                continue
            try:
                if ipaddress.ip_address(entry.address).version == version:
                    return entry.address
            except ValueError:
                continue
        return None


class ReferenceGrantFrom(Model):
    group: Group
    kind: Kind
    namespace: str


class ReferenceGrantTo(Model):
    group: Group
    kind: Kind
    name: str | None = None


class ReferenceGrantSpec(Model):
    from_: tuple[ReferenceGrantFrom, ...] = Field(alias="from", min_length=1, max_length=16)
    to: tuple[ReferenceGrantTo, ...] = Field(min_length=1, max_length=16)


class ReferenceGrant(Resource):
    spec: ReferenceGrantSpec

    def permits(
        self, from_group: str, from_kind: str, from_namespace: str, to_group: str, to_kind: str, to_name: str
    ) -> bool:
        return any(
            f.group == from_group and f.kind == from_kind and f.namespace == from_namespace for f in self.spec.from_
        ) and any(t.group == to_group and t.kind == to_kind and (not t.name or t.name == to_name) for t in self.spec.to)


class GatewayParameters(Resource):
    """Portico's own parametersRef target; each provider reads its own section of `spec`."""

    spec: dict[str, Any] = Field(default_factory=dict)
