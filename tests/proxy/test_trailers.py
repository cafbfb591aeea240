"""Trailers of a chunked HTTP/1.1 backend response reach HTTP/1.1 clients that take them (TE:
trailers) as a chunked trailer section, and HTTP/2 clients as a trailing HEADERS frame."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import h2.config
import h2.connection
import h2.events
import pytest

from tests.irs import free_port, gateway, listener, local_backend, prefix, rule

CHUNKED_WITH_TRAILERS = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: abc123\r\nx-count: 2\r\n\r\n"
)


class TrailerBackend:
    """Answers every request with a chunked body and two trailer fields; keeps each request head."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                self.heads.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(CHUNKED_WITH_TRAILERS)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def trailer_backend() -> AsyncIterator[tuple[TrailerBackend, int]]:
    app = TrailerBackend()
    server = await asyncio.start_server(app.serve, "127.0.0.1", 0)
    yield app, int(server.sockets[0].getsockname()[1])
    server.close()


async def _start(proxy, target: int) -> int:  # type: ignore[no-untyped-def]
    port = free_port()
    await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("t", target),)),)))]
    )
    return port


async def _h1(port: int, extra: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + extra + b"\r\n")
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_http1_client_that_takes_trailers_gets_them(proxy, trailer_backend) -> None:  # type: ignore[no-untyped-def]
    app, target = trailer_backend
    port = await _start(proxy, target)
    answer = await _h1(port, b"TE: trailers\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"\r\ntrailer:" not in head.lower()  # hop-by-hop: the proxy frames this hop itself
    assert body.endswith(b"0\r\nx-checksum: abc123\r\nx-count: 2\r\n\r\n")
    assert b"hello" in body and b" world" in body
    assert b"\r\nte: trailers\r\n" in app.heads[-1].lower()  # the proxy takes trailers from the backend


async def test_http1_client_without_te_gets_the_body_without_trailers(proxy, trailer_backend) -> None:  # type: ignore[no-untyped-def]
    _, target = trailer_backend
    port = await _start(proxy, target)
    answer = await _h1(port, b"")
    body = answer.partition(b"\r\n\r\n")[2]
    assert b"hello" in body and b" world" in body
    assert body.endswith(b"0\r\n\r\n") and b"x-checksum" not in body


async def test_http2_client_gets_trailers(proxy, trailer_backend) -> None:  # type: ignore[no-untyped-def]
    _, target = trailer_backend
    port = await _start(proxy, target)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    conn.send_headers(
        1, [(":method", "GET"), (":path", "/t"), (":scheme", "http"), (":authority", "a")], end_stream=True
    )
    writer.write(conn.data_to_send())
    body, trailers, ended = b"", None, False
    try:
        while not ended:
            data = await asyncio.wait_for(reader.read(65536), 5)
            assert data, "connection closed before the stream ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    trailers = dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
            writer.write(conn.data_to_send())
    finally:
        writer.close()
    assert body == b"hello world"
    assert trailers == {b"x-checksum": b"abc123", b"x-count": b"2"}
