"""One IR rule -> URL map route rules (before priorities), or the reason GCP cannot express it.

A Gateway PathPrefix `/foo` matches `/foo` and `/foo/...` but not `/foobar`, while a URL map
`prefixMatch` compares characters. So a prefix becomes two route rules at adjacent priorities:
`fullPathMatch: /foo` and `prefixMatch: /foo/`, each with its own rewrite or redirect.

Limits (Compute v1 API reference, field descriptions of the URL map types):
paths and path rewrites 1-1024 characters, host rewrites 1-255, route rule descriptions
1024, weights 0-1000, regular expressions are RE2 (checked with google-re2), one
requestMirrorPolicy per route action, redirect codes 301/302/303/307/308.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import re2

from portico.ir import (
    Backend,
    HeaderModifier,
    MatchType,
    PathModifier,
    PathModifierType,
    RequestHeaderModifierFilter,
    RequestMirrorFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
    RouteKind,
    Rule,
    URLRewriteFilter,
)
from portico_providers.gcp_alb.model import (
    Duration,
    FaultAbort,
    FaultInjectionPolicy,
    HeaderAction,
    HeaderMatch,
    HeaderOption,
    QueryParameterMatch,
    RedirectAction,
    RequestMirrorPolicy,
    RouteAction,
    RouteRuleMatch,
    UrlRewrite,
    WeightedBackendService,
)

MAX_PATH = 1024
MAX_HOST = 255
MAX_WEIGHT = 1000
REDIRECT_CODES = {
    301: "MOVED_PERMANENTLY_DEFAULT",
    302: "FOUND",
    303: "SEE_OTHER",
    307: "TEMPORARY_REDIRECT",
    308: "PERMANENT_REDIRECT",
}
# Characters a path template treats as syntax; a literal prefix holding one cannot become a template.
TEMPLATE_SYNTAX = re.compile(r"[*{}=]")


class Unsupported(Exception):
    """A rule the URL map cannot express; the message names the limit."""


# (backend, route kind) -> the backend service URL that serves it
BackendRef = Callable[[Backend, RouteKind], str]


@dataclass(frozen=True)
class RoutePiece:
    """One URL map route rule of an IR rule, without its priority."""

    key: str  # rule id plus piece index: the route rule's description, kept across reconciles
    match: RouteRuleMatch
    route_action: RouteAction | None = None
    url_redirect: RedirectAction | None = None
    header_action: HeaderAction | None = None


@dataclass(frozen=True)
class _Path:
    """The path part of one piece: its match fields and what a prefix replacement turns into."""

    full: str | None = None
    prefix: str | None = None
    regex: str | None = None
    kind: str = "any"  # exact | prefix-exact | prefix-sub | regex | any
    base: str = ""  # the Gateway prefix without its trailing slash


def regex(pattern: str, what: str) -> str:
    if not 1 <= len(pattern) <= MAX_PATH:
        raise Unsupported(f"{what}: a URL map regexMatch holds 1-{MAX_PATH} characters")
    try:
        re2.compile(pattern)
    except re2.error as error:
        raise Unsupported(f"{what} {pattern!r} is not an RE2 regular expression ({error})") from None
    return pattern


def _length(value: str, limit: int, what: str) -> str:
    if not 1 <= len(value) <= limit:
        raise Unsupported(f"{what}: GCP allows 1-{limit} characters, got {len(value)}")
    return value


def _paths(rule: Rule) -> list[_Path]:
    grpc = rule.match.grpc
    if grpc is not None:
        if grpc.type is MatchType.REGULAR_EXPRESSION:
            pattern = f"/{grpc.service or '[^/]+'}/{grpc.method or '[^/]+'}"
            return [_Path(regex=regex(pattern, "gRPC method match"), kind="regex")]
        if grpc.service and grpc.method:
            return [_Path(full=f"/{grpc.service}/{grpc.method}", kind="exact")]
        if grpc.service:
            return [_Path(prefix=f"/{grpc.service}/", kind="prefix-sub", base=f"/{grpc.service}")]
        if grpc.method:
            return [_Path(regex=regex(f"/[^/]+/{re.escape(grpc.method)}", "gRPC method match"), kind="regex")]
        return [_Path(prefix="/", kind="any")]
    path = rule.match.path
    if path is None:
        return [_Path(prefix="/", kind="any")]
    if path.type is MatchType.REGULAR_EXPRESSION:
        return [_Path(regex=regex(path.value, "path match"), kind="regex")]
    value = _length(path.value, MAX_PATH - 1, "path")
    if path.type is MatchType.EXACT:
        return [_Path(full=value, kind="exact", base=value)]
    base = value.rstrip("/")
    if not base:
        return [_Path(prefix="/", kind="any")]
    return [_Path(full=base, kind="prefix-exact", base=base), _Path(prefix=base + "/", kind="prefix-sub", base=base)]


def _match(rule: Rule, path: _Path) -> RouteRuleMatch:
    headers = []
    if rule.match.method:
        # Compute matches the request method as the pseudo-header `:method` (HttpHeaderMatch.headerName).
        headers.append(HeaderMatch(header_name=":method", exact_match=rule.match.method.upper()))
    for header in rule.match.headers:
        if header.type is MatchType.REGULAR_EXPRESSION:
            headers.append(
                HeaderMatch(header_name=header.name, regex_match=regex(header.value, f"header {header.name}"))
            )
        else:
            headers.append(HeaderMatch(header_name=header.name, exact_match=header.value))
    params = []
    for param in rule.match.query_params:
        if param.type is MatchType.REGULAR_EXPRESSION:
            params.append(QueryParameterMatch(name=param.name, regex_match=regex(param.value, f"query {param.name}")))
        else:
            params.append(QueryParameterMatch(name=param.name, exact_match=param.value))
    return RouteRuleMatch(
        full_path_match=path.full,
        prefix_match=path.prefix,
        regex_match=path.regex,
        header_matches=tuple(headers) or None,
        query_parameter_matches=tuple(params) or None,
    )


def _replaced_prefix(modifier: PathModifier, path: _Path) -> tuple[str, str]:
    """('full' | 'prefix', value) that replaces the matched part of `path` for ReplacePrefixMatch."""
    if path.kind not in ("prefix-exact", "prefix-sub", "any"):
        raise Unsupported("ReplacePrefixMatch needs a PathPrefix match")
    value = modifier.value.rstrip("/")
    if path.kind == "prefix-exact":
        return "full", _length(value or "/", MAX_PATH, "path replacement")
    return "prefix", _length(value + "/", MAX_PATH, "path replacement")


def _redirect(item: RequestRedirectFilter, path: _Path, https_listener: bool) -> RedirectAction:
    code = REDIRECT_CODES.get(item.status_code)
    if code is None:
        raise Unsupported(f"redirect status {item.status_code}: GCP redirects with 301, 302, 303, 307 or 308")
    https: bool | None = None
    if item.scheme:
        scheme = item.scheme.lower()
        if scheme == "https":
            https = True
        elif scheme != "http" or https_listener:
            raise Unsupported(f"redirect to scheme {item.scheme}: GCP redirects can only switch to https")
    # HttpRedirectAction has no port: only the scheme's well-known port (what it redirects to) works.
    if item.port is not None and not (https is True and item.port == 443):
        raise Unsupported(f"redirect to port {item.port}: GCP URL map redirects cannot set a port")
    fields: dict[str, object] = {"redirect_response_code": code, "https_redirect": https}
    if item.hostname:
        fields["host_redirect"] = _length(item.hostname, MAX_HOST, "redirect hostname")
    if item.path is not None:
        if item.path.type is PathModifierType.REPLACE_FULL_PATH:
            fields["path_redirect"] = _length(item.path.value, MAX_PATH, "redirect path")
        else:
            where, value = _replaced_prefix(item.path, path)
            fields["path_redirect" if where == "full" else "prefix_redirect"] = value
    return RedirectAction.model_validate(fields)


def _rewrite(item: URLRewriteFilter, path: _Path) -> tuple[UrlRewrite, str | None]:
    """The rewrite, and a path template to match instead of the prefix (ReplaceFullPath on a prefix)."""
    host = _length(item.hostname, MAX_HOST, "rewrite hostname") if item.hostname else None
    if item.path is None:
        return UrlRewrite(host_rewrite=host), None
    if item.path.type is PathModifierType.REPLACE_PREFIX_MATCH:
        _, value = _replaced_prefix(item.path, path)
        return UrlRewrite(host_rewrite=host, path_prefix_rewrite=value), None
    value = _length(item.path.value, MAX_PATH, "rewrite path")
    if path.kind in ("exact", "prefix-exact"):
        # The whole path matched, so replacing "the matched prefix" replaces the full path.
        return UrlRewrite(host_rewrite=host, path_prefix_rewrite=value), None
    if path.kind == "regex":
        raise Unsupported(
            "ReplaceFullPath after a RegularExpression match: GCP rewrites full paths only from templates"
        )
    if TEMPLATE_SYNTAX.search(path.base) or TEMPLATE_SYNTAX.search(value):
        raise Unsupported(
            "ReplaceFullPath: the prefix or the new path holds '*', '{', '}' or '=' (path template syntax)"
        )
    template = f"{path.base}/**" if path.base else "/**"
    return UrlRewrite(host_rewrite=host, path_template_rewrite=value), template


def _options(modifier: HeaderModifier) -> tuple[tuple[HeaderOption, ...] | None, tuple[str, ...] | None]:
    options = [HeaderOption(header_name=h.name, header_value=h.value, replace=True) for h in modifier.set]
    options += [HeaderOption(header_name=h.name, header_value=h.value, replace=False) for h in modifier.add]
    return tuple(options) or None, tuple(modifier.remove) or None


def header_action(filters: tuple[object, ...], where: str) -> HeaderAction | None:
    fields: dict[str, object] = {}
    for item in filters:
        if isinstance(item, RequestHeaderModifierFilter):
            fields["request_headers_to_add"], fields["request_headers_to_remove"] = _options(item.modifier)
        elif isinstance(item, ResponseHeaderModifierFilter):
            fields["response_headers_to_add"], fields["response_headers_to_remove"] = _options(item.modifier)
        elif where == "backend":
            raise Unsupported(
                f"backend filter {getattr(item, 'type', item)}: GCP applies only header changes per backend"
            )
    action = HeaderAction.model_validate(fields)
    return action if action.dump() else None


def scale_weights(weights: list[int]) -> list[int]:
    """Gateway weights -> GCP's 0-1000, same ratios, no positive weight lost."""
    top = max(weights, default=0)
    if top <= MAX_WEIGHT:
        return weights
    return [max(1, round(w * MAX_WEIGHT / top)) if w else 0 for w in weights]


