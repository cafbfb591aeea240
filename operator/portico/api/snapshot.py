"""A frozen view of every object translation needs, built from raw Kubernetes dicts.

`build_snapshot` never raises on bad input: objects that cannot be read at all are kept
as `Unreadable` entries, so translation can still write a status saying which field is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.api.base import GATEWAY_GROUP, FieldError, join_errors, parse_as, without_nulls
from portico.api.core import (
    EndpointSlice,
    GatewayParameters,
    Namespace,
    Node,
    Pod,
    ReferenceGrant,
    Secret,
    Service,
)
from portico.api.gateway import Gateway, GatewayClass, parse_gateway
from portico.api.l4routes import L4_ROUTE_KINDS
from portico.api.listenerset import ListenerSet, parse_listener_set
from portico.api.policies import BackendTLSPolicy, ConfigMap
from portico.api.routes import Route, parse_route
from portico.gcpause import cyclic_gc_paused

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
    # TLSRoute, TCPRoute and UDPRoute, keyed by (kind, namespace, name)
    l4_routes: Mapping[tuple[str, str, str], Route] = field(default_factory=dict)
    listener_sets: Mapping[Key, ListenerSet] = field(default_factory=dict)
    reference_grants: tuple[ReferenceGrant, ...] = ()
    services: Mapping[Key, Service] = field(default_factory=dict)
    endpoint_slices: Mapping[Key, tuple[EndpointSlice, ...]] = field(default_factory=dict)
    secrets: Mapping[Key, Secret] = field(default_factory=dict)
    namespaces: Mapping[str, Namespace] = field(default_factory=dict)
    parameters: Mapping[Key, GatewayParameters] = field(default_factory=dict)
    backend_tls_policies: Mapping[Key, BackendTLSPolicy] = field(default_factory=dict)
    config_maps: Mapping[Key, ConfigMap] = field(default_factory=dict)
    nodes: Mapping[str, Node] = field(default_factory=dict)
    pods: Mapping[Key, Pod] = field(default_factory=dict)
    unreadable: tuple[Unreadable, ...] = ()
    # Memo for pure lookups derived from this snapshot (e.g. resolved backends); never compared.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def namespace_labels(self, name: str) -> dict[str, str]:
        ns = self.namespaces.get(name)
        return dict(ns.metadata.labels) if ns else {}

    def unreadable_parameters(self, namespace: str, name: str) -> Unreadable | None:
        """A GatewayParameters object that is present but whose spec could not be read."""
        return next(
            (u for u in self.unreadable if (u.kind, u.namespace, u.name) == (PARAMETERS_KIND, namespace, name)), None
        )

    def grants_in(self, namespace: str) -> list[ReferenceGrant]:
        return [g for g in self.reference_grants if g.metadata.namespace == namespace]


def _group_of(api_version: str) -> str:
    return api_version.split("/", maxsplit=1)[0] if "/" in api_version else ""


def _meta_of(obj: Mapping[str, Any]) -> tuple[str, str, int]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    namespace = meta.get("namespace") or "default"
    raw_generation = meta.get("generation")
    generation = raw_generation if isinstance(raw_generation, int) else 0
    return str(namespace), str(meta.get("name") or ""), generation


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


CLUSTER_SCOPED = {("gateway.networking.k8s.io", "GatewayClass"), ("", "Namespace"), ("", "Node")}


@dataclass
class _Builder:
    classes: dict[str, GatewayClass] = field(default_factory=dict)
    gateways: dict[Key, Gateway] = field(default_factory=dict)
    http_routes: dict[Key, Route] = field(default_factory=dict)
    grpc_routes: dict[Key, Route] = field(default_factory=dict)
    l4_routes: dict[tuple[str, str, str], Route] = field(default_factory=dict)
    listener_sets: dict[Key, ListenerSet] = field(default_factory=dict)
    grants: list[ReferenceGrant] = field(default_factory=list)
    services: dict[Key, Service] = field(default_factory=dict)
    slices: dict[Key, list[EndpointSlice]] = field(default_factory=dict)
    secrets: dict[Key, Secret] = field(default_factory=dict)
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    parameters: dict[Key, GatewayParameters] = field(default_factory=dict)
    backend_tls_policies: dict[Key, BackendTLSPolicy] = field(default_factory=dict)
    config_maps: dict[Key, ConfigMap] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    pods: dict[Key, Pod] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)

    def add_gateway_api(self, kind: str, obj: dict[str, Any]) -> list[FieldError] | None:
        if kind == "GatewayClass":
            gc = parse_as(GatewayClass, obj)
            if isinstance(gc, list):
                return gc
            self.classes[gc.metadata.name] = gc
        elif kind == "Gateway":
            gw = parse_gateway(obj)
            if isinstance(gw, list):
                return gw
            self.gateways[gw.key] = gw
        elif kind in ("HTTPRoute", "GRPCRoute"):
            route = parse_route(obj, kind)
            if isinstance(route, list):
                return route
            (self.grpc_routes if route.is_grpc else self.http_routes)[route.key] = route
        elif kind in L4_ROUTE_KINDS:
            route = parse_route(obj, kind)
            if isinstance(route, list):
                return route
            self.l4_routes[(kind, *route.key)] = route
        elif kind == "ListenerSet":
            listener_set = parse_listener_set(obj)
            if isinstance(listener_set, list):
                return listener_set
            self.listener_sets[listener_set.key] = listener_set
        elif kind == "ReferenceGrant":
            grant = parse_as(ReferenceGrant, obj)
            if isinstance(grant, list):
                return grant
            self.grants.append(grant)
        elif kind == "BackendTLSPolicy":
            policy = parse_as(BackendTLSPolicy, obj)
            if isinstance(policy, list):
                return policy
            self.backend_tls_policies[policy.key] = policy
        return None

    def add_other(self, group: str, kind: str, obj: dict[str, Any]) -> None:
        """Objects Portico only reads; an unreadable one is simply absent (its referrers say so)."""
        if (group, kind) == ("", "Service"):
            svc = parse_as(Service, obj)
            if isinstance(svc, Service):
                self.services[svc.key] = svc
        elif (group, kind) == ("discovery.k8s.io", "EndpointSlice"):
            eps = parse_as(EndpointSlice, obj)
            if isinstance(eps, EndpointSlice) and eps.service_name:
                self.slices.setdefault((eps.metadata.namespace, eps.service_name), []).append(eps)
        elif (group, kind) == ("", "Secret"):
            secret = parse_as(Secret, obj)
            if isinstance(secret, Secret):
                self.secrets[secret.key] = secret
        elif (group, kind) == ("", "ConfigMap"):
            config_map = parse_as(ConfigMap, obj)
            if isinstance(config_map, ConfigMap):
                self.config_maps[config_map.key] = config_map
        elif (group, kind) == ("", "Namespace"):
            ns = parse_as(Namespace, obj)
            if isinstance(ns, Namespace):
                self.namespaces[ns.metadata.name] = ns
        elif (group, kind) == ("", "Node"):
            node = parse_as(Node, obj)
            if isinstance(node, Node):
                self.nodes[node.metadata.name] = node
        elif (group, kind) == ("", "Pod"):
            pod = parse_as(Pod, obj)
            if isinstance(pod, Pod):
                self.pods[pod.key] = pod
        elif (group, kind) == (PORTICO_GROUP, PARAMETERS_KIND):
            params = parse_as(GatewayParameters, obj)
            if isinstance(params, GatewayParameters):
                self.parameters[params.key] = params
            else:  # kept so that a parametersRef to it says why it is invalid, not "not found"
                namespace, name, generation = _meta_of(obj)
                self.unreadable.append(Unreadable(kind, namespace, name, generation, obj, tuple(params)))

    def snapshot(self) -> Snapshot:
        return Snapshot(
            gateway_classes=self.classes,
            gateways=self.gateways,
            http_routes=self.http_routes,
            grpc_routes=self.grpc_routes,
            l4_routes=self.l4_routes,
            listener_sets=self.listener_sets,
            reference_grants=tuple(self.grants),
            services=self.services,
            endpoint_slices={k: tuple(sorted(v, key=lambda s: s.metadata.name)) for k, v in self.slices.items()},
            secrets=self.secrets,
            namespaces=self.namespaces,
            parameters=self.parameters,
            backend_tls_policies=self.backend_tls_policies,
            config_maps=self.config_maps,
            nodes=self.nodes,
            pods=self.pods,
            unreadable=tuple(self.unreadable),
        )


@cyclic_gc_paused
def build_snapshot(objects: Iterable[Mapping[str, Any]]) -> Snapshot:
    builder = _Builder()
    for original in objects:
        if not isinstance(original, Mapping):
            continue
        kind = str(original.get("kind", ""))
        group = _group_of(str(original.get("apiVersion", "")))
        # The API server prunes nulls before any controller reads an object; so does Portico.
        obj = with_default_namespace(without_nulls(original), (group, kind) in CLUSTER_SCOPED)
        if group == GATEWAY_GROUP:
            errors = builder.add_gateway_api(kind, obj)
            if errors is not None:
                namespace, name, generation = _meta_of(obj)
                builder.unreadable.append(Unreadable(kind, namespace, name, generation, obj, tuple(errors)))
        else:
            builder.add_other(group, kind, obj)
    return builder.snapshot()
