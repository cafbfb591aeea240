"""The backend's response head forwarded as its field block (no response filter, HTTP/1.1 client)
frames and cleans responses exactly as the field-by-field path does (a route with a response filter)."""

from __future__ import annotations

import asyncio

import httpx

from portico.ir import HeaderModifier, HeaderValue, ResponseHeaderModifierFilter
from portico_proxy import h1_wire
from portico_proxy.h1_wire import STRIPPED_LIMIT, STRIPPED_MAX_BYTES, strip_hop_by_hop
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.test_http1_framing import ScriptedBackend

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "trailer", "te"}


def test_strip_removes_every_hop_by_hop_line_and_reports_framing() -> None:
    fields = (
        b"\r\nServer: s\r\nCONNECTION: keep-alive\r\nKeep-Alive: timeout=5\r\nTest: kept\r\nTE: trailers"
        b"\r\nContent-Length: 2\r\nupgrade: h2c\r\nX-Upgrade: kept\r\nTrailer: x\r\nProxy-Connection: close"
    )
    block, has_length, framed = strip_hop_by_hop(fields)
    assert block == b"Server: s\r\nTest: kept\r\nContent-Length: 2\r\nX-Upgrade: kept"
    assert has_length and framed

    block, has_length, framed = strip_hop_by_hop(b"\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nTransfer-Encoding: x")
    assert block == b"X-A: 1" and not has_length and framed

    assert strip_hop_by_hop(b"\r\nConnection: close") == (b"", False, False)
    assert strip_hop_by_hop(b"") == (b"", False, False)
    # A name that only starts like a framing field frames nothing.
    assert strip_hop_by_hop(b"\r\nContent-Lengthy: 3") == (b"Content-Lengthy: 3", False, False)


def test_stripped_blocks_are_remembered_within_bounds() -> None:
    fields = b"\r\nConnection: keep-alive\r\nX-Remembered: 1"
    first = strip_hop_by_hop(fields)
    assert strip_hop_by_hop(bytes(bytearray(fields))) is first  # an equal block, found again
    for index in range(STRIPPED_LIMIT + 10):
        assert strip_hop_by_hop(b"\r\nX-N: %d\r\nTE: x" % index) == (b"X-N: %d" % index, False, False)
    assert len(h1_wire._stripped) <= STRIPPED_LIMIT
    large = b"\r\nX-Large: " + b"v" * STRIPPED_MAX_BYTES
    assert strip_hop_by_hop(large) == (large[2:], False, False) and large not in h1_wire._stripped


LENGTH = b"HTTP/1.1 200 OK\r\nServer: s\r\nCONNECTION: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
LENGTH += b"Content-Length: 2\r\nX-Test: 1\r\n\r\nhi"
CHUNKED = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nTrailer: X-T\r\n\r\n"
CHUNKED += b"2\r\nok\r\n0\r\nX-T: t\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-H: 1\r\n\r\n"
INTERIM = b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + LENGTH
# Indexed by the request's number on the one backend connection: each answer once raw, once filtered.
ANSWERS = (LENGTH, LENGTH, CHUNKED, CHUNKED, HEAD, HEAD, INTERIM, INTERIM)


def same_fields(raw: httpx.Response, filtered: httpx.Response) -> None:
    assert filtered.headers["x-via"] == "filter" and "x-via" not in raw.headers
    assert raw.status_code == filtered.status_code
    assert raw.content == filtered.content
    names = {name.lower() for name in raw.headers} - {"date"}
    assert names == {name.lower() for name in filtered.headers} - {"date", "x-via"}
    assert not names & (HOP_BY_HOP - {"transfer-encoding"})
    for name in names:
        assert raw.headers[name] == filtered.headers[name]


async def test_raw_and_field_heads_frame_alike_on_one_backend_connection(proxy) -> None:  # type: ignore[no-untyped-def]
    async def script(writer: asyncio.StreamWriter, index: int) -> None:
        writer.write(ANSWERS[index])

    upstream = await ScriptedBackend(script).start()
    port = free_port()
    via = ResponseHeaderModifierFilter(modifier=HeaderModifier(add=(HeaderValue(name="X-Via", value="filter"),)))
    filtered = rule("f", match=prefix("/filtered"), backends=(local_backend("a", upstream.port),), filters=(via,))
    plain = rule("p", match=prefix("/"), backends=(local_backend("a", upstream.port),))
    await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(
                        filtered,
                        plain,
                    ),
                )
            )
        ]
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        pairs = []
        for method in ("GET", "GET", "HEAD", "GET"):
            pairs.append((await client.request(method, "/"), await client.request(method, "/filtered")))
    await upstream.stop()
    for raw, with_filter in pairs:
        same_fields(raw, with_filter)
    length, chunked, head, interim = (raw for raw, _ in pairs)
    assert length.headers["content-length"] == "2" and length.headers["x-test"] == "1"
    assert "te" not in length.headers and "keep-alive" not in length.headers
    # Re-chunked for this hop; the backend's trailer field is not forwarded.
    assert chunked.status_code == 201 and chunked.content == b"ok" and chunked.headers["transfer-encoding"] == "chunked"
    assert head.headers["content-length"] == "5" and head.content == b""
    assert interim.content == b"hi" and "x-interim" not in interim.headers
    # Every answer came on one backend connection, whichever way its head was read.
    assert upstream.connections == 1


async def test_close_delimited_body_is_rechunked(proxy) -> None:  # type: ignore[no-untyped-def]
    async def script(writer: asyncio.StreamWriter, index: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-A: 1\r\n\r\nabc")
        await writer.drain()
        writer.close()

    upstream = await ScriptedBackend(script).start()
    port = free_port()
    await proxy(
        [
            gateway(
                listener(
                    port=port, rules=(rule("p", match=prefix("/"), backends=(local_backend("a", upstream.port),)),)
                )
            )
        ]
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    body = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 5)
    writer.close()
    await upstream.stop()
    assert head.startswith(b"HTTP/1.1 200 ") and b"X-A: 1\r\n" in head
    assert b"transfer-encoding: chunked\r\n" in head and b"onnection: close" not in head
    assert body == b"3\r\nabc\r\n0\r\n\r\n"
