"""Slow readers of large responses over HTTP/1.1 against a real `portico proxy` process: the backend is
read only as fast as each client takes the bytes, so memory stays bounded (400 such readers took the
proxy to 507 MiB before)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.proxy_process import proxy_process

READERS = 200
RESPONSE_BYTES = 8_000_000
RSS_GROWTH_MIB = 64


async def test_slow_http1_readers_keep_memory_bounded(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port, admin = free_port(), free_port()
    ir = gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))
    async with proxy_process(tmp_path, ir, port, admin) as proc:
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/warm")).status_code == 200
        base = proc.rss_mib()
        held = []
        for _ in range(READERS):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
            writer.transport.set_write_buffer_limits(0)  # type: ignore[attr-defined]
            writer.write(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % RESPONSE_BYTES)
            reader._transport.pause_reading()  # type: ignore[attr-defined]  # a client that stops reading
            held.append(writer)
        await asyncio.sleep(2)  # every backend has sent what its socket takes; nothing moves on
        grown = proc.rss_mib() - base
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/still-serving")).status_code == 200
        for writer in held:
            writer.close()
    assert grown < RSS_GROWTH_MIB, grown
