"""The only reads: what a Gateway owns in the project, and the facts the build needs.

A resource is owned when its name and its description marker both say so (the kit's
`NameMarkerOwnership`, in the scope it was found in); a resource holding one of this Gateway's
names without the marker is reported as foreign, never touched.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from portico_providers.gcp_alb.build import Facts
from portico_providers.gcp_alb.compare import relative
from portico_providers.gcp_alb.compute import ComputeApi, snake, to_dict
from portico_providers.gcp_alb.model import (
    ADDRESS,
    COLLECTIONS,
    FORWARDING_RULE,
    INSTANCE_GROUP,
    KINDS,
    MEMBERS,
    NEG,
    URL_MAP,
    NetworkEndpoint,
)
from portico_providers.gcp_alb.naming import ComputeOwnership
from portico_providers.kit.flow import ObservedState
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Observed, Spec

# Kinds whose aggregated list covers regions only: their global resources are listed on their own.
GLOBAL_ONLY_LIST = frozenset({ADDRESS, FORWARDING_RULE})
# Which client serves a kind's aggregated list (the global one, unless it has none).
AGGREGATED_SCOPE = {
    ADDRESS: "regions/any",
    FORWARDING_RULE: "regions/any",
    NEG: "zones/any",
    INSTANCE_GROUP: "zones/any",
}


class Answered(Spec):
    """An observed resource as Compute answered it (references relative), members included."""

    model_config = ConfigDict(frozen=True, extra="allow")


def _priorities(resources: tuple[Observed, ...]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for item in resources:
        if item.kind != URL_MAP:
            continue
        for matcher in item.extra["body"].get("pathMatchers", []):
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


def _members(api: ComputeApi, project: str, kind: str, scope: str, name: str) -> list[Any]:
    """A NEG's endpoints or an instance group's instances, in the form the desired spec holds them."""
    zone = scope.removeprefix("zones/")
    if kind == NEG:
        negs = api.client(NEG, scope)
        listed = api.call(
            negs.list_network_endpoints, mutating=False, project=project, zone=zone, network_endpoint_group=name
        )
        return [
            NetworkEndpoint(
                ip_address=m.network_endpoint.ip_address,
                port=m.network_endpoint.port,
                instance=m.network_endpoint.instance or None,
            ).dump()
            for m in listed
        ]
    groups = api.client(INSTANCE_GROUP, scope)
    listed = api.call(
        groups.list_instances,
        mutating=False,
        project=project,
        zone=zone,
        instance_group=name,
        instance_groups_list_instances_request_resource={},
    )
    return [relative(m.instance) for m in listed]


def observe(api: ComputeApi, ownership: ComputeOwnership, project: str, failure: str = "") -> ObservedState:
    found: list[Observed] = []
    foreign: list[tuple[str, str]] = []  # (scope, name)
    for kind in KINDS:
        for scope, body in _listed(api, kind, project):
            name = str(body.get("name", ""))
            if not name.startswith(ownership.name_prefix + "-"):
                continue
            rid = ownership.claim_in(scope, name, str(body.get("description", "")))
            if rid is None:
                foreign.append((scope, name))
                continue
            answered = relative(body)
            if kind in MEMBERS:
                answered[MEMBERS[kind]] = _members(api, project, kind, scope, name)
            cloud_id = f"projects/{project}/{scope}/{COLLECTIONS[kind]}/{name}"
            marks = Marks(name=name, description=str(body.get("description", "")))
            found.append(Observed(kind, rid, cloud_id, Answered(**answered), {"body": body}, marks))
    resources = tuple(found)
    addresses = tuple(
        ("IPAddress", str(r.extra["body"]["IPAddress"]))
        for r in sorted(resources, key=lambda r: r.id)
        if r.kind == FORWARDING_RULE and r.extra["body"].get("IPAddress")
    )[:1]
    facts = Facts(
        priorities=_priorities(resources),
        proxy_only_subnets=_proxy_only_subnets(api, project),
        project=project,
        foreign=tuple(foreign),
        failure=failure,
    )
    return ObservedState(ownership, resources, addresses, facts)
