"""UDP listeners (UDPRoute): datagrams are forwarded per client address. The first datagram of a
client opens a session: a connected UDP socket to one backend endpoint (weighted over the route's
backends, round robin over endpoints), whose replies go back to that client. A session with no
datagram either way for the idle timeout is closed; the number of sessions per listener is bounded
(and counts against the proxy's socket budget), so a flood of source addresses cannot exhaust the
process. Datagrams for a backend that is invalid or has no endpoints are dropped."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import cast

from portico_proxy.context import Context
from portico_proxy.l4metrics import NO_ROUTE
from portico_proxy.l4tables import Address
from portico_proxy.tables import PortState

log = logging.getLogger("portico.proxy")

PENDING_PER_SESSION = 64  # datagrams held while a session's socket is being opened
SWEEP_INTERVAL_S = 1.0


class _Session(asyncio.DatagramProtocol):
    """One client address and its socket to a backend endpoint; `pair` counts its datagrams and bytes."""

    __slots__ = (
        "backend",
        "client",
        "counts",
        "endpoint",
        "last",
        "listener",
        "pair",
        "pending",
        "route",
        "started",
        "transport",
    )

    def __init__(self, listener: UdpListener, client: Address, labels: tuple[str, str], endpoint: Address) -> None:
        self.listener = listener
        self.client = client
        self.route, self.backend = labels
        self.endpoint = endpoint
        self.pair = listener.ctx.metrics.l4.stats(*labels)
        self.counts = [0, 0, 0, 0]  # datagrams and bytes to the backend, then to the client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.last = self.started = asyncio.get_running_loop().time()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.listener.ctx.pools.stats.sockets += 1
        for data in self.pending:
            self.transport.sendto(data)
        self.pending.clear()

    def send(self, data: bytes) -> None:
        self.last = asyncio.get_running_loop().time()
        if self.transport is not None:
            self.transport.sendto(data)
        elif len(self.pending) < PENDING_PER_SESSION:
            self.pending.append(data)
        else:
            self.listener.drop(self.route)
            return
        self.pair.datagrams_to_backend += 1
        self.pair.to_backend += len(data)
        self.counts[0] += 1
        self.counts[1] += len(data)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.last = asyncio.get_running_loop().time()
        self.pair.datagrams_to_client += 1
        self.pair.to_client += len(data)
        self.counts[2] += 1
        self.counts[3] += len(data)
        self.listener.reply(data, self.client)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp session %s: %s", self.client, exc)  # ICMP unreachable: the backend may come back

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.listener.ctx.pools.stats.sockets -= 1
        self.listener.forget(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        else:
            self.listener.forget(self)


class UdpListener(asyncio.DatagramProtocol):
    """One UDP port; `sessions` by client address."""

    def __init__(self, ctx: Context, state: PortState) -> None:
        self.ctx = ctx
        self.state = state
        self.max_sessions = ctx.limits.max_udp_sessions
        self.sessions: dict[Address, _Session] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.dropped = 0
        self._sweeper: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_S, self._sweep)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        client = (str(addr[0]), int(addr[1]))
        session = self.sessions.get(client)
        if session is None:
            session = self._open(client)
            if session is None:
                return
        session.send(data)

    def drop(self, route: str) -> None:
        self.dropped += 1
        dropped = self.ctx.metrics.l4.udp_dropped
        dropped[route] = dropped.get(route, 0) + 1

    def _open(self, client: Address) -> _Session | None:
        l4 = self.state.table.l4
        route = l4.only_route() if l4 is not None else None
        label = route.label if route is not None else NO_ROUTE
        if self.ctx.draining or len(self.sessions) >= self.max_sessions or self.ctx.pools.budget.exhausted():
            self.drop(label)
            return None
        backend = route.pick() if route is not None else None
        if backend is None or backend.refused:
            self.drop(label)
            return None
        endpoint = backend.endpoint_order()[0]
        session = self.sessions[client] = _Session(self, client, (label, backend.label), endpoint)
        session.pair.sessions += 1
        self.ctx.metrics.l4.udp_active_sessions += 1
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in endpoint[0] else socket.AF_INET
        task = loop.create_task(loop.create_datagram_endpoint(lambda: session, remote_addr=endpoint, family=family))
        task.add_done_callback(lambda done: self._opened(done, session))
        return session

    def _opened(self, task: asyncio.Task[tuple[asyncio.DatagramTransport, object]], session: _Session) -> None:
        if task.cancelled() or task.exception() is not None:
            log.info("udp session for %s:%d could not open: %s", *session.client, task.exception())
            self.forget(session)
            return
        if self.sessions.get(session.client) is not session:  # closed while it opened
            task.result()[0].close()

    def reply(self, data: bytes, client: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)

    def forget(self, session: _Session) -> None:
        """The session's end: counted once, and its access-log line when sampled."""
        if self.sessions.get(session.client) is not session:
            return
        del self.sessions[session.client]
        self.ctx.metrics.l4.udp_active_sessions -= 1
        access_log = self.ctx.access_log
        if access_log.enabled and access_log.wanted():
            elapsed = asyncio.get_running_loop().time() - session.started
            access_log.write(
                {
                    "client": session.client[0],
                    "kind": "udp",
                    "port": self.state.port,
                    "route": session.route,
                    "backend": session.backend,
                    "endpoint": f"{session.endpoint[0]}:{session.endpoint[1]}",
                    "datagrams_to_backend": session.counts[0],
                    "bytes_to_backend": session.counts[1],
                    "datagrams_to_client": session.counts[2],
                    "bytes_to_client": session.counts[3],
                    "duration_ms": round(elapsed * 1000, 3),
                }
            )

    def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        idle = self.ctx.limits.idle_timeout_s
        if idle:
            for session in [s for s in self.sessions.values() if now - s.last > idle]:
                session.close()
        if self.transport is not None and not self.transport.is_closing():
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_S, self._sweep)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for session in list(self.sessions.values()):
            session.close()
        if self.transport is not None:
            self.transport.close()


class UdpServer:
    """A UDP listener behind the few methods the runtime calls on an asyncio.Server."""

    def __init__(self, transport: asyncio.DatagramTransport, listener: UdpListener) -> None:
        self.transport = transport
        self.listener = listener

    @property
    def sockets(self) -> list[socket.socket]:
        return [self.transport.get_extra_info("socket")]

    def is_serving(self) -> bool:
        return not self.transport.is_closing()

    def close(self) -> None:
        self.listener.close()

    async def wait_closed(self) -> None:
        return None


async def bind_udp(ctx: Context, state: PortState, address: str, port: int, reuse_port: bool) -> UdpServer:
    loop = asyncio.get_running_loop()
    transport, listener = await loop.create_datagram_endpoint(
        lambda: UdpListener(ctx, state), local_addr=(address, port), reuse_port=reuse_port or None
    )
    return UdpServer(transport, listener)