def _duration(ms: int) -> Duration:
    return Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000 or None)


def _timeout(rule: Rule) -> Duration | None:
    request, backend = rule.timeouts.request_ms, rule.timeouts.backend_request_ms
    if 0 in (request, backend):
        raise Unsupported("timeouts of 0 (no timeout): a GCP route timeout cannot be switched off")
    if request is not None and backend is not None and backend != request:
        raise Unsupported(
            "backendRequest timeout differs from request: GCP has one timeout per route (retries included)"
        )
    ms = request if request is not None else backend
    return _duration(ms) if ms is not None else None


def _forward(rule: Rule, refs: BackendRef, empty: str) -> RouteAction:
    valid = [b for b in rule.backends if b.invalid_reason is None and b.weight > 0]
    total = sum(b.weight for b in rule.backends if b.weight > 0)
    invalid = total - sum(b.weight for b in valid)
    weights = scale_weights([b.weight for b in valid])
    services = [
        WeightedBackendService(
            backend_service=refs(b, rule.route_kind), weight=w, header_action=header_action(b.filters, "backend")
        )
        for b, w in zip(valid, weights, strict=True)
    ]
    fault = None
    if not valid:
        # No backend can serve (none given, all invalid or weight 0): the spec's 500 for every request.
        services = [WeightedBackendService(backend_service=empty, weight=100)]
        fault = FaultInjectionPolicy(abort=FaultAbort(http_status=500, percentage=100.0))
    elif invalid:
        # The invalid backends' share answers 500, the rest is forwarded by weight.
        fault = FaultInjectionPolicy(abort=FaultAbort(http_status=500, percentage=round(100 * invalid / total, 4)))
    return RouteAction(weighted_backend_services=tuple(services), fault_injection_policy=fault)


