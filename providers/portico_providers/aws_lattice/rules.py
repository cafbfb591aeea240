"""One IR rule -> a Lattice rule match and action, or the Lattice limit it runs into.

VPC Lattice (API reference and quotas): rules match method, path (exact or prefix) and up to 5
headers; no query parameters, no hostnames per rule (a service has one custom domain name), no
regular expressions, no filters (no redirects, header modifiers, rewrites or mirrors), fixed
responses only 404/500, up to 10 weighted target groups per rule, weights 0-999, 5 rules per
listener and 2 listeners per service by default (quotas; raise `rules_per_listener` and
`listeners_per_service` in the provider options when the account's quotas are higher).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portico.ir import Backend, Listener, ListenerProtocol, MatchType, RouteKind, Rule
from portico.provider import RulesCheck
from portico_providers.aws_common.limits import MAX_WEIGHT
from portico_providers.aws_lattice.model import HeaderMatch, Match
from portico_providers.kit.limits import Quota, RuleCheck, Unsupported, rules_checker, scale_weights

MAX_HEADERS = 5
MAX_TARGET_GROUPS = 10
RULES_PER_LISTENER = 5
LISTENERS_PER_SERVICE = 2


@dataclass(frozen=True)
class RuleShape:
    match: Match
    forward: tuple[tuple[Backend, int], ...] = ()  # empty: answer 500


def _no_regex(match_type: MatchType, what: str) -> None:
    if match_type is MatchType.REGULAR_EXPRESSION:
        raise Unsupported(f"{what}: VPC Lattice rules do not support RegularExpression matches")


def match_of(rule: Rule) -> Match:
    match = rule.match
    fields: dict[str, object] = {}
    if match.grpc is not None:
        _no_regex(match.grpc.type, "gRPC method match")
        if match.grpc.service and match.grpc.method:
            fields["path_exact"] = f"/{match.grpc.service}/{match.grpc.method}"
        elif match.grpc.service:
            fields["path_prefix"] = f"/{match.grpc.service}/"
        elif match.grpc.method:
            raise Unsupported("gRPC method without service: VPC Lattice matches paths by exact value or prefix only")
    elif match.path is not None:
        _no_regex(match.path.type, "path match")
        key = "path_exact" if match.path.type is MatchType.EXACT else "path_prefix"
        fields[key] = match.path.value
    if "path_exact" not in fields and "path_prefix" not in fields:
        fields["path_prefix"] = "/"  # a Lattice rule needs a criterion; this one matches everything
    if match.method:
        fields["method"] = match.method.upper()
    if match.query_params:
        raise Unsupported("query parameter matches: VPC Lattice rules cannot match query parameters")
    for header in match.headers:
        _no_regex(header.type, f"header match {header.name!r}")
    if len(match.headers) > MAX_HEADERS:
        raise Unsupported(f"{len(match.headers)} header matches; VPC Lattice allows {MAX_HEADERS} per rule")
    headers = tuple(sorted((HeaderMatch(name=h.name, exact=h.value) for h in match.headers), key=lambda h: h.name))
    return Match.model_validate({**fields, "headers": headers})


def shape_of(rule: Rule, protocol: ListenerProtocol) -> RuleShape:
    if rule.timeouts.request_ms is not None or rule.timeouts.backend_request_ms is not None:
        raise Unsupported("VPC Lattice has no per-rule request timeouts")
    if rule.route_kind is RouteKind.GRPC and protocol is not ListenerProtocol.HTTPS:
        raise Unsupported("VPC Lattice serves gRPC only on HTTPS listeners")
    if len(rule.hostnames) > 1 or any(h.startswith("*") for h in rule.hostnames):
        raise Unsupported(
            "a VPC Lattice service has one custom domain name; this rule needs "
            f"{', '.join(rule.hostnames)} (use one exact hostname per route)"
        )
    if rule.filters:
        raise Unsupported(f"filter {rule.filters[0].type}: VPC Lattice rules cannot apply filters")
    match = match_of(rule)
    live = [b for b in rule.backends if b.invalid_reason is None and b.weight > 0]
    for backend in live:
        if backend.filters:
            raise Unsupported(f"backend {backend.id} has filters; VPC Lattice cannot apply filters")
    if len(live) > MAX_TARGET_GROUPS:
        raise Unsupported(f"forwards to {len(live)} backends; VPC Lattice allows {MAX_TARGET_GROUPS} per rule")
    weights = scale_weights([b.weight for b in live], MAX_WEIGHT)
    return RuleShape(match, forward=tuple(zip(live, weights, strict=True)))


def route_key(rule: Rule) -> str:
    return f"{rule.route_kind.value}/{rule.route}"


class _OneDomain:
    """A Lattice service (one per route) has one custom domain name."""

    def __init__(self) -> None:
        self.domains: dict[str, str] = {}

    def __call__(self, listener: Listener, rule: Rule) -> None:
        service, domain = route_key(rule), rule.hostnames[0] if rule.hostnames else ""
        if self.domains.setdefault(service, domain) != domain:
            raise Unsupported(
                f"a VPC Lattice service has one custom domain name; {service} already uses "
                f"{self.domains[service] or 'none'}, this rule needs {domain or 'none'}"
            )


class _Listeners:
    """At most `limit` listeners (ports) per service."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ports: dict[str, list[int]] = {}

    def __call__(self, listener: Listener, rule: Rule) -> None:
        service = route_key(rule)
        used = self.ports.setdefault(service, [])
        if listener.port in used:
            return
        if len(used) >= self.limit:
            raise Unsupported(
                f"VPC Lattice allows {self.limit} listeners per service; {service} "
                f"already listens on {', '.join(map(str, used))}"
            )
        used.append(listener.port)


