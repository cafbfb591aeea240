"""One proxied request: route it, answer locally or relay it to a backend, stream both ways."""

from __future__ import annotations

import asyncio

from portico_proxy.context import Context
from portico_proxy.cors import CompiledCORS
from portico_proxy.exchange_sink import ExchangeSink
from portico_proxy.exchange_support import NO_ROUTE, NO_ROUTE_MESSAGE, filtered_request, record
from portico_proxy.filters import Headers
from portico_proxy.messages import (
    GRPC_DEADLINE_EXCEEDED,
    GRPC_UNAVAILABLE,
    GRPC_UNIMPLEMENTED,
    RequestHead,
    add_forwarded,
    local_response,
)
from portico_proxy.mirror import start_mirrors
from portico_proxy.rules import CompiledBackend, CompiledRule, HeaderMap
from portico_proxy.sink import BlockResponder, OutgoingRequest, Responder, Upstream
from portico_proxy.tables import PortTable
from portico_proxy.upstream_h2 import h2_pool


class Exchange(ExchangeSink):
    # (the fields the backend side writes are slots of ExchangeSink)
    __slots__ = (
        "backend",
        "backend_timer",
        "block_responder",
        "body_buffer",
        "body_timer",
        "buffered",
        "ctx",
        "endpoint_index",
        "endpoints",
        "finished",
        "head",
        "last_body_at",
        "listener_port",
        "loop",
        "mirrors",
        "outgoing",
        "request_complete",
        "request_timer",
        "responder",
        "response_mods",
        "route",
        "rule",
        "scheme",
        "started_at",
        "table",
    )

    def __init__(
        self,
        ctx: Context,
        responder: Responder,
        head: RequestHead,
        table: PortTable,
        loop: asyncio.AbstractEventLoop,
        block_responder: BlockResponder | None = None,
    ) -> None:
        self.ctx = ctx
        self.loop = loop
        self.responder = responder
        # The same object as `responder` when it can write the backend's field block as it came.
        self.block_responder = block_responder
        self.head = head
        self.table = table
        self.rule: CompiledRule | None = None
        self.backend: CompiledBackend | None = None
        self.route = NO_ROUTE
        self.upstream: Upstream | None = None
        self.outgoing: OutgoingRequest | None = None
        self.body_buffer: list[bytes] | None = []
        self.buffered = 0
        self.request_complete = not head.has_body
        self.response_started = False
        self.retried = False
        self.finished = False
        self.source_paused = False
        self.status = 0
        self.response_mods: tuple[object, ...] = ()
        self.endpoints: tuple[tuple[str, int], ...] = ()
        self.endpoint_index = 0
        self.mirrors: list[object] = []
        self.request_timer: asyncio.TimerHandle | None = None
        self.backend_timer: asyncio.TimerHandle | None = None
        self.head_watched = False  # in ctx.awaiting_head: the default response-header timeout
        self.body_timer: asyncio.TimerHandle | None = None  # the default request-body idle timeout
        self.last_body_at = 0.0
        self.listener_port = 0
        self.scheme = head.scheme
        self.started_at = 0.0

    # ---- routing
    def start(self) -> None:
        head = self.head
        self.started_at = self.loop.time()
        listener = self.table.select(head.host)
        if listener is None:
            self._local(404, GRPC_UNIMPLEMENTED, NO_ROUTE_MESSAGE)
            return
        if head.sni and self.table.select(head.sni) not in (listener, None):
            # The connection's SNI chose another listener (and its certificate): Gateway API's
            # misdirected request. The client should open a connection for this Host. An SNI that
            # selects no listener got the default certificate and is left to Host.
            self._local(421, GRPC_UNAVAILABLE, "misdirected request: this connection serves another listener")
            return
        self.listener_port = listener.port
        method, path, query, grpc = head.method, head.path, head.query, head.grpc
        headers = HeaderMap(head.headers)
        for entry in listener.candidates(head.host):
            rule = entry.find(method, head.route_path, query, headers, grpc)
            if rule is not None:
                break
        else:
            self._local(404, GRPC_UNIMPLEMENTED, NO_ROUTE_MESSAGE)
            return
        self.rule = rule
        self.route = rule.route_label
        if rule.filters.cors is not None and self._preflight(rule.filters.cors):
            return
        redirect = rule.filters.redirect
        if redirect is not None:
            self._redirect(redirect.status, redirect.location(self.scheme, head.host, listener.port, path, query))
            return
        backend = rule.picker.pick()
        if backend is None:
            if rule.no_backends:
                self._local(500, GRPC_UNIMPLEMENTED, "no backend for this route")
            else:
                self._local(500, GRPC_UNAVAILABLE, "no backend with a positive weight")
            return
        self.backend = backend
        if backend.invalid:
            self._local(500, GRPC_UNAVAILABLE, f"backend {backend.id} is invalid")
            return
        if backend.filters.cors is not None and self._preflight(backend.filters.cors):
            return
        if backend.filters.redirect is not None:
            r = backend.filters.redirect
            self._redirect(r.status, r.location(self.scheme, head.host, listener.port, path, query))
            return
        if not backend.endpoints:
            self._local(503, GRPC_UNAVAILABLE, f"backend {backend.id} has no ready endpoints")
            return
        self._forward(rule, backend)

    def _forward(self, rule: CompiledRule, backend: CompiledBackend) -> None:
        head = self.head
        rf, bf = rule.filters, backend.filters
        if rf.passthrough and bf.passthrough:
            # No filter touches the request: only the X-Forwarded-* fields are added.
            self.outgoing = OutgoingRequest(
                head.method,
                head.target,
                head.authority,
                add_forwarded(head, head.headers, not head.forwarded),
                head.has_body,
                head.content_length,
                head.te_trailers,
                # A client that takes trailers gets the response field by field (trailers included).
                self.block_responder is not None and not head.te_trailers,
            )
        else:
            self.outgoing = filtered_request(head, rf, bf)
            self.response_mods = rf.response_mods + bf.response_mods
            if (rf.mirrors or bf.mirrors) and not head.upgrade:  # a tunnel cannot be copied
                self.mirrors = start_mirrors(self.ctx, rf.mirrors + bf.mirrors, self.outgoing)
        cors = bf.cors or rf.cors
        if cors is not None and (fields := cors.response_fields(head.headers)) is not None:
            self.response_mods += (fields,)
            self.outgoing.raw_response = False  # the response gets fields of its own
        if head.upgrade and not backend.h2c:
            # The handshake carries the route's request filters; its answer is read field by field.
            self.outgoing.upgrade = head.upgrade
            self.outgoing.raw_response = False
        if rule.request_s is not None:
            self.request_timer = self.loop.call_later(rule.request_s, self.fail, "request timeout")
        if not self.request_complete and (idle := self.ctx.limits.body_idle_timeout_s):
            self.last_body_at = self.loop.time()
            self.body_timer = self.loop.call_later(idle, self._body_idle)
        self.endpoints = backend.endpoint_order()
        self._next_endpoint(None)

    def _next_endpoint(self, last_error: str | None) -> None:
        if self.finished:
            return
        index = self.endpoint_index
        if index >= len(self.endpoints):
            self._local(502, GRPC_UNAVAILABLE, f"no backend endpoint reachable ({last_error})")
            return
        self.endpoint_index = index + 1
        backend = self.backend
        assert backend is not None
        host, port = self.endpoints[index]
        pools = self.ctx.pools
        if backend.h2c:
            h2_pool(pools, host, port).acquire(self._upstream_ready)
        else:
            pools.h1(host, port, backend.upstream_tls).acquire(self._upstream_ready)

    def _upstream_ready(self, upstream: Upstream | None, error: str | None) -> None:
        if self.finished:
            if upstream is not None:
                upstream.abort()
            return
        if upstream is None:
            # Nothing was sent: another endpoint may take it.
            self._next_endpoint(error)
            return
        self.upstream = upstream
        assert self.outgoing is not None
        upstream.send_request(self, self.outgoing)
        rule = self.rule
        if self.backend_timer is not None:
            self.backend_timer.cancel()  # a retry starts the backend's time again
        if rule is not None and rule.backend_request_s is not None:
            self.backend_timer = self.loop.call_later(rule.backend_request_s, self.fail, "backend timeout")
        elif rule is not None and rule.request_s is None and not self.head_watched and self.ctx.head_timeout_s:
            # The route sets no timeout: a backend that never answers must not hold the client forever.
            # Counted from the request's start (no clock read; a retry keeps its place and deadline).
            self.head_watched = True
            self.ctx.awaiting_head[self] = self.started_at + self.ctx.head_timeout_s
        buffered = self.body_buffer
        self.body_buffer = None
        if buffered:
            for chunk in buffered:
                upstream.send_body(chunk)
        if self.source_paused:
            self.source_paused = False
            self.responder.resume_source()
        if self.request_complete and self.head.has_body:
            upstream.end_body()

    # ---- request body from the client
    def request_body(self, data: bytes) -> None:
        if self.body_timer is not None:
            self.last_body_at = self.loop.time()
        upstream = self.upstream
        if upstream is not None:
            upstream.send_body(data)
        elif self.body_buffer is not None:
            self.body_buffer.append(data)
            self.buffered += len(data)
            if self.buffered > self.ctx.limits.max_buffered_body and not self.source_paused:
                self.source_paused = True
                self.responder.pause_source()
        for mirror in self.mirrors:
            mirror.request_body(data)  # type: ignore[attr-defined]

    def request_end(self) -> None:
        self.request_complete = True
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        if self.upstream is not None and self.head.has_body:
            self.upstream.end_body()
        for mirror in self.mirrors:
            mirror.request_end()  # type: ignore[attr-defined]

    def client_paused(self) -> None:
        """The client cannot take more response bytes: stop reading the backend."""
        if self.upstream is not None:
            self.upstream.pause_reading()

    def client_resumed(self) -> None:
        if self.upstream is not None:
            self.upstream.resume_reading()

    def client_lost(self) -> None:
        if self.finished:
            return
        self.status = 499
        self._finish()
        if self.upstream is not None:
            self.upstream.abort()
            self.upstream = None

    # ---- local answers
    def _redirect(self, status: int, location: bytes) -> None:
        self._answer(status, [(b"location", location), (b"content-length", b"0")])

    def _preflight(self, cors: CompiledCORS) -> bool:
        """A CORS preflight is answered here (200), whatever the backends."""
        headers = cors.preflight(self.head.method, self.head.headers)
        if headers is not None:
            self._answer(200, headers)
        return headers is not None

    def _answer(self, status: int, headers: Headers) -> None:
        self.status = status
        self._finish()
        self.responder.send_head(status, headers, True)

    def _local(self, status: int, grpc_status: int, message: str) -> None:
        status, headers, body = local_response(status, self.head.grpc, grpc_status, message)
        self.status = status
        self._finish()
        if body:
            self.responder.send_head(status, headers, False)
            self.responder.send_data(body)
            self.responder.send_end(None)
        else:
            self.responder.send_head(status, headers, True)

    def _body_idle(self) -> None:
        """No request body byte for body_idle_timeout_s (time the proxy holds the client back does
        not count): 408, and the backend connection is dropped."""
        self.body_timer = None
        if not self.finished and not self.request_complete:
            now = self.loop.time()
            if self.source_paused:
                self.last_body_at = now
            remaining = self.last_body_at + self.ctx.limits.body_idle_timeout_s - now
            if remaining > 0:
                self.body_timer = self.loop.call_later(remaining, self._body_idle)
            else:
                self.fail("request body not received in time", 408)

    def fail(self, what: str, status: int = 504) -> None:
        """A timeout, or a request found malformed after it was forwarded: drop the backend, answer
        (or abort the response if it began)."""
        if self.finished:
            return
        upstream, self.upstream = self.upstream, None
        if upstream is not None:
            upstream.abort()
        if self.response_started:
            self.status = status
            self._finish()
            self.responder.abort()
            return
        self._local(status, GRPC_DEADLINE_EXCEEDED, what)
        if status == 408:
            self.responder.abort()  # the rest of the body would be read as the next request

    def _finish(self) -> None:
        self.finished = True
        self.body_buffer = None
        for timer in (self.request_timer, self.backend_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        if self.head_watched:  # finished: the flag is not read again
            self.ctx.awaiting_head.pop(self, None)
        if self.source_paused:
            self.source_paused = False
            self.responder.resume_source()
        record(self.ctx, self.head, self.route, self.backend, self.status, self.loop.time() - self.started_at)
