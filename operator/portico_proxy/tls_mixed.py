"""Mixed TLS ports (TLSRouteModeMixed, and HTTPS next to TLS): HTTPS listeners and TLS listeners in
Passthrough or Terminate mode share one port, told apart by the server name (SNI) of the ClientHello.

Which listener serves a connection must be known before anything is terminated, and a Passthrough
backend must get the ClientHello untouched. So the ClientHello is read with MSG_PEEK and stays in
the kernel: the event loop's transport is dropped before it reads a byte (a duplicate descriptor
keeps the connection), the SNI is peeked (SO_RCVLOWAT makes a ClientHello cut into several TCP
segments wake the loop only when more bytes arrive), and the socket is then handed back to the
loop: as a byte stream for Passthrough (l4stream.py reads the ClientHello again and sends it on),
or with the TLS handshake from its first byte for HTTPS (ALPN h2 and http/1.1, then HTTP/1.1 or
HTTP/2 as on any HTTPS port) and TLS Terminate (no ALPN, then the plaintext is relayed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import cast

from portico_proxy.context import Context
from portico_proxy.l4stream import StreamClient
from portico_proxy.server_h1 import H1Server
from portico_proxy.sni import MAX_HELLO_BYTES, Incomplete, NotClientHello, read_sni
from portico_proxy.tables import PortState, SniKind
from portico_proxy.tls import SelectorHolder

log = logging.getLogger("portico.proxy")

# The ClientHello's records fit in this many bytes; read_sni refuses a longer hello anyway.
PEEK_LIMIT = MAX_HELLO_BYTES


class MixedTLSAcceptor(asyncio.Protocol):
    """What the port's server makes per connection: takes the socket over in connection_made (the
    loop starts reading only after it returns) and leaves a `PeekingClient` in its place."""

    def __init__(
        self, ctx: Context, state: PortState, https: SelectorHolder | None, terminate: SelectorHolder | None
    ) -> None:
        self.ctx = ctx
        self.state = state
        self.https = https
        self.terminate = terminate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        ctx = self.ctx
        if ctx.draining or ctx.over_capacity():
            transport.abort()
            return
        try:
            sock = socket.socket(fileno=socket.dup(transport.get_extra_info("socket").fileno()))
        except OSError as exc:  # out of descriptors: refuse this one connection
            log.warning("port %d: connection refused: %s", self.state.port, exc)
            transport.abort()
            return
        transport.abort()  # closes the loop's descriptor only; the duplicate keeps the connection
        PeekingClient(ctx, self.state, sock, self.https, self.terminate).start()


class PeekingClient:
    """A connection whose ClientHello has not arrived whole yet. In ctx.connections: the reaper
    closes it at the request-head deadline, and drain or shutdown closes it."""

    __slots__ = ("ctx", "deadline", "https", "loop", "sock", "state", "terminate", "transport")

    def __init__(
        self,
        ctx: Context,
        state: PortState,
        sock: socket.socket,
        https: SelectorHolder | None,
        terminate: SelectorHolder | None,
    ) -> None:
        self.ctx = ctx
        self.state = state
        self.sock = sock
        self.https = https
        self.terminate = terminate
        self.loop = asyncio.get_running_loop()
        self.deadline: float | None = None
        self.transport = None  # nothing for shutdown to abort: close() does it

    def start(self) -> None:
        self.sock.setblocking(False)
        self.ctx.connections.add(self)
        if self.ctx.limits.header_timeout_s:
            self.deadline = self.loop.time() + self.ctx.limits.header_timeout_s
        self.loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(PEEK_LIMIT, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:  # the client left before its ClientHello was whole
            self.close()
            return
        try:
            found = read_sni(data)
        except NotClientHello as exc:
            log.info("port %d: connection closed: %s", self.state.port, exc)
            self.close()
            return
        if found is Incomplete:
            if len(data) >= PEEK_LIMIT:  # a ClientHello cut into records so small it does not fit
                log.info(
                    "port %d: connection closed: the ClientHello does not fit %d bytes", self.state.port, PEEK_LIMIT
                )
                self.close()
                return
            # Wake up again only once more than what is buffered has arrived (not for the same bytes).
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, len(data) + 1)
            return
        server_name = found if isinstance(found, str) else None
        kind = self.state.table.sni_kind(server_name)
        holder = self.https if kind == SniKind.HTTPS else self.terminate if kind == SniKind.TERMINATE else None
        if kind is None or (kind != SniKind.PASSTHROUGH and holder is None):
            log.info("port %d: no listener for server name %s; connection closed", self.state.port, server_name)
            self.close()
            return
        self._stop_peeking()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
        ctx, state = self.ctx, self.state
        if kind == SniKind.HTTPS:
            factory: Callable[[], asyncio.Protocol] = lambda: H1Server(ctx, state, True)  # noqa: E731
        else:
            factory = lambda: StreamClient(ctx, state, peek=kind == SniKind.PASSTHROUGH)  # noqa: E731
        context = holder.server_context() if holder is not None else None
        self.loop.create_task(self._hand_over(factory, context))

    async def _hand_over(self, factory: Callable[[], asyncio.Protocol], context: ssl.SSLContext | None) -> None:
        """The socket back to the loop, terminated with `context`, or as it is (Passthrough)."""
        try:
            await self.loop.connect_accepted_socket(factory, self.sock, ssl=context)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.debug("port %d: TLS handshake failed: %s", self.state.port, exc)
            if self.sock.fileno() != -1:
                self.sock.close()

    def _stop_peeking(self) -> None:
        self.ctx.connections.discard(self)
        self.deadline = None
        if self.sock.fileno() != -1:
            self.loop.remove_reader(self.sock.fileno())

    # ---- what the reaper and the runtime call on client connections
    def expire(self, now: float) -> None:
        """The ClientHello did not arrive in time."""
        self.close()

    def drain(self) -> None:
        self.close()

    def close(self) -> None:
        """Read what was only peeked first: closing with unread bytes would reset the connection
        instead of ending it with a FIN."""
        self._stop_peeking()
        with contextlib.suppress(OSError):
            self.sock.recv(PEEK_LIMIT)
        self.sock.close()
