"""The client side of HTTP/1.1 (and the door to HTTP/2): httptools callbacks, no task per request."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools

from portico_proxy.context import Context
from portico_proxy.exchange import Exchange
from portico_proxy.filters import Headers
from portico_proxy.h1_respond import H1Responses
from portico_proxy.h1_wire import NO_HOP_FIELDS, read_hop_fields, set_nodelay
from portico_proxy.messages import (
    FORWARDED_NAMES,
    HOP_BY_HOP,
    RequestHead,
    host_of,
    is_grpc,
    status_line,
)
from portico_proxy.normalize import BadRequest, h1_target, normalize_authority
from portico_proxy.server_h2 import H2Server
from portico_proxy.tables import PortState
from portico_proxy.tls import server_sni

H2_PREFACE_START = b"PRI "
FORWARDED_OR_TYPE = FORWARDED_NAMES | {b"content-type"}
REQUEST_SPECIAL = HOP_BY_HOP | FORWARDED_OR_TYPE | {b"content-length"}
HTTP_VERSIONS = {"1.1": b"1.1", "1.0": b"1.0"}


# A request the parser boundary refuses: status, then the connection closes.
Reject = BadRequest


class H1Server(H1Responses, asyncio.Protocol):
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
