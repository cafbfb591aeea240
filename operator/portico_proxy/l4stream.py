"""Byte-stream listeners: TLS Passthrough (the route is chosen by the SNI of the ClientHello, read
without terminating; the backend gets the untouched bytes), TLS Terminate (the SNI of the
terminated connection chooses; the backend gets the plaintext) and TCP (one backend set per
listener). Once a backend endpoint is connected, both sockets are spliced (tunnel.py: backpressure,
half-close, idle timeout); a connection whose share belongs to an invalid backend is closed, as the
spec asks ("reject the connection"), and so is one no route serves."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from portico_proxy.context import Context
from portico_proxy.h1_wire import set_nodelay
from portico_proxy.l4metrics import NO_ROUTE, Outcome, StreamMeter
from portico_proxy.l4tables import Address, L4Backend, L4Route
from portico_proxy.sni import Incomplete, NotClientHello, read_sni
from portico_proxy.tables import PortState
from portico_proxy.tls import server_sni
from portico_proxy.tunnel import splice

log = logging.getLogger("portico.proxy")

EARLY_BYTES = 256 * 1024  # what a client may send before its backend is connected (as for HTTP bodies)


class _Connecting(asyncio.Protocol):
    """A backend socket until it is spliced (right after the connect returns). A backend may speak
    first; what it sends meanwhile is kept for the client (uvloop reads before the caller resumes)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.lost = False
        self.early = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.ctx.pools.stats.sockets += 1  # the tunnel's backend side takes it back when closed

    def data_received(self, data: bytes) -> None:
        self.early += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.ctx.pools.stats.sockets -= 1


