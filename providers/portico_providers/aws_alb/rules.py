"""One IR rule -> ALB conditions and action, or the reason ALB cannot express it.

ALB limits checked here (Elastic Load Balancing quotas and listener-rule docs):
5 condition values per rule and 3 per condition (a rule with more hostnames becomes several ALB
rules, 3 hostnames each), condition values up to 128 characters (a PathPrefix's `/*` included),
http-header names up to 40 characters and never `Host` (ALB matches it only with host-header),
5 target groups per forward action (a backend named twice is one target group with the summed
weight), 100 rules per load balancer (counted as ALB rules), weights 0-999, path patterns and
header values use `*`/`?` as wildcards (so a literal `*` or `?` cannot be matched exactly),
RegularExpression path and header matches as RegexValues (anchored with ^(?:...)$ so the whole
value must match; 128 characters with the anchors; not for gRPC method matches or query
parameters, which ALB cannot match by regex), redirects only with 301/302, without prefix
replacement, never from an HTTPS listener to `http` and never to the request's own URL (a loop), no header modifiers
or mirrors. URLRewrite becomes rule transforms (`transforms.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    URLRewriteFilter,
)
from portico.translate.hostnames import listener_hostname_rank
from portico_providers.aws_alb.model import Condition, KeyValue, Redirect, Transform
from portico_providers.aws_alb.transforms import transforms_of
from portico_providers.aws_common.limits import MAX_WEIGHT
from portico_providers.kit.limits import Quota, Unsupported, rules_checker, scale_weights

MAX_CONDITION_VALUES = 5
MAX_VALUES_PER_CONDITION = 3
MAX_VALUE_LENGTH = 128
MAX_HEADER_NAME_LENGTH = 40
MAX_TARGET_GROUPS = 5
MAX_RULES = 100
WILDCARDS = ("*", "?")


@dataclass(frozen=True)
class RuleShape:
    # One condition set per ALB rule: more hostnames than one condition takes become more rules.
    variants: tuple[tuple[Condition, ...], ...]
    redirect: Redirect | None = None
    # (backend, ALB weight 1-999); empty with no redirect means "answer 500".
    forward: tuple[tuple[Backend, int], ...] = ()
    # URLRewrite as url-rewrite / host-header-rewrite transforms of the forward.
    transforms: tuple[Transform, ...] = ()


def _literal(value: str, what: str) -> str:
    if any(w in value for w in WILDCARDS):
        raise Unsupported(f"{what} {value!r} contains '*' or '?', which ALB treats as wildcards")
    return _bounded(value, what)


def _bounded(value: str, what: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise Unsupported(f"{what} is {len(value)} characters; ALB allows {MAX_VALUE_LENGTH} per condition value")
    return value


def _exact_only(match_type: MatchType, what: str) -> None:
    if match_type is MatchType.REGULAR_EXPRESSION:
        raise Unsupported(f"{what}: ALB listener rules do not support RegularExpression matches")


def _anchored(pattern: str, what: str) -> str:
    """A RegularExpression match as ALB RegexValue: anchored so that it matches the whole value."""
    return _bounded(f"^(?:{pattern})$", f"{what} regular expression (with the ^(?:...)$ anchors)")


def _path_regex(rule: Rule) -> tuple[str, ...]:
    path = rule.match.path
    if rule.match.grpc is None and path is not None and path.type is MatchType.REGULAR_EXPRESSION:
        return (_anchored(path.value, "path"),)
    return ()


def _path_values(rule: Rule) -> tuple[str, ...]:
    match = rule.match
    if match.grpc is not None:
        _exact_only(match.grpc.type, "gRPC method match")
        service = _literal(match.grpc.service, "gRPC service") if match.grpc.service else "*"
        method = _literal(match.grpc.method, "gRPC method") if match.grpc.method else "*"
        return () if service == method == "*" else (f"/{service}/{method}",)
    if match.path is None or match.path.type is MatchType.REGULAR_EXPRESSION:
        return ()
    value = _literal(match.path.value, "path")
    if match.path.type is MatchType.EXACT:
        return (value,)
    prefix = value.rstrip("/")
    return (prefix, _bounded(f"{prefix}/*", "path pattern (with the /* ALB needs for a prefix)")) if prefix else ()


def host_rank(hostname: str | None) -> tuple[int, int]:
    """The spec's hostname precedence as a sort key: an exact hostname first, then wildcards with
    the most characters, then no hostname (the order Portico's proxy tries them in)."""
    if hostname is None:
        return (2, 0)
    return (1, -len(hostname)) if hostname.startswith("*.") else (0, 0)


def host_groups(rule: Rule) -> tuple[tuple[str, ...], ...]:
    """The rule's hostnames in groups of at most 3 of one precedence rank (one ALB rule each, so
    each can take its own place in the listener's order); `((),)` when it has none."""
    hosts = sorted({_bounded(h, "hostname") for h in rule.hostnames}, key=lambda h: (host_rank(h), h))
    groups: list[tuple[str, ...]] = []
    for host in hosts:
        if groups and len(groups[-1]) < MAX_VALUES_PER_CONDITION and host_rank(groups[-1][0]) == host_rank(host):
            groups[-1] += (host,)
        else:
            groups.append((host,))
    return tuple(groups) or ((),)


def group_rank(hosts: tuple[str, ...]) -> tuple[int, int]:
    return host_rank(hosts[0] if hosts else None)


def fenced(listeners: Sequence[Listener]) -> set[str]:
    """Names of the listeners whose hostname a later (less specific) listener on the same ALB port
    also matches: after their rules comes a 404 for their hostname, so that a request they do not
    route is not served by the other listener's rules (the spec's listener isolation)."""
    found = set()
    for index, listener in enumerate(listeners):
        later = [li for li in listeners[index + 1 :] if li.port == listener.port]
        if listener.hostname and any(_covers(li.hostname, listener.hostname) for li in later):
            found.add(listener.name)
    return found


def _covers(broader: str | None, hostname: str) -> bool:
    if broader is None:
        return True
    if broader.startswith("*."):
        return hostname.endswith(broader[1:]) and len(hostname) > len(broader) - 1
    return broader == hostname


def conditions_of(rule: Rule, hosts: tuple[str, ...] | None = None) -> tuple[Condition, ...]:
    """ALB conditions for `rule` restricted to `hosts` (one of its `host_groups`; default the first)."""
    match = rule.match
    hosts = host_groups(rule)[0] if hosts is None else hosts
    conditions: list[Condition] = []
    if hosts:
        conditions.append(Condition(field="host-header", values=hosts))
    paths = _path_values(rule)
    if paths:
        conditions.append(Condition(field="path-pattern", values=paths))
    path_regex = _path_regex(rule)
    if path_regex:
        conditions.append(Condition(field="path-pattern", regex_values=path_regex))
    if match.method:
        conditions.append(Condition(field="http-request-method", values=(match.method.upper(),)))
    for header in match.headers:
        if header.name.lower() == "host":
            raise Unsupported("header match on Host: ALB matches the host only through hostnames (host-header)")
        if len(header.name) > MAX_HEADER_NAME_LENGTH:
            raise Unsupported(
                f"header name {header.name[:20]!r}... is {len(header.name)} characters; "
                f"ALB allows {MAX_HEADER_NAME_LENGTH} in an http-header condition"
            )
        what = f"header {header.name!r} value"
        if header.type is MatchType.REGULAR_EXPRESSION:
            regex = (_anchored(header.value, what),)
            conditions.append(Condition(field="http-header", header_name=header.name, regex_values=regex))
        else:
            value = _literal(header.value, what)
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
    return tuple(
        sorted(conditions, key=lambda c: (c.field, c.header_name or "", c.values, c.regex_values, str(c.query)))
    )


def _redirect(redirect: RequestRedirectFilter, listener: Listener) -> Redirect:
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
    made = Redirect.model_validate(fields)
    https = listener.protocol is ListenerProtocol.HTTPS
    if https and made.protocol == "HTTP":
        raise Unsupported("redirect from an HTTPS listener to scheme http: ALB does not redirect HTTPS to HTTP")
    if (
        made.protocol in ("#{protocol}", listener.protocol.value.upper())
        and made.port in ("#{port}", str(listener.port))
        and (made.host, made.path, made.query) == ("#{host}", "/#{path}", "#{query}")
    ):
        raise Unsupported("redirect to the request's own URL: ALB refuses a redirect that changes nothing (a loop)")
    return made


def _merged(backends: Sequence[Backend]) -> list[Backend]:
    """A backend named twice in one rule is one target group: ALB refuses a forward that lists a
    target group twice, so the shares add up."""
    merged: dict[str, Backend] = {}
    for backend in backends:
        earlier = merged.get(backend.id)
        merged[backend.id] = (
            earlier.model_copy(update={"weight": earlier.weight + backend.weight}) if earlier else backend
        )
    return list(merged.values())


def shape_of(rule: Rule, listener: Listener) -> RuleShape:
    """Raises Unsupported with the limit's name when ALB cannot program `rule`."""
    protocol = listener.protocol
    if rule.timeouts.request_ms is not None or rule.timeouts.backend_request_ms is not None:
        raise Unsupported("ALB has no per-rule request timeouts (only the load balancer's idle timeout)")
    if rule.route_kind is RouteKind.GRPC and protocol is not ListenerProtocol.HTTPS:
        raise Unsupported("ALB forwards gRPC only from HTTPS listeners")
    variants = tuple(conditions_of(rule, hosts) for hosts in host_groups(rule))
    redirect = None
    transforms: tuple[Transform, ...] = ()
    for item in rule.filters:
        if isinstance(item, RequestRedirectFilter):
            redirect = _redirect(item, listener)
        elif isinstance(item, URLRewriteFilter):
            transforms = transforms_of(item)
        else:
            raise Unsupported(f"filter {item.type}: ALB listener rules cannot apply it")
    if redirect is not None:
        return RuleShape(variants, redirect=redirect)
    live = _merged([b for b in rule.backends if b.invalid_reason is None and b.weight > 0])
    for backend in live:
        if backend.filters:
            raise Unsupported(f"backend {backend.id} has filters; ALB cannot apply filters per backend")
        if backend.protocol.value == "h2c" and protocol is not ListenerProtocol.HTTPS:
            raise Unsupported(f"backend {backend.id} speaks h2c; ALB sends HTTP/2 to targets only from HTTPS listeners")
    if len({b.id for b in live}) > MAX_TARGET_GROUPS:
        raise Unsupported(f"forwards to {len(live)} backends; ALB allows {MAX_TARGET_GROUPS} target groups per rule")
    weights = scale_weights([b.weight for b in live], MAX_WEIGHT)
    return RuleShape(variants, forward=tuple(zip(live, weights, strict=True)), transforms=transforms)


def _shape_check(listener: Listener, rule: Rule) -> None:
    shape_of(rule, listener)


class AlbRuleQuota(Quota):
    """The 100-rule quota counted in ALB rules: a rule whose hostnames take several groups takes
    several ALB rules."""

    def __call__(self, listener: Listener, rule: Rule) -> None:
        for _ in host_groups(rule):
            super().__call__(listener, rule)


def ordered(listeners: Sequence[Listener]) -> list[Listener]:
    """Listeners in the order their ALB rules take on each port (most specific hostname first)."""
    return sorted(listeners, key=lambda listener: listener_hostname_rank(listener.hostname))


def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
    """{rule.id: why ALB cannot program it}; the 100-rule quota counts in precedence order, after
    the isolation rules (`fenced`) that the load balancer needs anyway."""
    fences = len(fenced(ordered(listeners)))

    def message(limit: int, count: int, _: str) -> str:
        return f"ALB allows {MAX_RULES} rules per load balancer; this would be rule {count + fences}"

    return rules_checker(lambda: [_shape_check, AlbRuleQuota(MAX_RULES - fences, message)])(listeners)
