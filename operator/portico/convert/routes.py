"""Routes under construction: one per (Ingress, host), with the parent refs ingress-nginx's TLS
and redirect behaviour call for."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from portico.convert.hosts import HTTP_LISTENER, Host
from portico.convert.model import Backend, Ingress, Inputs
from portico.convert.objects import GATEWAY_API, meta, object_name, slug

ClaimKey = tuple[str, str, str]  # (host, path, pathType)


@dataclass
class RouteDraft:
    kind: str
    namespace: str
    name: str
    source: str
    hostnames: list[str]
    sections: list[str]
    rules: list[dict[str, Any]] = field(default_factory=list)

    def to_object(self, gateway: str, gateway_namespace: str) -> dict[str, Any]:
        parent: dict[str, Any] = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}
        if gateway_namespace != self.namespace:
            parent["namespace"] = gateway_namespace
        spec: dict[str, Any] = {"parentRefs": [{**parent, "sectionName": s} for s in self.sections]}
        if self.hostnames:
            spec["hostnames"] = self.hostnames
        spec["rules"] = self.rules
        return {
            "apiVersion": GATEWAY_API,
            "kind": self.kind,
            "metadata": meta(self.name, self.namespace, self.source),
            "spec": spec,
        }


@dataclass
class Claim:
    """Who serves a host/path/type: the first (oldest) Ingress; canaries join its rule."""

    ingress: str
    route: RouteDraft
    rule: dict[str, Any]


@dataclass
class Routes:
    drafts: dict[tuple[str, str, str], RouteDraft] = field(default_factory=dict)
    claims: dict[ClaimKey, Claim] = field(default_factory=dict)

    def route(self, kind: str, ing: Ingress, host: Host, sections: list[str], suffix: str = "") -> RouteDraft:
        name = object_name(ing.name, slug(host.name), suffix)
        key = (kind, ing.namespace, name)
        if key not in self.drafts:
            hostnames = [h for h in (host.name, *host.aliases) if h]
            self.drafts[key] = RouteDraft(kind, ing.namespace, name, ing.key, hostnames, sections)
        return self.drafts[key]

    def objects(self, gateway: str, gateway_namespace: str) -> list[dict[str, Any]]:
        return [
            d.to_object(gateway, gateway_namespace)
            for _, d in sorted(self.drafts.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))
            if d.rules
        ]


def sections_for(host: Host, redirect: bool) -> list[str]:
    """Main routes: HTTPS only when HTTP redirects, else HTTP (and HTTPS when the host has TLS)."""
    https = host.https_listeners
    if redirect and https:
        return https
    return [HTTP_LISTENER, *https]


def redirect_rules(rules: list[dict[str, Any]], code: int) -> list[dict[str, Any]]:
    """Every path of the rules on HTTP, answered with ingress-nginx's redirect to HTTPS."""
    paths: list[dict[str, Any]] = []
    for rule in rules:
        for match in rule.get("matches") or [{}]:
            only_path = {"path": copy.deepcopy(match["path"])} if "path" in match else {}
            if only_path not in paths:
                paths.append(only_path)
    redirect = {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": code}}
    return [{"matches": [p], "filters": [copy.deepcopy(redirect)]} for p in paths]


def resolve_backend(ing: Ingress, backend: Backend, inputs: Inputs) -> tuple[dict[str, Any] | None, str | None]:
    """(backendRef, problem): a problem with a ref is a difference; without one, not convertible."""
    if backend.service is None:
        return None, f"resource backend {backend.resource} has no Gateway API equivalent"
    ports = inputs.services.get((ing.namespace, backend.service))
    if backend.port_number is not None:
        ref = {"name": backend.service, "port": backend.port_number}
        if ports is None:
            return ref, (
                f"Service {backend.service} is not in the input: if it does not exist, ingress-nginx answers 503, "
                "the Gateway API 500"
            )
        return ref, None
    if ports is None:
        return None, f"Service {backend.service} is not in the input, so port {backend.port_name!r} cannot be resolved"
    for port in ports:
        if port.name == backend.port_name:
            return {"name": backend.service, "port": port.port}, None
    return None, f"Service {backend.service} has no port named {backend.port_name!r}"
