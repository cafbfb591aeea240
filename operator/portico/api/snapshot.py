"""A frozen view of every object translation needs, built from raw Kubernetes dicts.

`build_snapshot` never raises on bad input: objects that cannot be read at all are kept
as `Unreadable` entries, so translation can still write a status saying which field is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.api.base import GATEWAY_GROUP, FieldError, join_errors, parse_as
from portico.api.core import (
    EndpointSlice,
    GatewayParameters,
    Namespace,
    ReferenceGrant,
    Secret,
    Service,
)
from portico.api.gateway import Gateway, GatewayClass, parse_gateway
from portico.api.routes import Route, parse_route

PORTICO_GROUP = "portico.dev"
PARAMETERS_KIND = "GatewayParameters"

Key = tuple[str, str]


@dataclass(frozen=True)
class Unreadable:
    """An object whose spec could not be parsed; it still gets a status naming the field."""

    kind: str
    namespace: str
    name: str
    generation: int
    raw: Mapping[str, Any]
    errors: tuple[FieldError, ...]

    @property
    def message(self) -> str:
        return join_errors(self.errors)


@dataclass(frozen=True)
class Snapshot:
    gateway_classes: Mapping[str, GatewayClass] = field(default_factory=dict)
    gateways: Mapping[Key, Gateway] = field(default_factory=dict)
    http_routes: Mapping[Key, Route] = field(default_factory=dict)
    grpc_routes: Mapping[Key, Route] = field(default_factory=dict)
    reference_grants: tuple[ReferenceGrant, ...] = ()
    services: Mapping[Key, Service] = field(default_factory=dict)
    endpoint_slices: Mapping[Key, tuple[EndpointSlice, ...]] = field(default_factory=dict)
    secrets: Mapping[Key, Secret] = field(default_factory=dict)
    namespaces: Mapping[str, Namespace] = field(default_factory=dict)
    parameters: Mapping[Key, GatewayParameters] = field(default_factory=dict)
    unreadable: tuple[Unreadable, ...] = ()

    def namespace_labels(self, name: str) -> dict[str, str]:
        ns = self.namespaces.get(name)
        return dict(ns.metadata.labels) if ns else {}

    def grants_in(self, namespace: str) -> list[ReferenceGrant]:
        return [g for g in self.reference_grants if g.metadata.namespace == namespace]


def _group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _meta_of(obj: Mapping[str, Any]) -> tuple[str, str, int]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    namespace = meta.get("namespace") or "default"
    generation = meta.get("generation") if isinstance(meta.get("generation"), int) else 0
    return str(namespace), str(meta.get("name", "")), int(generation)


def with_default_namespace(obj: Mapping[str, Any], cluster_scoped: bool) -> dict[str, Any]:
    """Copy of obj where a namespaced object without namespace lands in `default`."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    if cluster_scoped:
        meta.pop("namespace", None)
        meta["namespace"] = ""
    else:
        meta.setdefault("namespace", "default")
        if not meta["namespace"]:
            meta["namespace"] = "default"
    out["metadata"] = meta
    return out


CLUSTER_SCOPED = {("gateway.networking.k8s.io", "GatewayClass"), ("", "Namespace")}


def build_snapshot(objects: Iterable[Mapping[str, Any]]) -> Snapshot:
    classes: dict[str, GatewayClass] = {}
    gateways: dict[Key, Gateway] = {}
    http_routes: dict[Key, Route] = {}
    grpc_routes: dict[Key, Route] = {}
    grants: list[ReferenceGrant] = []
    services: dict[Key, Service] = {}
    slices: dict[Key, list[EndpointSlice]] = {}
    secrets: dict[Key, Secret] = {}
    namespaces: dict[str, Namespace] = {}
    parameters: dict[Key, GatewayParameters] = {}
    unreadable: list[Unreadable] = []

    for original in objects:
        if not isinstance(original, Mapping):
            continue
        kind = str(original.get("kind", ""))
        group = _group_of(str(original.get("apiVersion", "")))
        obj = with_default_namespace(original, (group, kind) in CLUSTER_SCOPED)
        namespace, name, generation = _meta_of(obj)

        def bad(errors: list[FieldError], kind: str = kind, namespace: str = namespace, name: str = name,
                generation: int = generation, obj: dict[str, Any] = obj) -> None:
            unreadable.append(Unreadable(kind, namespace, name, generation, obj, tuple(errors)))

        if group == GATEWAY_GROUP and kind == "GatewayClass":
            gc = parse_as(GatewayClass, obj)
            if isinstance(gc, GatewayClass):
                classes[gc.metadata.name] = gc
            else:
                bad(gc)
        elif group == GATEWAY_GROUP and kind == "Gateway":
            gw = parse_gateway(obj)
            if isinstance(gw, Gateway):
                gateways[gw.key] = gw
            else:
                bad(gw)
        elif group == GATEWAY_GROUP and kind in ("HTTPRoute", "GRPCRoute"):
            route = parse_route(obj, kind)
            if isinstance(route, Route):
                (grpc_routes if route.is_grpc else http_routes)[route.key] = route
            else:
                bad(route)
        elif group == GATEWAY_GROUP and kind == "ReferenceGrant":
            grant = parse_as(ReferenceGrant, obj)
            if isinstance(grant, ReferenceGrant):
                grants.append(grant)
            else:
                bad(grant)
        elif group == "" and kind == "Service":
            svc = parse_as(Service, obj)
            if isinstance(svc, Service):
                services[svc.key] = svc
        elif group == "discovery.k8s.io" and kind == "EndpointSlice":
            eps = parse_as(EndpointSlice, obj)
            if isinstance(eps, EndpointSlice) and eps.service_name:
                slices.setdefault((eps.metadata.namespace, eps.service_name), []).append(eps)
        elif group == "" and kind == "Secret":
            secret = parse_as(Secret, obj)
            if isinstance(secret, Secret):
                secrets[secret.key] = secret
        elif group == "" and kind == "Namespace":
            ns = parse_as(Namespace, obj)
            if isinstance(ns, Namespace):
                namespaces[ns.metadata.name] = ns
        elif group == PORTICO_GROUP and kind == PARAMETERS_KIND:
            params = parse_as(GatewayParameters, obj)
            if isinstance(params, GatewayParameters):
                parameters[params.key] = params

    return Snapshot(
        gateway_classes=classes,
        gateways=gateways,
        http_routes=http_routes,
        grpc_routes=grpc_routes,
        reference_grants=tuple(grants),
        services=services,
        endpoint_slices={k: tuple(sorted(v, key=lambda s: s.metadata.name)) for k, v in slices.items()},
        secrets=secrets,
        namespaces=namespaces,
        parameters=parameters,
        unreadable=tuple(unreadable),
    )
