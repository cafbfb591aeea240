"""What the HTTP/2 client and server sides share: flow-controlled sending and header conversion."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from h2.connection import H2Connection
from h2.exceptions import FlowControlError, ProtocolError, StreamClosedError

from portico_proxy.filters import Headers

WINDOW = 1 << 20
CONNECTION_WINDOW = 1 << 24
H2_FORBIDDEN = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host"})


class H2Peer(asyncio.Protocol):
    """One HTTP/2 connection, either side: sends what h2 queued, returns flow-control credit."""

    h2: H2Connection
    transport: asyncio.Transport | None
    closed: bool

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.closed:
            self.transport.write(data)

    def acknowledge(self, stream_id: int, size: int) -> None:
        with contextlib.suppress(ProtocolError):
            self.h2.acknowledge_received_data(size, stream_id)


class Outbox:
    """Body bytes of one stream waiting for flow-control window, then an optional end."""

    __slots__ = ("chunks", "end", "end_sent", "size", "trailers")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.end = False
        self.end_sent = False
        self.trailers: Headers | None = None

    def push(self, data: bytes) -> None:
        if data:
            self.chunks.append(data)
            self.size += len(data)

    def flush(self, conn: H2Connection, stream_id: int) -> None:
        """Send what the windows allow; the end (or trailers) once every byte went out."""
        try:
            chunks = self.chunks
            while chunks:
                window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if window <= 0:
                    return
                chunk = chunks.popleft()
                if len(chunk) > window:
                    chunks.appendleft(chunk[window:])
                    chunk = chunk[:window]
                self.size -= len(chunk)
                conn.send_data(stream_id, chunk)
            if self.end and not self.end_sent:
                self.end_sent = True
                if self.trailers:
                    conn.send_headers(stream_id, self.trailers, end_stream=True)
                else:
                    conn.end_stream(stream_id)
        except (StreamClosedError, FlowControlError, ProtocolError, KeyError):
            self.chunks.clear()
            self.size = 0


def split_pseudo(headers: Headers) -> tuple[dict[bytes, bytes], Headers]:
    pseudo: dict[bytes, bytes] = {}
    regular: Headers = []
    for name, value in headers:
        if name.startswith(b":"):
            pseudo[name] = value
        else:
            regular.append((name, value))
    return pseudo, regular


def h2_safe(headers: Headers) -> Headers:
    """Drop connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2)."""
    return [(n, v) for n, v in headers if n not in H2_FORBIDDEN]
