"""The request as the proxy sees it (protocol-neutral), and the header rules of a hop."""

from __future__ import annotations

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


class RequestHead:
    """Method, target, lower-case headers without hop-by-hop ones, and where it came from."""

    __slots__ = (
        "authority",
        "client_ip",
        "content_length",
        "grpc",
        "has_body",
        "headers",
        "host",
        "method",
        "path",
        "query",
        "scheme",
        "te_trailers",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        authority: bytes,
        headers: Headers,
        scheme: bytes,
        client_ip: str,
        version: bytes,
        has_body: bool,
        content_length: int | None,
    ) -> None:
        self.method = method
        path, _, query = target.partition(b"?")
        self.path = path or b"/"
        self.query = query
        self.authority = authority
        self.host = host_of(authority)
        self.headers = headers
        self.scheme = scheme
        self.client_ip = client_ip
        self.version = version
        self.has_body = has_body
        self.content_length = content_length
        self.grpc = False
        self.te_trailers = False
        for name, value in headers:
            if name == b"content-type" and value.startswith(b"application/grpc"):
                self.grpc = True

    @property
    def target(self) -> bytes:
        return self.path + b"?" + self.query if self.query else self.path


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


def add_forwarded(head: RequestHead, headers: Headers) -> Headers:
    """X-Forwarded-For (appended), X-Forwarded-Proto and X-Forwarded-Host (set)."""
    forwarded_for = head.client_ip.encode()
    out: Headers = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            forwarded_for = value + b", " + forwarded_for
        elif name not in (b"x-forwarded-proto", b"x-forwarded-host"):
            out.append((name, value))
    out.append((b"x-forwarded-for", forwarded_for))
    out.append((b"x-forwarded-proto", head.scheme))
    out.append((b"x-forwarded-host", head.authority))
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
