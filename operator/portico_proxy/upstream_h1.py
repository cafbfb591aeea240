"""An HTTP/1.1 connection to one backend endpoint, reused through its pool (keep-alive)."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, cast

import httptools

from portico_proxy.filters import Headers
from portico_proxy.h1_wire import (
    RESPONSE_SPECIAL,
    UPSTREAM_RCVBUF,
    encode_request_head,
    hop_fields,
    set_nodelay,
    strip_hop_by_hop,
)
from portico_proxy.sink import OutgoingRequest, UpstreamSink

if TYPE_CHECKING:
    from portico_proxy.pool import EndpointPool


class UnexpectedBytes(Exception):
    """The backend sent a message (or part of one) no request asked for."""


class RawHeadCallbacks:
    """What the raw-head parser calls: an UpstreamH1's callbacks, without on_header (so httptools
    makes no Python call per field)."""

    __slots__ = ("on_body", "on_headers_complete", "on_message_begin", "on_message_complete")

    def __init__(self, upstream: UpstreamH1) -> None:
        self.on_message_begin = upstream.on_message_begin
        self.on_headers_complete = upstream.on_raw_head
        self.on_body = upstream.on_body
        self.on_message_complete = upstream.on_message_complete


class UpstreamH1(asyncio.Protocol):
    __slots__ = (
        "chunked",
        "closed",
        "field_parser",
        "framed",
        "has_length",
        "head_data",
        "head_finished",
        "head_only",
        "headers",
        "in_flight",
        "keep_alive",
        "parser",
        "pool",
        "pooled",
        "raw",
        "raw_parser",
        "reading_paused",
        "received",
        "request_done",
        "responding",
        "reusable",
        "reused",
        "sink",
        "status",
        "switched",
        "transport",
        "upgrade",
        "upgrade_value",
        "write_paused",
        "writes",
    )

    def __init__(self, pool: EndpointPool) -> None:
        self.pool = pool
        self.writes = pool.writes
        self.transport: asyncio.Transport | None = None
        # Two parsers, one per way of reading a head; a request picks one before it is sent, when the
        # previous response is complete (the parser holds no state between messages then).
        self.field_parser = httptools.HttpResponseParser(self)
        self.raw_parser = httptools.HttpResponseParser(RawHeadCallbacks(self))
        self.parser = self.field_parser
        self.raw = False
        self.head_data = b""  # with the raw parser: what the backend sent since the head began
        self.sink: UpstreamSink | None = None
        self.headers: Headers = []
        self.status = 0
        self.keep_alive = False
        self.framed = True
        self.has_length = False
        self.head_only = False
        self.chunked = False
        self.request_done = False
        self.responding = False
        self.reading_paused = False
        self.write_paused = False
        self.closed = False
        self.reused = False
        # One owner at a time: a request (in_flight), the pool (pooled), or nobody (closing).
        self.in_flight = False
        self.pooled = False
        self.reusable = False  # the response just completed left the connection fit for another
        self.received = False  # any byte of the current response arrived
        self.head_finished = False  # a HEAD response ended at its head; its parser may still end it
        self.upgrade = b""  # the request in flight asks to switch to these protocols
        self.upgrade_value = b""  # the Upgrade field of the response
        self.switched: Headers | None = None  # the head of a 101 answering `upgrade`

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.pool.stats.sockets += 1
        set_nodelay(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A fixed receive buffer: with autotuning, one read of a fast backend could take several
            # hundred KiB into memory before a slow client's backpressure pauses it (slow-reader
            # tests: 140-190 MiB for 200 readers, 25 MiB with this).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UPSTREAM_RCVBUF)

    def data_received(self, data: bytes) -> None:
        if not self.in_flight:
            # Bytes no request asked for (an idle pooled connection, or after a complete response):
            # the connection is out of step with its requests and is never reused.
            self._fail("backend sent data with no request in flight")
            return
        self.received = True
        if self.raw:
            self.head_data += data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if self.switched is not None:
                self._switch(data[upgrade.args[0] :] if upgrade.args else b"")
                return
            self.in_flight = False
            self._fail("backend switched protocols unasked")
            return
        except httptools.HttpParserError as exc:
            # Callback errors too: UnexpectedBytes arrives wrapped in HttpParserCallbackError.
            self.in_flight = False
            self._fail(f"invalid response from backend: {exc.__context__ or exc}")
            return
        if self.reusable:
            # Released only now that every byte of this read was parsed: a response complete in the
            # middle of a read never hands the connection on while more bytes are still to come.
            self.reusable = False
            if self.reading_paused:
                # A connection paused by backpressure must read again, or its next request stalls.
                self.resume_reading()
            self.pool.release(self)
        elif self.sink is not None:
            self.sink.upstream_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.in_flight = self.reusable = False
        self.pool.stats.sockets -= 1
        self.pool.forget(self)
        sink = self.sink
        if sink is None:
            return
        if self.responding and not self.framed:
            # Close-delimited body: the end of the connection is the end of the response.
            self.sink = None
            sink.upstream_response_end(None)
            return
        self.sink = None
        # A reused connection closed before any byte of the answer: the backend dropped it while
        # it was idle (a keep-alive race), so the request may be tried again on a fresh one.
        stale = self.reused and not self.received
        sink.upstream_error(not stale, "backend closed the connection")

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.sink is not None:
            self.sink.upstream_write_paused()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.sink is not None:
            self.sink.upstream_write_resumed()

    # --- httptools callbacks (the fields of a response are reset by send_request and after a 1xx)
    def on_message_begin(self) -> None:
        if not self.in_flight:
            raise UnexpectedBytes("backend sent more data than the response announced")

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in RESPONSE_SPECIAL:
            if name == b"content-length":
                self.framed = self.has_length = True
            elif name == b"upgrade":
                self.upgrade_value = value
                return
            else:
                if name == b"transfer-encoding":
                    self.framed = True
                return  # hop-by-hop
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        status = parser.get_status_code()
        self.status = status
        if status < 200:
            if status == 101 and self.upgrade and self.upgrade_value:
                # The tunnel starts where the parser stops (HttpParserUpgrade in data_received).
                self.switched = [*self.headers, (b"connection", b"upgrade"), (b"upgrade", self.upgrade_value)]
            self.headers = []
            self.framed = self.has_length = False
            return
        # should_keep_alive() is only reliable inside a callback.
        self.keep_alive = parser.should_keep_alive()
        if status in (204, 304) or self.head_only:
            self.framed = True
        self.responding = True
        # The list goes to the sink; trailer fields, if any, land in a fresh one that is dropped.
        headers, self.headers = self.headers, []
        if self.sink is not None:
            self.sink.upstream_response_head(status, headers, self.has_length)
        if self.head_only:
            self._complete()

    def on_raw_head(self) -> None:
        """on_headers_complete of the raw parser: the head is the start of `head_data`."""
        data = self.head_data
        end = data.find(b"\r\n\r\n")
        parser = self.raw_parser
        status = parser.get_status_code()
        self.status = status
        if status < 200:
            self.head_data = data[end + 4 :]
            return
        self.raw = False
        self.head_data = b""
        self.keep_alive = parser.should_keep_alive()
        block, has_length, framed = strip_hop_by_hop(data[data.find(b"\r\n") : end])
        self.framed = framed or status in (204, 304) or self.head_only
        self.responding = True
        if self.sink is not None:
            self.sink.upstream_response_block(status, block, has_length)
        if self.head_only:
            self._complete()

    def on_body(self, body: bytes) -> None:
        if not self.in_flight:
            raise UnexpectedBytes("backend sent a body after a complete response")
        if self.sink is not None:
            self.sink.upstream_response_body(body)

    def on_message_complete(self) -> None:
        if self.head_finished:
            self.head_finished = False  # the end of a HEAD response without body bytes
            return
        if not self.in_flight:
            raise UnexpectedBytes("backend sent a body after a complete response")
        if self.status < 200:
            return
        self.keep_alive = self.keep_alive and self.parser.should_keep_alive()
        self._complete()

    # --- Upstream interface
    def send_request(self, sink: UpstreamSink, request: OutgoingRequest) -> None:
        assert self.transport is not None
        self.in_flight = True
        self.received = self.head_finished = False
        self.sink = sink
        self.responding = False
        if self.headers:
            self.headers = []
        self.framed = self.has_length = False
        self.head_only = request.head_only
        self.upgrade = request.upgrade
        self.raw = request.raw_response
        self.head_data = b""
        self.parser = self.raw_parser if self.raw else self.field_parser
        self.chunked = request.has_body and request.content_length is None
        self.request_done = not request.has_body
        endpoint = b"" if request.authority else b"%s:%d" % (self.pool.host.encode(), self.pool.port)
        head = encode_request_head(request, self.chunked, endpoint)
        if request.upgrade or request.te_trailers:
            head = head[:-2] + hop_fields(request) + b"\r\n"  # before the blank line that ends the head
        self.writes.write(self.transport, head)
        if self.write_paused:
            sink.upstream_write_paused()

    def send_body(self, data: bytes) -> None:
        if self.transport is None or self.closed or not data:
            return
        if self.chunked:
            self.writes.write(self.transport, b"".join((b"%x\r\n" % len(data), data, b"\r\n")))
        else:
            self.writes.write(self.transport, data)

    def end_body(self) -> None:
        self.request_done = True
        if self.chunked and self.transport is not None and not self.closed:
            self.writes.write(self.transport, b"0\r\n\r\n")

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()

    def abort(self) -> None:
        self.sink = None
        self.close()

    def close(self) -> None:
        self.closed = True
        self.in_flight = self.reusable = False
        self.pool.forget(self)
        if self.transport is not None:
            self.writes.close(self.transport)

    # --- internals
    def _complete(self) -> None:
        if not self.in_flight:
            raise UnexpectedBytes("backend sent a response no request asked for")
        self.in_flight = False
        sink = self.sink
        self.sink = None
        self.responding = False
        # Fields parsed after the head are the trailers of a chunked response (field parser only).
        trailers = self.headers or None
        if trailers:
            self.headers = []
        if self.head_only:
            # A response to HEAD announces a body that never comes: the next one needs a fresh parser.
            if self.parser is self.raw_parser:
                self.raw_parser = self.parser = httptools.HttpResponseParser(RawHeadCallbacks(self))
            else:
                self.field_parser = self.parser = httptools.HttpResponseParser(self)
            self.head_only = False
            self.head_finished = True
        if self.keep_alive and self.request_done and not self.closed:
            self.reusable = True  # released by data_received once this read is fully parsed
        else:
            self.close()
        if sink is not None:
            sink.upstream_response_end(trailers)

    def _switch(self, rest: bytes) -> None:
        """101 to our Upgrade: the connection leaves the pool for good and goes to the sink."""
        headers, self.switched = self.switched, None
        sink, self.sink = self.sink, None
        self.in_flight = self.reusable = False
        self.closed = True  # as far as the pool is concerned; the socket lives on in the tunnel
        self.pool.forget(self)
        transport = self.transport
        assert headers is not None and transport is not None
        if self.reading_paused:
            self.reading_paused = False
        if sink is None:
            transport.close()  # connection_lost counts the socket out
            return
        transport.pause_reading()  # until the tunnel takes it
        sink.upstream_switched(headers, transport, rest)

    def _fail(self, message: str) -> None:
        sink = self.sink
        self.sink = None
        self.close()
        if sink is not None:
            sink.upstream_error(True, message)
