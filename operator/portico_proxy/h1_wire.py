"""HTTP/1.1 on the wire: the framing fields of a client's request head, the request head Portico
writes to a backend, and the response field block it passes on without its hop-by-hop fields."""

from __future__ import annotations

import asyncio
import re
import socket

from portico_proxy.filters import Headers
from portico_proxy.messages import connection_tokens
from portico_proxy.normalize import BadRequest
from portico_proxy.sink import OutgoingRequest

RESPONSE_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"trailer", b"te"}
)
JOIN_FIELD = b": ".join  # (name, value) -> b"name: value", bound once
RESPONSE_SPECIAL = RESPONSE_HOP_BY_HOP | {b"content-length"}
# A hop-by-hop field line in a raw head block (each line led by CRLF). The parser has already
# refused bare LF, folded lines and space before the colon, so a name is found at a line start.
HOP_BY_HOP_LINE = re.compile(rb"\r\n(?:" + b"|".join(RESPONSE_HOP_BY_HOP) + rb"):[^\r]*", re.IGNORECASE)


UPSTREAM_RCVBUF = 65536
STRIPPED_LIMIT = 256  # blocks remembered, each at most STRIPPED_MAX_BYTES long
STRIPPED_MAX_BYTES = 2048
# Backends repeat their field blocks (a static server's differ only when its Date changes, once a
# second): looking a block up costs a hash, about a tenth of stripping it.
_stripped: dict[bytes, tuple[bytes, bool, bool]] = {}


def strip_hop_by_hop(fields: bytes) -> tuple[bytes, bool, bool]:
    """A response's field block, each line led by CRLF, as parsed (strictly) by httptools -> the
    block without hop-by-hop fields and without its leading CRLF, whether it holds Content-Length,
    and whether it frames the body (Content-Length or Transfer-Encoding)."""
    found = _stripped.get(fields)
    if found is not None:
        return found
    lower = fields.lower()
    has_length = b"\r\ncontent-length:" in lower
    framed = has_length or b"\r\ntransfer-encoding:" in lower
    found = (HOP_BY_HOP_LINE.sub(b"", fields)[2:], has_length, framed)
    if len(fields) <= STRIPPED_MAX_BYTES:
        if len(_stripped) >= STRIPPED_LIMIT:
            _stripped.clear()
        _stripped[fields] = found
    return found


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def encode_request_head(request: OutgoingRequest, chunked: bool, endpoint: bytes = b"") -> bytes:
    """`endpoint` (host:port) is the Host of a request that came without one (HTTP/1.0)."""
    if request.content_length is not None:
        framing = b"content-length: %d\r\n\r\n" % request.content_length
    elif chunked:
        framing = b"transfer-encoding: chunked\r\n\r\n"
    else:
        framing = b"\r\n"
    # Fields joined in C: "name: value" per pair, CRLF between them.
    fields = b"\r\n".join(map(JOIN_FIELD, request.headers))
    return b"%s %s HTTP/1.1\r\nhost: %s\r\n%s%s%s" % (
        request.method,
        request.target,
        request.authority or endpoint,
        fields,
        b"\r\n" if fields else b"",
        framing,
    )


def hop_fields(request: OutgoingRequest) -> bytes:
    """This hop's Connection, Upgrade and TE fields: the protocols the client asked to switch to,
    and that the proxy takes trailers (it forwards them to a client that takes them)."""
    if request.upgrade:
        fields = b"connection: upgrade, te\r\n" if request.te_trailers else b"connection: upgrade\r\n"
        fields += b"upgrade: %s\r\n" % request.upgrade
    else:
        fields = b"connection: te\r\n"
    return fields + b"te: trailers\r\n" if request.te_trailers else fields


HopFields = tuple[int | None, bool, bool, frozenset[bytes], bool]
NO_HOP_FIELDS: HopFields = (None, False, False, frozenset(), False)


def read_hop_fields(fields: Headers) -> HopFields:
    """Content-Length, chunked, Expect: 100-continue, the names listed in Connection, and whether
    the client takes trailers (TE: trailers)."""
    content_length: int | None = None
    chunked = expect_continue = te_trailers = False
    listed: frozenset[bytes] = frozenset()
    for name, value in fields:
        if name == b"content-length":
            if content_length is not None or not value.isdigit():
                raise BadRequest(400, "invalid or repeated Content-Length")
            content_length = int(value)
        elif name == b"transfer-encoding":
            if chunked or value.strip().lower() != b"chunked":
                raise BadRequest(501, "transfer coding other than chunked")
            chunked = True
        elif name == b"expect":
            expect_continue = value.lower() == b"100-continue"
        elif name == b"connection":
            listed = listed | connection_tokens([(name, value)])
        elif name == b"te":
            te_trailers = te_trailers or b"trailers" in value.lower()
    if chunked and content_length is not None:
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    return content_length, chunked, expect_continue, listed, te_trailers
