"""The operator's memory of the cluster: raw objects fed by watch events, plus reverse indexes
that answer "which Gateways does this change affect?" without scanning every route.

Upserts and deletes are idempotent (a watch replays every object as ADDED on reconnect).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from portico.handlers.status import GATEWAY_GROUP

ObjKey = tuple[str, str, str]  # (kind, namespace, name); namespace "" for cluster-scoped kinds
NsName = tuple[str, str]
CLUSTER_SCOPED = frozenset({"GatewayClass", "Namespace", "Node"})
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})
# Changes to these can affect any Gateway (namespace labels, grants, parameters): rare, so coarse.
# BackendTLSPolicies and their CA ConfigMaps too: a policy names Services, not Gateways.
GLOBAL_KINDS = frozenset({"Namespace", "ReferenceGrant", "GatewayParameters", "BackendTLSPolicy", "ConfigMap"})


def key_of(obj: Mapping[str, Any]) -> ObjKey:
    kind = str(obj.get("kind", ""))
    meta = obj.get("metadata") or {}
    namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return (kind, namespace, str(meta.get("name", "")))


def _as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def route_gateways(route: Mapping[str, Any], kind: str = "Gateway") -> set[NsName]:
    """Gateways (or ListenerSets, with `kind`) a route names in spec.parentRefs or still has a status entry for."""
    namespace = str(_as_dict(route.get("metadata")).get("namespace") or "default")
    refs = _list(_as_dict(route.get("spec")).get("parentRefs"))
    refs += [_as_dict(p).get("parentRef") for p in _list(_as_dict(route.get("status")).get("parents"))]
    out: set[NsName] = set()
    for item in refs:
        ref = _as_dict(item)
        is_kind = (ref.get("group") or GATEWAY_GROUP) == GATEWAY_GROUP and (ref.get("kind") or "Gateway") == kind
        if is_kind and ref.get("name"):
            out.add((str(ref.get("namespace") or namespace), str(ref["name"])))
    return out


def listener_set_parent(listener_set: Mapping[str, Any]) -> NsName | None:
    """The Gateway a ListenerSet's spec.parentRef names (None for another kind)."""
    namespace = str(_as_dict(listener_set.get("metadata")).get("namespace") or "default")
    ref = _as_dict(_as_dict(listener_set.get("spec")).get("parentRef"))
    is_gateway = (ref.get("group") or GATEWAY_GROUP) == GATEWAY_GROUP and (ref.get("kind") or "Gateway") == "Gateway"
    return (str(ref.get("namespace") or namespace), str(ref["name"])) if is_gateway and ref.get("name") else None


def route_backends(route: Mapping[str, Any]) -> set[NsName]:
    """Services a route sends to (backendRefs and mirror filters, at rule and backend level)."""
    namespace = str(_as_dict(route.get("metadata")).get("namespace") or "default")
    refs: list[Any] = []
    for rule in _list(_as_dict(route.get("spec")).get("rules")):
        backend_refs = _list(_as_dict(rule).get("backendRefs"))
        refs += backend_refs
        filters = _list(_as_dict(rule).get("filters"))
        for backend in backend_refs:
            filters += _list(_as_dict(backend).get("filters"))
        refs += [_as_dict(f).get("requestMirror", {}).get("backendRef") for f in filters if isinstance(f, Mapping)]
    out: set[NsName] = set()
    for item in refs:
        ref = _as_dict(item)
        if (ref.get("kind") or "Service") == "Service" and not ref.get("group") and ref.get("name"):
            out.add((str(ref.get("namespace") or namespace), str(ref["name"])))
    return out


def gateway_secrets(gateway: Mapping[str, Any]) -> set[NsName]:
    """Secrets the listeners of a Gateway (or of a ListenerSet: the same shape) name."""
    namespace = str(_as_dict(gateway.get("metadata")).get("namespace") or "default")
    out: set[NsName] = set()
    for listener in _list(_as_dict(gateway.get("spec")).get("listeners")):
        for item in _list(_as_dict(_as_dict(listener).get("tls")).get("certificateRefs")):
            ref = _as_dict(item)
            if ref.get("name"):
                out.add((str(ref.get("namespace") or namespace), str(ref["name"])))
    return out


