"""The request as the proxy sees it (protocol-neutral), and the header rules of a hop."""

from __future__ import annotations

import re
from http import HTTPStatus

from portico_proxy.filters import Headers

# RFC 9110 7.6.1 connection-specific fields, never forwarded. `host` is carried as `authority`.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"expect",
    }
)

GRPC_CANCELLED = 1
GRPC_DEADLINE_EXCEEDED = 4
GRPC_UNIMPLEMENTED = 12
GRPC_INTERNAL = 13
GRPC_UNAVAILABLE = 14


# A path segment's parameters (`;x`): ignored when matching (normalize.py), kept when forwarding.
PARAMS = re.compile(rb";[^/]*")

# Request header names the HTTP/1.1 and HTTP/2 servers look at while copying the others as they are.
# A client's X-Forwarded-Client-Cert is removed (Envoy Gateway's default, Sanitize): a backend behind a
# port that validates client certificates must not take a client's own claim for the proxy's word.
FORWARDED_NAMES = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-client-cert"})


class RequestHead:
    """Method, target, lower-case headers without hop-by-hop ones, and where it came from.

    The server that parsed the request passes what it learned while reading the headers: the
    lower-case host, whether it is gRPC, and whether the client sent X-Forwarded-* headers.
    """

    __slots__ = (
        "authority",
        "client_ip",
        "content_length",
        "forwarded",
        "grpc",
        "has_body",
        "headers",
        "host",
        "method",
        "path",
        "query",
        "route_path",
        "scheme",
        "sni",
        "target",
        "te_trailers",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        authority: bytes,
        host: bytes,
        headers: Headers,
        scheme: bytes,
        client_ip: bytes,
        version: bytes,
        has_body: bool,
        content_length: int | None,
        grpc: bool,
        forwarded: bool,
    ) -> None:
        self.method = method
        self.sni = b""  # the TLS server name of the connection (421 when Host selects another listener)
        self.upgrade = b""  # the Upgrade field of an HTTP/1.1 request that asks to switch protocols
        path, separator, query = target.partition(b"?")
        self.path = path or b"/"
        self.route_path = PARAMS.sub(b"", self.path) if b";" in path else self.path  # what rules match
        self.query = query
        # The target as sent when it is already normal: a path, and a query only when there is one.
        self.target = (
            target if path and (query or not separator) else (self.path + b"?" + query if query else self.path)
        )
        self.authority = authority
        self.host = host
        self.headers = headers
        self.scheme = scheme
        self.client_ip = client_ip
        self.version = version
        self.has_body = has_body
        self.content_length = content_length
        self.grpc = grpc
        self.te_trailers = False
        self.forwarded = forwarded


def is_grpc(content_type: bytes) -> bool:
    return content_type.startswith(b"application/grpc")


def host_of(authority: bytes) -> bytes:
    """Host without port, lower-case (IPv6 literals keep their brackets)."""
    if authority.startswith(b"["):
        end = authority.find(b"]")
        return authority[: end + 1].lower() if end > 0 else authority.lower()
    return authority.partition(b":")[0].lower()


def connection_tokens(headers: Headers) -> frozenset[bytes]:
    """Header names listed in Connection: they are hop-by-hop for this message."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return frozenset(tokens)


def strip_hop_by_hop(headers: Headers) -> Headers:
    listed = connection_tokens(headers)
    drop = HOP_BY_HOP | listed if listed else HOP_BY_HOP
    return [(n, v) for n, v in headers if n not in drop]


def add_forwarded(head: RequestHead, headers: Headers, known_clean: bool) -> Headers:
    """X-Forwarded-For (appended), X-Forwarded-Proto and X-Forwarded-Host (set), X-Forwarded-Client-Cert
    (removed).

    `known_clean`: the caller knows `headers` hold no X-Forwarded-* field (the client sent none and
    no filter added one), so the three fields are appended without a scan.
    """
    forwarded_for = head.client_ip
    out: Headers
    if known_clean:
        out = headers.copy()
    else:
        out = []
        for item in headers:
            name = item[0]
            if name == b"x-forwarded-for":
                forwarded_for = item[1] + b", " + forwarded_for
            elif name not in FORWARDED_NAMES:
                out.append(item)
    out += (
        (b"x-forwarded-for", forwarded_for),
        (b"x-forwarded-proto", head.scheme),
        (b"x-forwarded-host", head.authority),
    )
    return out


_STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in HTTPStatus}


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else b"HTTP/1.1 %d Unknown\r\n" % status


def local_response(status: int, grpc: bool, grpc_status: int, message: str) -> tuple[int, Headers, bytes]:
    """A response the proxy makes itself: plain text for HTTP, trailers-only status for gRPC."""
    if grpc:
        headers = [
            (b"content-type", b"application/grpc"),
            (b"grpc-status", b"%d" % grpc_status),
            (b"grpc-message", message.encode()),
        ]
        return 200, headers, b""
    body = message.encode() + b"\n"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    return status, headers, body
