"""ListenerSets: which may attach to which Gateway (spec.allowedListeners), their listeners merged
after the Gateway's own in the spec's precedence order, routes attached to them, and their status.

Precedence (ListenerSetSpec.listeners): the parent Gateway's listeners, then ListenerSets by
creationTimestamp (oldest first), then by namespace/name. A listener that clashes with one earlier
in that order is Conflicted and not accepted; the earlier one keeps serving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP
from portico.api.listenerset import ListenerSet
from portico.api.routes import ParentReference, Route
from portico.hostnames import overlaps
from portico.provider import Capabilities
from portico.translate import conditions as c
from portico.translate.attachment import Attachment, attach
from portico.translate.frontend_tls import apply_frontend_validation
from portico.translate.gateways import DEFAULT_CAPABILITIES, GatewayState
from portico.translate.listeners import PORT_FAMILY, TLS_PROTOCOLS, ListenerState, evaluate_listeners, transport_of

FEATURE = "ListenerSet"
GatewayKey = tuple[str, str]


@dataclass
class ListenerSetState:
    resource: ListenerSet
    gateway: GatewayKey
    accepted: c.Condition
    listeners: list[ListenerState] = field(default_factory=list)

    @property
    def is_accepted(self) -> bool:
        return self.accepted.status is True

    def status(self, stamp: str) -> dict[str, Any]:
        generation = self.resource.metadata.generation
        programmed = (
            c.true("Programmed", message="ListenerSet is programmed")
            if self.is_accepted
            else c.false("Programmed", self.accepted.reason, self.accepted.message)
        )
        out: dict[str, Any] = {"conditions": c.render_all([self.accepted, programmed], generation, stamp)}
        if self.listeners:
            out["listeners"] = [
                {
                    "name": s.name,
                    "supportedKinds": [{"group": GATEWAY_GROUP, "kind": k} for k in s.supported_kinds],
                    "attachedRoutes": len(s.attached_routes),
                    "conditions": c.render_all(_listener_conditions(s), generation, stamp),
                }
                for s in self.listeners
            ]
        return out


def _listener_conditions(state: ListenerState) -> list[c.Condition]:
    """A conflicted ListenerSet listener is not programmed for the conflict's reason (conformance)."""
    conditions = state.conditions()
    if state.conflicted.status is True:
        programmed = c.false("Programmed", state.conflicted.reason, state.conflicted.message)
        conditions = [programmed if x.type == "Programmed" else x for x in conditions]
    return conditions


def _precedence(listener_set: ListenerSet) -> tuple[str, str, str]:
    meta = listener_set.metadata
    return (meta.creation_timestamp, meta.namespace, meta.name)


def _refusal(listener_set: ListenerSet, gateway: GatewayState, snapshot: Snapshot) -> c.Condition | None:
    """Why the parent Gateway does not take this ListenerSet at all, or None."""
    gw = gateway.resource
    where = f"Gateway {gw.metadata.namespace}/{gw.metadata.name}"
    caps = gateway.gateway_class.capabilities
    if caps is not None and FEATURE not in caps.features:
        message = f"{where}: {gateway.gateway_class.controller} does not support ListenerSets"
        return c.false("Accepted", "NotAllowed", message)
    namespaces = gw.spec.allowed_listeners.namespaces
    ns = listener_set.metadata.namespace
    if namespaces.from_ == "All":
        allowed = True
    elif namespaces.from_ == "Same":
        allowed = ns == gw.metadata.namespace
    elif namespaces.from_ == "Selector":
        allowed = namespaces.selector is not None and namespaces.selector.matches(snapshot.namespace_labels(ns))
    else:
        allowed = False
    if not allowed:
        message = f"{where}: spec.allowedListeners.namespaces (from: {namespaces.from_}) does not admit namespace {ns}"
        return c.false("Accepted", "NotAllowed", message)
    if not gateway.is_accepted:
        return c.false("Accepted", "ParentNotAccepted", f"{where} is not accepted: {gateway.accepted.message}")
    return None


