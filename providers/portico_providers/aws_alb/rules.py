"""One IR rule -> ALB conditions and action, or the reason ALB cannot express it.

ALB limits checked here (Elastic Load Balancing quotas and listener-rule docs):
5 condition values per rule, 5 target groups per forward action, 100 rules per load
balancer, weights 0-999, path patterns and header values use `*`/`?` as wildcards (so a
literal `*` or `?` cannot be matched exactly), no regular expressions, redirects only with
301/302 and without prefix replacement, no header modifiers, URL rewrites or mirrors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portico.ir import (
    Backend,
    Listener,
    ListenerProtocol,
    MatchType,
    PathModifierType,
    RequestRedirectFilter,
    RouteKind,
    Rule,
)
from portico_providers.aws_alb.model import Condition, KeyValue, Redirect
from portico_providers.aws_common.limits import MAX_WEIGHT
from portico_providers.kit.limits import Quota, Unsupported, rules_checker, scale_weights

MAX_CONDITION_VALUES = 5
MAX_TARGET_GROUPS = 5
MAX_RULES = 100
WILDCARDS = ("*", "?")


@dataclass(frozen=True)
class RuleShape:
    conditions: tuple[Condition, ...]
    redirect: Redirect | None = None
    # (backend, ALB weight 1-999); empty with no redirect means "answer 500".
    forward: tuple[tuple[Backend, int], ...] = ()


def _literal(value: str, what: str) -> str:
    if any(w in value for w in WILDCARDS):
        raise Unsupported(f"{what} {value!r} contains '*' or '?', which ALB treats as wildcards")
    return value


def _exact_only(match_type: MatchType, what: str) -> None:
    if match_type is MatchType.REGULAR_EXPRESSION:
        raise Unsupported(f"{what}: ALB listener rules do not support RegularExpression matches")


def _path_values(rule: Rule) -> tuple[str, ...]:
    match = rule.match
    if match.grpc is not None:
        _exact_only(match.grpc.type, "gRPC method match")
        service = _literal(match.grpc.service, "gRPC service") if match.grpc.service else "*"
        method = _literal(match.grpc.method, "gRPC method") if match.grpc.method else "*"
        return () if service == method == "*" else (f"/{service}/{method}",)
    if match.path is None:
        return ()
    _exact_only(match.path.type, "path match")
    value = _literal(match.path.value, "path")
    if match.path.type is MatchType.EXACT:
        return (value,)
    prefix = value.rstrip("/")
    return (prefix, f"{prefix}/*") if prefix else ()


def conditions_of(rule: Rule) -> tuple[Condition, ...]:
    match = rule.match
    conditions: list[Condition] = []
    if rule.hostnames:
        conditions.append(Condition(field="host-header", values=tuple(rule.hostnames)))
    paths = _path_values(rule)
    if paths:
        conditions.append(Condition(field="path-pattern", values=paths))
    if match.method:
        conditions.append(Condition(field="http-request-method", values=(match.method.upper(),)))
    for header in match.headers:
        _exact_only(header.type, f"header match {header.name!r}")
        value = _literal(header.value, f"header {header.name!r} value")
        conditions.append(Condition(field="http-header", header_name=header.name, values=(value,)))
    for param in match.query_params:
        _exact_only(param.type, f"query parameter match {param.name!r}")
        pair = KeyValue(key=_literal(param.name, "query parameter"), value=_literal(param.value, "query value"))
        conditions.append(Condition(field="query-string", query=(pair,)))
    if not conditions:
        # ALB wants at least one condition on every non-default rule: match any path.
        conditions.append(Condition(field="path-pattern", values=("/*",)))
    total = sum(c.value_count for c in conditions)
    if total > MAX_CONDITION_VALUES:
        raise Unsupported(
            f"needs {total} condition values; ALB allows {MAX_CONDITION_VALUES} per rule "
            "(each hostname, path pattern, header, query parameter and method counts one; "
            "a PathPrefix counts two)"
        )
    return canonical(conditions)


def canonical(conditions: Sequence[Condition]) -> tuple[Condition, ...]:
    return tuple(sorted(conditions, key=lambda c: (c.field, c.header_name or "", c.values, str(c.query))))


def _redirect(redirect: RequestRedirectFilter) -> Redirect:
    if redirect.status_code not in (301, 302):
        raise Unsupported(f"redirect status {redirect.status_code}: ALB redirects only with 301 or 302")
    fields: dict[str, str] = {"status_code": f"HTTP_{redirect.status_code}"}
    if redirect.scheme:
        fields["protocol"] = redirect.scheme.upper()
    if redirect.hostname:
        fields["host"] = redirect.hostname
    if redirect.port is not None:
        fields["port"] = str(redirect.port)
    elif redirect.scheme:
        # The spec: a scheme change without a port goes to that scheme's well-known port.
        fields["port"] = "443" if redirect.scheme.lower() == "https" else "80"
    if redirect.path is not None:
        if redirect.path.type is not PathModifierType.REPLACE_FULL_PATH:
            raise Unsupported("redirect with ReplacePrefixMatch: ALB redirects can only replace the full path")
        fields["path"] = redirect.path.value
    return Redirect.model_validate(fields)


def shape_of(rule: Rule, protocol: ListenerProtocol) -> RuleShape:
    """Raises Unsupported with the limit's name when ALB cannot program `rule`."""
    if rule.timeouts.request_ms is not None or rule.timeouts.backend_request_ms is not None:
        raise Unsupported("ALB has no per-rule request timeouts (only the load balancer's idle timeout)")
    if rule.route_kind is RouteKind.GRPC and protocol is not ListenerProtocol.HTTPS:
        raise Unsupported("ALB forwards gRPC only from HTTPS listeners")
    conditions = conditions_of(rule)
    redirect = None
    for item in rule.filters:
        if isinstance(item, RequestRedirectFilter):
            redirect = _redirect(item)
        else:
            raise Unsupported(f"filter {item.type}: ALB listener rules cannot apply it")
    if redirect is not None:
        return RuleShape(conditions, redirect=redirect)
    live = [b for b in rule.backends if b.invalid_reason is None and b.weight > 0]
    for backend in live:
        if backend.filters:
            raise Unsupported(f"backend {backend.id} has filters; ALB cannot apply filters per backend")
        if backend.protocol.value == "h2c" and protocol is not ListenerProtocol.HTTPS:
            raise Unsupported(f"backend {backend.id} speaks h2c; ALB sends HTTP/2 to targets only from HTTPS listeners")
    if len({b.id for b in live}) > MAX_TARGET_GROUPS:
        raise Unsupported(f"forwards to {len(live)} backends; ALB allows {MAX_TARGET_GROUPS} target groups per rule")
    weights = scale_weights([b.weight for b in live], MAX_WEIGHT)
    return RuleShape(conditions, forward=tuple(zip(live, weights, strict=True)))


def _shape_check(listener: Listener, rule: Rule) -> None:
    shape_of(rule, listener.protocol)


def _rules_quota(limit: int, count: int, _: str) -> str:
    return f"ALB allows {limit} rules per load balancer; this would be rule {count}"


# {rule.id: why ALB cannot program it}; the 100-rule quota counts in precedence order.
check_rules = rules_checker(lambda: [_shape_check, Quota(MAX_RULES, _rules_quota)])