class StreamClient(asyncio.Protocol):
    """A client connection on a TLS or TCP port until its backend is connected; then a tunnel.

    `peek` (TLS Passthrough): read the ClientHello first, within the request-head timeout.
    Otherwise the route is chosen as soon as the connection is made (after the handshake for
    TLS Terminate)."""

    __slots__ = (
        "buffer",
        "client",
        "closed",
        "ctx",
        "deadline",
        "eof",
        "peek",
        "server_name",
        "state",
        "task",
        "transport",
    )

    def __init__(self, ctx: Context, state: PortState, peek: bool) -> None:
        self.ctx = ctx
        self.state = state
        self.peek = peek
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.closed = False
        self.deadline: float | None = None
        self.task: asyncio.Task[None] | None = None
        self.eof = False
        self.client = ""
        self.server_name: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        ctx = self.ctx
        ctx.connections.add(self)
        ctx.metrics.active_connections += 1
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) else ""
        if ctx.draining or ctx.over_capacity():
            transport.abort()
            return
        if self.peek:
            if ctx.limits.header_timeout_s:
                self.deadline = asyncio.get_running_loop().time() + ctx.limits.header_timeout_s
            return
        if not self.state.table.tls:
            transport.pause_reading()  # TLS Terminate reads on: data_received buffers, up to EARLY_BYTES
        l4 = self.state.table.l4
        assert l4 is not None
        route = l4.by_server_name(server_sni(transport).decode()) if self.state.table.tls else l4.only_route()
        self._route(route, server_sni(transport).decode() or None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.peek or self.task is not None:
            if len(self.buffer) >= EARLY_BYTES and self.transport is not None:
                self.transport.pause_reading()  # the backend is not connected yet; splice resumes
            return
        try:
            found = read_sni(self.buffer)
        except NotClientHello as exc:
            log.info("port %d: connection closed: %s", self.state.port, exc)
            self._record(NO_ROUTE, NO_ROUTE, Outcome.NO_ROUTE)
            self.close()
            return
        if found is Incomplete:
            return
        assert self.transport is not None
        self.transport.pause_reading()
        self.deadline = None
        l4 = self.state.table.l4
        assert l4 is not None
        server_name = found if isinstance(found, str) else None
        self._route(l4.by_server_name(server_name), server_name)

    def eof_received(self) -> bool:
        """A half-close before the backend is connected goes through once it is; a ClientHello
        cut short by one is not a connection worth making."""
        self.eof = True
        if self.task is None and self.peek:
            self.close()
        return True

    def _route(self, route: L4Route | None, server_name: str | None) -> None:
        self.server_name = server_name
        if route is None:
            log.info("port %d: no route for server name %s; connection closed", self.state.port, server_name)
            self._record(NO_ROUTE, NO_ROUTE, Outcome.NO_ROUTE)
            self.close()
            return
        backend = route.pick()
        if backend is None or backend.refused:
            why = backend.refused if backend is not None else "every backend has weight 0"
            log.info("%s: connection refused: %s", route.label, why)
            self._record(route.label, backend.label if backend is not None else NO_ROUTE, Outcome.REFUSED)
            self.close()
            return
        self.task = asyncio.get_running_loop().create_task(self._connect(route, backend))

    def _entry(self, route: str, backend: str, outcome: str, endpoint: Address | None) -> dict[str, object]:
        table = self.state.table
        kind = "tls-passthrough" if self.peek else "tls-terminate" if table.tls else "tcp"
        return {
            "client": self.client,
            "kind": kind,
            "port": self.state.port,
            "server_name": self.server_name,
            "route": route,
            "backend": backend,
            "endpoint": f"{endpoint[0]}:{endpoint[1]}" if endpoint else None,
            "outcome": outcome,
        }

    def _record(self, route: str, backend: str, outcome: str) -> None:
        """A connection that never reached a backend: counted, and logged when sampled."""
        self.ctx.metrics.l4.connection(route, backend, outcome)
        access_log = self.ctx.access_log
        if access_log.enabled and access_log.wanted():
            access_log.write(self._entry(route, backend, outcome, None))

    async def _connect(self, route: L4Route, backend: L4Backend) -> None:
        ctx = self.ctx
        loop = asyncio.get_running_loop()
        for address in backend.endpoint_order():
            if self.closed:
                return
            if ctx.pools.budget.exhausted():
                log.warning("%s: the proxy is at its connection limit", route.label)
                break
            connected = await self._open(loop, address)
            if connected is None:
                continue
            if self.closed:
                connected[0].close()
                return
            self._splice(*connected, self._meter(route, backend, address))
            return
        log.warning("%s: no endpoint of %s could be reached", route.label, backend.label)
        self._record(route.label, backend.label, Outcome.UNREACHABLE)
        self.close()

    def _meter(self, route: L4Route, backend: L4Backend, endpoint: Address) -> StreamMeter:
        pair = self.ctx.metrics.l4.connection(route.label, backend.label, Outcome.CONNECTED)
        access_log = self.ctx.access_log
        sampled = access_log.enabled and access_log.wanted()
        entry = self._entry(route.label, backend.label, Outcome.CONNECTED, endpoint) if sampled else {}
        return StreamMeter(pair, access_log if sampled else None, entry)

    async def _open(self, loop: asyncio.AbstractEventLoop, address: Address) -> tuple[asyncio.Transport, bytes] | None:
        stats = self.ctx.pools.stats
        stats.connecting += 1
        try:
            connect = loop.create_connection(lambda: _Connecting(self.ctx), *address)
            transport, protocol = await asyncio.wait_for(connect, self.ctx.pools.budget.connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            log.info("connect to %s:%d failed: %s", *address, exc or exc.__class__.__name__)
            return None
        finally:
            stats.connecting -= 1
        if protocol.lost:
            return None
        set_nodelay(transport)
        return transport, protocol.early

    def _splice(self, backend: asyncio.Transport, early: bytes, meter: StreamMeter) -> None:
        client = self.transport
        assert client is not None
        self.closed = True  # the tunnel owns both sockets now, and this connection's count
        self.ctx.connections.discard(self)
        tunnel = splice(self.ctx, client, backend, early, self.buffer, meter)
        self.buffer = b""
        if self.eof:
            tunnel.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.ctx.connections.discard(self)
        self.ctx.metrics.active_connections -= 1
        if self.task is not None:
            self.task.cancel()

    # ---- what the reaper and the runtime call on client connections
    def expire(self, now: float) -> None:
        """The ClientHello did not arrive in time."""
        self.close()

    def drain(self) -> None:
        """Shutdown before a backend was reached: nothing is lost by closing."""
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
