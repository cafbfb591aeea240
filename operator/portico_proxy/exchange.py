"""One proxied request: route it, answer locally or relay it to a backend, stream both ways."""

from __future__ import annotations

import asyncio

from portico_proxy.context import Context
from portico_proxy.filters import Headers, apply_all
from portico_proxy.messages import (
    GRPC_DEADLINE_EXCEEDED,
    GRPC_UNAVAILABLE,
    GRPC_UNIMPLEMENTED,
    RequestHead,
    add_forwarded,
    local_response,
)
from portico_proxy.mirror import start_mirrors
from portico_proxy.rules import CompiledBackend, CompiledRule, FilterSet, HeaderMap
from portico_proxy.sink import BlockResponder, OutgoingRequest, Responder, Upstream
from portico_proxy.tables import PortTable
from portico_proxy.upstream_h2 import h2_pool

NO_ROUTE = "-"


class Exchange:
    __slots__ = (
        "backend",
        "backend_timer",
        "block_responder",
        "body_buffer",
        "buffered",
        "ctx",
        "endpoint_index",
        "endpoints",
        "finished",
        "head",
        "listener_port",
        "loop",
        "mirrors",
        "outgoing",
        "request_complete",
        "request_timer",
        "responder",
        "response_mods",
        "response_started",
        "route",
        "rule",
        "scheme",
        "source_paused",
        "started_at",
        "status",
        "table",
        "upstream",
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
        self.finished = False
        self.source_paused = False
        self.status = 0
        self.response_mods: tuple[object, ...] = ()
        self.endpoints: tuple[tuple[str, int], ...] = ()
        self.endpoint_index = 0
        self.mirrors: list[object] = []
        self.request_timer: asyncio.TimerHandle | None = None
        self.backend_timer: asyncio.TimerHandle | None = None
        self.listener_port = 0
        self.scheme = head.scheme
        self.started_at = 0.0

    # ---- routing
    def start(self) -> None:
        head = self.head
        self.started_at = self.loop.time()
        listener = self.table.select(head.host)
        if listener is None:
            self._no_route()
            return
        self.listener_port = listener.port
        method, path, query, grpc = head.method, head.path, head.query, head.grpc
        headers = HeaderMap(head.headers)
        for entry in listener.candidates(head.host):
            rule = entry.find(method, path, query, headers, grpc)
            if rule is not None:
                break
        else:
            self._no_route()
            return
        self.rule = rule
        self.route = rule.route_label
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
                self.block_responder is not None,
            )
        else:
            self._forward_filtered(rf, bf)
        if rule.request_s is not None:
            self.request_timer = self.loop.call_later(rule.request_s, self._timed_out, "request timeout")
        self.endpoints = backend.endpoint_order()
        self._next_endpoint(None)

    def _forward_filtered(self, rf: FilterSet, bf: FilterSet) -> None:
        head = self.head
        headers = head.headers
        if rf.request_mods:
            headers = apply_all(rf.request_mods, headers)
        if bf.request_mods:
            headers = apply_all(bf.request_mods, headers)
        authority = bf.rewrite_host or rf.rewrite_host or head.authority
        path_mod = bf.rewrite_path or rf.rewrite_path
        target = head.target
        if path_mod is not None:
            new_path = path_mod.apply(head.path)
            target = new_path + b"?" + head.query if head.query else new_path
        headers = add_forwarded(head, headers, False)
        self.outgoing = OutgoingRequest(
            head.method, target, authority, headers, head.has_body, head.content_length, head.te_trailers
        )
        self.response_mods = rf.response_mods + bf.response_mods
        if rf.mirrors or bf.mirrors:
            self.mirrors = start_mirrors(self.ctx, rf.mirrors + bf.mirrors, self.outgoing)

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
            pools.h1(host, port, backend.tls, backend.client_tls).acquire(self._upstream_ready)

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
        if rule is not None and rule.backend_request_s is not None:
            self.backend_timer = self.loop.call_later(rule.backend_request_s, self._timed_out, "backend timeout")
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

    # ---- UpstreamSink
    def upstream_response_head(self, status: int, headers: Headers, has_length: bool | None) -> None:
        if self.finished:
            return
        self.status = status
        self.response_started = True
        if self.response_mods:
            for modifier in self.response_mods:
                headers = modifier.apply(headers)  # type: ignore[attr-defined]
            has_length = None  # a modifier may have set or removed framing fields
        self.responder.send_head(status, headers, False, has_length)

    def upstream_response_block(self, status: int, block: bytes, has_length: bool) -> None:
        if self.finished or self.block_responder is None:
            return
        self.status = status
        self.response_started = True
        self.block_responder.send_head_block(status, block, has_length)

    def upstream_response_body(self, data: bytes) -> None:
        if not self.finished:
            self.responder.send_data(data)

    def upstream_response_end(self, trailers: Headers | None) -> None:
        if self.finished:
            return
        self.upstream = None
        self._finish()
        self.responder.send_end(trailers)

    def upstream_error(self, sent: bool, message: str) -> None:
        if self.finished:
            return
        self.upstream = None
        if self.response_started:
            self._finish()
            self.responder.abort()
        else:
            self._local(502, GRPC_UNAVAILABLE, f"backend failed: {message}")

    def upstream_idle(self) -> None:
        if not self.finished:
            self.responder.flush()

    def upstream_write_paused(self) -> None:
        if not self.source_paused:
            self.source_paused = True
            self.responder.pause_source()

    def upstream_write_resumed(self) -> None:
        if self.source_paused:
            self.source_paused = False
            self.responder.resume_source()

    # ---- local answers
    def _no_route(self) -> None:
        self._local(404, GRPC_UNIMPLEMENTED, "no route matches this request")

    def _redirect(self, status: int, location: bytes) -> None:
        self.status = status
        self._finish()
        headers = [(b"location", location), (b"content-length", b"0")]
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

    def _timed_out(self, what: str) -> None:
        if self.finished:
            return
        upstream = self.upstream
        self.upstream = None
        if upstream is not None:
            upstream.abort()
        if self.response_started:
            self.status = 504
            self._finish()
            self.responder.abort()
        else:
            self._local(504, GRPC_DEADLINE_EXCEEDED, what)

    def _finish(self) -> None:
        self.finished = True
        self.body_buffer = None
        if self.request_timer is not None:
            self.request_timer.cancel()
        if self.backend_timer is not None:
            self.backend_timer.cancel()
        if self.source_paused:
            self.source_paused = False
            self.responder.resume_source()
        ctx = self.ctx
        elapsed = self.loop.time() - self.started_at
        compiled = self.backend
        metrics = ctx.metrics
        if compiled is not None and compiled.metrics is metrics and compiled.stats is not None:
            compiled.stats.record(self.status, elapsed)
        else:
            stats = metrics.stats(self.route, compiled.label if compiled is not None else NO_ROUTE)
            stats.record(self.status, elapsed)
            if compiled is not None:
                compiled.metrics, compiled.stats = metrics, stats
        access_log = ctx.access_log
        if access_log.enabled and access_log.wanted():
            backend = compiled.label if compiled is not None else NO_ROUTE
            head = self.head
            access_log.write(
                {
                    "client": head.client_ip.decode("latin-1"),
                    "method": head.method.decode("latin-1"),
                    "host": head.authority.decode("latin-1"),
                    "path": head.path.decode("latin-1"),
                    "status": self.status,
                    "route": self.route,
                    "backend": backend,
                    "duration_ms": round(elapsed * 1000, 3),
                    "protocol": head.version.decode(),
                }
            )
