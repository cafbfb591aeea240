"""Atomic reload under load, rejected configs, graceful drain, and the admin endpoints."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from portico_proxy.runtime import ConfigRejected
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule


async def test_reload_under_load_loses_nothing(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a, b = await echo("a"), await echo("b")
    port = free_port()

    def config(name: str, backend_port: int) -> list:  # type: ignore[type-arg]
        return [
            gateway(
                listener(
                    port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend(name, backend_port),)),)
                )
            )
        ]

    runtime = await proxy(config("a", a.port))
    failures: list[object] = []
    seen: set[str] = set()
    stop = asyncio.Event()

    async def load() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while not stop.is_set():
                try:
                    response = await client.get("/delay/2")
                    if response.status_code != 200:
                        failures.append(response.status_code)
                    else:
                        seen.add(response.json()["backend"])
                except httpx.HTTPError as error:
                    failures.append(error)

    workers = [asyncio.create_task(load()) for _ in range(8)]
    for index in range(20):
        await asyncio.sleep(0.02)
        await runtime.update(config("b", b.port) if index % 2 == 0 else config("a", a.port))
    stop.set()
    await asyncio.gather(*workers)
    assert failures == []
    assert seen == {"a", "b"}


async def test_bad_config_is_rejected_and_old_one_keeps_serving(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port = free_port()
    good = gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))
    runtime = await proxy([good])
    duplicate = gateway(listener(port=port, name="x"), listener(port=port + 1, name="x"))
    with pytest.raises(ConfigRejected, match="duplicate listener name"):
        await runtime.update([duplicate])
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200


async def test_update_binds_new_ports_and_closes_removed_ones(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    first, second = free_port(), free_port()
    r = rule("r", match=prefix("/"), backends=(local_backend("a", a.port),))
    runtime = await proxy([gateway(listener(port=first, rules=(r,)))])
    await runtime.update([gateway(listener(port=second, rules=(r,)))])
    assert runtime.bound_ports() == {second: second}
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{second}/")).status_code == 200
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{first}/")


async def test_drain_finishes_in_flight_requests(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port = free_port()
    runtime = await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))]
    )
    async with httpx.AsyncClient() as client:
        slow = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/delay/300"))
        await asyncio.sleep(0.1)
        stopping = asyncio.create_task(runtime.stop(drain_seconds=3))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/", headers={"Connection": "close"})
        response = await slow
        await stopping
    assert response.status_code == 200
    assert response.headers["connection"] == "close"


async def test_admin_endpoints(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port, admin = free_port(), free_port()
    await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))],
        admin_port=admin,
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin}") as client:
        for _ in range(3):
            await client.get(f"http://127.0.0.1:{port}/x")
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        metrics = (await client.get("/metrics")).text
        config = (await client.get("/config")).json()
    assert 'portico_proxy_requests_total{backend="shop/a",code="200",route="shop/r"} 3.0' in metrics
    assert "portico_proxy_request_duration_seconds_bucket" in metrics
    assert 'portico_proxy_upstream_connections_total{outcome="reused"} 2.0' in metrics
    assert "portico_proxy_active_connections" in metrics
    assert config["gateways"][0]["listeners"][0]["port"] == port


async def test_metrics_add_up_per_route_and_survive_a_reload(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a, b = await echo("a"), await echo("b")
    port, admin = free_port(), free_port()
    config = [
        gateway(
            listener(
                port=port,
                rules=(
                    rule("r", match=prefix("/"), backends=(local_backend("a", a.port), local_backend("b", b.port))),
                ),
            )
        )
    ]
    runtime = await proxy(config, admin_port=admin)
    async with httpx.AsyncClient() as client:
        for _ in range(4):
            await client.get(f"http://127.0.0.1:{port}/")
        await runtime.update(config)  # new compiled tables, same route and backends
        for _ in range(2):
            await client.get(f"http://127.0.0.1:{port}/")
        await client.get(f"http://127.0.0.1:{port}/status/503")
        metrics = (await client.get(f"http://127.0.0.1:{admin}/metrics")).text
    assert 'portico_proxy_requests_total{backend="shop/a",code="200",route="shop/r"} 3.0' in metrics
    assert 'portico_proxy_requests_total{backend="shop/b",code="200",route="shop/r"} 3.0' in metrics
    assert 'portico_proxy_requests_total{backend="shop/a",code="503",route="shop/r"} 1.0' in metrics
    # One histogram per route, summing both backends.
    assert 'portico_proxy_request_duration_seconds_count{route="shop/r"} 7.0' in metrics
