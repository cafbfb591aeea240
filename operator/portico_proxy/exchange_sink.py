"""An exchange as its backend sees it (UpstreamSink): the response head, body and end, errors
before or after the answer began, the single retry on a fresh connection, and the switch to a tunnel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from portico_proxy.exchange_support import may_retry
from portico_proxy.filters import Headers
from portico_proxy.messages import GRPC_UNAVAILABLE, RequestHead
from portico_proxy.sink import BlockResponder, Responder, Upstream

if TYPE_CHECKING:
    from portico_proxy.context import Context, Expirable
    from portico_proxy.rules import CompiledBackend


class ExchangeSink:
    """Mixed into Exchange, which owns these fields and the calls below."""

    __slots__ = ("head_watched", "response_started", "retried", "source_paused", "status", "upstream")

    upstream: Upstream | None
    retried: bool
    response_started: bool
    status: int
    head_watched: bool
    source_paused: bool
    ctx: Context
    head: RequestHead
    responder: Responder
    block_responder: BlockResponder | None
    backend: CompiledBackend | None
    endpoints: tuple[tuple[str, int], ...]
    endpoint_index: int
    finished: bool
    response_mods: tuple[object, ...]
    _finish: Callable[[], None]
    _local: Callable[[int, int, str], None]
    _upstream_ready: Callable[[Upstream | None, str | None], None]

    def upstream_response_head(self, status: int, headers: Headers, has_length: bool | None) -> None:
        if self.finished:
            return
        self._head_arrived(status)
        if self.response_mods:
            for modifier in self.response_mods:
                headers = modifier.apply(headers)  # type: ignore[attr-defined]
            has_length = None  # a modifier may have set or removed framing fields
        self.responder.send_head(status, headers, False, has_length)

    def _head_arrived(self, status: int) -> None:
        self.status = status
        self.response_started = True
        if self.head_watched:
            self.head_watched = False
            self.ctx.awaiting_head.pop(cast("Expirable", self), None)  # an Exchange, which has fail()

    def upstream_response_block(self, status: int, block: bytes, has_length: bool) -> None:
        if self.finished or self.block_responder is None:
            return
        self._head_arrived(status)
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
        if not sent and self._retry():
            return
        if self.response_started:
            self._finish()
            self.responder.abort()
        else:
            self._local(502, GRPC_UNAVAILABLE, f"backend failed: {message}")

    def _retry(self) -> bool:
        """Once, on a new connection to the same endpoint, for an idempotent request without body."""
        backend = self.backend
        if self.retried or self.response_started or backend is None or not may_retry(self.head, backend.h2c):
            return False
        self.retried = True
        host, port = self.endpoints[self.endpoint_index - 1]
        self.ctx.pools.h1(host, port, backend.upstream_tls).connect(self._upstream_ready)
        return True

    def upstream_idle(self) -> None:
        if not self.finished:
            self.responder.flush()

    def upstream_switched(self, headers: Headers, transport: asyncio.Transport, rest: bytes) -> None:
        if self.finished:
            transport.close()
            return
        self.upstream = None
        self._head_arrived(101)
        for modifier in self.response_mods:
            headers = modifier.apply(headers)  # type: ignore[attr-defined]
        self._finish()
        self.responder.switch_protocols(headers, transport, rest)

    def upstream_write_paused(self) -> None:
        if not self.source_paused:
            self.source_paused = True
            self.responder.pause_source()

    def upstream_write_resumed(self) -> None:
        if self.source_paused:
            self.source_paused = False
            self.responder.resume_source()