def pieces(rule: Rule, refs: BackendRef, empty: str, *, https_listener: bool) -> list[RoutePiece]:
    """Raises Unsupported with the limit's name when a URL map cannot program `rule`."""
    redirects = [f for f in rule.filters if isinstance(f, RequestRedirectFilter)]
    rewrites = [f for f in rule.filters if isinstance(f, URLRewriteFilter)]
    mirrors = [f for f in rule.filters if isinstance(f, RequestMirrorFilter)]
    if len(mirrors) > 1:
        raise Unsupported(f"{len(mirrors)} RequestMirror filters: a GCP route action mirrors to one backend service")
    headers = header_action(rule.filters, "rule")
    if redirects and headers is not None:
        raise Unsupported("header modifiers on a redirect: Portico programs header actions only on forwarded requests")
    timeout = _timeout(rule)
    out: list[RoutePiece] = []
    for index, path in enumerate(_paths(rule)):
        key = f"{rule.id}#{index}"
        _length(key, 1024, "route rule description")
        match = _match(rule, path)
        if redirects:
            out.append(RoutePiece(key, match, url_redirect=_redirect(redirects[0], path, https_listener)))
            continue
        action = _forward(rule, refs, empty)
        update: dict[str, object] = {"timeout": timeout}
        if rewrites:
            rewrite, template = _rewrite(rewrites[0], path)
            update["url_rewrite"] = rewrite
            if template is not None:
                match = match.model_copy(update={"prefix_match": None, "path_template_match": template})
        if mirrors:
            mirror = mirrors[0]
            percent = 100.0 * mirror.numerator / mirror.denominator
            update["request_mirror_policy"] = RequestMirrorPolicy(
                backend_service=refs(mirror.backend, rule.route_kind),
                mirror_percent=None if percent == 100.0 else round(percent, 4),
            )
        out.append(RoutePiece(key, match, route_action=action.model_copy(update=update), header_action=headers))
    return out
