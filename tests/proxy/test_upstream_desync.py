"""Pooled upstream connections never carry one client's response to another (issue: response desync).

A backend that sends more than it announced (a stray whole response right after the body, or later
while the connection sits idle in the pool) must lose that connection; every client must still get
exactly its own response. (A stray that arrives after the connection was handed to the next request
cannot be told from that request's answer, by any proxy: the load test sends its strays in the same
write as the body, and the idle case is tested alone.)
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from portico.ir import HeaderModifier, HeaderValue, ResponseHeaderModifierFilter
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.raw_backend import EXTRA_DELAY_S, RawBackend

CLIENTS = 24
REQUESTS_PER_CLIENT = 6
FAULTY_CLIENTS = 6


@pytest.fixture
async def raw() -> AsyncIterator[RawBackend]:
    server = await RawBackend().start()
    yield server
    await server.stop()


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


async def client(port: int, paths: list[bytes]) -> list[tuple[bytes, bytes]]:
    """One keep-alive connection, one request at a time: (path asked, body received) per request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seen = []
    try:
        for path in paths:
            writer.write(b"GET %s HTTP/1.1\r\nHost: a.example\r\n\r\n" % path)
            _, body = await asyncio.wait_for(read_response(reader), 10)
            seen.append((path, body))
    finally:
        writer.close()
    return seen


async def start_two_paths(proxy, raw: RawBackend) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A port whose responses pass as raw blocks and one whose responses go through a filter, both
    drawing on the same endpoint pool."""
    plain, filtered = free_port(), free_port()
    via = ResponseHeaderModifierFilter(modifier=HeaderModifier(add=(HeaderValue(name="X-Via", value="f"),)))
    await proxy(
        [
            gateway(
                listener(
                    port=plain, rules=(rule("plain", match=prefix("/"), backends=(local_backend("raw", raw.port),)),)
                ),
                listener(
                    port=filtered,
                    rules=(
                        rule("filtered", match=prefix("/"), backends=(local_backend("raw", raw.port),), filters=(via,)),
                    ),
                    name="f",
                ),
            )
        ]
    )
    return plain, filtered


async def test_every_client_gets_its_own_response_while_faulty_exchanges_share_the_pool(proxy, raw) -> None:  # type: ignore[no-untyped-def]
    ports = await start_two_paths(proxy, raw)
    port_of = itertools.cycle(ports)
    good = [
        client(next(port_of), [b"/id/c%d-r%d" % (c, r) for r in range(REQUESTS_PER_CLIENT)]) for c in range(CLIENTS)
    ]
    faulty = [
        client(
            next(port_of),
            [b"/extra-now/f%d-r%d" % (c, r) for r in range(REQUESTS_PER_CLIENT)],
        )
        for c in range(FAULTY_CLIENTS)
    ]
    results = await asyncio.wait_for(asyncio.gather(*good, *faulty), 60)
    for seen in results:
        for path, body in seen:
            assert body == path.rsplit(b"/", 1)[1], (path, body)


@pytest.mark.parametrize("filtered", [False, True])
@pytest.mark.parametrize("fault", [b"extra-now", b"extra-later"])
async def test_a_connection_that_sent_extra_bytes_is_never_reused(proxy, raw, fault: bytes, filtered: bool) -> None:  # type: ignore[no-untyped-def]
    port = (await start_two_paths(proxy, raw))[filtered]
    assert await client(port, [b"/%s/first" % fault]) == [(b"/%s/first" % fault, b"first")]
    await asyncio.sleep(EXTRA_DELAY_S * 3)  # let a late stray response reach the idle connection
    # Two requests at once: with the connection pooled twice, both would be sent on it.
    second, third = await asyncio.gather(client(port, [b"/id/second"]), client(port, [b"/id/third"]))
    assert second == [(b"/id/second", b"second")]
    assert third == [(b"/id/third", b"third")]
    assert raw.connections == 3  # the faulty connection was dropped, not reused


async def test_release_to_the_pool_is_idempotent(proxy, raw) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    runtime = await proxy(
        [
            gateway(
                listener(
                    port=port, rules=(rule("plain", match=prefix("/"), backends=(local_backend("raw", raw.port),)),)
                )
            )
        ]
    )
    assert await client(port, [b"/id/warm"]) == [(b"/id/warm", b"warm")]
    pool = runtime.ctx.pools.h1("127.0.0.1", raw.port)  # plain HTTP: no TLS setting
    assert len(pool.idle) == 1
    conn = pool.idle[0]
    pool.release(conn)
    pool.release(conn)
    assert pool.idle == [conn]


@pytest.mark.parametrize(("method", "retried"), [(b"GET", True), (b"DELETE", True), (b"POST", False)])
async def test_a_stale_pooled_connection_is_retried_once_for_idempotent_requests_only(  # type: ignore[no-untyped-def]
    proxy, raw, method: bytes, retried: bool
) -> None:
    port = free_port()
    await proxy(
        [
            gateway(
                listener(
                    port=port, rules=(rule("plain", match=prefix("/"), backends=(local_backend("raw", raw.port),)),)
                )
            )
        ]
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /id/warm HTTP/1.1\r\nHost: a\r\n\r\n")
    assert (await asyncio.wait_for(read_response(reader), 10))[1] == b"warm"
    writer.write(b"%s /stale/again HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" % method)
    head, body = await asyncio.wait_for(read_response(reader), 10)
    writer.close()
    attempts = [line for line in raw.requests if b"/stale/" in line]
    if retried:
        assert head.startswith(b"HTTP/1.1 200") and body == b"again"
        assert len(attempts) == 2
    else:
        assert head.startswith(b"HTTP/1.1 502")
        assert len(attempts) == 1
