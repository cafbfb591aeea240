"""One IR rule -> what an Application Gateway path rule can do with it, or why it cannot.

Application Gateway v2 routes on the listener (port + host names) and then on URL path maps:
path rules are tried in the order listed, the first match wins, a pattern is a literal path or a
literal prefix followed by a trailing `/*`, and matching ignores case. It has no header, query
or method matching, no weighted split, no gRPC to backends (backends get HTTP/1.1), redirects
with 301/302/303/307 only, and rewrite rule sets for headers and the URL path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from portico.ir import (
    Backend,
    BackendProtocol,
    HeaderModifier,
    MatchType,
    PathModifierType,
    RequestHeaderModifierFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
    RouteKind,
    Rule,
    URLRewriteFilter,
)
from portico_providers.azure_appgw.limits import (
    MAX_REQUEST_TIMEOUT_S,
    MIN_REQUEST_TIMEOUT_S,
    REDIRECT_TYPES,
    Unsupported,
)

# RFC 3986 path characters; Application Gateway reserves `*` (trailing wildcard) and cannot see `?`/`#`.
PATH_CHARACTERS = re.compile(r"^/[A-Za-z0-9\-._~!$&'()+,;=:@%/]*$")
# Header names rewrite rules accept (RFC 9110 tokens).
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")


@dataclass(frozen=True)
class HeaderChange:
    name: str
    value: str  # "" deletes the header (Application Gateway's own convention)


@dataclass(frozen=True)
class Rewrite:
    """One rewrite rule: header changes and an optional path rewrite (regex condition + new path)."""

    request_headers: tuple[HeaderChange, ...] = ()
    response_headers: tuple[HeaderChange, ...] = ()
    path_pattern: str | None = None  # condition on var_uri_path; its capture 1 is {var_uri_path_1}
    new_path: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.request_headers or self.response_headers or self.new_path)


@dataclass(frozen=True)
class Redirect:
    """`host` None keeps the client's host: only an exact listener host name can say it."""

    status: int
    scheme: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None  # None: keep the request's path


@dataclass(frozen=True)
class RuleShape:
    paths: tuple[str, ...]
    backend: Backend | None = None  # None with no redirect: every backend is invalid (answer 500)
    redirect: Redirect | None = None
    rewrite: Rewrite = Rewrite()
    timeout_s: int | None = None
    host_override: str | None = None
    notes: tuple[str, ...] = field(default=())


def _check_path(value: str, what: str) -> str:
    if not PATH_CHARACTERS.match(value):
        raise Unsupported(
            f"{what} {value!r}: Application Gateway path patterns take only RFC 3986 path characters "
            "(no '*', '?', '#', spaces or non-ASCII)"
        )
    return value


def paths_of(rule: Rule) -> tuple[str, ...]:
    """Exact `/x` -> `/x`; PathPrefix `/x` -> `/x`, `/x/*`; PathPrefix `/` -> `/*`."""
    if rule.match.grpc is not None:
        raise Unsupported("GRPCRoute: Application Gateway v2 talks HTTP/1.1 to backends, so it cannot carry gRPC")
    path = rule.match.path
    if path is None:
        return ("/*",)
    if path.type is MatchType.REGULAR_EXPRESSION:
        raise Unsupported("path match RegularExpression: Application Gateway path rules are literal or prefix '/*'")
    value = _check_path(path.value, "path")
    if path.type is MatchType.EXACT:
        return (value,)
    prefix = value.rstrip("/")
    return (prefix, f"{prefix}/*") if prefix else ("/*",)


def _no_other_matches(rule: Rule) -> None:
    match = rule.match
    if match.headers:
        raise Unsupported(f"header match {match.headers[0].name!r}: Application Gateway routes on host and path only")
    if match.query_params:
        raise Unsupported(
            f"query parameter match {match.query_params[0].name!r}: Application Gateway routes on host and path only"
        )
    if match.method:
        raise Unsupported(f"method match {match.method}: Application Gateway routes on host and path only")


def _header_changes(modifier: HeaderModifier, what: str) -> tuple[HeaderChange, ...]:
    if modifier.add:
        raise Unsupported(
            f"{what}.add {modifier.add[0].name!r}: Application Gateway rewrites can set or remove a header, not append"
        )
    changes = [HeaderChange(h.name, h.value) for h in modifier.set] + [HeaderChange(n, "") for n in modifier.remove]
    for change in changes:
        if not HEADER_NAME.match(change.name):
            raise Unsupported(f"{what} header {change.name!r}: not a header name Application Gateway accepts")
        if change.value and "{" in change.value:
            raise Unsupported(f"{what} header {change.name!r}: '{{' starts a server variable in Application Gateway")
    return tuple(changes)


