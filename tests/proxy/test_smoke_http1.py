from __future__ import annotations

import httpx

from tests.irs import free_port, gateway, listener, local_backend, prefix, rule


async def test_routes_by_path_and_reuses_upstream(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a, b = await echo("a"), await echo("b")
    port = free_port()
    ir = gateway(
        listener(
            port=port,
            rules=(
                rule("r-b", match=prefix("/b"), backends=(local_backend("b", b.port),)),
                rule("r-a", match=prefix("/"), backends=(local_backend("a", a.port),)),
            ),
        )
    )
    await proxy([ir])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(5):
            r = await client.get("/b/x")
            assert r.status_code == 200
            assert r.json()["backend"] == "b"
        r = await client.post("/other", content=b"hello")
        assert r.json()["backend"] == "a"
        assert r.json()["body"] == "hello"
    assert b.stats.connections == 1
