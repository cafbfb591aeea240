"""Transport behaviour: streaming both ways, chunked, HEAD, keep-alive reuse, mirror, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from portico.ir import RequestMirrorFilter, Timeouts
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule


async def serve(proxy: Any, *rules: Any) -> tuple[httpx.AsyncClient, Any]:
    port = free_port()
    runtime = await proxy([gateway(listener(port=port, rules=tuple(rules)))])
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10), runtime


async def test_large_bodies_stream_both_ways(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    client, _ = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)))
    async with client:
        big = await client.get("/bytes/3000000")
        chunked = await client.get("/chunked/1000000")

        async def upload() -> Any:
            for _ in range(64):
                yield b"y" * 16384

        posted = await client.post("/upload", content=upload())
    assert len(big.content) == 3_000_000 and big.headers["content-length"] == "3000000"
    assert len(chunked.content) == 1_000_000
    assert posted.json()["body"] == "y" * (64 * 16384)


async def test_head_and_no_body_statuses(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    client, _ = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)))
    async with client:
        head = await client.head("/bytes/100")
        after = await client.get("/status/204")
        again = await client.get("/")
    assert head.status_code == 200 and head.content == b""
    assert after.status_code == 204
    assert again.json()["method"] == "GET"
    assert a.stats.connections == 1


async def test_upstream_connections_are_reused(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    client, runtime = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)))
    async with client:
        for _ in range(50):
            assert (await client.get("/")).status_code == 200
    assert a.stats.requests == 50
    assert a.stats.connections == 1
    assert runtime.ctx.pools.stats.reused == 49


async def test_concurrent_clients_share_a_bounded_pool(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    client, _ = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)))
    async with client:
        for _ in range(5):
            results = await asyncio.gather(*(client.get(f"/{i}") for i in range(10)))
            assert all(r.status_code == 200 for r in results)
    assert a.stats.connections <= 10


async def test_mirror_gets_a_copy_and_never_affects_the_answer(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    main, shadow = await echo("main"), await echo("shadow")
    mirror = RequestMirrorFilter(backend=local_backend("shadow", shadow.port))
    half = RequestMirrorFilter(backend=local_backend("shadow", shadow.port), numerator=0, denominator=1)
    dead = RequestMirrorFilter(backend=local_backend("dead", free_port()))
    rules = (
        rule("m", match=prefix("/m"), backends=(local_backend("main", main.port),), filters=(mirror, dead)),
        rule("n", match=prefix("/n"), backends=(local_backend("main", main.port),), filters=(half,)),
    )
    client, _ = await serve(proxy, *rules)
    async with client:
        answer = await client.post("/m/1", content=b"payload")
        await client.get("/n/1")
    for _ in range(100):
        if shadow.stats.requests:
            break
        await asyncio.sleep(0.01)
    assert answer.json()["backend"] == "main"
    assert [s["path"] for s in shadow.stats.seen] == ["/m/1"]
    assert shadow.stats.seen[0]["body"] == "payload"


async def test_timeouts_answer_504(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    rules = (
        rule(
            "req",
            match=prefix("/delay/1000"),
            backends=(local_backend("a", a.port),),
            timeouts=Timeouts(request_ms=100),
        ),
        rule(
            "be",
            match=prefix("/delay/900"),
            backends=(local_backend("a", a.port),),
            timeouts=Timeouts(backend_request_ms=100),
        ),
        rule("ok", match=prefix("/"), backends=(local_backend("a", a.port),), timeouts=Timeouts(request_ms=0)),
    )
    client, _ = await serve(proxy, *rules)
    async with client:
        assert (await client.get("/delay/1000")).status_code == 504
        assert (await client.get("/delay/900")).status_code == 504
        assert (await client.get("/delay/50")).status_code == 200


async def test_dead_endpoint_is_skipped_before_sending(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    dead = free_port()
    client, _ = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("a", dead, a.port),)))
    async with client:
        codes = [(await client.get("/")).status_code for _ in range(6)]
    assert codes == [200] * 6
    gone, _ = await serve(proxy, rule("r", match=prefix("/"), backends=(local_backend("x", dead),)))
    async with gone:
        assert (await gone.get("/")).status_code == 502
