"""Protocol strictness at the client boundary: what cannot be forwarded faithfully is answered, not
passed on or dropped (transfer codings, upgrade pipelining, CONNECT, asterisk-form, HTTP/2.0 over
HTTP/1, malformed HTTP/2 pseudo-headers, HTTP/2 header count, HTTP/1.0 without Host, a body that
turns malformed after the head was forwarded)."""

from __future__ import annotations

import asyncio

import pytest
from hyperframe.frame import HeadersFrame

from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.h2raw import RawH2, resets, statuses

PROTOCOL_ERROR = 1


async def start(proxy, echo) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port = free_port()
    await proxy(
        [
            gateway(
                listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("app", app.port),)),))
            )
        ]
    )
    return port, app


async def raw(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", b"501"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", b"501"),
        (b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", b"405"),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", b"505"),
    ],
)
async def test_requests_that_cannot_be_forwarded_are_answered(proxy, echo, payload: bytes, status: bytes) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    answer = await raw(port, payload)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:60]
    assert app.stats.requests == 0  # type: ignore[attr-defined]


async def test_a_request_pipelined_behind_an_upgrade_is_served(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, _ = await start(proxy, echo)
    upgrade = b"GET /first HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
    answer = await raw(port, upgrade + b"GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200") == 2
    assert answer.index(b'"/first"') < answer.index(b'"/second"')


async def test_http10_without_host_gets_the_endpoint_as_host(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    answer = await raw(port, b"GET /old HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    assert app.stats.seen[-1]["headers"]["host"] == f"127.0.0.1:{app.port}"  # type: ignore[attr-defined]


async def test_a_body_malformed_after_the_head_was_forwarded_gets_400(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, _ = await start(proxy, echo)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    await asyncio.sleep(0.1)  # the head is forwarded; the body goes bad afterwards
    writer.write(b"zz\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400")


async def test_http2_malformed_pseudo_headers_and_too_many_fields(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    client = await RawH2.connect(port)
    spaced, frame1 = client.headers(b"/a b")
    tabbed, frame2 = client.headers(b"/x", method=b"GE\tT")
    crowded, frame3 = client.headers(b"/x", extra=tuple((b"x-%d" % i, b"v") for i in range(150)))
    connect, client.next_id = client.next_id, client.next_id + 2  # CONNECT carries no :scheme or :path
    block = client.encoder.encode([(b":method", b"CONNECT"), (b":authority", b"a.example:443")])
    frame4 = HeadersFrame(connect, block, flags=["END_STREAM", "END_HEADERS"]).serialize()
    fine, frame5 = client.headers(b"/fine")
    await client.send(frame1 + frame2 + frame3 + frame4 + frame5)
    frames = await client.frames(timeout=1)
    client.close()
    assert resets(frames, PROTOCOL_ERROR) >= {spaced, tabbed}
    got = statuses(frames)
    assert (got.get(crowded), got.get(connect), got.get(fine)) == (431, 405, 200)
    assert [seen["path"] for seen in app.stats.seen] == ["/fine"]  # type: ignore[attr-defined]