def _shape_check(listener: Listener, rule: Rule) -> None:
    shape_of(rule, listener.protocol)


def domain_conflicts(listeners: Sequence[Listener]) -> dict[str, str]:
    """A custom domain name belongs to one service of a service network: when several routes want
    the same hostname, the oldest route keeps it (then `namespace/name`, as the spec breaks ties)
    and the rules of the others are rejected."""
    claims: dict[str, set[tuple[str, str, str]]] = {}
    for listener in listeners:
        for rule in listener.rules:
            if rule.hostnames:
                claims.setdefault(rule.hostnames[0], set()).add(
                    (rule.route_created or "~", str(rule.route), route_key(rule))
                )
    owners = {domain: min(routes)[2] for domain, routes in claims.items()}
    return {
        rule.id: (
            f"custom domain name {rule.hostnames[0]} is already used by {owners[rule.hostnames[0]]} in this "
            "service network (VPC Lattice allows one service per custom domain name; the oldest route keeps it)"
        )
        for listener in listeners
        for rule in listener.rules
        if rule.hostnames and owners[rule.hostnames[0]] != route_key(rule)
    }


def checker(
    rules_per_listener: int = RULES_PER_LISTENER, listeners_per_service: int = LISTENERS_PER_SERVICE
) -> RulesCheck:
    """check_rules bound to the account's quotas."""

    def per_listener(limit: int, count: int, key: str) -> str:
        service, port = key.rsplit(":", 1)
        return f"VPC Lattice allows {limit} rules per listener; this would be rule {count} of {service} on port {port}"

    def checks() -> list[RuleCheck]:
        rules = Quota(rules_per_listener, per_listener, lambda listener, rule: f"{route_key(rule)}:{listener.port}")
        return [_shape_check, _OneDomain(), _Listeners(listeners_per_service), rules]

    per_rule = rules_checker(checks)

    def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
        taken = domain_conflicts(listeners)
        # A rejected rule never counts against a quota.
        kept = [li.model_copy(update={"rules": tuple(r for r in li.rules if r.id not in taken)}) for li in listeners]
        return {**taken, **per_rule(kept)}

    return check_rules
