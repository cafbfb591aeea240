"""One IR rule compiled for the hot path: matchers on bytes, regexes compiled once, filters prepared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from portico.ir import (
    Backend,
    BackendProtocol,
    CORSFilter,
    Filter,
    HeaderMatch,
    Match,
    MatchType,
    QueryParamMatch,
    RequestHeaderModifierFilter,
    RequestMirrorFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
    RouteKind,
    Rule,
    URLRewriteFilter,
    first_by_name,
)
from portico_proxy.balance import WeightedPicker
from portico_proxy.cors import CompiledCORS
from portico_proxy.filters import (
    CompiledHeaderModifier,
    CompiledPathModifier,
    CompiledRedirect,
    Headers,
    MirrorSpec,
    header_safe,
)
from portico_proxy.linear_regex import Pattern, compile_linear
from portico_proxy.upstream_tls import DEFAULT, GatewayUpstreamTLS, UpstreamTLS

if TYPE_CHECKING:
    from portico_proxy.metrics import Metrics, RouteBackendStats


PRECOMPUTED_ORDERS = 64
PATH_ANY, PATH_EXACT, PATH_PREFIX, PATH_REGEX = 0, 1, 2, 3
SLASH = 47


class FilterSet:
    """The filters of a rule or of one backendRef, split by the phase they act in."""

    __slots__ = (
        "cors",
        "mirrors",
        "passthrough",
        "redirect",
        "request_mods",
        "response_mods",
        "rewrite_host",
        "rewrite_path",
    )

    def __init__(self, filters: Sequence[Filter], backend_tls: GatewayUpstreamTLS = DEFAULT) -> None:
        self.request_mods: tuple[CompiledHeaderModifier, ...] = ()
        self.response_mods: tuple[CompiledHeaderModifier, ...] = ()
        self.redirect: CompiledRedirect | None = None
        self.rewrite_host: bytes | None = None
        self.rewrite_path: CompiledPathModifier | None = None
        self.mirrors: tuple[MirrorSpec, ...] = ()
        self.cors: CompiledCORS | None = None
        for item in filters:
            if isinstance(item, RequestHeaderModifierFilter):
                self.request_mods += (CompiledHeaderModifier(item.modifier),)
            elif isinstance(item, ResponseHeaderModifierFilter):
                self.response_mods += (CompiledHeaderModifier(item.modifier),)
            elif isinstance(item, RequestRedirectFilter):
                self.redirect = CompiledRedirect(item)
            elif isinstance(item, URLRewriteFilter):
                self.rewrite_host = header_safe(item.hostname.encode(), "rewrite hostname") if item.hostname else None
                self.rewrite_path = CompiledPathModifier(item.path) if item.path else None
            elif isinstance(item, RequestMirrorFilter):
                mirror = MirrorSpec(CompiledBackend(item.backend, backend_tls), item.numerator, item.denominator)
                self.mirrors += (mirror,)
            elif isinstance(item, CORSFilter):
                self.cors = CompiledCORS(item)
        # Nothing that changes the forwarded request or its response (redirects answer before that).
        self.passthrough = not (
            self.request_mods or self.response_mods or self.rewrite_host or self.rewrite_path or self.mirrors
        )

    @property
    def empty(self) -> bool:
        return not (
            self.request_mods
            or self.response_mods
            or self.redirect
            or self.rewrite_host
            or self.rewrite_path
            or self.mirrors
            or self.cors
        )


class CompiledBackend:
    """A weighted backendRef: endpoints in round-robin order, its own filters, 500 when invalid."""

    __slots__ = (
        "endpoints",
        "filters",
        "h2c",
        "id",
        "invalid",
        "label",
        "metrics",
        "next_index",
        "rotations",
        "stats",
        "tls",
        "upstream_tls",
    )

    def __init__(self, backend: Backend, backend_tls: GatewayUpstreamTLS = DEFAULT) -> None:
        self.id = backend.id
        self.label = f"{backend.namespace}/{backend.name}"
        self.invalid = backend.invalid_reason is not None
        self.endpoints = tuple((e.address, e.port) for e in backend.endpoints)
        endpoints = self.endpoints
        # Each round-robin order made once; a very large backend makes its order per request instead.
        count = len(endpoints) if len(endpoints) <= PRECOMPUTED_ORDERS else 0
        self.rotations = tuple(endpoints[start:] + endpoints[:start] for start in range(count))
        self.h2c = backend.protocol is BackendProtocol.H2C
        self.tls = backend.protocol is BackendProtocol.HTTPS
        # The certificate check (BackendTLSPolicy) and the Gateway's client certificate, HTTPS backends only.
        self.upstream_tls: UpstreamTLS | None = backend_tls.for_backend(backend) if self.tls else None
        self.filters = FilterSet(backend.filters, backend_tls)
        self.next_index = 0
        # The counters this backend's requests go to, found once per process (see Exchange._finish).
        self.metrics: Metrics | None = None
        self.stats: RouteBackendStats | None = None

    def endpoint_order(self) -> tuple[tuple[str, int], ...]:
        """Every endpoint once, starting at the next in round-robin order (retries walk the rest)."""
        endpoints = self.endpoints
        start = self.next_index % len(endpoints)
        self.next_index = start + 1
        if self.rotations:
            return self.rotations[start]
        return endpoints[start:] + endpoints[:start]


def _compile_value(kind: MatchType, value: str) -> tuple[bytes, Pattern[bytes] | None]:
    raw = value.encode("latin-1", "replace")
    return raw, compile_linear(raw) if kind is MatchType.REGULAR_EXPRESSION else None


class HeaderMap:
    """First value of each request header, built on the first header match of a request only."""

    __slots__ = ("headers", "values")

    def __init__(self, headers: Headers) -> None:
        self.headers = headers
        self.values: dict[bytes, bytes] | None = None

    def get(self, name: bytes) -> bytes | None:
        values = self.values
        if values is None:
            values = self.values = {}
            for key, value in self.headers:
                values.setdefault(key, value)
        return values.get(name)


class CompiledRule:
    __slots__ = (
        "backend_request_s",
        "filters",
        "grpc",
        "grpc_method",
        "grpc_service",
        "headers",
        "id",
        "method",
        "no_backends",
        "path_kind",
        "path_regex",
        "path_value",
        "picker",
        "query",
        "request_s",
        "route_label",
    )

    def __init__(self, rule: Rule, backend_tls: GatewayUpstreamTLS = DEFAULT) -> None:
        self.id = rule.id
        self.route_label = str(rule.route)
        self.grpc = rule.route_kind is RouteKind.GRPC
        self.filters = FilterSet(rule.filters, backend_tls)
        backends = [CompiledBackend(b, backend_tls) for b in rule.backends]
        self.no_backends = not backends
        self.picker = WeightedPicker([(b.weight, cb) for b, cb in zip(rule.backends, backends, strict=True)])
        timeouts = rule.timeouts
        self.request_s = timeouts.request_ms / 1000 if timeouts.request_ms else None
        self.backend_request_s = timeouts.backend_request_ms / 1000 if timeouts.backend_request_ms else None
        self._compile_match(rule.match)

    def _compile_match(self, match: Match) -> None:
        self.path_kind, self.path_value, self.path_regex = PATH_ANY, b"", None
        if match.path is not None:
            value = match.path.value.encode("latin-1", "replace")
            if match.path.type is MatchType.EXACT:
                self.path_kind, self.path_value = PATH_EXACT, value
            elif match.path.type is MatchType.PATH_PREFIX:
                stripped = value.rstrip(b"/")
                self.path_kind, self.path_value = (PATH_PREFIX, stripped) if stripped else (PATH_ANY, b"")
            else:
                self.path_kind, self.path_regex = PATH_REGEX, compile_linear(value)
        self.method = match.method.encode() if match.method else None
        self.headers = tuple(self._header(h) for h in first_by_name(match.headers, fold=True))
        self.query = tuple(self._query(q) for q in first_by_name(match.query_params, fold=False))
        self.grpc_service: tuple[bytes, Pattern[bytes] | None] | None = None
        self.grpc_method: tuple[bytes, Pattern[bytes] | None] | None = None
        if match.grpc is not None:
            if match.grpc.service:
                self.grpc_service = _compile_value(match.grpc.type, match.grpc.service.lstrip("."))
            if match.grpc.method:
                self.grpc_method = _compile_value(match.grpc.type, match.grpc.method)

    @staticmethod
    def _header(h: HeaderMatch) -> tuple[bytes, bytes, Pattern[bytes] | None]:
        return (h.name.lower().encode("latin-1"), *_compile_value(h.type, h.value))

    @staticmethod
    def _query(q: QueryParamMatch) -> tuple[str, str, Pattern[str] | None]:
        return q.name, q.value, compile_linear(q.value) if q.type is MatchType.REGULAR_EXPRESSION else None

    def matches(self, method: bytes, path: bytes, query: bytes, headers: HeaderMap, grpc: bool) -> bool:
        if self.grpc and not grpc:
            return False
        kind = self.path_kind
        if kind == PATH_PREFIX:
            value = self.path_value
            if not path.startswith(value) or (len(path) > len(value) and path[len(value)] != SLASH):
                return False
        elif kind == PATH_EXACT:
            if path != self.path_value:
                return False
        elif kind == PATH_REGEX:
            assert self.path_regex is not None
            if self.path_regex.fullmatch(path) is None:
                return False
        if self.method is not None and method != self.method:
            return False
        for name, value, regex in self.headers:
            got = headers.get(name)
            if got is None or (got != value if regex is None else regex.fullmatch(got) is None):
                return False
        if self.query and not self._query_matches(query):
            return False
        if self.grpc_service is not None or self.grpc_method is not None:
            return self._grpc_matches(path)
        return True

    def find(self, method: bytes, path: bytes, query: bytes, headers: HeaderMap, grpc: bool) -> CompiledRule | None:
        return self if self.matches(method, path, query, headers, grpc) else None

    def _query_matches(self, query: bytes) -> bool:
        params: dict[str, str] = {}
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            params.setdefault(key, value)
        for name, value, regex in self.query:
            got = params.get(name)
            if got is None or (got != value if regex is None else regex.fullmatch(got) is None):
                return False
        return True

    def _grpc_matches(self, path: bytes) -> bool:
        parts = path.split(b"/")
        if len(parts) != 3 or parts[0]:
            return False
        for wanted, got in ((self.grpc_service, parts[1]), (self.grpc_method, parts[2])):
            if wanted is None:
                continue
            value, regex = wanted
            if got != value if regex is None else regex.fullmatch(got) is None:
                return False
        return True