def _describe(state: ListenerState) -> str:
    if state.ir_prefix:
        namespace, name, _ = state.ir_prefix.split("/", 2)
        return f"ListenerSet {namespace}/{name} listener {state.name}"
    return f"Gateway listener {state.name}"


def _tls_mode(state: ListenerState) -> str | None:
    return "Terminate" if state.spec is not None and state.spec.protocol == "HTTPS" else state.tls_mode


def _mark_conflicts(states: list[ListenerState], held: list[ListenerState], capabilities: Capabilities) -> None:
    """Conflicts with listeners earlier in precedence order (`held`): the later listener loses. What
    may share a port is what may within one Gateway (listeners.py): one protocol family per transport,
    TLS modes mixed only with TLSRouteModeMixed."""
    mixed = "TLSRouteModeMixed" in capabilities.features
    for state in states:
        spec = state.spec
        if spec is None or not state.is_accepted:
            continue
        same_port = [
            h
            for h in held
            if h.spec is not None
            and h.spec.port == spec.port
            and transport_of(h.spec.protocol) == transport_of(spec.protocol)
        ]
        family = PORT_FAMILY.get(spec.protocol, spec.protocol)
        protocol = [
            h
            for h in same_port
            if h.spec
            and (
                PORT_FAMILY.get(h.spec.protocol, h.spec.protocol) != family
                or (not mixed and _tls_mode(h) != _tls_mode(state))
            )
        ]
        hostname = [h for h in same_port if h not in protocol and h.spec and h.spec.hostname == spec.hostname]
        if not protocol and not hostname:
            continue
        reason = "ListenerConflict" if protocol and hostname else "ProtocolConflict" if protocol else "HostnameConflict"
        first = (protocol or hostname)[0]
        what = "another protocol or TLS mode" if protocol else f"hostname {spec.hostname or '(none)'}"
        message = f"port {spec.port} with {what} is already held by {_describe(first)}, which takes precedence"
        state.conflicted = c.true("Conflicted", reason, message)
        state.accepted = c.false("Accepted", reason, message)


def _mark_tls_overlaps(states: list[ListenerState], held: list[ListenerState]) -> None:
    """OverlappingTLSConfig across the merged list: on both the new listener and the held one."""
    for state in states:
        spec = state.spec
        if spec is None or not state.is_accepted or spec.protocol not in TLS_PROTOCOLS:
            continue
        for other in held:
            if (
                other.spec is not None
                and other.spec.port == spec.port
                and other.spec.protocol in TLS_PROTOCOLS
                and overlaps(other.spec.hostname, spec.hostname)
            ):
                _overlap(state, other)
                _overlap(other, state)


def _overlap(state: ListenerState, other: ListenerState) -> None:
    named = _describe(other)
    if state.overlapping is not None:
        if named in state.overlapping.message:
            return
        message = f"{state.overlapping.message}, {named}"
    else:
        message = f"hostname overlaps {named} on the same port"
    state.overlapping = c.true("OverlappingTLSConfig", "OverlappingHostnames", message)


def _acceptance(states: list[ListenerState]) -> c.Condition:
    valid = [s.name for s in states if s.is_programmable]
    invalid = [s.name for s in states if not s.is_programmable]
    if not valid:
        return c.false("Accepted", "ListenersNotValid", f"no valid listener: {', '.join(invalid)} rejected")
    if invalid:
        message = f"listeners {', '.join(invalid)} are not valid; {', '.join(valid)} accepted"
        return c.true("Accepted", "ListenersNotValid", message)
    return c.true("Accepted", message="ListenerSet is accepted")


