"""The only reads: what a Gateway owns in the project, and the facts the build needs.

A resource is owned when its name and its description marker both say so (`naming.Owner`);
a resource with one of our names but without the marker is reported as foreign, never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portico_providers.gcp_alb.build import Facts
from portico_providers.gcp_alb.compute import ComputeApi, snake, to_dict
from portico_providers.gcp_alb.diff import Observed, relative
from portico_providers.gcp_alb.model import (
    ADDRESS,
    COLLECTIONS,
    FORWARDING_RULE,
    INSTANCE_GROUP,
    KINDS,
    NEG,
    URL_MAP,
    NetworkEndpoint,
)
from portico_providers.gcp_alb.naming import Owner

# Kinds whose aggregated list covers regions only: their global resources are listed on their own.
GLOBAL_ONLY_LIST = frozenset({ADDRESS, FORWARDING_RULE})
# Which client serves a kind's aggregated list (the global one, unless it has none).
AGGREGATED_SCOPE = {
    ADDRESS: "regions/any",
    FORWARDING_RULE: "regions/any",
    NEG: "zones/any",
    INSTANCE_GROUP: "zones/any",
}


@dataclass(frozen=True)
class ObservedState:
    owner: Owner
    project: str
    resources: tuple[Observed, ...]
    foreign: tuple[tuple[str, str, str], ...] = ()
    addresses: tuple[tuple[str, str], ...] = ()
    facts: Facts | None = None
    running: tuple[str, ...] = ()  # operations of an earlier apply still running
    failure: str = ""  # the first earlier operation that ended with an error
    unreadable: str = ""  # why the project could not be read (nothing else is known then)


def _priorities(resources: tuple[Observed, ...]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for item in resources:
        if item.kind != URL_MAP:
            continue
        for matcher in item.body.get("pathMatchers", []):
            rules = {r["description"]: int(r["priority"]) for r in matcher.get("routeRules", []) if "description" in r}
            out.setdefault(item.id, {})[matcher["name"]] = rules
    return out


def _proxy_only_subnets(api: ComputeApi, project: str) -> frozenset[tuple[str, str]]:
    """(region, network name) of every ACTIVE proxy-only subnet (purpose REGIONAL_MANAGED_PROXY)."""
    client = api.client("subnetwork", "regions/any")
    found = set()
    for scope, listed in api.call(client.aggregated_list, mutating=False, project=project):
        for subnet in listed.subnetworks:
            if subnet.purpose == "REGIONAL_MANAGED_PROXY" and subnet.role == "ACTIVE":
                found.add((scope.removeprefix("regions/"), subnet.network.rstrip("/").rsplit("/", 1)[-1]))
    return frozenset(found)


def _listed(api: ComputeApi, kind: str, project: str) -> list[tuple[str, dict[str, Any]]]:
    """(scope, body) of every resource of `kind` in the project: global and every region or zone."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if kind in GLOBAL_ONLY_LIST:
        client = api.client(kind, "global")
        for item in api.call(client.list, mutating=False, project=project):
            body = to_dict(item)
            out[("global", body["name"])] = body
    aggregated = api.client(kind, AGGREGATED_SCOPE.get(kind, "global"))
    field = snake(COLLECTIONS[kind])
    for scope, listed in api.call(aggregated.aggregated_list, mutating=False, project=project):
        for item in getattr(listed, field):
            body = to_dict(item)
            out[(scope, body["name"])] = body
    return [(scope, body) for (scope, _), body in sorted(out.items())]


def observe(api: ComputeApi, owner: Owner, project: str) -> ObservedState:
    found: list[Observed] = []
    foreign: list[tuple[str, str, str]] = []
    negs = api.client(NEG, "zones/any")
    for kind in KINDS:
        for scope, body in _listed(api, kind, project):
            name = str(body.get("name", ""))
            if not name.startswith(owner.prefix + "-"):
                continue
            rid = owner.resource_id(body)
            if rid is None:
                foreign.append((kind, scope, name.removeprefix(owner.prefix + "-")))
            else:
                found.append(Observed(kind, rid, scope, body))
    resources: list[Observed] = []
    for item in found:
        if item.kind == NEG:
            members = api.call(
                negs.list_network_endpoints,
                mutating=False,
                project=project,
                zone=item.scope.removeprefix("zones/"),
                network_endpoint_group=item.body["name"],
            )
            endpoints = tuple(
                NetworkEndpoint(
                    ip_address=m.network_endpoint.ip_address,
                    port=m.network_endpoint.port,
                    instance=m.network_endpoint.instance or None,
                )
                for m in members
            )
            resources.append(Observed(item.kind, item.id, item.scope, item.body, endpoints))
            continue
        if item.kind == INSTANCE_GROUP:
            groups = api.client(INSTANCE_GROUP, item.scope)
            listed = api.call(
                groups.list_instances,
                mutating=False,
                project=project,
                zone=item.scope.removeprefix("zones/"),
                instance_group=item.body["name"],
                instance_groups_list_instances_request_resource={},
            )
            instances = tuple(relative(m.instance) for m in listed)
            resources.append(Observed(item.kind, item.id, item.scope, item.body, instances=instances))
            continue
        resources.append(item)
    addresses = tuple(
        ("IPAddress", str(r.body["IPAddress"]))
        for r in sorted(resources, key=lambda r: r.id)
        if r.kind == FORWARDING_RULE and r.body.get("IPAddress")
    )[:1]
    state = tuple(resources)
    facts = Facts(priorities=_priorities(state), proxy_only_subnets=_proxy_only_subnets(api, project))
    return ObservedState(owner, project, state, tuple(foreign), addresses, facts)