def trimmed_node(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Node as the store keeps it: its name and InternalIPs. The kubelet rewrites a Node's status
    every few minutes (conditions, images, heartbeats); none of that wakes a Gateway or costs memory."""
    meta = _as_dict(node.get("metadata"))
    addresses = [
        {"type": "InternalIP", "address": str(a.get("address"))}
        for a in map(_as_dict, _list(_as_dict(node.get("status")).get("addresses")))
        if a.get("type") == "InternalIP" and a.get("address")
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": meta.get("name", ""), "resourceVersion": meta.get("resourceVersion", "")},
        "status": {"addresses": addresses},
    }


def slice_nodes(endpoint_slice: Mapping[str, Any]) -> set[str]:
    return {str(e["nodeName"]) for e in map(_as_dict, _list(endpoint_slice.get("endpoints"))) if e.get("nodeName")}


def service_of_slice(endpoint_slice: Mapping[str, Any]) -> NsName | None:
    meta = _as_dict(endpoint_slice.get("metadata"))
    service = _as_dict(meta.get("labels")).get("kubernetes.io/service-name")
    return (str(meta.get("namespace") or "default"), str(service)) if service else None


class Store:
    """Raw objects by key, and the reverse indexes from routes, services and secrets to Gateways."""

    def __init__(self) -> None:
        self.objects: dict[ObjKey, dict[str, Any]] = {}
        self._by_kind: dict[str, dict[ObjKey, dict[str, Any]]] = defaultdict(dict)  # reconciles read per kind
        self._route_gateways: dict[ObjKey, set[NsName]] = {}
        self._route_backends: dict[ObjKey, set[NsName]] = {}
        self._routes_by_gateway: dict[NsName, set[ObjKey]] = defaultdict(set)
        self._route_listener_sets: dict[ObjKey, set[NsName]] = {}
        self._routes_by_listener_set: dict[NsName, set[ObjKey]] = defaultdict(set)
        self._routes_by_service: dict[NsName, set[ObjKey]] = defaultdict(set)
        self._gateways_by_secret: dict[NsName, set[NsName]] = defaultdict(set)
        self._gateway_secrets: dict[NsName, set[NsName]] = {}
        self._slices_by_service: dict[NsName, set[ObjKey]] = defaultdict(set)
        self._slice_service: dict[ObjKey, NsName] = {}
        self._slices_by_node: dict[str, set[ObjKey]] = defaultdict(set)
        self._slice_nodes: dict[ObjKey, set[str]] = {}

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return list(self._by_kind.get(kind, {}).values())

    def upsert(self, obj: Mapping[str, Any]) -> set[ObjKey]:
        """Store `obj`; return the work keys (Gateway/GatewayClass) the change affects."""
        key = key_of(obj)
        before = self.objects.get(key)
        affected = self._affected(key, before) if before is not None else set()
        self._unindex(key)
        self.objects[key] = self._by_kind[key[0]][key] = dict(obj)
        self._index(key, self.objects[key])
        return affected | self._affected(key, self.objects[key])

    def delete(self, obj: Mapping[str, Any]) -> set[ObjKey]:
        key = key_of(obj)
        before = self.objects.get(key, dict(obj))
        affected = self._affected(key, before)
        self._unindex(key)
        self.objects.pop(key, None)
        self._by_kind[key[0]].pop(key, None)
        return affected

    def routes_for(self, gateway: NsName) -> list[dict[str, Any]]:
        return [self.objects[k] for k in sorted(self._routes_by_gateway.get(gateway, ())) if k in self.objects]

    def listener_sets_for(self, gateway: NsName) -> list[dict[str, Any]]:
        """The ListenerSets whose parentRef names `gateway` (accepted or not: translation decides)."""
        found = self._by_kind.get("ListenerSet", {})
        return [found[k] for k in sorted(found) if listener_set_parent(found[k]) == gateway]

    def routes_for_listener_set(self, listener_set: NsName) -> list[dict[str, Any]]:
        keys = self._routes_by_listener_set.get(listener_set, ())
        return [self.objects[k] for k in sorted(keys) if k in self.objects]

    def missing_listener_sets(self) -> list[NsName]:
        """ListenerSets routes still name (in spec or status) that do not exist (any more)."""
        return sorted(
            key
            for key, routes in self._routes_by_listener_set.items()
            if routes and ("ListenerSet", *key) not in self.objects
        )

    def _route_parent_gateways(self, route: ObjKey) -> set[NsName]:
        """Gateways whose workers write a route's status: those it names and its ListenerSets' parents."""
        out = set(self._route_gateways.get(route, ()))
        for listener_set in self._route_listener_sets.get(route, ()):
            parent = listener_set_parent(self.objects.get(("ListenerSet", *listener_set)) or {})
            if parent is not None:
                out.add(parent)
        return out

    def services_for(self, routes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Services and EndpointSlices the routes reference, and the Nodes hosting their endpoints."""
        out: list[dict[str, Any]] = []
        nodes: set[str] = set()
        wanted = set().union(*(self._route_backends.get(key_of(r), set()) for r in routes))
        for service in sorted(wanted):
            found = self.objects.get(("Service", *service))
            if found is not None:
                out.append(found)
            for key in sorted(self._slices_by_service.get(service, ())):
                if key in self.objects:
                    out.append(self.objects[key])
                    nodes |= self._slice_nodes.get(key, set())
        out += [node for name in sorted(nodes) if (node := self.objects.get(("Node", "", name)))]
        return out

    def work_keys(self) -> set[ObjKey]:
        """Every key a new leader reconciles: classes, Gateways, and Gateways routes still name
        (a Gateway deleted while no replica led leaves route status entries only its key clears)."""
        keys = {*self._by_kind.get("GatewayClass", {}), *self._by_kind.get("Gateway", {})}
        keys |= {("Gateway", ns, name) for (ns, name), routes in self._routes_by_gateway.items() if routes}
        return keys

    def gateways_of_class(self, class_name: str) -> set[ObjKey]:
        return {
            key
            for key, obj in self._by_kind.get("Gateway", {}).items()
            if _as_dict(obj.get("spec")).get("gatewayClassName") == class_name
        }

    def _affected(self, key: ObjKey, obj: Mapping[str, Any]) -> set[ObjKey]:
        kind, namespace, name = key
        if kind == "Gateway":
            return {key}
        if kind == "ListenerSet":
            parent = listener_set_parent(obj)
            return {("Gateway", *parent)} if parent else set()
        if kind == "GatewayClass":
            return {key} | self.gateways_of_class(name)
        if kind in ROUTE_KINDS:
            sets = [self.objects.get(("ListenerSet", *ls)) for ls in route_gateways(obj, "ListenerSet")]
            via_sets = {listener_set_parent(ls) for ls in sets if ls is not None}
            return {("Gateway", ns, n) for ns, n in route_gateways(obj) | {g for g in via_sets if g}}
        if kind in ("Service", "EndpointSlice"):
            service = (namespace, name) if kind == "Service" else service_of_slice(obj)
            routes = self._routes_by_service.get(service, set()) if service else set()
            return {("Gateway", *gw) for route in routes for gw in self._route_parent_gateways(route)}
        if kind == "Secret":
            listener_sets = self._by_kind.get("ListenerSet", {}).values()
            via_sets = {listener_set_parent(ls) for ls in listener_sets if (namespace, name) in gateway_secrets(ls)}
            gateways = self._gateways_by_secret.get((namespace, name), set()) | {g for g in via_sets if g}
            return {("Gateway", *gw) for gw in gateways}
        if kind == "Node":
            services = {self._slice_service[s] for s in self._slices_by_node.get(name, ()) if s in self._slice_service}
            routes = set().union(*(self._routes_by_service.get(svc, set()) for svc in services))
            return {("Gateway", *gw) for route in routes for gw in self._route_parent_gateways(route)}
        if kind in GLOBAL_KINDS:
            return {*self._by_kind.get("Gateway", {}), *self._by_kind.get("GatewayClass", {})}
        return set()

    def _index(self, key: ObjKey, obj: Mapping[str, Any]) -> None:
        kind, namespace, name = key
        if kind in ROUTE_KINDS:
            self._route_gateways[key] = route_gateways(obj)
            self._route_backends[key] = route_backends(obj)
            self._route_listener_sets[key] = route_gateways(obj, "ListenerSet")
            for gw in self._route_gateways[key]:
                self._routes_by_gateway[gw].add(key)
            for listener_set in self._route_listener_sets[key]:
                self._routes_by_listener_set[listener_set].add(key)
            for svc in self._route_backends[key]:
                self._routes_by_service[svc].add(key)
        elif kind == "Gateway":
            self._gateway_secrets[(namespace, name)] = gateway_secrets(obj)
            for secret in self._gateway_secrets[(namespace, name)]:
                self._gateways_by_secret[secret].add((namespace, name))
        elif kind == "EndpointSlice":
            service = service_of_slice(obj)
            if service:
                self._slice_service[key] = service
                self._slices_by_service[service].add(key)
            self._slice_nodes[key] = slice_nodes(obj)
            for node in self._slice_nodes[key]:
                self._slices_by_node[node].add(key)

    def _unindex(self, key: ObjKey) -> None:
        kind, namespace, name = key
        for gw in self._route_gateways.pop(key, ()):
            self._routes_by_gateway[gw].discard(key)
        for listener_set in self._route_listener_sets.pop(key, ()):
            self._routes_by_listener_set[listener_set].discard(key)
        for svc in self._route_backends.pop(key, ()):
            self._routes_by_service[svc].discard(key)
        for secret in self._gateway_secrets.pop((namespace, name), ()) if kind == "Gateway" else ():
            self._gateways_by_secret[secret].discard((namespace, name))
        service = self._slice_service.pop(key, None)
        if service is not None:
            self._slices_by_service[service].discard(key)
        for node in self._slice_nodes.pop(key, ()):
            self._slices_by_node[node].discard(key)
