"""The client side of HTTP/2 (h2c prior knowledge or ALPN h2): one Exchange per stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

from h2.config import H2Configuration
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    PingReceived,
    RemoteSettingsChanged,
    RequestReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings

from portico_proxy.context import Context
from portico_proxy.exchange import Exchange
from portico_proxy.filters import Headers
from portico_proxy.h2common import CONNECTION_WINDOW, WINDOW, H2Peer, Outbox, h2_safe, split_pseudo
from portico_proxy.h2guard import MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE, AbuseMeter, ServerConnection
from portico_proxy.h2tunnel import WEBSOCKET, H2Tunnel, websocket_handshake
from portico_proxy.messages import (
    FORWARDED_NAMES,
    GRPC_INTERNAL,
    HOP_BY_HOP,
    RequestHead,
    host_of,
    is_grpc,
    local_response,
)
from portico_proxy.normalize import BadRequest, Malformed, h2_target
from portico_proxy.tables import PortState

# Response bytes held per stream (window closed, or the client's socket full) before the backend
# stops being read: with MAX_CONCURRENT_STREAMS streams this bounds a connection's buffers too.
PAUSE_ABOVE = 1 << 16
LINGER_S = 2.0
log = logging.getLogger("portico.proxy")


class StreamResponder:
    """The Responder of one HTTP/2 stream."""

    __slots__ = ("client_paused", "exchange", "outbox", "server", "source_paused", "stream_id", "tunnel", "unacked")

    def __init__(self, server: H2Server, stream_id: int) -> None:
        self.server = server
        self.stream_id = stream_id
        self.exchange: Exchange | None = None
        self.tunnel: H2Tunnel | None = None  # a WebSocket (extended CONNECT) stream
        self.outbox = Outbox()
        self.unacked = 0
        self.source_paused = False
        self.client_paused = False

    def send_head(self, status: int, headers: Headers, end: bool, has_length: bool | None = None) -> None:
        server = self.server
        if server.closed:
            return
        try:
            server.h2.send_headers(self.stream_id, [(b":status", b"%d" % status), *h2_safe(headers)], end_stream=end)
        except ProtocolError:
            end = True
        server.flush()
        if end:
            server.streams.pop(self.stream_id, None)
        elif server.write_paused or server.h2.local_flow_control_window(self.stream_id) <= 0:
            self.pause_client()  # nothing could leave: read no more than the backend already sent

    def switch_protocols(self, headers: Headers, backend: asyncio.Transport, rest: bytes) -> None:
        tunnel = self.tunnel
        if tunnel is None or self.server.closed:
            # Only a WebSocket stream asks a backend to switch (HTTP/2 requests carry no Upgrade).
            backend.close()
            self.abort()
            return
        self.exchange = None  # finished: from now on the tunnel drives the stream
        tunnel.switched(headers, backend, rest)

    def send_data(self, data: bytes) -> None:
        server = self.server
        if server.closed:
            return
        self.outbox.push(data)
        if not server.write_paused:
            self.outbox.flush(server.h2, self.stream_id)
            server.flush()
        if (server.write_paused or self.outbox.size > PAUSE_ABOVE) and not self.client_paused:
            self.pause_client()

    def pause_client(self) -> None:
        driver = self.exchange if self.exchange is not None else self.tunnel
        if driver is not None and not self.client_paused:
            self.client_paused = True
            driver.client_paused()

    def send_end(self, trailers: Headers | None) -> None:
        server = self.server
        if server.closed:
            return
        self.outbox.end = True
        self.outbox.trailers = h2_safe(trailers) if trailers else None
        self.window_opened()

    def window_opened(self) -> None:
        server = self.server
        if server.write_paused:
            return  # the client's socket is full: flow-control credit waits for it to drain
        self.outbox.flush(server.h2, self.stream_id)
        server.flush()
        if self.client_paused and self.outbox.size <= PAUSE_ABOVE // 2:
            driver = self.exchange if self.exchange is not None else self.tunnel
            if driver is not None:
                self.client_paused = False
                driver.client_resumed()
        if self.outbox.end_sent and (self.tunnel is None or self.tunnel.finished()):
            server.streams.pop(self.stream_id, None)

    def abort(self) -> None:
        server = self.server
        server.streams.pop(self.stream_id, None)
        if server.closed:
            return
        with contextlib.suppress(ProtocolError):
            server.h2.reset_stream(self.stream_id, ErrorCodes.INTERNAL_ERROR)
        server.flush()

    def flush(self) -> None:
        return  # every frame is handed to the connection as soon as it is made

    def lost(self) -> None:
        """The client reset the stream or its connection closed."""
        if self.exchange is not None:
            self.exchange.client_lost()
        if self.tunnel is not None:
            self.tunnel.client_lost()

    def pause_source(self) -> None:
        self.source_paused = True

    def resume_source(self) -> None:
        self.source_paused = False
        if self.unacked:
            self.server.acknowledge(self.stream_id, self.unacked)
            self.unacked = 0
            self.server.flush()


class H2Server(H2Peer):
    def __init__(self, ctx: Context, state: PortState, scheme: bytes, client_ip: bytes, sni: bytes = b"") -> None:
        self.ctx = ctx
        self.sni = sni
        self.state = state
        self.scheme = scheme
        self.client_ip = client_ip
        self.h2 = ServerConnection(H2Configuration(client_side=False, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, StreamResponder] = {}
        self.closed = False
        self.deadline: float | None = None
        self.loop = asyncio.get_running_loop()
        self.meter = AbuseMeter(self.loop.time())
        self.write_paused = False
        self.lingering = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.ctx.connections.add(self)
        self.ctx.metrics.active_connections += 1
        # In the first SETTINGS frame: a client checks it for extended CONNECT before its first request.
        self.h2.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.INITIAL_WINDOW_SIZE: WINDOW,
                SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST_SIZE,
                SettingCodes.ENABLE_CONNECT_PROTOCOL: 1,  # WebSocket over HTTP/2 (RFC 8441)
            },
        )
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(CONNECTION_WINDOW)
        self.flush()
        self._touch()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.ctx.connections.discard(self)
        self.ctx.metrics.active_connections -= 1
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            stream.lost()

    def pause_writing(self) -> None:
        self.write_paused = True
        for stream in self.streams.values():
            stream.pause_client()

    def resume_writing(self) -> None:
        self.write_paused = False
        for stream in list(self.streams.values()):
            stream.window_opened()

    def expire(self, now: float) -> None:
        if not self.streams and self.transport is not None:
            self.transport.close()

    def drain(self) -> None:
        if self.closed:
            return
        self.h2.close_connection()
        self.flush()
        if not self.streams and self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return
        try:
            events = self.h2.receive_data(data)
        except ProtocolError:
            self._linger()  # h2 queued a GOAWAY naming the error
            return
        # A stream reset in the same read as its request is never started: no backend work for it.
        reset_now = {e.stream_id for e in events if isinstance(e, StreamReset)}
        meter = self.meter
        for event in events:
            if self.closed:
                return
            if isinstance(event, RequestReceived):
                self._open(event, reset_now)
            elif isinstance(event, DataReceived):
                self._data(event)
            elif isinstance(event, StreamEnded):
                stream = self.streams.get(event.stream_id)
                if stream is not None and stream.tunnel is not None:
                    stream.tunnel.client_end()
                elif stream is not None and stream.exchange is not None and stream.exchange.head.has_body:
                    stream.exchange.request_end()
            elif isinstance(event, StreamReset):
                stream = self.streams.pop(event.stream_id, None)
                # A reset of a stream not yet answered (an open WebSocket may be closed that way).
                closing_tunnel = stream is not None and stream.tunnel is not None and stream.tunnel.open
                if event.remote_reset and (stream is not None or event.stream_id in reset_now) and not closing_tunnel:
                    meter.stream_reset()
                if stream is not None:
                    stream.lost()
            elif isinstance(event, (PingReceived, RemoteSettingsChanged)):
                meter.control_frame(self.loop.time())
            elif isinstance(event, WindowUpdated):
                targets = list(self.streams.values()) if event.stream_id == 0 else [self.streams.get(event.stream_id)]
                for target in targets:
                    if target is not None:
                        target.window_opened()
            elif isinstance(event, ConnectionTerminated) and self.transport is not None:
                self.transport.close()
            verdict = meter.verdict()
            if verdict is not None:
                self._calm_down(verdict)
                return
        self.flush()
        self._touch()

    def _open(self, event: RequestReceived, reset_now: set[int]) -> None:
        self.meter.stream_opened()
        if event.stream_id in reset_now:
            return  # reset in the same read: never started
        if len(self.streams) >= MAX_CONCURRENT_STREAMS:
            self.meter.stream_refused()
            self._refuse(event.stream_id, ErrorCodes.REFUSED_STREAM)
        else:
            self._request(event)

    def _answer_locally(self, stream_id: int, status: int, grpc: bool, reason: str) -> None:
        """A request refused before any exchange: the proxy's own answer, then the stream ends."""
        stream = StreamResponder(self, stream_id)
        self.streams[stream_id] = stream
        status, headers, body = local_response(status, grpc, GRPC_INTERNAL, reason)
        stream.send_head(status, headers, not body)
        if body:
            stream.send_data(body)
            stream.send_end(None)

    def _refuse(self, stream_id: int, code: ErrorCodes) -> None:
        with contextlib.suppress(ProtocolError):
            self.h2.reset_stream(stream_id, code)

    def _data(self, event: DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None and stream.tunnel is not None:
            stream.tunnel.client_data(event.data, event.flow_controlled_length)
            return
        if stream is None or stream.exchange is None:
            self.acknowledge(event.stream_id, event.flow_controlled_length)
            return
        if stream.source_paused:
            stream.unacked += event.flow_controlled_length
        else:
            self.acknowledge(event.stream_id, event.flow_controlled_length)
        stream.exchange.request_body(event.data)

    def _calm_down(self, reason: str) -> None:
        """GOAWAY(ENHANCE_YOUR_CALM), then close: the client crossed a limit no ordinary one does."""
        log.warning("closing an HTTP/2 connection from %s: %s", self.client_ip.decode(), reason)
        with contextlib.suppress(ProtocolError):
            self.h2.close_connection(ErrorCodes.ENHANCE_YOUR_CALM, additional_data=reason.encode())
        self._linger()

    def _linger(self) -> None:
        """Send what is queued (a GOAWAY), end every stream, and close after a lingering moment."""
        self.flush()
        self.closed = self.lingering = True
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            stream.lost()
        transport = self.transport
        if transport is not None:
            # Lingering close: what the client still sends is read and dropped for a moment, so the
            # close does not turn into a reset that would destroy the GOAWAY before it is read.
            if transport.can_write_eof():
                transport.write_eof()
            self.loop.call_later(LINGER_S, transport.close)

    def _touch(self) -> None:
        self.deadline = self.loop.time() + self.ctx.limits.idle_timeout_s

    def _request(self, event: RequestReceived) -> None:
        pseudo, raw = split_pseudo(event.headers or [])
        headers: Headers = []
        content_length: int | None = None
        te_trailers = grpc = forwarded = False
        authority = pseudo.get(b":authority", b"")
        for name, value in raw:
            if name in HOP_BY_HOP or name == b"content-length":
                if name == b"content-length" and value.isdigit():
                    content_length = int(value)
                elif name == b"te":
                    te_trailers = value == b"trailers"
                elif name == b"host" and not authority:
                    authority = value
                continue
            if name == b"content-type":
                grpc = is_grpc(value)
            elif name in FORWARDED_NAMES:
                forwarded = True
            headers.append((name, value))
        method = pseudo.get(b":method", b"GET")
        key = b""  # the Sec-WebSocket-Key of an extended CONNECT's HTTP/1.1 handshake
        try:
            if len(raw) > self.ctx.limits.max_header_count:
                raise BadRequest(431, "request headers too many")
            if method == b"CONNECT":
                key = websocket_handshake(pseudo.get(b":protocol"), headers)
                method = b"GET"  # routed, filtered and sent as the equivalent GET (RFC 8441 5)
            target, authority = h2_target(method, pseudo.get(b":path", b"/"), authority, self.ctx.limits.merge_slashes)
        except Malformed:
            self._refuse(event.stream_id, ErrorCodes.PROTOCOL_ERROR)
            return
        except BadRequest as exc:
            self._answer_locally(event.stream_id, exc.status, grpc, str(exc))
            return
        has_body = event.stream_ended is None and not key
        head = RequestHead(
            method,
            target,
            authority,
            host_of(authority),
            headers,
            self.scheme,
            self.client_ip,
            b"2",
            has_body,
            content_length if has_body else None,
            grpc,
            forwarded,
        )
        head.te_trailers, head.sni = te_trailers, self.sni
        stream = StreamResponder(self, event.stream_id)
        if key:
            head.upgrade = WEBSOCKET
            stream.tunnel = H2Tunnel(stream, key, event.stream_ended is not None)
        self.streams[event.stream_id] = stream
        state = self.state
        exchange = Exchange(self.ctx, stream, head, state.table, self.loop)
        stream.exchange = exchange
        exchange.start()
