"""translate(snapshot) -> IR per Gateway + every status the spec defines. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP, join_errors
from portico.api.l4routes import L4_ROUTE_KINDS
from portico.api.routes import Route
from portico.gcpause import cyclic_gc_paused
from portico.ir import Address as IRAddress
from portico.ir import GatewayIR, Infrastructure, ListenerProtocol, ObjectKey, Rule, TLSMode
from portico.ir import Listener as IRListener
from portico.provider import CONTROLLER_PREFIX, Capabilities
from portico.translate import conditions as c
from portico.translate.attachment import Attachment, attach
from portico.translate.backend_tls import FEATURE as BACKEND_TLS_FEATURE
from portico.translate.backend_tls import policy_statuses
from portico.translate.features import required_features
from portico.translate.gateways import (
    ClassState,
    GatewayState,
    evaluate_class,
    evaluate_gateway,
    gateway_conditions,
    unreadable_gateway_listeners,
)
from portico.translate.l4 import one_route_per_listener
from portico.translate.listeners import ListenerState
from portico.translate.listenersets import (
    ListenerSetState,
    attach_to_listener_set,
    attached_count,
    attached_listeners,
    evaluate_listener_sets,
    unreadable_statuses,
)
from portico.translate.precedence import rule_key
from portico.translate.rules import BuiltRule, build_rule

StatusKey = tuple[str, str, str]  # (kind, namespace, name)
NONE = Capabilities(features=frozenset())
GatewayKey = tuple[str, str]


@dataclass(frozen=True)
class TranslateResult:
    ir_by_gateway: dict[GatewayKey, GatewayIR]
    statuses: dict[StatusKey, dict[str, Any]]


@dataclass(slots=True)  # one per route (rule): tens of thousands in a large input
class RouteState:
    route: Route
    built: dict[int, BuiltRule] = field(default_factory=dict)
    broken: dict[int, str] = field(default_factory=dict)  # rule index -> why it cannot be served
    attachments: list[Attachment] = field(default_factory=list)
    # rule index -> message, per gateway: rules a provider cannot express there
    rejected: dict[GatewayKey, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))

    @property
    def status_key(self) -> StatusKey:
        return (self.route.kind, self.route.metadata.namespace, self.route.metadata.name)


def _prepare_route(route: Route, snapshot: Snapshot) -> RouteState:
    state = RouteState(route)
    for parsed in route.rules:
        if parsed.rule is None:
            state.broken[parsed.index] = join_errors(parsed.errors)
            continue
        built = build_rule(snapshot, route, parsed.index, parsed.rule)
        if isinstance(built, str):
            state.broken[parsed.index] = built
        else:
            state.built[parsed.index] = built
    return state


def _feature_rejections(route: Route, gateway: GatewayState) -> dict[int, str]:
    caps = gateway.gateway_class.capabilities
    assert caps is not None
    out: dict[int, str] = {}
    for parsed in route.rules:
        if parsed.rule is None:
            continue
        missing = sorted(required_features(parsed.rule) - caps.features)
        if missing:
            out[parsed.index] = (
                f"spec.rules[{parsed.index}] needs {', '.join(missing)}, which "
                f"{gateway.gateway_class.controller} does not support"
            )
    return out


def _listener_rules(gateway: GatewayState, routes: list[RouteState]) -> dict[str, list[tuple[Rule, str]]]:
    key = gateway.resource.key
    per_listener: dict[str, list[tuple[Rule, str]]] = defaultdict(list)
    placed: set[tuple[str, StatusKey]] = set()
    for rs in routes:
        for att in rs.attachments:
            if att.gateway != key or att.accepted.status is not True:
                continue
            for listener, hosts in att.listeners:
                if not listener.is_programmable or (listener.ir_name, rs.status_key) in placed:
                    continue
                placed.add((listener.ir_name, rs.status_key))
                for index, built in rs.built.items():
                    if index in rs.rejected[key]:
                        continue
                    created = rs.route.metadata.creation_timestamp
                    per_listener[listener.ir_name].extend(
                        (r, created) for r in built.place(rs.route, listener.name, hosts)
                    )
    return per_listener


def _build_ir(
    gateway: GatewayState,
    routes: list[RouteState],
    by_route: dict[tuple[str, str, str], RouteState],
    extra: list[ListenerState],
) -> GatewayIR:
    """`extra`: the listeners of the ListenerSets attached to the Gateway, after its own."""
    caps = gateway.gateway_class.capabilities
    assert caps is not None
    per_listener = _listener_rules(gateway, routes)

    def listeners_ir() -> list[IRListener]:
        out = []
        for state in [*gateway.listeners, *extra]:
            if not state.is_programmable or state.spec is None:
                continue
            rules = sorted(per_listener.get(state.ir_name, []), key=lambda pair: rule_key(pair[0], pair[1]))
            out.append(
                IRListener(
                    name=state.ir_name,
                    port=state.spec.port,
                    protocol=ListenerProtocol(state.spec.protocol),
                    hostname=state.spec.hostname,
                    tls_mode=TLSMode(state.tls_mode) if state.tls_mode else None,
                    certificates=state.certificates,
                    rules=tuple(r for r, _ in rules),
                    client_validation=state.client_validation,
                )
            )
        return out

    listeners = listeners_ir()
    check_rules = caps.check_rules_for(gateway.parameters) if caps.check_rules_for is not None else caps.check_rules
    if check_rules is not None:
        rejected = check_rules(listeners)
        if rejected:
            all_rules = {r.id: r for listener in listeners for r in listener.rules}
            for rule_id, message in rejected.items():
                rule = all_rules.get(rule_id)
                if rule is None:
                    continue
                rs = by_route[(rule.route_kind.value, rule.route.namespace, rule.route.name)]
                rs.rejected[gateway.resource.key].setdefault(
                    rule.rule_index, f"spec.rules[{rule.rule_index}]: {message}"
                )
            per_listener = _listener_rules(gateway, routes)
            listeners = listeners_ir()
    gw = gateway.resource
    infra = gw.spec.infrastructure
    return GatewayIR(
        gateway=ObjectKey(namespace=gw.metadata.namespace, name=gw.metadata.name),
        uid=gw.metadata.uid,
        generation=gw.metadata.generation,
        gateway_class=gw.class_name,
        controller_name=gateway.gateway_class.controller,
        listeners=tuple(listeners),
        addresses=tuple(IRAddress(type=a.type, value=a.value) for a in gw.spec.addresses),
        infrastructure=Infrastructure(
            labels=dict(infra.labels) if infra else {},
            annotations=dict(infra.annotations) if infra else {},
            parameters=gateway.parameters,
        ),
        client_certificate=gateway.client_certificate,
    )


def _route_parent_conditions(rs: RouteState, att: Attachment) -> list[c.Condition]:
    dropped = dict(rs.broken)
    dropped.update(rs.rejected.get(att.gateway, {}))
    total = len(rs.route.rules)
    accepted = att.accepted
    if accepted.status is True and total and len(dropped) >= total:
        accepted = c.false("Accepted", "UnsupportedValue", "no rule can be served: " + "; ".join(dropped.values()))
    problems = [p for index, b in rs.built.items() if index not in dropped for p in b.problems]
    resolved = (
        c.false("ResolvedRefs", problems[0].reason, "; ".join(p.message for p in problems))
        if problems
        else c.true("ResolvedRefs", message="all references resolved")
    )
    out = [accepted, resolved]
    if accepted.status is True and dropped:
        out.append(
            c.true(
                "PartiallyInvalid",
                "UnsupportedValue",
                "Dropped Rule(s): " + "; ".join(dropped[i] for i in sorted(dropped)),
            )
        )
    return out


def _attach_route(
    rs: RouteState,
    snapshot: Snapshot,
    gateways: Mapping[GatewayKey, GatewayState],
    listener_sets: Mapping[GatewayKey, ListenerSetState],
) -> None:
    """Every parentRef of the route that names a Portico Gateway or ListenerSet: where it lands."""
    route = rs.route
    for ref in route.spec.parent_refs:
        if ref.group == GATEWAY_GROUP and ref.kind == "ListenerSet":
            on_set = attach_to_listener_set(route, ref, listener_sets, snapshot)
            if on_set is not None:
                rs.attachments.append(on_set)
                rs.rejected[on_set.gateway].update(_feature_rejections(route, gateways[on_set.gateway]))
            continue
        if ref.group != GATEWAY_GROUP or ref.kind != "Gateway":
            continue
        gw_key = (ref.namespace or route.metadata.namespace, ref.name)
        gateway = gateways.get(gw_key)
        if gateway is None:
            continue
        if not gateway.is_accepted:
            message = f"Gateway {gw_key[0]}/{gw_key[1]} is not accepted"
            rs.attachments.append(Attachment(ref, gw_key, c.false("Accepted", "NotAllowedByListeners", message)))
            continue
        rs.attachments.append(attach(route, ref, gw_key[0], gw_key[1], gateway.listeners, snapshot))
        rs.rejected[gw_key].update(_feature_rejections(route, gateway))


@cyclic_gc_paused
def translate(
    snapshot: Snapshot,
    capabilities: Mapping[str, Capabilities] | None = None,
    now: str | None = None,
    unavailable: Mapping[str, str] | None = None,
) -> TranslateResult:
    """IR for every accepted Gateway of a Portico GatewayClass, and the status of every object Portico owns.

    `capabilities` is keyed by controllerName (None: every Portico controller with every feature);
    `unavailable` maps controllerNames whose provider cannot load to the reason, shown on the class.
    """
    stamp = now or c.EPOCH
    statuses: dict[StatusKey, dict[str, Any]] = {}
    classes: dict[str, ClassState] = {}
    for name, gc in sorted(snapshot.gateway_classes.items()):
        if gc.spec.controller_name.startswith(CONTROLLER_PREFIX):
            cls = evaluate_class(gc, snapshot, capabilities, unavailable or {})
            classes[name] = cls
            status: dict[str, Any] = {"conditions": c.render_all([cls.accepted], gc.metadata.generation, stamp)}
            if cls.capabilities is not None:
                status["supportedFeatures"] = [{"name": f} for f in sorted(cls.capabilities.features)]
            statuses[("GatewayClass", "", name)] = status

    gateways: dict[GatewayKey, GatewayState] = {}
    for key, gw in sorted(snapshot.gateways.items()):
        if gw.class_name in classes:
            gateways[key] = evaluate_gateway(gw, classes[gw.class_name], snapshot)
    listener_sets = evaluate_listener_sets(snapshot, gateways)

    routes: list[RouteState] = []
    for route in [
        *sorted(snapshot.http_routes.values(), key=lambda r: r.key),
        *sorted(snapshot.grpc_routes.values(), key=lambda r: r.key),
        *(snapshot.l4_routes[key] for key in sorted(snapshot.l4_routes)),
    ]:
        rs = _prepare_route(route, snapshot)
        _attach_route(rs, snapshot, gateways, listener_sets)
        if rs.attachments:
            routes.append(rs)

    one_route_per_listener(routes)
    by_route = {rs.status_key: rs for rs in routes}
    ir_by_gateway = {
        key: _build_ir(g, routes, by_route, attached_listeners(listener_sets, key))
        for key, g in gateways.items()
        if g.is_accepted
    }

    for rs in routes:
        parents = []
        for att in rs.attachments:
            conds = _route_parent_conditions(rs, att)
            if conds[0].status is True:
                for listener, _ in att.listeners:
                    listener.attached_routes.add(rs.status_key)
            parents.append(
                {
                    "parentRef": att.ref.as_status(rs.route.metadata.namespace),
                    "controllerName": gateways[att.gateway].gateway_class.controller,
                    "conditions": c.render_all(conds, rs.route.metadata.generation, stamp),
                }
            )
        statuses[rs.status_key] = {"parents": parents}

    for key, g in gateways.items():
        gen = g.resource.metadata.generation
        statuses[("Gateway", *key)] = {
            "conditions": c.render_all(gateway_conditions(g), gen, stamp),
            "listeners": _listener_entries(g.listeners, gen, stamp),
            **attached_count(listener_sets, g),
        }
    for key, ls in listener_sets.items():
        statuses[("ListenerSet", *key)] = ls.status(stamp)
    statuses.update(unreadable_statuses(snapshot, gateways, stamp))
    claims = {k: BACKEND_TLS_FEATURE in (g.gateway_class.capabilities or NONE).features for k, g in gateways.items()}
    statuses.update(policy_statuses(snapshot, ir_by_gateway, claims, stamp))
    _unreadable_statuses(snapshot, classes, gateways, statuses, stamp)
    return TranslateResult(ir_by_gateway, statuses)


def _listener_entries(states: list[ListenerState], generation: int, stamp: str) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "supportedKinds": [{"group": GATEWAY_GROUP, "kind": k} for k in s.supported_kinds],
            "attachedRoutes": len(s.attached_routes),
            "conditions": c.render_all(s.conditions(), generation, stamp),
        }
        for s in states
    ]


def _unreadable_statuses(
    snapshot: Snapshot,
    classes: Mapping[str, ClassState],
    gateways: Mapping[GatewayKey, GatewayState],
    statuses: dict[StatusKey, dict[str, Any]],
    stamp: str,
) -> None:
    """Objects whose spec could not be read still get a status that names the bad field."""
    for bad in snapshot.unreadable:
        spec = bad.raw.get("spec") if isinstance(bad.raw.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        if bad.kind == "GatewayClass" and str(spec.get("controllerName", "")).startswith(CONTROLLER_PREFIX):
            cond = c.false("Accepted", "InvalidParameters", bad.message)
            statuses[("GatewayClass", "", bad.name)] = {"conditions": c.render_all([cond], bad.generation, stamp)}
        elif (
            bad.kind == "Gateway"
            and isinstance(spec.get("gatewayClassName"), str)
            and spec["gatewayClassName"] in classes
        ):
            conds = [
                c.false("Accepted", "Invalid", bad.message),
                c.false("Programmed", "Invalid", bad.message),
            ]
            listeners = unreadable_gateway_listeners(bad, classes[spec["gatewayClassName"]], snapshot)
            statuses[("Gateway", bad.namespace, bad.name)] = {
                "conditions": c.render_all(conds, bad.generation, stamp),
                "listeners": _listener_entries(listeners, bad.generation, stamp),
            }
        elif bad.kind in ("HTTPRoute", "GRPCRoute", *L4_ROUTE_KINDS):
            parents = []
            for ref in spec.get("parentRefs") or []:
                if not isinstance(ref, dict) or ref.get("kind") not in (None, "Gateway"):
                    continue
                gw = gateways.get((str(ref.get("namespace") or bad.namespace), str(ref.get("name"))))
                if gw is None:
                    continue
                conds = [c.false("Accepted", "UnsupportedValue", bad.message)]
                parents.append(
                    {
                        "parentRef": {"group": GATEWAY_GROUP, "kind": "Gateway", **ref},
                        "controllerName": gw.gateway_class.controller,
                        "conditions": c.render_all(conds, bad.generation, stamp),
                    }
                )
            if parents:
                statuses[(bad.kind, bad.namespace, bad.name)] = {"parents": parents}
