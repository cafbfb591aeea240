"""RequestMirror: a copy of the request to another backend, fire-and-forget.

The mirror never delays or fails the main request: its body copy is bounded, its response dropped,
and any failure only ends the mirror.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from portico_proxy.filters import Headers, MirrorSpec
from portico_proxy.sink import OutgoingRequest, Upstream
from portico_proxy.upstream_h2 import h2_pool

if TYPE_CHECKING:
    from portico_proxy.context import Context
    from portico_proxy.rules import CompiledBackend

MAX_MIRROR_BUFFER = 1 << 20


class MirrorRequest:
    __slots__ = ("buffer", "buffered", "done", "request", "request_complete", "upstream")

    def __init__(self, request: OutgoingRequest) -> None:
        self.request = request
        self.upstream: Upstream | None = None
        self.buffer: list[bytes] | None = []
        self.buffered = 0
        self.request_complete = not request.has_body
        self.done = False

    def ready(self, upstream: Upstream | None, error: str | None) -> None:
        if upstream is None or self.done:
            self.done = True
            if upstream is not None:
                upstream.abort()
            return
        self.upstream = upstream
        upstream.send_request(self, self.request)
        for chunk in self.buffer or ():
            upstream.send_body(chunk)
        self.buffer = None
        if self.request_complete and self.request.has_body:
            upstream.end_body()

    def request_body(self, data: bytes) -> None:
        if self.done:
            return
        if self.upstream is not None:
            self.upstream.send_body(data)
        elif self.buffer is not None:
            self.buffered += len(data)
            if self.buffered > MAX_MIRROR_BUFFER:
                self.done = True
                self.buffer = None
            else:
                self.buffer.append(data)

    def request_end(self) -> None:
        self.request_complete = True
        if self.upstream is not None and self.request.has_body and not self.done:
            self.upstream.end_body()

    # UpstreamSink: the mirror's answer is ignored.
    def upstream_response_head(self, status: int, headers: Headers, has_length: bool | None) -> None:
        return

    def upstream_response_block(self, status: int, block: bytes, has_length: bool) -> None:
        return

    def upstream_response_body(self, data: bytes) -> None:
        return

    def upstream_response_end(self, trailers: Headers | None) -> None:
        self.done = True

    def upstream_error(self, sent: bool, message: str) -> None:
        self.done = True

    def upstream_write_paused(self) -> None:
        return

    def upstream_write_resumed(self) -> None:
        return

    def upstream_idle(self) -> None:
        return

    def upstream_switched(self, headers: Headers, transport: asyncio.Transport, rest: bytes) -> None:
        self.done = True  # mirrors never ask to upgrade; a backend that switches anyway is dropped
        transport.close()


def start_mirrors(ctx: Context, specs: Sequence[MirrorSpec], request: OutgoingRequest) -> list[object]:
    mirrors: list[object] = []
    for spec in specs:
        backend: CompiledBackend = spec.backend  # type: ignore[assignment]
        if backend.invalid or not backend.endpoints or not spec.chosen():
            continue
        mirror = MirrorRequest(request)
        host, port = backend.endpoint_order()[0]
        if backend.h2c:
            h2_pool(ctx.pools, host, port).acquire(mirror.ready)
        else:
            ctx.pools.h1(host, port, backend.upstream_tls).acquire(mirror.ready)
        mirrors.append(mirror)
    return mirrors