def evaluate_listener_sets(
    snapshot: Snapshot, gateways: Mapping[GatewayKey, GatewayState]
) -> dict[GatewayKey, ListenerSetState]:
    """Every ListenerSet whose parentRef names a Gateway of a Portico class, in precedence order.
    Others (a missing parent, another controller's) are not Portico's to answer and get no status."""
    out: dict[GatewayKey, ListenerSetState] = {}
    held: dict[GatewayKey, list[ListenerState]] = {}
    for listener_set in sorted(snapshot.listener_sets.values(), key=_precedence):
        parent = listener_set.parent_key
        gateway = gateways.get(parent) if parent is not None else None
        if parent is None or gateway is None:
            continue
        refusal = _refusal(listener_set, gateway, snapshot)
        if refusal is not None:
            out[listener_set.key] = ListenerSetState(listener_set, parent, refusal)
            continue
        capabilities = gateway.gateway_class.capabilities or DEFAULT_CAPABILITIES
        states = evaluate_listeners(listener_set, snapshot, capabilities)
        for state in states:
            state.ir_prefix = f"{listener_set.metadata.namespace}/{listener_set.metadata.name}/"
        taken = held.setdefault(parent, [s for s in gateway.listeners if s.is_accepted])
        _mark_conflicts(states, taken, capabilities)
        # The parent's spec.tls.frontend covers every HTTPS listener on its ports, a ListenerSet's too
        # (the proxy serves one client validation per port). Its InsecureFrontendValidationMode
        # condition is the Gateway's, from the Gateway's own listeners.
        apply_frontend_validation(gateway.resource, states, snapshot, capabilities, gateway.gateway_class.controller)
        accepted = _acceptance(states)
        if accepted.status is True:
            _mark_tls_overlaps(states, taken)
            taken.extend(s for s in states if s.is_accepted)
        out[listener_set.key] = ListenerSetState(listener_set, parent, accepted, states)
    return out


def attached_listeners(states: Mapping[GatewayKey, ListenerSetState], gateway: GatewayKey) -> list[ListenerState]:
    """The listeners a Gateway's data plane serves besides its own, in precedence order."""
    ordered = sorted((s for s in states.values() if s.gateway == gateway and s.is_accepted), key=_state_order)
    return [listener for s in ordered for listener in s.listeners]


def _state_order(state: ListenerSetState) -> tuple[str, str, str]:
    return _precedence(state.resource)


def attached_count(states: Mapping[GatewayKey, ListenerSetState], gateway: GatewayState) -> dict[str, int]:
    """status.attachedListenerSets, when the Gateway admits ListenerSets or one is attached."""
    count = sum(1 for s in states.values() if s.gateway == gateway.resource.key and s.is_accepted)
    if count or gateway.resource.spec.allowed_listeners.namespaces.from_ != "None":
        return {"attachedListenerSets": count}
    return {}


def attach_to_listener_set(
    route: Route, ref: ParentReference, states: Mapping[GatewayKey, ListenerSetState], snapshot: Snapshot
) -> Attachment | None:
    """A parentRef of kind ListenerSet; None when that ListenerSet is not Portico's (no status entry)."""
    key = (ref.namespace or route.metadata.namespace, ref.name)
    state = states.get(key)
    if state is None:
        return None
    if not state.is_accepted:
        message = f"ListenerSet {key[0]}/{key[1]} is not accepted: {state.accepted.message}"
        return Attachment(ref, state.gateway, c.false("Accepted", "NotAllowedByListeners", message))
    return attach(
        route, ref, key[0], key[1], state.listeners, snapshot, parent_kind="ListenerSet", gateway=state.gateway
    )


def unreadable_statuses(
    snapshot: Snapshot, gateways: Mapping[GatewayKey, GatewayState], stamp: str
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """A ListenerSet whose spec cannot be read, naming a Portico Gateway: Accepted=False/Invalid."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for bad in snapshot.unreadable:
        spec = bad.raw.get("spec")
        ref = spec.get("parentRef") if bad.kind == "ListenerSet" and isinstance(spec, dict) else None
        if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway":
            continue
        if (str(ref.get("namespace") or bad.namespace), str(ref.get("name"))) not in gateways:
            continue
        conditions = [c.false("Accepted", "Invalid", bad.message), c.false("Programmed", "Invalid", bad.message)]
        out[("ListenerSet", bad.namespace, bad.name)] = {"conditions": c.render_all(conditions, bad.generation, stamp)}
    return out
