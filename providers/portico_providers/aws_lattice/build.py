"""Pure: IR + parameters -> the desired VPC Lattice resources of one Gateway.

Gateway -> service network (or the one named in the parameters) with a VPC association;
each route -> a Lattice service (one custom domain name: the route's hostname) associated
with the network, one Lattice listener per Gateway port it attaches to, its rules in
precedence order, and IP target groups of the pods. Resource ids:
`service-network`, `vpc-association`, `svc:<Kind>/<ns>/<name>`, `svc-assoc:...`,
`listener:<Kind>/<ns>/<name>:<port>`, `rule:<listener id>:<IR rule id>`,
`tg:<ns>/<service>:<port>:<version>`, `cert:<ns>/<secret>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from portico.ir import Backend, BackendProtocol, GatewayIR, ListenerProtocol, RouteKind, Rule
from portico_providers.aws_common.acm import certificate_id, desired_certificates
from portico_providers.aws_common.tags import Owner, bounded_id
from portico_providers.aws_lattice.model import (
    AUTH_POLICY,
    INVALID_BACKEND,
    LISTENER,
    NOT_FOUND,
    RULE,
    SERVICE,
    SERVICE_ASSOCIATION,
    SERVICE_NETWORK,
    TARGET_GROUP,
    VPC_ASSOCIATION,
    Action,
    AuthPolicySpec,
    ListenerSpec,
    RuleSpec,
    ServiceAssociationSpec,
    ServiceNetworkSpec,
    ServiceSpec,
    Target,
    TargetGroupSpec,
    VpcAssociationSpec,
    WeightedTargetGroup,
    auth_policy_id,
)
from portico_providers.aws_lattice.params import LatticeParameters, canonical_policy
from portico_providers.aws_lattice.rules import RuleShape, checker, route_key, shape_of
from portico_providers.kit.flow import Built
from portico_providers.kit.naming import bounded_name
from portico_providers.kit.references import Reference, order_key, ref
from portico_providers.kit.resources import Desired


@dataclass(frozen=True)
class LatticeLookups:
    vpc_id: str
    service_network: str | None  # ARN of an existing network named in the parameters


@dataclass
class _Route:
    """The rules of one route, grouped by Gateway port, with what its service needs."""

    key: str
    domain: str | None = None
    certificate: Reference | None = None
    ports: dict[int, tuple[ListenerProtocol, list[tuple[Rule, RuleShape]]]] = field(default_factory=dict)


def _version(backend: Backend, kind: RouteKind) -> str:
    if kind is RouteKind.GRPC:
        return "GRPC"
    return "HTTP2" if backend.protocol is BackendProtocol.H2C else "HTTP1"


def _target_group(backend: Backend, version: str, owner: Owner, vpc: str, tags: dict[str, str]) -> Desired:
    rid = bounded_id(f"tg:{backend.namespace}/{backend.name}:{backend.port}:{version}")
    port = backend.target_port or (backend.endpoints[0].port if backend.endpoints else None) or backend.port or 80
    protocol = "HTTPS" if backend.protocol is BackendProtocol.HTTPS else "HTTP"
    targets = sorted({Target(id=e.address, port=e.port) for e in backend.endpoints}, key=lambda t: (t.id, t.port))
    return Desired(
        TARGET_GROUP,
        rid,
        TargetGroupSpec(
            name=bounded_name(
                f"{backend.name}-{backend.namespace}",
                owner.cluster_id,
                owner.gateway,
                rid,
                port,
                protocol,
                max_length=128,
                lowercase=True,
            ),
            port=port,
            protocol=protocol,
            protocol_version=version,
            vpc_id=vpc,
            targets=tuple(targets),
            tags=tags,
        ),
    )


def _routes(ir: GatewayIR, params: LatticeParameters, built: Built, rejected: dict[str, str]) -> list[_Route]:
    routes: dict[str, _Route] = {}
    for listener in ir.listeners:
        for rule in listener.rules:
            if rule.id in rejected:
                built.notes.append(f"rule {rule.id}: not programmed: {rejected[rule.id]}")
                continue
            route = routes.setdefault(route_key(rule), _Route(route_key(rule)))
            if rule.hostnames:
                route.domain = rule.hostnames[0]
            if listener.protocol is ListenerProtocol.HTTPS and route.certificate is None:
                if params.certificate_arn:
                    route.certificate = params.certificate_arn
                elif listener.certificates:
                    route.certificate = ref(certificate_id(listener.certificates[0]))
                    built.desired += [
                        d
                        for d in desired_certificates(listener.certificates[:1], params.tags)
                        if d.id not in {x.id for x in built.desired}
                    ]
            protocol, shapes = route.ports.setdefault(listener.port, (listener.protocol, []))
            shapes.append((rule, shape_of(rule, protocol)))
    return list(routes.values())


def build(
    ir: GatewayIR,
    params: LatticeParameters,
    lookups: LatticeLookups,
    owner: Owner,
    rules_per_listener: int,
    listeners_per_service: int,
) -> Built:
    built = Built(lookups={"vpc_id": lookups.vpc_id, "service_network": lookups.service_network or "created"})
    tags = dict(params.tags)
    network: Reference
    if lookups.service_network:
        network = lookups.service_network
    else:
        network = ref(SERVICE_NETWORK)
        built.desired.append(
            Desired(
                SERVICE_NETWORK,
                SERVICE_NETWORK,
                ServiceNetworkSpec(
                    name=bounded_name(
                        f"{ir.gateway.name}-{ir.gateway.namespace}",
                        owner.cluster_id,
                        ir.gateway,
                        max_length=63,
                        lowercase=True,
                    ),
                    auth_type=params.auth_type,
                    tags=tags,
                ),
            )
        )
        if params.auth_policy:  # never on a network the Gateway only joins: that one is not ours
            policy = AuthPolicySpec(resource=network, policy=canonical_policy(params.auth_policy))
            built.desired.append(Desired(AUTH_POLICY, auth_policy_id(SERVICE_NETWORK), policy))
    if params.associate_vpc:
        built.desired.append(
            Desired(
                VPC_ASSOCIATION,
                VPC_ASSOCIATION,
                VpcAssociationSpec(
                    service_network=network,
                    vpc_id=lookups.vpc_id,
                    security_groups=tuple(sorted(params.security_groups)),
                    tags=tags,
                ),
            )
        )
    rejected = dict(checker(rules_per_listener, listeners_per_service)(ir.listeners))
    groups: dict[str, Desired] = {}
    serving: dict[str, list[str]] = {}  # target group id -> the IR rules that forward to it
    for route in _routes(ir, params, built, rejected):
        service_id = bounded_id(f"svc:{route.key}")
        # A refusal of the route's service (or of what it needs) is reported on each of its rules.
        route_rules = tuple(rule.id for _, shapes in route.ports.values() for rule, _ in shapes)
        built.desired.append(
            Desired(
                SERVICE,
                service_id,
                ServiceSpec(
                    name=bounded_name(
                        route.key.split("/", 1)[1].replace("/", "-"),
                        owner.cluster_id,
                        ir.gateway,
                        route.key,
                        route.domain,
                        max_length=40,
                        lowercase=True,
                    ),
                    custom_domain_name=route.domain,
                    certificate=route.certificate if route.domain else None,
                    auth_type=params.auth_type,
                    tags=tags,
                ),
                rules=route_rules,
            )
        )
        built.desired.append(
            Desired(
                SERVICE_ASSOCIATION,
                bounded_id(f"svc-assoc:{route.key}"),
                ServiceAssociationSpec(service_network=network, service=ref(service_id), tags=tags),
                rules=route_rules,
            )
        )
        if params.auth_policy:
            policy = AuthPolicySpec(resource=ref(service_id), policy=canonical_policy(params.auth_policy))
            built.desired.append(Desired(AUTH_POLICY, auth_policy_id(service_id), policy, rules=route_rules))
        for port, (protocol, shapes) in route.ports.items():
            listener_id = bounded_id(f"listener:{route.key}:{port}")
            built.desired.append(
                Desired(
                    LISTENER,
                    listener_id,
                    ListenerSpec(
                        service=ref(service_id),
                        name=f"{protocol.value.lower()}-{port}",
                        protocol=protocol.value,
                        port=port,
                        default_action=NOT_FOUND,
                        tags=tags,
                    ),
                    rules=tuple(rule.id for rule, _ in shapes),
                )
            )
            for priority, (rule, shape) in enumerate(shapes, start=1):
                action = INVALID_BACKEND
                if shape.forward:
                    forward = []
                    for backend, weight in shape.forward:
                        tg = _target_group(backend, _version(backend, rule.route_kind), owner, lookups.vpc_id, tags)
                        groups.setdefault(tg.id, tg)
                        serving.setdefault(tg.id, []).append(rule.id)
                        forward.append(WeightedTargetGroup(target_group=ref(tg.id), weight=weight))
                    action = Action(forward=tuple(sorted(forward, key=lambda f: order_key(f.target_group))))
                rule_id = bounded_id(f"rule:{listener_id}:{rule.id}")
                built.desired.append(
                    Desired(
                        RULE,
                        rule_id,
                        RuleSpec(
                            service=ref(service_id),
                            listener=ref(listener_id),
                            name=bounded_name(
                                f"r{rule.rule_index}-{rule.match_index}",
                                owner.cluster_id,
                                rule_id,
                                max_length=63,
                                lowercase=True,
                            ),
                            priority=priority,
                            match=shape.match,
                            action=action,
                            tags=tags,
                        ),
                        rules=(rule.id,),
                    )
                )
    built.desired += [replace(groups[k], rules=tuple(dict.fromkeys(serving[k]))) for k in sorted(groups)]
    return built
