"""Pure: IR + parameters + lookups -> the desired ALB resources of one Gateway.

Resource ids (the `portico.dev/resource` tag) are stable across reconciles:
`load-balancer`, `listener:<port>`, `rule:<port>:<IR rule id>` (`:hosts-<n>` for its further hostname
groups), `isolation:<port>:<listener>`, `tg:<namespace>/<service>:<port>:<protocol version>`,
`cert:<namespace>/<secret>`, `security-group:frontend`, `backend-rule:<group id>:<port>`.
Cross-references are `${id}` tokens; apply fills in ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from portico.ir import Backend, BackendProtocol, GatewayIR, Listener, ListenerProtocol, RouteKind
from portico_providers.aws_alb.lookups import Lookups
from portico_providers.aws_alb.model import (
    INVALID_BACKEND,
    LISTENER,
    LOAD_BALANCER,
    NOT_FOUND,
    RULE,
    TARGET_GROUP,
    Action,
    Condition,
    ListenerSpec,
    LoadBalancerSpec,
    RuleSpec,
    Target,
    TargetGroupSpec,
    Transform,
    WeightedTargetGroup,
)
from portico_providers.aws_alb.params import AlbParameters
from portico_providers.aws_alb.rules import check_rules, fenced, group_rank, host_groups, ordered, shape_of
from portico_providers.aws_alb.security import FRONTEND_ID, backend_rules, default_cidrs, frontend_group
from portico_providers.aws_common.acm import certificate_id, desired_certificates
from portico_providers.aws_common.tags import Owner, bounded_id
from portico_providers.kit.flow import Built
from portico_providers.kit.naming import bounded_name
from portico_providers.kit.references import Reference, order_key, ref
from portico_providers.kit.resources import Desired

LB_ID = "load-balancer"
HTTP_MATCHER = "200-399"


class Entry(NamedTuple):
    """One ALB rule of a listener before its priority is known."""

    rule_id: str
    conditions: tuple[Condition, ...]
    action: Action
    transforms: tuple[Transform, ...]
    serves: tuple[str, ...]  # the IR rule it programs (none for an isolation 404)


def target_group_id(backend: Backend, version: str) -> str:
    return bounded_id(f"tg:{backend.namespace}/{backend.name}:{backend.port}:{version}")


def _version(backend: Backend, kind: RouteKind) -> str:
    if kind is RouteKind.GRPC:
        return "GRPC"
    return "HTTP2" if backend.protocol is BackendProtocol.H2C else "HTTP1"


def _targets(backend: Backend, params: AlbParameters, lookups: Lookups, built: Built) -> tuple[int, tuple[Target, ...]]:
    """The target group's port and targets: pod IPs, or the backends' nodes at the nodePort."""
    if params.target_type == "ip":
        port = backend.target_port or (backend.endpoints[0].port if backend.endpoints else None) or backend.port or 80
        return port, tuple({Target(id=e.address, port=e.port) for e in backend.endpoints})
    assert backend.node_port is not None  # build() sends Services without one to the 500 answer
    targets = set()
    for endpoint in backend.endpoints:
        instance = lookups.instance_of(endpoint.node_name or "")
        if instance is None:
            built.notes.append(
                f"backend {backend.id}: node {endpoint.node_name or '(unknown)'} is not a "
                "running instance of this cluster; not registered"
            )
        else:
            targets.add(Target(id=instance, port=backend.node_port))
    return backend.node_port, tuple(targets)


def _target_group(
    backend: Backend, version: str, owner: Owner, params: AlbParameters, lookups: Lookups, built: Built
) -> TargetGroupSpec:
    protocol = "HTTPS" if backend.protocol is BackendProtocol.HTTPS else "HTTP"
    port, targets = _targets(backend, params, lookups, built)
    rid = target_group_id(backend, version)
    return TargetGroupSpec(
        # Every immutable field is in the hash, so a replacement never collides with the old name.
        name=bounded_name(
            backend.name, owner.cluster_id, owner.gateway, rid, protocol, port, params.target_type, lookups.vpc_id
        ),
        protocol=protocol,
        protocol_version=version,
        port=port,
        vpc_id=lookups.vpc_id,
        target_type=params.target_type,
        health_check_path=params.grpc_health_check_path if version == "GRPC" else params.health_check_path,
        matcher=params.grpc_success_codes if version == "GRPC" else HTTP_MATCHER,
        targets=tuple(sorted(targets, key=lambda t: (t.id, t.port))),
        tags=params.tags,
    )


def alb_rule_id(port: int, rule_id: str, index: int) -> str:
    """The first ALB rule of an IR rule keeps the plain id; further host groups are numbered."""
    return bounded_id(f"rule:{port}:{rule_id}" + (f":hosts-{index + 1}" if index else ""))


def _forward(
    shares: tuple[tuple[Backend, int], ...],
    kind: RouteKind,
    params: AlbParameters,
    owner: Owner,
    lookups: Lookups,
    groups: dict[str, TargetGroupSpec],
    built: Built,
) -> Action:
    forward = []
    for backend, weight in shares:
        if params.target_type == "instance" and backend.node_port is None:
            built.notes.append(f"backend {backend.id}: instance targets need a NodePort Service")
            continue
        version = _version(backend, kind)
        tg_id = target_group_id(backend, version)
        if tg_id not in groups:
            groups[tg_id] = _target_group(backend, version, owner, params, lookups, built)
        forward.append(WeightedTargetGroup(target_group=ref(tg_id), weight=weight))
    forward.sort(key=lambda f: order_key(f.target_group))
    return Action(type="forward", forward=tuple(forward)) if forward else INVALID_BACKEND


def _member_rules(
    port: int,
    member: Listener,
    rejected: Mapping[str, str],
    params: AlbParameters,
    owner: Owner,
    lookups: Lookups,
    groups: dict[str, TargetGroupSpec],
    built: Built,
) -> list[Entry]:
    """One Gateway listener's ALB rules in the order ALB must try them: each hostname group by the
    spec's hostname precedence (exact, then the longest wildcard, then none), the IR's match
    precedence within a group, so the first rule ALB finds is the one the spec chooses."""
    ranked = []
    for position, rule in enumerate(member.rules):
        if rule.id in rejected:
            built.notes.append(f"rule {rule.id}: not programmed: {rejected[rule.id]}")
            continue
        shape = shape_of(rule, member)
        transforms: tuple[Transform, ...] = ()
        if shape.redirect is not None:
            action = Action(type="redirect", redirect=shape.redirect)
        else:
            action = _forward(shape.forward, rule.route_kind, params, owner, lookups, groups, built)
            # A fixed 500 (no valid backend) sends nothing anywhere: there is nothing to rewrite.
            transforms = shape.transforms if action.type == "forward" else ()
        for index, (hosts, conditions) in enumerate(zip(host_groups(rule), shape.variants, strict=True)):
            entry = Entry(alb_rule_id(port, rule.id, index), conditions, action, transforms, (rule.id,))
            ranked.append(((group_rank(hosts), position, index), entry))
    ranked.sort(key=lambda item: item[0])
    return [entry for _, entry in ranked]


def _merge_by_port(ir: GatewayIR, built: Built) -> list[tuple[int, ListenerProtocol, list[Listener]]]:
    """Gateway listeners sharing a port become one ALB listener (their rules and certificates merge)."""
    ports: dict[int, tuple[ListenerProtocol, list[Listener]]] = {}
    for listener in ir.listeners:
        if listener.port in ports and ports[listener.port][0] is not listener.protocol:
            built.notes.append(
                f"listener {listener.name}: port {listener.port} is already {ports[listener.port][0]}; skipped"
            )
            continue
        ports.setdefault(listener.port, (listener.protocol, []))[1].append(listener)
    return [(port, protocol, group) for port, (protocol, group) in ports.items()]


def build(ir: GatewayIR, params: AlbParameters, lookups: Lookups, owner: Owner) -> Built:
    built = Built(lookups=lookups.to_document())
    tags = dict(params.tags)
    lb_name = bounded_name(ir.gateway.name, owner.cluster_id, ir.gateway, params.scheme)
    owned_group = not lookups.security_groups
    built.desired.append(
        Desired(
            LOAD_BALANCER,
            LB_ID,
            LoadBalancerSpec(
                name=lb_name,
                scheme=params.scheme,
                ip_address_type=params.ip_address_type,
                subnets=lookups.subnets,
                security_groups=(ref(FRONTEND_ID),) if owned_group else lookups.security_groups,
                tags=tags,
            ),
        )
    )
    groups: dict[str, TargetGroupSpec] = {}
    # The same verdicts translation got from capabilities(): per-rule limits and the 100-rule quota.
    rejected = check_rules(ir.listeners)
    for port, protocol, members in _merge_by_port(ir, built):
        listener_id = f"listener:{port}"
        certificates: list[Reference] = []
        if protocol is ListenerProtocol.HTTPS:
            for member in members:
                arns = params.certificate_arns.get(member.name)
                if arns:
                    certificates += [a for a in arns if a not in certificates]
                    continue
                for cert in member.certificates:
                    if ref(certificate_id(cert)) not in certificates:
                        certificates.append(ref(certificate_id(cert)))
                built.desired += desired_certificates(member.certificates, tags)
        # Default certificate first; the SNI ones in a canonical order (AWS does not keep one).
        certificates = certificates[:1] + sorted(certificates[1:], key=order_key)
        built.desired.append(
            Desired(
                LISTENER,
                listener_id,
                ListenerSpec(
                    load_balancer=ref(LB_ID),
                    port=port,
                    protocol=protocol.value,
                    ssl_policy=params.ssl_policy if protocol is ListenerProtocol.HTTPS else None,
                    certificates=tuple(certificates),
                    default_action=NOT_FOUND,
                    tags=tags,
                ),
            )
        )
        fences = fenced(ordered(members))
        entries: list[Entry] = []
        for member in ordered(members):
            entries += _member_rules(port, member, rejected, params, owner, lookups, groups, built)
            if member.name in fences:
                assert member.hostname is not None
                isolation = (Condition(field="host-header", values=(member.hostname,)),)
                entries.append(Entry(bounded_id(f"isolation:{port}:{member.name}"), isolation, NOT_FOUND, (), ()))
        for priority, entry in enumerate(entries, start=1):
            spec = RuleSpec(
                listener=ref(listener_id),
                priority=priority,
                conditions=entry.conditions,
                action=entry.action,
                transforms=entry.transforms,
                tags=tags,
            )
            # A rule AWS refuses is reported on its route; the rest of the Gateway is programmed.
            built.desired.append(Desired(RULE, entry.rule_id, spec, rules=entry.serves))
    built.desired += [Desired(TARGET_GROUP, rid, spec) for rid, spec in sorted(groups.items())]
    if owned_group:
        _security(ir, params, lookups, owner, groups, built)
    return built


def _security(
    ir: GatewayIR,
    params: AlbParameters,
    lookups: Lookups,
    owner: Owner,
    groups: dict[str, TargetGroupSpec],
    built: Built,
) -> None:
    """Portico's frontend group on the listener ports, and the rules that admit it at the targets."""
    ports = sorted({listener.port for listener in ir.listeners})
    name = bounded_name(ir.gateway.name, owner.cluster_id, ir.gateway, lookups.vpc_id, max_length=255)
    cidrs = params.inbound_cidrs or default_cidrs(params.ip_address_type)
    built.desired.append(frontend_group(name, str(ir.gateway), lookups.vpc_id, ports, cidrs, dict(params.tags)))
    if not params.manage_backend_security_group_rules:
        return
    target_ports = {t.port for spec in groups.values() for t in spec.targets} | {s.port for s in groups.values()}
    if groups and not lookups.target_security_groups:
        built.notes.append(
            f"no security group of VPC {lookups.vpc_id} is tagged kubernetes.io/cluster/{owner.cluster_id}: "
            f"the targets' security groups must admit the load balancer's group on ports "
            f"{', '.join(map(str, sorted(target_ports)))}"
        )
    built.desired += backend_rules(lookups.target_security_groups, target_ports, dict(params.tags))
