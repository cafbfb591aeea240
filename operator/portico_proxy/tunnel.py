"""An HTTP/1.1 connection after `101 Switching Protocols` (WebSocket or any Upgrade protocol): the
client's and the backend's sockets are spliced, bytes copied as they come, each side's full write
buffer pausing the other side's reads. The tunnel holds no route table, so a reload leaves it open."""

from __future__ import annotations

import asyncio

from portico_proxy.context import Context
from portico_proxy.l4metrics import StreamMeter


class TunnelSide(asyncio.Protocol):
    """One socket of a tunnel; `peer` is the other one. The client side is in ctx.connections, so
    the reaper closes an idle tunnel (`deadline`) and drain or shutdown closes it."""

    __slots__ = ("closed", "ctx", "deadline", "eof", "is_client", "meter", "peer", "transport")

    def __init__(self, ctx: Context, transport: asyncio.Transport, is_client: bool) -> None:
        self.ctx = ctx
        self.transport = transport
        self.is_client = is_client
        self.peer: TunnelSide | None = None
        self.closed = False
        self.eof = False
        self.deadline: float | None = None
        self.meter: StreamMeter | None = None  # TLS/TCP listeners count bytes (l4metrics.py)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None and not peer.closed:
            ctx = self.ctx
            if self.meter is not None:
                self.meter.count(len(data), self.is_client)
            ctx.writes.write(peer.transport, data)
            if ctx.limits.idle_timeout_s:
                client = self if self.is_client else peer
                client.deadline = asyncio.get_running_loop().time() + ctx.limits.idle_timeout_s

    def eof_received(self) -> bool:
        # A half-close goes to the other side; once both sides have sent theirs, both are closed.
        self.eof = True
        peer = self.peer
        if peer is None or peer.closed or peer.eof or not peer.transport.can_write_eof():
            self.close()
            return True
        self.ctx.writes.flush()  # what was queued for it leaves before the EOF
        peer.transport.write_eof()
        return True

    def pause_writing(self) -> None:
        if self.peer is not None and not self.peer.closed:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and not self.peer.closed:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        ctx = self.ctx
        if self.is_client:
            ctx.connections.discard(self)
            ctx.metrics.active_connections -= 1
            if self.meter is not None:
                self.meter.finish()
        else:
            ctx.pools.stats.sockets -= 1
        peer = self.peer
        if peer is not None and not peer.closed:
            ctx.writes.close(peer.transport)  # after what is still queued for it

    # ---- what the reaper and the runtime call on client connections
    def expire(self, now: float) -> None:
        """No byte either way for the idle timeout: both sockets are closed."""
        self.close()

    def drain(self) -> None:
        """Shutdown: a tunnel has no request boundary to stop at, so it keeps going until the drain
        time is up and the runtime closes what is left."""

    def close(self) -> None:
        for side in (self, self.peer):
            if side is not None and not side.closed:
                self.ctx.writes.close(side.transport)


def splice(
    ctx: Context,
    client: asyncio.Transport,
    backend: asyncio.Transport,
    to_client: bytes,
    to_backend: bytes,
    meter: StreamMeter | None = None,
) -> TunnelSide:
    """Make the two transports one tunnel; `to_client`/`to_backend` are bytes each side sent after
    the head of the handshake, before the switch. Returns the client side (for ctx.connections)."""
    client_side = TunnelSide(ctx, client, True)
    backend_side = TunnelSide(ctx, backend, False)
    client_side.peer, backend_side.peer = backend_side, client_side
    client_side.meter = backend_side.meter = meter
    client.set_protocol(client_side)
    backend.set_protocol(backend_side)
    ctx.connections.add(client_side)
    if ctx.limits.idle_timeout_s:
        client_side.deadline = asyncio.get_running_loop().time() + ctx.limits.idle_timeout_s
    if to_client:
        ctx.writes.write(client, to_client)
    if to_backend:
        ctx.writes.write(backend, to_backend)
    if meter is not None:
        meter.count(len(to_client), False)
        meter.count(len(to_backend), True)
    client.resume_reading()
    backend.resume_reading()
    return client_side
