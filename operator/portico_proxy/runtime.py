"""ProxyRuntime: binds one server per listener port and swaps route tables atomically on update."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable, Sequence

from portico.ir import GatewayIR
from portico_proxy.admin import AdminServer
from portico_proxy.context import AccessLog, Context, Limits
from portico_proxy.l4stream import StreamClient
from portico_proxy.server_h1 import H1Server
from portico_proxy.tables import PortMode, PortState, PortTable, compile_gateways
from portico_proxy.tls import CertificateSelector, SelectorHolder
from portico_proxy.tls_mixed import MixedTLSAcceptor
from portico_proxy.udp import UdpServer, bind_udp
from portico_proxy.upstream_tls import UpstreamTLSRegistry

log = logging.getLogger("portico.proxy")

REAP_INTERVAL_S = 1.0
FALLBACK_ERRNOS = (errno.EACCES, errno.EADDRINUSE)


class ConfigRejected(ValueError):
    """An update the proxy refused; the previous tables keep serving."""


Server = asyncio.Server | UdpServer


class _Port:
    """`tls`: the certificates the port's TLS handshakes use (HTTPS, or TLS Terminate listeners);
    `terminate`: those of the TLS Terminate listeners of a mixed port. `datagram`: the UDP socket of
    a port number that also serves TCP-based listeners."""

    def __init__(
        self, state: PortState, server: Server, tls: SelectorHolder | None, terminate: SelectorHolder | None
    ) -> None:
        self.state = state
        self.server = server
        self.tls = tls
        self.terminate = terminate
        self.datagram: _Port | None = None

    def with_datagram(self) -> list[_Port]:
        return [self] if self.datagram is None else [self, self.datagram]

    @property
    def bound(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])


class ProxyRuntime:
    """The programmatic proxy: `await start()`, `await update(gateways)`, `await stop()`.

    `port_fallback`: when a listener port cannot be bound (privileged or in use), bind an ephemeral
    port instead and report it in `bound_ports()` (local demo mode); the CLI turns this off.
    `port_map`: listener port -> the local port to bind for it (`portico demo --port`).
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        admin_port: int | None = None,
        secrets_dir: str | None = None,
        *,
        limits: Limits | None = None,
        access_log: AccessLog | None = None,
        reuse_port: bool = False,
        port_fallback: bool = True,
        port_map: dict[int, int] | None = None,
    ) -> None:
        self.address = address
        self.admin_port = admin_port
        self.secrets_dir = secrets_dir
        self.ctx = Context(limits, access_log)
        self.upstream_tls = UpstreamTLSRegistry(secrets_dir, self.ctx.limits.insecure_backend_tls)
        self.reuse_port = reuse_port
        self.port_fallback = port_fallback
        self.port_map = dict(port_map or {})
        self.gateways: tuple[GatewayIR, ...] = ()
        self.ports: dict[int, _Port] = {}
        self.admin: AdminServer | None = None
        self.ready = False
        self._reaper: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap())
        if self.admin_port is not None:
            self.admin = AdminServer(self)
            await self.admin.start(self.address, self.admin_port, self.reuse_port)

    async def update(self, gateways: Sequence[GatewayIR]) -> None:
        """Compile, then swap every port's tables at once; bind new ports, close removed ones.

        Raises ConfigRejected (after logging) and leaves the running configuration untouched.
        """
        async with self._lock:
            try:
                self.upstream_tls.begin()
                tables = compile_gateways(gateways, self.upstream_tls.for_gateways(gateways))
                selectors = {
                    port: CertificateSelector(table, self.secrets_dir)
                    for port, table in tables.items()
                    if table.tls and (table.certificates or table.mode != PortMode.TLS_MIXED)
                }
                terminating = {
                    port: CertificateSelector(table, self.secrets_dir, terminate=True)
                    for port, table in tables.items()
                    if table.terminate_certificates
                }
            except Exception as exc:
                log.error("configuration rejected, previous one keeps serving: %s", exc)
                raise ConfigRejected(str(exc)) from exc
            await self._apply(tables, selectors, terminating)
            self.gateways = tuple(gateways)
            endpoints = {ep for g in gateways for lst in g.listeners for r in lst.rules for ep in _endpoints(r)}
            self.ctx.pools.retain(endpoints, self.upstream_tls.prune())
            self.ready = True
            if tables:
                log.info("configuration applied: %d gateways, ports %s", len(gateways), sorted(tables))
            else:
                log.warning("configuration applied: no listener to serve; every port is closed")

    async def _apply(
        self,
        tables: dict[int, PortTable],
        selectors: dict[int, CertificateSelector],
        terminating: dict[int, CertificateSelector],
    ) -> None:
        for port in [
            p
            for p in self.ports
            if p not in tables
            or (p in selectors) != (self.ports[p].tls is not None)
            or (p in terminating) != (self.ports[p].terminate is not None)
            or tables[p].mode != self.ports[p].state.table.mode
            or (tables[p].datagram is None) != (self.ports[p].datagram is None)
        ]:
            self._close_port(self.ports.pop(port))
        for port, table in tables.items():
            existing = self.ports.get(port)
            if existing is not None:
                existing.state.table = table
                if existing.tls is not None:
                    existing.tls.selector = selectors[port]
                if existing.terminate is not None:
                    existing.terminate.selector = terminating[port]
                if existing.datagram is not None and table.datagram is not None:
                    existing.datagram.state.table = table.datagram
                continue
            state = PortState(port, table)
            holder = SelectorHolder(selectors[port]) if port in selectors else None
            terminate = SelectorHolder(terminating[port]) if port in terminating else None
            entry = _Port(state, await self._bind(state, holder, terminate), holder, terminate)
            if table.datagram is not None:
                datagram = PortState(port, table.datagram)
                try:
                    entry.datagram = _Port(datagram, await self._bind(datagram, None, None), None, None)
                except OSError:
                    entry.server.close()
                    raise
            self.ports[port] = entry

    async def _bind(self, state: PortState, holder: SelectorHolder | None, terminate: SelectorHolder | None) -> Server:
        loop = asyncio.get_running_loop()
        ctx, tls = self.ctx, holder is not None
        mode = state.table.mode
        # A mixed port terminates TLS per connection, once the SNI has chosen the listener.
        ssl_context = holder.server_context() if holder is not None and mode != PortMode.TLS_MIXED else None

        if mode == PortMode.HTTP:
            factory: Callable[[], asyncio.Protocol] = lambda: H1Server(ctx, state, tls)  # noqa: E731
        elif mode == PortMode.TLS_MIXED:
            factory = lambda: MixedTLSAcceptor(ctx, state, holder, terminate)  # noqa: E731
        else:
            peek = mode == PortMode.TLS_PASSTHROUGH
            factory = lambda: StreamClient(ctx, state, peek)  # noqa: E731

        async def bind(port: int) -> Server:
            if mode == PortMode.UDP:
                return await bind_udp(ctx, state, self.address, port, self.reuse_port)
            return await loop.create_server(
                factory,
                self.address,
                port,
                ssl=ssl_context,
                reuse_port=self.reuse_port or None,
                backlog=2048,
            )

        try:
            return await bind(self.port_map.get(state.port, state.port))
        except OSError as exc:
            if not self.port_fallback or exc.errno not in FALLBACK_ERRNOS:
                raise
            server = await bind(0)
            log.warning("port %d unavailable (%s); listening on %s", state.port, exc.strerror, server.sockets[0])
            return server

    def _close_port(self, port: _Port) -> None:
        for entry in port.with_datagram():
            entry.server.close()
            for conn in list(self.ctx.connections):
                if getattr(conn, "state", None) is entry.state:
                    conn.drain()  # type: ignore[attr-defined]

    def _entries(self) -> list[_Port]:
        return [entry for port in self.ports.values() for entry in port.with_datagram()]

    def bound_ports(self) -> dict[int, int]:
        """Listener port -> the port actually bound."""
        return {port: entry.bound for port, entry in self.ports.items()}

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Stop accepting, let in-flight requests finish within `drain_seconds`, then close the rest."""
        self.ctx.draining = True
        self.ready = False
        for entry in self._entries():
            entry.server.close()
        for conn in list(self.ctx.connections):
            conn.drain()  # type: ignore[attr-defined]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_seconds
        while self.ctx.connections and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.ctx.connections):
            transport = getattr(conn, "transport", None)
            if transport is not None:
                transport.abort()
        for entry in self._entries():
            await entry.server.wait_closed()
        self.ports.clear()
        self.ctx.pools.close()
        if self._reaper is not None:
            self._reaper.cancel()
        if self.admin is not None:
            await self.admin.stop()

    async def _reap(self) -> None:
        """Close connections past their deadline (slow heads, idle keep-alive) once a second."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            now = loop.time()
            self.ctx.expire_heads(now)
            async with self._lock:  # not while an update binds or closes ports
                await self._relisten()
            for conn in list(self.ctx.connections):
                deadline = getattr(conn, "deadline", None)
                if deadline is not None and now > deadline:
                    conn.expire(now)  # type: ignore[attr-defined]

    async def _relisten(self) -> None:
        """A listener the event loop closed (an accept error it could not absorb, such as running
        out of file descriptors) is bound again, until that works."""
        if self.ctx.draining:
            return
        for entry in self._entries():
            if entry.server.is_serving():
                continue
            try:
                entry.server = await self._bind(entry.state, entry.tls, entry.terminate)
                log.warning("listener port %d was closed by an accept error; listening again", entry.state.port)
            except OSError as exc:
                log.error("listener port %d cannot listen again yet: %s", entry.state.port, exc)


def _endpoints(rule: object) -> set[tuple[str, int]]:
    from portico.ir import RequestMirrorFilter, Rule

    assert isinstance(rule, Rule)
    found: set[tuple[str, int]] = set()
    backends = list(rule.backends)
    for flt in rule.filters + tuple(f for b in rule.backends for f in b.filters):
        if isinstance(flt, RequestMirrorFilter):
            backends.append(flt.backend)
    for backend in backends:
        found.update((e.address, e.port) for e in backend.endpoints)
    return found
