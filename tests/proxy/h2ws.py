"""A WebSocket-over-HTTP/2 client for tests (RFC 8441): the `h2` library's client connection over a
real socket, with WebSocket framing by the sans-I/O protocol of `websockets`. Many streams share
one connection; each flow-controls its own reads (`reading`), so a test can stall one stream."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import StreamClosedError
from h2.settings import SettingCodes
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side

Fields = list[tuple[bytes, bytes]]


class WsStream:
    """One extended CONNECT stream; after a 200 it carries WebSocket frames."""

    def __init__(self, client: H2Client, stream_id: int) -> None:
        self.client = client
        self.stream_id = stream_id
        self.answered = asyncio.get_running_loop().create_future()
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = bytearray()  # DATA of an answer other than 200
        self.ws = Protocol(Side.CLIENT, max_size=None)
        self.frames: deque[Frame] = deque()
        self.changed = asyncio.Event()
        self.ended = False  # END_STREAM from the proxy
        self.reset_code: int | None = None
        self.reading = True
        self.unread = 0  # bytes received while not reading: their stream credit is held back

    # ---- from the connection
    def response(self, headers: Fields) -> None:
        fields = dict(headers)
        self.status = int(fields[b":status"])
        self.headers = fields
        if not self.answered.done():
            self.answered.set_result(None)

    def data(self, data: bytes, flow_length: int) -> None:
        conn = self.client.conn
        if flow_length:
            conn.increment_flow_control_window(flow_length)  # the connection's credit, always
            if self.reading:
                with contextlib.suppress(StreamClosedError):  # the frame may have ended the stream
                    conn.increment_flow_control_window(flow_length, self.stream_id)
            else:
                self.unread += flow_length
        if self.status != 200:
            self.body += data
        else:
            self.ws.receive_data(data)
            self.frames.extend(event for event in self.ws.events_received() if isinstance(event, Frame))
            self._send_pending()  # e.g. the answer to a Close frame
        self._wake()

    def end(self) -> None:
        self.ended = True
        if self.status == 200:
            self.ws.receive_eof()
            self._send_pending()  # a closed WebSocket ends its side too (as a socket would)
        self._wake()

    def reset(self, code: int) -> None:
        self.reset_code = code
        if not self.answered.done():
            self.answered.set_result(None)
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.client.flush()

    # ---- for the test
    def resume_reading(self) -> None:
        self.reading = True
        unread, self.unread = self.unread, 0
        if unread:
            self.client.conn.increment_flow_control_window(unread, self.stream_id)
            self.client.flush()

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, str):
            self.ws.send_text(message.encode())
        else:
            self.ws.send_binary(message)
        await self._drain()

    async def close(self, code: int, reason: str = "") -> None:
        self.ws.send_close(code, reason)
        await self._drain()

    async def recv(self, timeout: float = 10.0) -> str | bytes:
        """The next text or binary message (control frames are skipped)."""
        parts: list[bytes] = []
        opcode: Opcode | None = None
        while True:
            frame = await self.next_frame(timeout)
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                opcode = frame.opcode
            elif frame.opcode is not Opcode.CONT:
                if frame.opcode is Opcode.CLOSE:
                    close = self.ws.close_rcvd
                    raise ConnectionError(f"closed: {close.code} {close.reason}" if close else "closed")
                continue
            parts.append(bytes(frame.data))
            if frame.fin:
                data = b"".join(parts)
                return data.decode() if opcode is Opcode.TEXT else data

    async def next_frame(self, timeout: float = 10.0) -> Frame:
        async with asyncio.timeout(timeout):
            while not self.frames:
                if self.ended or self.reset_code is not None:
                    raise ConnectionError(f"stream over (reset {self.reset_code})")
                self.changed.clear()
                await self.changed.wait()
        return self.frames.popleft()

    async def until_over(self, timeout: float = 10.0) -> None:
        """Until the proxy ended or reset the stream."""
        async with asyncio.timeout(timeout):
            while not (self.ended or self.reset_code is not None):
                self.changed.clear()
                await self.changed.wait()

    async def _drain(self) -> None:
        self._send_pending()
        await self.client.sent(self.stream_id)

    def half_close(self) -> None:
        """END_STREAM without a WebSocket close."""
        self.client.queue_end(self.stream_id)
        self.client.send_queued()

    def _send_pending(self) -> None:
        for data in self.ws.data_to_send():
            if data:
                self.client.queue(self.stream_id, data)
            else:
                self.client.queue_end(self.stream_id)  # the WebSocket closed: the stream ends (TCP FIN)
        self.client.send_queued()


class H2Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, WsStream] = {}
        self.plain: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self.plain_bodies: dict[int, bytearray] = {}
        self.plain_status: dict[int, int] = {}
        # Per stream: (data, offset) pieces waiting for window; None ends the stream.
        self.outgoing: dict[int, deque[tuple[bytes, int] | None]] = {}
        self.window = asyncio.Event()
        self.settings = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.goaway: int | None = None

    @classmethod
    async def connect(
        cls, port: int, tls: ssl.SSLContext | None = None, server_hostname: str | None = None
    ) -> H2Client:
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(cls, "127.0.0.1", port, ssl=tls, server_hostname=server_hostname)
        await asyncio.wait_for(asyncio.shield(client.settings), 5)
        return client

    # ---- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(1 << 24)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        for stream in self.streams.values():
            stream.reset(-1)

    def data_received(self, data: bytes) -> None:
        for event in self.conn.receive_data(data):
            if isinstance(event, RemoteSettingsChanged) and not self.settings.done():
                changed = event.changed_settings.get(SettingCodes.ENABLE_CONNECT_PROTOCOL)
                self.settings.set_result(changed.new_value if changed is not None else 0)
            elif isinstance(event, ResponseReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id].response(event.headers)
                else:
                    self.plain_status[event.stream_id] = int(dict(event.headers)[b":status"])
            elif isinstance(event, DataReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id].data(event.data, event.flow_controlled_length)
                else:
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    self.plain_bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
            elif isinstance(event, StreamEnded):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id].end()
                elif event.stream_id in self.plain:
                    body = bytes(self.plain_bodies.pop(event.stream_id, b""))
                    self.plain.pop(event.stream_id).set_result((self.plain_status[event.stream_id], body))
            elif isinstance(event, StreamReset):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id].reset(event.error_code)
            elif isinstance(event, WindowUpdated):
                self.send_queued()
            elif isinstance(event, ConnectionTerminated):
                self.goaway = event.error_code
        self.flush()

    # ---- requests
    async def websocket(
        self, path: str, authority: str = "chat.example", extra: Fields | None = None, early: str | None = None
    ) -> WsStream:
        """An extended CONNECT; returns once the proxy answered (check `status`). `early`: a text
        message sent right behind the request, before the answer."""
        stream_id = self.conn.get_next_available_stream_id()
        stream = WsStream(self, stream_id)
        self.streams[stream_id] = stream
        headers = [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"http"),
            (b":path", path.encode()),
            (b":authority", authority.encode()),
            (b"sec-websocket-version", b"13"),
            *(extra or []),
        ]
        self.conn.send_headers(stream_id, headers)
        if early is not None:
            stream.ws.send_text(early.encode())
            stream._send_pending()
        self.flush()
        await asyncio.wait_for(asyncio.shield(stream.answered), 10)
        return stream

    async def request(self, headers: Fields, end: bool = True) -> tuple[int, bytes]:
        """Any other request (no body): (status, body)."""
        stream_id = self.conn.get_next_available_stream_id()
        done = asyncio.get_running_loop().create_future()
        self.plain[stream_id] = done
        self.conn.send_headers(stream_id, headers, end_stream=end)
        self.flush()
        return await asyncio.wait_for(done, 10)

    async def get(self, path: str, authority: str = "chat.example") -> tuple[int, bytes]:
        return await self.request(
            [
                (b":method", b"GET"),
                (b":scheme", b"http"),
                (b":path", path.encode()),
                (b":authority", authority.encode()),
            ]
        )

    # ---- sending with flow control
    def queue(self, stream_id: int, data: bytes) -> None:
        self.outgoing.setdefault(stream_id, deque()).append((data, 0))

    def queue_end(self, stream_id: int) -> None:
        self.outgoing.setdefault(stream_id, deque()).append(None)

    async def sent(self, stream_id: int, timeout: float = 30.0) -> None:
        """Until what is queued on the stream is handed to the socket."""
        async with asyncio.timeout(timeout):
            while True:
                self.send_queued()
                if not self.outgoing.get(stream_id):
                    return
                self.window.clear()
                await self.window.wait()

    def send_queued(self) -> None:
        for stream_id, chunks in self.outgoing.items():
            while chunks:
                piece = chunks[0]
                if piece is None:
                    chunks.popleft()
                    with contextlib.suppress(Exception):
                        self.conn.end_stream(stream_id)
                    continue
                data, offset = piece
                window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                self.conn.send_data(stream_id, data[offset : offset + window])
                if len(data) > offset + window:
                    chunks[0] = (data, offset + window)
                else:
                    chunks.popleft()
        self.flush()
        self.window.set()

    def reset_stream(self, stream_id: int) -> None:
        self.conn.reset_stream(stream_id)
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
