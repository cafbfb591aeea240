"""Core objects Portico reads: Service, EndpointSlice, Secret, Namespace; and ReferenceGrant."""

from __future__ import annotations

import base64
import binascii
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


class SliceEndpoint(Model):
    addresses: tuple[str, ...] = ()
    conditions: EndpointConditions = EndpointConditions()
    node_name: str | None = None
    zone: str | None = None

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
