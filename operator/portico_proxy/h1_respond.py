"""The Responder half of an HTTP/1.1 client connection: a response head, body and end for the
active exchange, in order, through the write batch; and the switch to a tunnel after a 101."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from portico_proxy.filters import Headers
from portico_proxy.messages import status_line
from portico_proxy.tunnel import splice

if TYPE_CHECKING:
    from portico_proxy.batch import WriteBatch
    from portico_proxy.context import Context
    from portico_proxy.exchange import Exchange

NO_BODY_STATUSES = (204, 304)
JOIN_FIELD = b": ".join  # (name, value) -> b"name: value", bound once


class H1Responses:
    """Mixed into H1Server, which owns these fields and calls back `_response_done`."""

    ctx: Context
    writes: WriteBatch
    transport: asyncio.Transport | None
    closed: bool
    chunked: bool
    head_only: bool
    pending_head: bytes
    active: Exchange | None
    active_keep_alive: bool
    upgrading: Exchange | None
    tunnel_early: bytes | None
    paused_by_exchange: bool
    paused_by_queue: bool

    def _response_done(self) -> None:
        """The response of the active exchange is complete (H1Server moves on to the next request)."""

    def send_head(self, status: int, headers: Headers, end: bool, has_length: bool | None = None) -> None:
        if self.transport is None or self.closed:
            return
        block = b"\r\n".join(map(JOIN_FIELD, headers))
        if has_length is None:
            # Names are lower case inside the proxy and values hold no CR or LF, so a field is found
            # by its name at the start of a line.
            if b"transfer-encoding:" in block:
                # The framing of this hop is the proxy's own; drop any the response carried.
                block = b"\r\n".join([JOIN_FIELD(item) for item in headers if item[0] != b"transfer-encoding"])
            has_length = block.startswith(b"content-length:") or b"\r\ncontent-length:" in block
        self._send_head(status, block, end, has_length)

    def send_head_block(self, status: int, block: bytes, has_length: bool) -> None:
        if self.transport is not None and not self.closed:
            self._send_head(status, block, False, has_length)

    def _send_head(self, status: int, block: bytes, end: bool, framed: bool) -> None:
        transport = self.transport
        assert transport is not None
        self.chunked = False
        extra = b""
        if not (framed or self.head_only or status in NO_BODY_STATUSES or status < 200):
            if end:
                extra = b"content-length: 0\r\n"
            elif self.active is not None and self.active.head.version == b"1.1":
                self.chunked = True
                extra = b"transfer-encoding: chunked\r\n"
            else:
                self.active_keep_alive = False
        if not self.active_keep_alive:
            extra += b"connection: close\r\n"
        if block:
            head = b"%s%s\r\n%s\r\n" % (status_line(status), block, extra)
        else:
            head = status_line(status) + extra + b"\r\n"
        if end:
            self.writes.write(transport, head)
            self._response_done()
        else:
            # Held back so the body (or its first part) leaves in the same write; the exchange calls
            # flush() once the backend has no more bytes for now.
            self.pending_head = head

    def flush(self) -> None:
        head = self.pending_head
        if head:
            self.pending_head = b""
            if self.transport is not None and not self.closed:
                self.writes.write(self.transport, head)

    def send_data(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or self.head_only or not data:
            return
        head, self.pending_head = self.pending_head, b""
        # One write per call: uvloop's writelines would try a send per piece.
        if self.chunked:
            self.writes.write(transport, b"".join((head, b"%x\r\n" % len(data), data, b"\r\n")))
        elif head:
            self.writes.write(transport, head + data)
        else:
            self.writes.write(transport, data)

    def send_end(self, trailers: Headers | None) -> None:
        head, self.pending_head = self.pending_head, b""
        if self.chunked:
            lines = b"".join(n + b": " + v + b"\r\n" for n, v in trailers or ())
            head += b"0\r\n" + lines + b"\r\n"
        if head and self.transport is not None:
            self.writes.write(self.transport, head)
        self._response_done()

    def abort(self) -> None:
        if self.transport is not None:
            self.writes.close(self.transport)

    def switch_protocols(self, headers: Headers, backend: asyncio.Transport, rest: bytes) -> None:
        """101 from the backend: this connection stops being HTTP and becomes one side of a tunnel."""
        transport, early = self.transport, self.tunnel_early
        if transport is None or self.closed or early is None:
            backend.close()
            return
        self.active = self.upgrading = None
        self.closed = True  # this protocol object is done; the tunnel owns the socket now
        self.tunnel_early = None
        block = b"".join([JOIN_FIELD(item) + b"\r\n" for item in headers])
        self.writes.write(transport, status_line(101) + block + b"\r\n")
        self.ctx.connections.discard(self)  # the tunnel's client side takes its place (and its count)
        splice(self.ctx, transport, backend, rest, early)

    def pause_source(self) -> None:
        if not self.paused_by_exchange and self.transport is not None:
            self.paused_by_exchange = True
            if not self.paused_by_queue:
                self.transport.pause_reading()

    def resume_source(self) -> None:
        if self.paused_by_exchange and self.transport is not None:
            self.paused_by_exchange = False
            if not self.paused_by_queue and not self.closed:
                self.transport.resume_reading()
