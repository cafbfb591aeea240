"""h2c (HTTP/2 prior knowledge) to backends, one multiplexed connection per endpoint; used for gRPC."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, cast

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

from portico_proxy.filters import Headers
from portico_proxy.h1_wire import set_nodelay
from portico_proxy.h2common import CONNECTION_WINDOW, WINDOW, H2Peer, Outbox, h2_safe, split_pseudo
from portico_proxy.sink import OutgoingRequest, UpstreamSink

if TYPE_CHECKING:
    from portico_proxy.pool import Pools, Ready

PAUSE_ABOVE = 1 << 20
CONNECT_TIMEOUT_S = 5.0


class H2Stream:
    """The Upstream of one request on a shared h2c connection."""

    __slots__ = ("conn", "outbox", "paused", "reused", "sink", "stream_id", "trailers", "unacked", "write_paused")

    def __init__(self, conn: UpstreamH2, reused: bool) -> None:
        self.conn = conn
        self.reused = reused
        self.stream_id = 0
        self.sink: UpstreamSink | None = None
        self.outbox = Outbox()
        self.trailers: Headers | None = None
        self.paused = False
        self.unacked = 0
        self.write_paused = False

    def send_request(self, sink: UpstreamSink, request: OutgoingRequest) -> None:
        conn = self.conn
        if conn.closed:
            sink.upstream_error(False, "h2c connection closed")
            return
        self.sink = sink
        self.stream_id = conn.h2.get_next_available_stream_id()
        conn.streams[self.stream_id] = self
        headers: Headers = [
            (b":method", request.method),
            (b":scheme", b"http"),
            (b":authority", request.authority),
            (b":path", request.target),
        ]
        headers += h2_safe(request.headers)
        if request.te_trailers:
            headers.append((b"te", b"trailers"))
        if request.content_length is not None:
            headers.append((b"content-length", b"%d" % request.content_length))
        conn.h2.send_headers(self.stream_id, headers, end_stream=not request.has_body)
        conn.flush()

    def send_body(self, data: bytes) -> None:
        if self.sink is None:
            return
        self.outbox.push(data)
        self.outbox.flush(self.conn.h2, self.stream_id)
        self.conn.flush()
        if self.outbox.size > PAUSE_ABOVE and not self.write_paused:
            self.write_paused = True
            self.sink.upstream_write_paused()

    def end_body(self) -> None:
        if self.sink is None:
            return
        self.outbox.end = True
        self.outbox.flush(self.conn.h2, self.stream_id)
        self.conn.flush()

    def window_opened(self) -> None:
        self.outbox.flush(self.conn.h2, self.stream_id)
        if self.write_paused and self.outbox.size <= PAUSE_ABOVE // 2 and self.sink is not None:
            self.write_paused = False
            self.sink.upstream_write_resumed()

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
        if self.unacked:
            self.conn.acknowledge(self.stream_id, self.unacked)
            self.unacked = 0
            self.conn.flush()

    def abort(self) -> None:
        self.sink = None
        conn = self.conn
        if self.stream_id and not conn.closed:
            with contextlib.suppress(ProtocolError):
                conn.h2.reset_stream(self.stream_id, ErrorCodes.CANCEL)
            conn.flush()
        conn.streams.pop(self.stream_id, None)


class UpstreamH2(H2Peer):
    def __init__(self, pool: H2Pool) -> None:
        self.pool = pool
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, H2Stream] = {}
        self.closed = False
        self.max_streams = 100

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)
        self.h2.initiate_connection()
        self.h2.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: WINDOW})
        self.h2.increment_flow_control_window(CONNECTION_WINDOW)
        self.flush()

    def usable(self) -> bool:
        return not self.closed and len(self.streams) < self.max_streams

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except ProtocolError as exc:
            self._fail_all(f"h2c protocol error from backend: {exc}")
            return
        for event in events:
            self._event(event)
        self.flush()

    def _event(self, event: object) -> None:
        if isinstance(event, WindowUpdated):
            targets = list(self.streams.values()) if event.stream_id == 0 else [self.streams.get(event.stream_id)]
            for target in targets:
                if target is not None:
                    target.window_opened()
            return
        if isinstance(event, ConnectionTerminated):
            self.closed = True
            self.pool.forget(self)
            return
        stream_id = getattr(event, "stream_id", 0)
        stream = self.streams.get(stream_id)
        if stream is None or stream.sink is None:
            if isinstance(event, DataReceived):
                self.acknowledge(event.stream_id, event.flow_controlled_length)
            return
        sink = stream.sink
        if isinstance(event, ResponseReceived):
            pseudo, headers = split_pseudo(event.headers)
            sink.upstream_response_head(int(pseudo.get(b":status", b"502")), headers, None)
            sink.upstream_idle()
        elif isinstance(event, DataReceived):
            if stream.paused:
                stream.unacked += event.flow_controlled_length
            else:
                self.acknowledge(stream_id, event.flow_controlled_length)
            sink.upstream_response_body(event.data)
        elif isinstance(event, TrailersReceived):
            stream.trailers = split_pseudo(event.headers)[1]
        elif isinstance(event, StreamEnded):
            self.streams.pop(stream_id, None)
            stream.sink = None
            sink.upstream_response_end(stream.trailers)
        elif isinstance(event, StreamReset):
            self.streams.pop(stream_id, None)
            stream.sink = None
            sink.upstream_error(True, f"backend reset the stream ({event.error_code!r})")

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all("backend closed the h2c connection")

    def _fail_all(self, message: str) -> None:
        self.closed = True
        self.pool.forget(self)
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            sink, stream.sink = stream.sink, None
            if sink is not None:
                sink.upstream_error(True, message)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if not self.streams and self.transport is not None:
            self.closed = True
            self.transport.close()


class H2Pool:
    """One shared h2c connection per endpoint; requests wait while it connects."""

    def __init__(self, pools: Pools, host: str, port: int) -> None:
        self.stats = pools.stats
        self.host = host
        self.port = port
        self.conn: UpstreamH2 | None = None
        self.waiters: list[Ready] = []

    def acquire(self, ready: Ready) -> None:
        conn = self.conn
        if conn is not None and conn.usable():
            self.stats.reused += 1
            ready(H2Stream(conn, True), None)
            return
        self.waiters.append(ready)
        if len(self.waiters) == 1:
            self.stats.opened += 1
            task = asyncio.get_running_loop().create_task(self._connect())
            task.add_done_callback(self._connected)

    async def _connect(self) -> UpstreamH2:
        loop = asyncio.get_running_loop()
        connect = loop.create_connection(lambda: UpstreamH2(self), self.host, self.port)
        _, protocol = await asyncio.wait_for(connect, CONNECT_TIMEOUT_S)
        return protocol

    def _connected(self, task: asyncio.Task[UpstreamH2]) -> None:
        waiters, self.waiters = self.waiters, []
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            for ready in waiters:
                ready(None, f"h2c connect failed: {error}")
            return
        self.conn = conn = task.result()
        for index, ready in enumerate(waiters):
            ready(H2Stream(conn, index > 0), None)

    def forget(self, conn: UpstreamH2) -> None:
        if self.conn is conn:
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def h2_pool(pools: Pools, host: str, port: int) -> H2Pool:
    pool = pools.h2(host, port, lambda: H2Pool(pools, host, port))
    assert isinstance(pool, H2Pool)
    return pool
