"""Keep-alive connection pools, one per backend endpoint and protocol."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Collection, Sized

from portico_proxy.batch import WriteBatch
from portico_proxy.sink import Upstream
from portico_proxy.upstream_h1 import UpstreamH1
from portico_proxy.upstream_tls import UpstreamTLS

Ready = Callable[[Upstream | None, str | None], None]

MAX_IDLE_PER_ENDPOINT = 512
CONNECT_TIMEOUT_S = 5.0


class PoolStats:
    """Counters the metrics endpoint reads: how often a request found a warm connection, and how
    many backend sockets are open (connecting included)."""

    __slots__ = ("connecting", "opened", "reused", "sockets")

    def __init__(self) -> None:
        self.opened = 0
        self.reused = 0
        self.sockets = 0  # connected (connection_made to connection_lost)
        self.connecting = 0


class SocketBudget:
    """Backend sockets count against the same file descriptors as client connections."""

    __slots__ = ("cap", "clients", "connect_timeout_s", "stats")

    def __init__(self, stats: PoolStats, clients: Sized, cap: int, connect_timeout_s: float | None) -> None:
        self.stats = stats
        self.clients = clients
        self.cap = cap
        self.connect_timeout_s = connect_timeout_s

    def exhausted(self) -> bool:
        stats = self.stats
        return len(self.clients) + stats.sockets + stats.connecting >= self.cap


class EndpointPool:
    """Idle HTTP/1.1 connections to one endpoint, most recently used first."""

    def __init__(self, host: str, port: int, tls: UpstreamTLS | None, budget: SocketBudget, writes: WriteBatch) -> None:
        self.host = host
        self.budget = budget
        self.writes = writes
        self.port = port
        self.tls = tls
        self.stats = budget.stats
        self.idle: list[UpstreamH1] = []
        self.closed = False

    def acquire(self, ready: Ready) -> None:
        idle = self.idle
        while idle:
            conn = idle.pop()
            conn.pooled = False
            if not conn.closed:
                conn.reused = True
                self.stats.reused += 1
                ready(conn, None)
                return
        self.connect(ready)

    def connect(self, ready: Ready) -> None:
        """A new connection, never an idle one (a retry after a stale pooled one)."""
        if self.budget.exhausted():
            ready(None, "the proxy is at its connection limit")
            return
        self.stats.opened += 1
        self.stats.connecting += 1
        task = asyncio.get_running_loop().create_task(self._connect())
        task.add_done_callback(lambda t: self._deliver(t, ready))

    async def _connect(self) -> UpstreamH1:
        loop = asyncio.get_running_loop()
        tls = self.tls
        if tls is None:
            connect = loop.create_connection(lambda: UpstreamH1(self), self.host, self.port)
            return (await asyncio.wait_for(connect, self.budget.connect_timeout_s))[1]
        connect = loop.create_connection(
            lambda: UpstreamH1(self), self.host, self.port, ssl=tls.context, server_hostname=tls.server_hostname
        )
        try:
            transport, protocol = await asyncio.wait_for(connect, self.budget.connect_timeout_s)
        except ssl.SSLCertVerificationError as exc:
            tls.refused(self.host, self.port, f"certificate verify failed: {exc.verify_message or exc}")
            raise
        problem = tls.check(transport.get_extra_info("peercert"))
        if problem is not None:
            transport.close()
            tls.refused(self.host, self.port, problem)
            raise ConnectionRefusedError(f"TLS certificate refused: {problem}")
        return protocol

    def _deliver(self, task: asyncio.Task[UpstreamH1], ready: Ready) -> None:
        self.stats.connecting -= 1
        _deliver(task, ready)

    def release(self, conn: UpstreamH1) -> None:
        """Take back a connection whose request is complete; idempotent (a pooled one stays once)."""
        if conn.pooled or conn.in_flight or conn.closed:
            return
        if self.closed or len(self.idle) >= MAX_IDLE_PER_ENDPOINT:
            conn.close()
        else:
            conn.pooled = True
            self.idle.append(conn)

    def forget(self, conn: UpstreamH1) -> None:
        if conn.pooled:
            conn.pooled = False
            with contextlib.suppress(ValueError):
                self.idle.remove(conn)

    def close(self) -> None:
        self.closed = True
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def _deliver(task: asyncio.Task[UpstreamH1], ready: Ready) -> None:
    if task.cancelled():
        ready(None, "connect cancelled")
        return
    exc = task.exception()
    if exc is not None:
        ready(None, f"connect failed: {exc.__class__.__name__}: {exc}")
        return
    ready(task.result(), None)


class Pools:
    """Every endpoint pool of the process; survives reloads so warm connections stay warm."""

    def __init__(
        self,
        writes: WriteBatch,
        clients: Sized = (),
        cap: int = 1 << 30,
        connect_timeout_s: float | None = CONNECT_TIMEOUT_S,
    ) -> None:
        self.writes = writes
        self.stats = PoolStats()
        self.budget = SocketBudget(self.stats, clients, cap, connect_timeout_s)
        self._h1: dict[tuple[str, int, UpstreamTLS | None], EndpointPool] = {}
        self._h2: dict[tuple[str, int], object] = {}

    def h1(self, host: str, port: int, tls: UpstreamTLS | None = None) -> EndpointPool:
        """One pool per endpoint and TLS setting: a connection carries its verification and identity."""
        key = (host, port, tls)
        pool = self._h1.get(key)
        if pool is None:
            pool = self._h1[key] = EndpointPool(host, port, tls, self.budget, self.writes)
        return pool

    def h2(self, host: str, port: int, factory: Callable[[], object]) -> object:
        key = (host, port)
        pool = self._h2.get(key)
        if pool is None:
            pool = self._h2[key] = factory()
        return pool

    def retain(self, endpoints: set[tuple[str, int]], tls: Collection[UpstreamTLS] | None = None) -> None:
        """Close pools of endpoints no longer in any table (after a reload), and of TLS settings no
        longer in use (`tls`: those still in use; None keeps every one)."""
        live = None if tls is None else set(tls)
        for key in [
            k
            for k in self._h1
            if (k[0], k[1]) not in endpoints or (live is not None and k[2] is not None and k[2] not in live)
        ]:
            self._h1.pop(key).close()
        for key2 in [k for k in self._h2 if k not in endpoints]:
            pool = self._h2.pop(key2)
            close = getattr(pool, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        self.retain(set())
