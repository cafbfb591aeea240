"""RegularExpression matches run on RE2 (the `google-re2` package): linear time in the input, so a
route author's pattern such as `/(a+)+$` cannot stall a shared proxy (Python's `re` backtracks;
that pattern took 2.2 s for 27 characters). RE2 is the dialect Envoy uses; it has no backreferences
or lookaround, so such a pattern is refused per rule, with RE2's message, and the rule's route says
so in its status (the proxy provider's `check_rules`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import AnyStr, Generic, Protocol, TypeVar

import re2

from portico.ir import Listener, MatchType, Rule
from portico.provider import Capabilities
from portico.translate import DEFAULT_CAPABILITIES

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the refusal is reported per rule; RE2 would also write it to stderr
_OPTIONS.max_mem = 8 << 20  # per pattern: a pattern needing more is refused, not a memory hog


Text_contra = TypeVar("Text_contra", str, bytes, contravariant=True)


class Pattern(Protocol, Generic[Text_contra]):
    def fullmatch(self, text: Text_contra) -> object | None: ...


class RegexRejected(ValueError):
    """A pattern RE2 cannot compile (unsupported syntax, or too large)."""


def compile_linear(pattern: AnyStr) -> Pattern[AnyStr]:
    try:
        compiled: Pattern[AnyStr] = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        shown = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
        raise RegexRejected(f"regular expression {shown!r} is not supported (RE2 syntax): {detail}") from None
    return compiled


def _patterns(rule: Rule) -> Iterator[tuple[str, str]]:
    """(where, pattern) of every RegularExpression match of a rule."""
    match = rule.match
    if match.path is not None and match.path.type is MatchType.REGULAR_EXPRESSION:
        yield "path", match.path.value
    for header in match.headers:
        if header.type is MatchType.REGULAR_EXPRESSION:
            yield f"header {header.name}", header.value
    for query in match.query_params:
        if query.type is MatchType.REGULAR_EXPRESSION:
            yield f"query parameter {query.name}", query.value
    grpc = match.grpc
    if grpc is not None and grpc.type is MatchType.REGULAR_EXPRESSION:
        for where, value in (("gRPC service", grpc.service), ("gRPC method", grpc.method)):
            if value:
                yield where, value


def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
    """{rule.id: why the proxy cannot program it}: every regular expression must compile with RE2."""
    rejected: dict[str, str] = {}
    for listener in listeners:
        for rule in listener.rules:
            for where, pattern in _patterns(rule):
                try:
                    compile_linear(pattern.encode("latin-1", "replace"))
                except RegexRejected as exc:
                    rejected[rule.id] = f"{where} match: {exc}"
                    break
    return rejected


# Beyond what translation claims for every provider: HTTP/1.1 Upgrade is tunnelled (tunnel.py), so
# backends with appProtocol kubernetes.io/ws work; HTTPS requests whose Host selects another listener
# than the connection's SNI get 421 (exchange.py); the Gateway's backend client certificate is
# presented on upstream TLS connections, verified ones included (upstream_tls.py); a port's TLS
# listeners may mix Passthrough with Terminate (and HTTPS): the SNI is read first (tls_mixed.py).
PROXY_FEATURES = DEFAULT_CAPABILITIES.features | {
    "TLSRouteModeMixed",
    "HTTPRouteBackendProtocolWebSocket",
    "GatewayHTTPSListenerDetectMisdirectedRequests",
    "GatewayBackendClientCertificate",
}
PROXY_CAPABILITIES: Capabilities = dataclasses.replace(
    DEFAULT_CAPABILITIES, features=PROXY_FEATURES, check_rules=check_rules
)
