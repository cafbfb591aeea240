"""The parser boundary: malformed and oversized requests, slow clients, connection limits, fuzzing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico_proxy.context import Context, Limits
from portico_proxy.server_h1 import H1Server
from portico_proxy.tables import PortState, compile_gateways
from tests.proxy.builders import backend, free_port, gateway, listener, prefix, rule


async def exchange_raw(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data


async def start(proxy: Any, echo: Any, limits: Limits | None = None) -> int:
    a = await echo("a")
    port = free_port()
    await proxy([gateway(listener(port, rule("r", prefix("/"), (backend("a", a.port),))))], limits=limits)
    return port


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", b"431"),
        (b"\x16\x03\x01garbage\r\n\r\n", b"400"),
    ],
)
async def test_bad_requests_are_refused_and_closed(proxy, echo, payload: bytes, status: bytes) -> None:  # type: ignore[no-untyped-def]
    port = await start(proxy, echo)
    answer = await exchange_raw(port, payload)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b"connection: close" in answer.lower()


async def test_pipelined_requests_are_answered_in_order(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port = await start(proxy, echo)
    payload = b"".join(b"GET /delay/%d HTTP/1.1\r\nHost: x\r\n\r\n" % ms for ms in (50, 0, 20))
    answer = await exchange_raw(port, payload + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200") == 4
    paths = (b"/delay/50", b"/delay/0", b"/delay/20", b"/last")
    positions = [answer.index(b'"path": "' + p + b'"') for p in paths]
    assert positions == sorted(positions)


async def test_slow_header_gets_408_and_idle_closes(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port = await start(proxy, echo, Limits(header_timeout_s=0.2, idle_timeout_s=0.2))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 408")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # idle, never sent anything


async def test_connection_limit_refuses_gracefully(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port = await start(proxy, echo, Limits(max_connections=2))
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    await asyncio.sleep(0.05)
    refused = await exchange_raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 503")
    for _, writer in held:
        writer.close()


class _Transport(asyncio.Transport):
    """Collects what the server writes (the fuzz test drives the protocol without a socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.protocol: Any = None

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return False

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def pause_reading(self) -> None:
        return

    def resume_reading(self) -> None:
        return


REQUEST_PIECES = st.sampled_from(
    [
        b"GET ",
        b"POST ",
        b"/",
        b" HTTP/1.1\r\n",
        b"Host: x\r\n",
        b"Content-Length: 3\r\n",
        b"\r\n",
        b"abc",
        b"Transfer-Encoding: chunked\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"\x00",
        b":",
        b"\xff\xfe",
        b"PRI * HTTP/2.0",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.one_of(st.binary(max_size=64), REQUEST_PIECES), max_size=12))
def test_fuzzed_input_never_crashes_the_parser_boundary(chunks: list[bytes]) -> None:
    async def drive() -> None:
        tables = compile_gateways([gateway(listener(8080, rule("r", prefix("/"), (backend("none"),))))])
        server = H1Server(Context(), PortState(8080, tables[8080]), tls=False)
        transport = _Transport()
        transport.protocol = server
        server.connection_made(transport)
        for chunk in chunks:
            if transport.closed:
                break
            transport.protocol.data_received(chunk)
        transport.protocol.connection_lost(None)
        written = bytes(transport.written)
        assert written == b"" or written.startswith(b"HTTP/1.1 ") or written.startswith(b"\x00\x00")

    asyncio.run(drive())
