"""Which Gateway API SupportedFeatures a route rule needs, so a provider that lacks one
rejects exactly that rule (Accepted=False/UnsupportedValue or PartiallyInvalid)."""

from __future__ import annotations

from collections.abc import Iterable

from portico.api.filters import HTTPRouteFilter
from portico.api.l4routes import L4RouteRule
from portico.api.routes import GRPCRouteRule, HTTPRouteRule

# Every feature Portico's translation understands (standard channel, v1.6).
HTTP_ROUTE_FEATURES = frozenset(
    {
        "HTTPRoute",
        "HTTPRouteQueryParamMatching",
        "HTTPRouteMethodMatching",
        "HTTPRouteResponseHeaderModification",
        "HTTPRouteBackendRequestHeaderModification",
        "HTTPRoutePortRedirect",
        "HTTPRouteSchemeRedirect",
        "HTTPRoutePathRedirect",
        "HTTPRoute303RedirectStatusCode",
        "HTTPRoute307RedirectStatusCode",
        "HTTPRoute308RedirectStatusCode",
        "HTTPRouteHostRewrite",
        "HTTPRoutePathRewrite",
        "HTTPRouteRequestMirror",
        "HTTPRouteRequestMultipleMirrors",
        "HTTPRouteRequestPercentageMirror",
        "HTTPRouteRequestTimeout",
        "HTTPRouteBackendTimeout",
        "HTTPRouteParentRefPort",
        "HTTPRouteBackendProtocolH2C",
        "HTTPRouteNamedRouteRule",
        "HTTPRouteCORS",
    }
)
ALL_FEATURES = HTTP_ROUTE_FEATURES | {
    "Gateway",
    "ReferenceGrant",
    "GRPCRoute",
    "GRPCRouteNamedRouteRule",
    "GatewayPort8080",
    "GatewayHTTPListenerIsolation",
    "BackendTLSPolicy",
    "BackendTLSPolicySANValidation",
    "TLSRoute",
    "TLSRouteModeTerminate",
    "TCPRoute",
    "UDPRoute",
    "ListenerSet",
}


def _filter_features(f: HTTPRouteFilter, backend_level: bool) -> Iterable[str]:
    if f.type == "RequestHeaderModifier" and backend_level:
        yield "HTTPRouteBackendRequestHeaderModification"
    if f.type == "ResponseHeaderModifier":
        yield "HTTPRouteResponseHeaderModification"
    if f.request_redirect is not None:
        r = f.request_redirect
        if r.scheme is not None:
            yield "HTTPRouteSchemeRedirect"
        if r.port is not None:
            yield "HTTPRoutePortRedirect"
        if r.path is not None:
            yield "HTTPRoutePathRedirect"
        if r.status_code in (303, 307, 308):
            yield f"HTTPRoute{r.status_code}RedirectStatusCode"
    if f.url_rewrite is not None:
        if f.url_rewrite.hostname is not None:
            yield "HTTPRouteHostRewrite"
        if f.url_rewrite.path is not None:
            yield "HTTPRoutePathRewrite"
    if f.request_mirror is not None:
        yield "HTTPRouteRequestMirror"
        if f.request_mirror.percent is not None or f.request_mirror.fraction is not None:
            yield "HTTPRouteRequestPercentageMirror"
    if f.type == "CORS":
        yield "HTTPRouteCORS"


def required_features(rule: HTTPRouteRule | GRPCRouteRule | L4RouteRule) -> set[str]:
    needed: set[str] = set()
    if isinstance(rule, L4RouteRule):
        return needed  # the route kind itself is checked where listeners admit routes
    grpc = isinstance(rule, GRPCRouteRule)
    if rule.name is not None:
        needed.add("GRPCRouteNamedRouteRule" if grpc else "HTTPRouteNamedRouteRule")
    filters: list[tuple[HTTPRouteFilter, bool]] = [(f, False) for f in rule.filters]
    for ref in rule.backend_refs:
        filters += [(f, True) for f in ref.filters]
    for f, backend_level in filters:
        needed.update(_filter_features(f, backend_level))
    if sum(1 for f, _ in filters if f.type == "RequestMirror") > 1:
        needed.add("HTTPRouteRequestMultipleMirrors")
    if isinstance(rule, HTTPRouteRule):
        for m in rule.matches:
            if m.method is not None:
                needed.add("HTTPRouteMethodMatching")
            if m.query_params:
                needed.add("HTTPRouteQueryParamMatching")
        if rule.timeouts is not None:
            if rule.timeouts.request is not None:
                needed.add("HTTPRouteRequestTimeout")
            if rule.timeouts.backend_request is not None:
                needed.add("HTTPRouteBackendTimeout")
    return needed


def parse_duration_ms(value: str) -> int:
    """GEP-2257 durations (`1h30m`, `500ms`) in milliseconds."""
    units = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
    total, number = 0, ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch.isdigit():
            number += ch
            i += 1
            continue
        unit = "ms" if value.startswith("ms", i) else ch
        total += int(number) * units[unit]
        number = ""
        i += len(unit)
    return total
