"""Keep-alive connection pools, one per backend endpoint and protocol."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

from portico_proxy.batch import WriteBatch
from portico_proxy.sink import Upstream
from portico_proxy.upstream_h1 import UpstreamH1

Ready = Callable[[Upstream | None, str | None], None]

MAX_IDLE_PER_ENDPOINT = 512
CONNECT_TIMEOUT_S = 5.0


class PoolStats:
    """Counters the metrics endpoint reads: how often a request found a warm connection."""

    __slots__ = ("opened", "reused")

    def __init__(self) -> None:
        self.opened = 0
        self.reused = 0


class EndpointPool:
    """Idle HTTP/1.1 connections to one endpoint, most recently used first."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, stats: PoolStats, writes: WriteBatch) -> None:
        self.host = host
        self.writes = writes
        self.port = port
        self.tls = tls
        self.stats = stats
        self.idle: list[UpstreamH1] = []
        self.closed = False

    def acquire(self, ready: Ready) -> None:
        idle = self.idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                conn.reused = True
                self.stats.reused += 1
                ready(conn, None)
                return
        self.stats.opened += 1
        task = asyncio.get_running_loop().create_task(self._connect())
        task.add_done_callback(lambda t: _deliver(t, ready))

    async def _connect(self) -> UpstreamH1:
        loop = asyncio.get_running_loop()
        connect = loop.create_connection(lambda: UpstreamH1(self), self.host, self.port, ssl=self.tls)
        _, protocol = await asyncio.wait_for(connect, CONNECT_TIMEOUT_S)
        return protocol

    def release(self, conn: UpstreamH1) -> None:
        if self.closed or len(self.idle) >= MAX_IDLE_PER_ENDPOINT:
            conn.close()
        else:
            self.idle.append(conn)

    def forget(self, conn: UpstreamH1) -> None:
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

    def __init__(self, writes: WriteBatch) -> None:
        self.writes = writes
        self.stats = PoolStats()
        self._h1: dict[tuple[str, int, bool, ssl.SSLContext | None], EndpointPool] = {}
        self._h2: dict[tuple[str, int], object] = {}
        self._insecure_tls: ssl.SSLContext | None = None

    def h1(self, host: str, port: int, tls: bool, client_tls: ssl.SSLContext | None = None) -> EndpointPool:
        """`client_tls` (a Gateway's client certificate) gets its own pool: connections carry an identity."""
        key = (host, port, tls, client_tls)
        pool = self._h1.get(key)
        if pool is None:
            context = (client_tls or self._backend_tls()) if tls else None
            pool = self._h1[key] = EndpointPool(host, port, context, self.stats, self.writes)
        return pool

    def h2(self, host: str, port: int, factory: Callable[[], object]) -> object:
        key = (host, port)
        pool = self._h2.get(key)
        if pool is None:
            pool = self._h2[key] = factory()
        return pool

    def _backend_tls(self) -> ssl.SSLContext:
        # Backend TLS without a BackendTLSPolicy: encrypted, not authenticated (documented).
        if self._insecure_tls is None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self._insecure_tls = context
        return self._insecure_tls

    def retain(self, endpoints: set[tuple[str, int]]) -> None:
        """Close pools of endpoints no longer in any table (after a reload)."""
        for key in [k for k in self._h1 if (k[0], k[1]) not in endpoints]:
            self._h1.pop(key).close()
        for key2 in [k for k in self._h2 if k not in endpoints]:
            pool = self._h2.pop(key2)
            close = getattr(pool, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        self.retain(set())