def _path_rewrite(rule: Rule, item: URLRewriteFilter) -> tuple[str | None, str | None]:
    if item.path is None:
        return None, None
    new = _check_path(item.path.value, "URLRewrite path")
    if item.path.type is PathModifierType.REPLACE_FULL_PATH:
        return "^.*$", new
    prefix = (item.path.matched_prefix or "/").rstrip("/")
    escaped = re.escape(prefix)
    if new.rstrip("/") == "":
        return f"^{escaped}/?(.*)$", "/{var_uri_path_1}"
    return f"^{escaped}(.*)$", new.rstrip("/") + "{var_uri_path_1}"


def _redirect(item: RequestRedirectFilter) -> Redirect:
    if item.status_code not in REDIRECT_TYPES:
        raise Unsupported(
            f"redirect status {item.status_code}: Application Gateway redirects only with 301, 302, 303 or 307"
        )
    path = None
    if item.path is not None:
        if item.path.type is not PathModifierType.REPLACE_FULL_PATH:
            raise Unsupported(
                "redirect with ReplacePrefixMatch: Application Gateway redirects keep or replace the path"
            )
        path = _check_path(item.path.value, "redirect path")
    return Redirect(item.status_code, item.scheme, item.hostname, item.port, path)


def _timeout_s(rule: Rule) -> int | None:
    ms = rule.timeouts.backend_request_ms if rule.timeouts.backend_request_ms is not None else rule.timeouts.request_ms
    if ms is None:
        return None
    seconds = math.ceil(ms / 1000)
    if ms == 0 or ms % 1000 or not MIN_REQUEST_TIMEOUT_S <= seconds <= MAX_REQUEST_TIMEOUT_S:
        raise Unsupported(
            f"timeout {ms}ms: Application Gateway request timeouts are whole seconds from "
            f"{MIN_REQUEST_TIMEOUT_S} to {MAX_REQUEST_TIMEOUT_S}"
        )
    return seconds


def shape_of(rule: Rule) -> RuleShape:
    """Raises Unsupported with the limit's name when Application Gateway cannot program `rule`."""
    if rule.route_kind is RouteKind.GRPC:
        raise Unsupported("GRPCRoute: Application Gateway v2 talks HTTP/1.1 to backends, so it cannot carry gRPC")
    paths = paths_of(rule)
    _no_other_matches(rule)
    timeout = _timeout_s(rule)
    redirect = None
    request: tuple[HeaderChange, ...] = ()
    response: tuple[HeaderChange, ...] = ()
    pattern = new_path = host = None
    for item in rule.filters:
        if isinstance(item, RequestRedirectFilter):
            redirect = _redirect(item)
        elif isinstance(item, RequestHeaderModifierFilter):
            request = _header_changes(item.modifier, "RequestHeaderModifier")
        elif isinstance(item, ResponseHeaderModifierFilter):
            response = _header_changes(item.modifier, "ResponseHeaderModifier")
        elif isinstance(item, URLRewriteFilter):
            pattern, new_path = _path_rewrite(rule, item)
            host = item.hostname
        else:
            raise Unsupported(f"filter {item.type}: Application Gateway cannot apply it")
    rewrite = Rewrite(request, response, pattern, new_path)
    if redirect is not None:
        return RuleShape(paths, redirect=redirect, rewrite=rewrite)
    live = [b for b in rule.backends if b.invalid_reason is None and b.weight > 0]
    if len({b.id for b in live}) > 1:
        raise Unsupported(
            f"splits traffic over {len(live)} backends: Application Gateway has no weighted split (one pool per path)"
        )
    for backend in live:
        if backend.filters:
            raise Unsupported(f"backend {backend.id} has filters; Application Gateway cannot filter per backend")
        if backend.protocol is BackendProtocol.H2C:
            raise Unsupported(f"backend {backend.id} speaks h2c; Application Gateway sends HTTP/1.1 to backends")
        if backend.kind != "Service" or backend.group:
            raise Unsupported(f"backend {backend.id} is a {backend.kind}; only Services become backend pools")
    return RuleShape(paths, backend=live[0] if live else None, rewrite=rewrite, timeout_s=timeout, host_override=host)
