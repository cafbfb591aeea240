"""HTTP/2 abuse against a real `portico proxy` process: rapid reset, CONTINUATION flood, SETTINGS and
PING floods, zero windows, stream limits. Each attack is bounded in count and time; during or after
it, ordinary requests must still be answered and the process's RSS must stay within a bound (the
defects this guards against took it from about 45 MiB to 0.6-1 GiB)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hyperframe.frame import DataFrame

from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.echo_backend import EchoBackend
from tests.proxy.h2raw import ENHANCE_YOUR_CALM, REFUSED_STREAM, RawH2, answered, goaway_code, resets
from tests.proxy.proxy_process import ProxyProcess, proxy_process

RSS_GROWTH_MIB = 64  # above the RSS measured after warm-up
# 500 stalled streams each hold at most one backend read and 64 KiB (measured 42-52 MiB on a loaded
# 2-core machine; 444 MiB before the per-stream bound).
ZERO_WINDOW_GROWTH_MIB = 96


@pytest.fixture
async def served(echo, tmp_path: Path) -> AsyncIterator[tuple[ProxyProcess, EchoBackend]]:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port, admin = free_port(), free_port()
    ir = gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))
    async with proxy_process(tmp_path, ir, port, admin) as proc:
        await legit(proc.port)  # warm-up: pools, code paths, allocator arenas
        yield proc, a


async def legit(port: int) -> None:
    """Ordinary HTTP/2 and HTTP/1.1 requests on new connections are answered."""
    async with httpx.AsyncClient(http1=False, http2=True, timeout=10) as h2:
        responses = await asyncio.gather(*(h2.get(f"http://127.0.0.1:{port}/ok/{i}") for i in range(4)))
    async with httpx.AsyncClient(timeout=10) as h1:
        responses.append(await h1.get(f"http://127.0.0.1:{port}/ok/h1"))
    assert [r.status_code for r in responses] == [200] * 5


async def test_rapid_reset_is_stopped_without_backend_work(served) -> None:  # type: ignore[no-untyped-def]
    proc, echo = served
    base, requests_before = proc.rss_mib(), echo.stats.requests
    client = await RawH2.connect(proc.port)
    reading = asyncio.create_task(client.frames(timeout=5))
    sent = 0
    try:
        for _ in range(100):  # up to 20k HEADERS+RST_STREAM pairs, 200 per write
            batch = []
            for _ in range(200):
                stream_id, frame = client.headers(b"/slow")
                batch += (frame, client.reset(stream_id))
            await client.send(b"".join(batch))
            sent += 200
    except ConnectionError:
        pass  # closed by the proxy, as it should be
    frames = await reading
    client.close()
    assert goaway_code(frames) == ENHANCE_YOUR_CALM
    assert sent < 20000 or frames  # it stopped the connection, it did not just drop it
    assert echo.stats.requests - requests_before < 50  # reset streams never reached the backend
    await legit(proc.port)
    assert proc.rss_mib() - base < RSS_GROWTH_MIB


async def test_streams_over_the_limit_are_refused_one_by_one(served) -> None:  # type: ignore[no-untyped-def]
    proc, _ = served
    client = await RawH2.connect(proc.port)
    ids = []
    frames_out = []
    for _ in range(300):
        stream_id, frame = client.headers(b"/delay/300")
        ids.append(stream_id)
        frames_out.append(frame)
    await client.send(b"".join(frames_out))
    frames = await client.frames(timeout=2)
    # The connection lives on: one more request is answered.
    last, frame = client.headers(b"/after")
    await client.send(frame)
    frames += await client.frames(timeout=2)
    client.close()
    refused = resets(frames, REFUSED_STREAM)
    assert len(answered(frames) & set(ids)) == 100
    assert refused == set(ids) - answered(frames)
    assert last in answered(frames)
    assert goaway_code(frames) is None


async def test_continuation_flood_closes_the_connection(served) -> None:  # type: ignore[no-untyped-def]
    proc, _ = served
    base = proc.rss_mib()
    client = await RawH2.connect(proc.port)
    stream_id, frame = client.headers(b"/", end_headers=False)
    filler = client.continuation(stream_id, b"\x00" * 16000)
    try:
        await client.send(frame)
        for _ in range(200):  # up to 3.2 MB of header block that never ends
            await client.send(filler)
    except ConnectionError:
        pass
    frames = await client.frames(timeout=5)
    client.close()
    assert goaway_code(frames) is not None
    await legit(proc.port)
    assert proc.rss_mib() - base < RSS_GROWTH_MIB


@pytest.mark.parametrize("flood", ["ping", "settings"])
async def test_control_frame_floods_are_stopped(served, flood: str) -> None:  # type: ignore[no-untyped-def]
    proc, _ = served
    base = proc.rss_mib()
    client = await RawH2.connect(proc.port)
    one = client.ping(7) if flood == "ping" else client.settings({4: 65535})
    try:
        for _ in range(20):  # up to 20k frames; the client never reads the acknowledgements
            await client.send(one * 1000)
    except ConnectionError:
        pass
    frames = await client.frames(timeout=5)
    client.close()
    assert goaway_code(frames) == ENHANCE_YOUR_CALM
    await legit(proc.port)
    assert proc.rss_mib() - base < RSS_GROWTH_MIB


async def test_zero_window_streams_keep_memory_bounded(served) -> None:  # type: ignore[no-untyped-def]
    proc, _ = served
    base = proc.rss_mib()
    clients = []
    for _ in range(5):  # 5 connections x 100 streams, each asking for 2 MB through a closed window
        client = await RawH2.connect(proc.port, {4: 0})
        await client.send(b"".join(client.headers(b"/bytes/2000000")[1] for _ in range(100)))
        clients.append(client)
    await asyncio.sleep(1.5)  # the backends send; nothing can leave; memory is the question
    grown = proc.rss_mib() - base
    await legit(proc.port)
    frames = await clients[0].frames(timeout=0.5)
    for client in clients:
        client.close()
    assert grown < ZERO_WINDOW_GROWTH_MIB
    assert len(answered(frames)) == 100  # the heads went out; the bodies wait for window
    assert not any(isinstance(f, DataFrame) and f.data for f in frames)
