"""Route attachment: parentRef -> relevant listeners -> allowedRoutes -> hostname intersection."""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.api import Snapshot
from portico.api.routes import ParentReference, Route
from portico.hostnames import effective_hostnames
from portico.translate import conditions as c
from portico.translate.listeners import ListenerState


@dataclass(slots=True)  # one per route (rule): tens of thousands in a large input
class Attachment:
    """Where one parentRef of a route lands: the listeners and the hostnames on each."""

    ref: ParentReference
    gateway: tuple[str, str]
    accepted: c.Condition
    listeners: list[tuple[ListenerState, tuple[str, ...]]] = field(default_factory=list)


def _namespace_allowed(state: ListenerState, gateway_namespace: str, route_namespace: str, snapshot: Snapshot) -> bool:
    spec = state.spec
    if spec is None:
        return False
    namespaces = spec.allowed_routes.namespaces
    if namespaces.from_ == "All":
        return True
    if namespaces.from_ == "Same":
        return route_namespace == gateway_namespace
    # Selector without a selector admits nothing: the safe reading of an unspecified case.
    if namespaces.selector is None:
        return False
    return namespaces.selector.matches(snapshot.namespace_labels(route_namespace))


def attach(
    route: Route,
    ref: ParentReference,
    gateway_namespace: str,
    gateway_name: str,
    states: list[ListenerState],
    snapshot: Snapshot,
    *,
    parent_kind: str = "Gateway",
    gateway: tuple[str, str] | None = None,
) -> Attachment:
    """`gateway_namespace`/`gateway_name` name the parent (a ListenerSet's own namespace is what its
    listeners' "Same" means); `gateway` is the Gateway whose data plane serves it, when not the parent."""
    key = gateway or (gateway_namespace, gateway_name)
    parent = f"{parent_kind} {gateway_namespace}/{gateway_name}"
    relevant = [
        s
        for s in states
        if (ref.section_name is None or s.name == ref.section_name)
        and (ref.port is None or (s.spec is not None and s.spec.port == ref.port))
    ]
    if not relevant:
        wanted = " and ".join(
            part
            for part in (
                f"sectionName {ref.section_name!r}" if ref.section_name else "",
                f"port {ref.port}" if ref.port else "",
            )
            if part
        )
        return Attachment(
            ref,
            key,
            c.false(
                "Accepted",
                "NoMatchingParent",
                f"no listener of {parent} matches {wanted}",
            ),
        )
    route_ns = route.metadata.namespace
    # A listener that is not accepted (conflicted, unsupported protocol) serves nothing, so admits nothing;
    # one that is accepted but not programmed (its certificate is missing) still admits and counts routes.
    admitting = [
        s
        for s in relevant
        if s.is_accepted
        and route.kind in s.supported_kinds
        and _namespace_allowed(s, gateway_namespace, route_ns, snapshot)
    ]
    if not admitting:
        return Attachment(
            ref,
            key,
            c.false(
                "Accepted",
                "NotAllowedByListeners",
                f"no listener of {parent} allows {route.kind}s from "
                f"namespace {route_ns} ({', '.join(s.name for s in relevant)} checked)",
            ),
        )
    placed: list[tuple[ListenerState, tuple[str, ...]]] = []
    for state in admitting:
        hosts = effective_hostnames(state.spec.hostname if state.spec else None, route.spec.hostnames)
        if hosts is not None:
            placed.append((state, hosts))
    if not placed:
        return Attachment(
            ref,
            key,
            c.false(
                "Accepted",
                "NoMatchingListenerHostname",
                f"none of the route's hostnames ({', '.join(route.spec.hostnames)}) matches a listener hostname "
                f"of {parent}",
            ),
        )
    return Attachment(ref, key, c.true("Accepted", message="route is accepted"), placed)
