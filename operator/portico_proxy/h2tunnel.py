"""WebSocket over HTTP/2 (RFC 8441): an extended CONNECT stream (`:protocol websocket`) is routed
like the equivalent GET and sent to an HTTP/1.1 backend as an `Upgrade: websocket` handshake. Once
the backend answers 101, the stream is answered 200 and its DATA frames are spliced to the backend's
socket: flow control both ways (the client's DATA is credited only as fast as the backend takes it;
the backend is read no faster than the client's window and socket take), END_STREAM <-> half-close,
RST_STREAM <-> close, and the idle timeout of HTTP/1.1 tunnels. The tunnel holds no route table, so
it stays open across reloads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
from typing import TYPE_CHECKING

from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError

from portico_proxy.filters import Headers
from portico_proxy.normalize import BadRequest

if TYPE_CHECKING:
    from portico_proxy.server_h2 import StreamResponder

WEBSOCKET = b"websocket"
# RFC 6455 4.2.2: the GUID appended to the key before hashing into Sec-WebSocket-Accept.
ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The key and accept of the HTTP/1.1 hop: never taken from the client nor passed back to it.
HANDSHAKE_FIELDS = frozenset({b"sec-websocket-key", b"sec-websocket-accept"})


def websocket_handshake(protocol: bytes | None, headers: Headers) -> bytes:
    """Checks an extended CONNECT's `:protocol` (None: a plain CONNECT) and returns the
    Sec-WebSocket-Key it adds to `headers` for the HTTP/1.1 handshake; raises BadRequest."""
    if protocol is None:
        raise BadRequest(405, "CONNECT is not supported")
    if protocol.lower() != WEBSOCKET:
        raise BadRequest(501, f"extended CONNECT for {protocol.decode('latin-1')!r}: only websocket is tunnelled")
    # RFC 8441 5: HTTP/2 has no key or accept; the proxy makes the key of the HTTP/1.1 hop.
    headers[:] = [item for item in headers if item[0] not in HANDSHAKE_FIELDS]
    key = base64.b64encode(os.urandom(16))
    headers.append((b"sec-websocket-key", key))
    return key


def expected_accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + ACCEPT_GUID).digest())  # RFC 6455 names SHA-1


class H2Tunnel(asyncio.Protocol):
    """One WebSocket stream: waits for the backend's answer, then is the backend socket's protocol."""

    __slots__ = (
        "backend",
        "backend_eof",
        "backend_gone",
        "client_ended",
        "early",
        "idle_timer",
        "key",
        "last_active",
        "loop",
        "open",
        "stream",
        "unacked",
        "write_paused",
    )

    def __init__(self, stream: StreamResponder, key: bytes, client_ended: bool) -> None:
        self.stream = stream
        self.key = key
        self.loop = stream.server.loop
        self.backend: asyncio.Transport | None = None
        self.open = False
        # Client DATA before the switch; its stream-level credit is held back (the window bounds it).
        self.early: list[bytes] = []
        self.unacked = 0  # client bytes whose stream-level credit is held back
        self.client_ended = client_ended
        self.backend_eof = False
        self.backend_gone = False
        self.write_paused = False
        self.idle_timer: asyncio.TimerHandle | None = None
        self.last_active = 0.0

    # ---- the client's side of the stream (called by H2Server and StreamResponder)
    def client_data(self, data: bytes, flow_length: int) -> None:
        server = self.stream.server
        backend = self.backend
        # Connection-level credit is returned at once, so a stalled tunnel never holds the
        # connection's window (and every other stream) hostage; the stream's own window bounds it.
        with contextlib.suppress(ProtocolError):
            if not self.open or self.write_paused:
                if flow_length:
                    server.h2.increment_flow_control_window(flow_length)
                self.unacked += flow_length
            else:
                server.h2.acknowledge_received_data(flow_length, self.stream.stream_id)
        if not self.open:
            self.early.append(data)
        elif backend is not None and not self.backend_gone and data:
            self.last_active = self.loop.time()
            server.ctx.writes.write(backend, data)

    def client_end(self) -> None:
        """END_STREAM from the client: a half-close towards the backend."""
        self.client_ended = True
        backend = self.backend
        if not self.open or backend is None:
            return
        if self.backend_eof or self.backend_gone or not backend.can_write_eof():
            self._close_backend()
        else:
            self.stream.server.ctx.writes.flush()  # what was queued for it leaves before the EOF
            backend.write_eof()
        if self.stream.outbox.end_sent:
            self.stream.server.streams.pop(self.stream.stream_id, None)

    def client_lost(self) -> None:
        """RST_STREAM from the client, or its connection closed: the backend socket is closed."""
        self.client_ended = True
        self._close_backend()

    def client_paused(self) -> None:
        if self.backend is not None:
            self.backend.pause_reading()

    def client_resumed(self) -> None:
        if self.backend is not None and not self.backend_gone:
            self.backend.resume_reading()

    def finished(self) -> bool:
        """The stream's END_STREAM went out: whether the stream is done with."""
        if not self.open or self.client_ended:
            return True
        if self.backend_gone:
            # The backend closed both ways: the client is asked to stop sending, without error
            # (RFC 9113 8.1).
            self._reset(ErrorCodes.NO_ERROR)
            return True
        return False

    # ---- the switch
    def switched(self, headers: Headers, backend: asyncio.Transport, rest: bytes) -> None:
        """The backend answered 101: the stream is answered 200 (or 502 when the backend's
        Sec-WebSocket-Accept does not prove it read this handshake), then spliced."""
        stream = self.stream
        accept = next((value for name, value in headers if name == b"sec-websocket-accept"), b"")
        upgrade = next((value for name, value in headers if name == b"upgrade"), b"")
        if accept != expected_accept(self.key) or upgrade.lower() != WEBSOCKET:
            backend.close()  # still its upstream protocol, which counts the socket out
            reason = b"backend switched protocols without a valid websocket handshake"
            stream.send_head(502, [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(reason))], False)
            stream.send_data(reason)
            stream.send_end(None)
            return
        self.open = True
        self.backend = backend
        backend.set_protocol(self)
        stream.send_head(200, [item for item in headers if item[0] not in HANDSHAKE_FIELDS], False)
        ctx = stream.server.ctx
        if self.early:
            for chunk in self.early:
                ctx.writes.write(backend, chunk)
            self.early = []
        self._credit()
        if rest:
            stream.send_data(rest)
        if self.client_ended:
            self.client_end()
        if not stream.client_paused:
            backend.resume_reading()
        if ctx.limits.idle_timeout_s:
            self.last_active = self.loop.time()
            self.idle_timer = self.loop.call_later(ctx.limits.idle_timeout_s, self._idle)

    # ---- asyncio.Protocol of the backend socket
    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        self.stream.send_data(data)

    def eof_received(self) -> bool:
        self.backend_eof = True
        if self.client_ended:
            self._close_backend()
        self.stream.send_end(None)
        return True

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._credit()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.backend_gone:
            return
        self.backend_gone = True
        stream = self.stream
        stream.server.ctx.pools.stats.sockets -= 1
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if not self.backend_eof:
            # Closed without a FIN first (reset, or closed by the proxy): the stream is reset.
            self._reset(ErrorCodes.CONNECT_ERROR if exc is not None else ErrorCodes.CANCEL)
        elif stream.outbox.end_sent:
            stream.window_opened()  # ends the stream if the client is still sending

    # ---- internals
    def _credit(self) -> None:
        unacked, self.unacked = self.unacked, 0
        if unacked:
            server = self.stream.server
            with contextlib.suppress(ProtocolError):
                server.h2.increment_flow_control_window(unacked, self.stream.stream_id)
            server.flush()

    def _idle(self) -> None:
        """No byte either way for the idle timeout: the stream is reset, the backend closed."""
        self.idle_timer = None
        if self.backend_gone:
            return
        timeout = self.stream.server.ctx.limits.idle_timeout_s
        remaining = self.last_active + timeout - self.loop.time()
        if remaining > 0:
            self.idle_timer = self.loop.call_later(remaining, self._idle)
            return
        self._reset(ErrorCodes.CANCEL)
        self._close_backend()

    def _reset(self, code: ErrorCodes) -> None:
        stream = self.stream
        server = stream.server
        if server.streams.pop(stream.stream_id, None) is None or server.closed:
            return
        with contextlib.suppress(ProtocolError):
            server.h2.reset_stream(stream.stream_id, code)
        server.flush()

    def _close_backend(self) -> None:
        backend = self.backend
        if backend is not None and not self.backend_gone:
            self.stream.server.ctx.writes.close(backend)
