"""The client side of HTTP/1.1 (and the door to HTTP/2): httptools callbacks, no task per request."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools

from portico_proxy.context import Context
from portico_proxy.exchange import Exchange
from portico_proxy.filters import Headers
from portico_proxy.messages import (
    FORWARDED_NAMES,
    HOP_BY_HOP,
    RequestHead,
    connection_tokens,
    host_of,
    is_grpc,
    status_line,
)
from portico_proxy.normalize import BadRequest, h1_target, normalize_authority
from portico_proxy.server_h2 import H2Server
from portico_proxy.tables import PortState
from portico_proxy.tls import server_sni
from portico_proxy.tunnel import splice
from portico_proxy.upstream_h1 import set_nodelay

H2_PREFACE_START = b"PRI "
NO_BODY_STATUSES = (204, 304)
FORWARDED_OR_TYPE = FORWARDED_NAMES | {b"content-type"}
REQUEST_SPECIAL = HOP_BY_HOP | FORWARDED_OR_TYPE | {b"content-length"}
JOIN_FIELD = b": ".join  # (name, value) -> b"name: value", bound once
HTTP_VERSIONS = {"1.1": b"1.1", "1.0": b"1.0"}


# A request the parser boundary refuses: status, then the connection closes.
Reject = BadRequest


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
                raise Reject(400, "invalid or repeated Content-Length")
            content_length = int(value)
        elif name == b"transfer-encoding":
            if chunked or value.strip().lower() != b"chunked":
                raise Reject(501, "transfer coding other than chunked")
            chunked = True
        elif name == b"expect":
            expect_continue = value.lower() == b"100-continue"
        elif name == b"connection":
            listed = listed | connection_tokens([(name, value)])
        elif name == b"te":
            te_trailers = te_trailers or b"trailers" in value.lower()
    if chunked and content_length is not None:
        raise Reject(400, "both Content-Length and Transfer-Encoding")
    return content_length, chunked, expect_continue, listed, te_trailers


class H1Server(asyncio.Protocol):
    def __init__(self, ctx: Context, state: PortState, tls: bool) -> None:
        self.ctx = ctx
        self.writes = ctx.writes  # every write and close of this connection goes through it, in order
        self.state = state
        self.scheme = b"https" if tls else b"http"
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client_ip = b""
        self.last_authority = b""  # as the client sent it; normalised, and its host: cached
        self.last_normal = b""
        self.last_host = b""
        self.first = True
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.deadline: float | None = None
        self.reading_head = False
        # The request being parsed, the one being answered, and those waiting behind it (pipelining).
        self.parsing: Exchange | None = None
        self.active: Exchange | None = None
        self.queue: deque[tuple[Exchange, bool]] = deque()
        self.active_keep_alive = True
        self.active_request_done = True
        self.keep_alive = True
        self.chunked = False
        self.pending_head = b""
        self.head_only = False
        self.paused_by_exchange = False
        self.paused_by_queue = False
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        # Bytes after the head of an Upgrade request: not HTTP; held (with reading paused) until the
        # backend answers. None: no Upgrade request is waiting.
        self.tunnel_early: bytes | None = None
        self.sni = b""
        self.upgrading: Exchange | None = None

    # ---- connection
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        ctx = self.ctx
        ctx.connections.add(self)
        ctx.metrics.active_connections += 1
        peer = transport.get_extra_info("peername")
        self.client_ip = peer[0].encode() if isinstance(peer, tuple) else b""
        if ctx.draining or ctx.over_capacity():
            self._write_simple(503, b"too many connections\n")
            self.closed = True
            self.writes.close_now(self.transport)
            return
        set_nodelay(transport)
        self.deadline = self.loop.time() + ctx.limits.header_timeout_s
        if self.scheme == b"https":
            self.sni = server_sni(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.ctx.connections.discard(self)
        self.ctx.metrics.active_connections -= 1
        if self.active is not None:
            self.active.client_lost()
        for waiting, _ in self.queue:
            waiting.client_lost()
        self.queue.clear()

    def data_received(self, data: bytes) -> None:
        if self.tunnel_early is not None:
            self.tunnel_early += data
            return
        if self.first:
            self.first = False
            if data.startswith(H2_PREFACE_START):
                self._switch_to_h2(data)
                return
        try:
            self.parser.feed_data(data)
        except Reject as exc:
            self._reject(exc.status, str(exc))
        except httptools.HttpParserUpgrade as upgrade:
            self._message_complete()
            rest = data[upgrade.args[0] :] if upgrade.args else b""
            if self.tunnel_early is not None:
                # What follows an Upgrade request belongs to the new protocol if the backend
                # switches; else the connection closes after the answer and it is dropped.
                self.tunnel_early = rest
                if self.transport is not None:
                    self.transport.pause_reading()
                return
            # An Upgrade the proxy does not take (CONNECT is refused before this): the request was
            # served as plain HTTP; a fresh parser reads what followed it in the same write.
            self.parser = httptools.HttpRequestParser(self)
            if rest and not self.closed:
                self.data_received(rest)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, Reject):
                self._reject(cause.status, str(cause))
            else:
                self._reject(400, "bad request")
        except httptools.HttpParserError as exc:
            self._reject(400, f"malformed request: {exc}")

    def pause_writing(self) -> None:
        if self.active is not None:
            self.active.client_paused()

    def resume_writing(self) -> None:
        if self.active is not None:
            self.active.client_resumed()

    def expire(self, now: float) -> None:
        """Called by the reaper past `deadline`: a slow head gets 408, an idle connection just closes."""
        if self.closed or self.transport is None:
            return
        if self.reading_head:
            self._reject(408, "request head not received in time")
        else:
            self.writes.close(self.transport)

    def drain(self) -> None:
        """Stop keep-alive: close now if idle, else after the response in flight."""
        self.keep_alive = False
        self.active_keep_alive = False
        if self.active is None and self.parsing is None and self.transport is not None:
            self.writes.close(self.transport)

    # ---- httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.raw_headers = []
        self.header_bytes = 0
        self.reading_head = True
        self.deadline = self.loop.time() + self.ctx.limits.header_timeout_s

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.ctx.limits.max_request_line:
            raise Reject(414, "request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name.lower(), value))
        self.header_bytes += len(name) + len(value) + 4
        limits = self.ctx.limits
        if self.header_bytes > limits.max_header_bytes or len(self.raw_headers) > limits.max_header_count:
            raise Reject(431, "request headers too large")

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.reading_head = False
        self.deadline = None
        keep_alive = parser.should_keep_alive() and self.keep_alive
        headers: Headers = []
        dropped: Headers = []  # hop-by-hop and framing fields: read here, never forwarded
        noted: Headers = []  # forwarded, but the proxy looks at them too
        authority = b""
        # One pass: most fields are copied as they are (the same tuple) after one set lookup.
        for item in self.raw_headers:
            name = item[0]
            if name not in REQUEST_SPECIAL:
                headers.append(item)
            elif name == b"host":
                if authority:
                    raise Reject(400, "more than one Host header")
                authority = item[1]
            elif name in FORWARDED_OR_TYPE:
                headers.append(item)
                noted.append(item)
            else:
                dropped.append(item)
        content_length, chunked, expect_continue, listed, te_trailers = (
            read_hop_fields(dropped) if dropped else NO_HOP_FIELDS
        )
        if listed:
            # Fields named in Connection are hop-by-hop for this message.
            headers = [item for item in headers if item[0] not in listed]
            noted = [item for item in noted if item[0] not in listed]
        grpc = forwarded = False
        for name, value in noted:
            if name == b"content-type":
                grpc = is_grpc(value)
            else:
                forwarded = True
        version = HTTP_VERSIONS.get(parser.get_http_version()) or parser.get_http_version().encode()
        method = parser.get_method()
        target, authority = h1_target(method, self.url, version, authority, self.ctx.limits.merge_slashes)
        if authority != self.last_authority:
            self._new_authority(authority)
        has_body = chunked or bool(content_length)
        head = RequestHead(
            method,
            target,
            self.last_normal,
            self.last_host,
            headers,
            self.scheme,
            self.client_ip,
            version,
            has_body,
            content_length if has_body and not chunked else None,
            grpc,
            forwarded,
        )
        head.te_trailers, head.sni = grpc or te_trailers, self.sni
        exchange = (
            self._exchange_asking_upgrade(head, listed, dropped)
            if listed
            else Exchange(self.ctx, self, head, self.state.table, self.loop, self)
        )
        self.parsing = exchange
        if self.active is None:
            self._activate(exchange, keep_alive, not has_body)
            if expect_continue and self.transport is not None:
                self.writes.write(self.transport, b"HTTP/1.1 100 Continue\r\n\r\n")
            exchange.start()
        else:
            self.queue.append((exchange, keep_alive))
            if not self.paused_by_queue and self.transport is not None:
                self.paused_by_queue = True
                self.transport.pause_reading()

    def _exchange_asking_upgrade(self, head: RequestHead, listed: frozenset[bytes], dropped: Headers) -> Exchange:
        """The exchange of a request with a Connection field: if it asks to Upgrade (and has no
        body), what the client sends after its head waits for the backend's answer."""
        exchange = Exchange(self.ctx, self, head, self.state.table, self.loop, self)
        if b"upgrade" in listed and not head.has_body:
            head.upgrade = next((value for name, value in dropped if name == b"upgrade"), b"")
            if head.upgrade:
                self.tunnel_early = b""
                self.upgrading = exchange
        return exchange

    def _new_authority(self, authority: bytes) -> None:
        self.last_normal = normalize_authority(authority)
        self.last_authority = authority
        self.last_host = host_of(self.last_normal)

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.request_body(body)

    def _message_complete(self) -> None:
        parsing, self.parsing = self.parsing, None
        if parsing is None:
            return
        if parsing.head.has_body:
            parsing.request_end()
        if parsing is self.active:
            self.active_request_done = True
        elif self.active is None and not self.queue:
            self._idle()

    on_message_complete = _message_complete  # the parser calls it directly: one frame less

    # ---- Responder (for the active exchange)
    def send_head(self, status: int, headers: Headers, end: bool, has_length: bool | None = None) -> None:
        if self.transport is None or self.closed:
            return
        block = b"\r\n".join(map(JOIN_FIELD, headers))
        if has_length is None:
            # Names are lower case inside the proxy and values hold no CR or LF, so a field is found
            # by its name at the start of a line.
            if b"transfer-encoding:" in block:
                # The framing of this hop is the proxy's own; drop any the response carried.
                block = b"\r\n".join([JOIN_FIELD(item) for item in headers if item[0] != b"transfer-encoding"])
            has_length = block.startswith(b"content-length:") or b"\r\ncontent-length:" in block
        self._send_head(status, block, end, has_length)

    def send_head_block(self, status: int, block: bytes, has_length: bool) -> None:
        if self.transport is not None and not self.closed:
            self._send_head(status, block, False, has_length)

    def _send_head(self, status: int, block: bytes, end: bool, framed: bool) -> None:
        transport = self.transport
        assert transport is not None
        self.chunked = False
        extra = b""
        if not (framed or self.head_only or status in NO_BODY_STATUSES or status < 200):
            if end:
                extra = b"content-length: 0\r\n"
            elif self.active is not None and self.active.head.version == b"1.1":
                self.chunked = True
                extra = b"transfer-encoding: chunked\r\n"
            else:
                self.active_keep_alive = False
        if not self.active_keep_alive:
            extra += b"connection: close\r\n"
        if block:
            head = b"%s%s\r\n%s\r\n" % (status_line(status), block, extra)
        else:
            head = status_line(status) + extra + b"\r\n"
        if end:
            self.writes.write(transport, head)
            self._response_done()
        else:
            # Held back so the body (or its first part) leaves in the same write; the exchange calls
            # flush() once the backend has no more bytes for now.
            self.pending_head = head

    def flush(self) -> None:
        head = self.pending_head
        if head:
            self.pending_head = b""
            if self.transport is not None and not self.closed:
                self.writes.write(self.transport, head)

    def send_data(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or self.head_only or not data:
            return
        head, self.pending_head = self.pending_head, b""
        # One write per call: uvloop's writelines would try a send per piece.
        if self.chunked:
            self.writes.write(transport, b"".join((head, b"%x\r\n" % len(data), data, b"\r\n")))
        elif head:
            self.writes.write(transport, head + data)
        else:
            self.writes.write(transport, data)

    def send_end(self, trailers: Headers | None) -> None:
        head, self.pending_head = self.pending_head, b""
        if self.chunked:
            lines = b"".join(n + b": " + v + b"\r\n" for n, v in trailers or ())
            head += b"0\r\n" + lines + b"\r\n"
        if head and self.transport is not None:
            self.writes.write(self.transport, head)
        self._response_done()

    def abort(self) -> None:
        if self.transport is not None:
            self.writes.close(self.transport)

    def switch_protocols(self, headers: Headers, backend: asyncio.Transport, rest: bytes) -> None:
        """101 from the backend: this connection stops being HTTP and becomes one side of a tunnel."""
        transport, early = self.transport, self.tunnel_early
        if transport is None or self.closed or early is None:
            backend.close()
            return
        self.active = self.upgrading = None
        self.closed = True  # this protocol object is done; the tunnel owns the socket now
        self.tunnel_early = None
        block = b"".join([JOIN_FIELD(item) + b"\r\n" for item in headers])
        self.writes.write(transport, status_line(101) + block + b"\r\n")
        self.ctx.connections.discard(self)  # the tunnel's client side takes its place (and its count)
        splice(self.ctx, transport, backend, rest, early)

    def pause_source(self) -> None:
        if not self.paused_by_exchange and self.transport is not None:
            self.paused_by_exchange = True
            if not self.paused_by_queue:
                self.transport.pause_reading()

    def resume_source(self) -> None:
        if self.paused_by_exchange and self.transport is not None:
            self.paused_by_exchange = False
            if not self.paused_by_queue and not self.closed:
                self.transport.resume_reading()

    # ---- internals
    def _activate(self, exchange: Exchange, keep_alive: bool, request_done: bool) -> None:
        self.active = exchange
        self.active_keep_alive = keep_alive and self.keep_alive
        self.active_request_done = request_done
        self.head_only = exchange.head.method == b"HEAD"

    def _response_done(self) -> None:
        done, self.active = self.active, None
        transport = self.transport
        if transport is None or self.closed:
            return
        if done is self.upgrading and done is not None:
            self._upgrade_refused(transport)
            return
        if not self.active_keep_alive:
            self.closed = True
            self.writes.close(transport)
            return
        if self.queue:
            nxt, keep_alive = self.queue.popleft()
            self._activate(nxt, keep_alive, nxt is not self.parsing)
            if not self.queue and self.paused_by_queue:
                self.paused_by_queue = False
                if not self.paused_by_exchange:
                    transport.resume_reading()
            nxt.start()
        elif self.parsing is None:
            if self.keep_alive:  # _idle, inlined for the common case
                self.deadline = self.loop.time() + self.ctx.limits.idle_timeout_s
            else:
                self.writes.close(transport)

    def _upgrade_refused(self, transport: asyncio.Transport) -> None:
        """The answer to an Upgrade request was not 101: the connection stays HTTP/1.1 (RFC 9110
        7.8), and what the client sent behind that request is read as the next request."""
        early = self.tunnel_early or b""
        self.tunnel_early = self.upgrading = None
        if not self.active_keep_alive:
            self.closed = True
            self.writes.close(transport)
            return
        self.parser = httptools.HttpRequestParser(self)
        self._idle()
        transport.resume_reading()
        if early:
            self.data_received(early)

    def _idle(self) -> None:
        if not self.keep_alive and self.transport is not None:
            self.writes.close(self.transport)
            return
        self.deadline = self.loop.time() + self.ctx.limits.idle_timeout_s

    def _reject(self, status: int, reason: str) -> None:
        if self.transport is None or self.closed:
            return
        active = self.active
        if active is None:
            self._write_simple(status, reason.encode() + b"\n")
        elif not active.response_started and not active.finished:
            # The head went to the backend but its body turned out malformed: the client still gets
            # an answer, as no byte of a response went out yet.
            self.keep_alive = self.active_keep_alive = False
            active.fail(reason, status)
        self.closed = True
        self.writes.close_now(self.transport)

    def _write_simple(self, status: int, body: bytes) -> None:
        assert self.transport is not None
        head = status_line(status) + b"content-type: text/plain\r\ncontent-length: %d\r\n" % len(body)
        self.writes.write(self.transport, head + b"connection: close\r\n\r\n" + body)

    def _switch_to_h2(self, data: bytes) -> None:
        assert self.transport is not None
        h2 = H2Server(self.ctx, self.state, self.scheme, self.client_ip, self.sni)
        self.ctx.connections.discard(self)
        self.ctx.metrics.active_connections -= 1
        self.transport.set_protocol(h2)
        h2.connection_made(self.transport)
        h2.data_received(data)
