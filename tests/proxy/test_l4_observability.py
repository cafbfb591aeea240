"""Metrics and access-log lines of TLS, TCP and UDP listeners, read where users read them: /metrics
on the admin port (Prometheus text) and the JSON lines of the access log, after real connections."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from portico.ir import Backend, ListenerProtocol
from portico_proxy.context import AccessLog, Limits
from tests.irs import free_port, local_backend
from tests.proxy.l4_backends import Make
from tests.proxy.test_tcp_udp_route import UdpEcho, client, echo_port, l4_gateway, udp_echo  # noqa: F401
from tests.proxy.test_tls_route import Start, refused, tls_gateway, tls_rule

WAIT = 10.0


async def scrape(admin: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{admin}/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def lines(log: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


async def until(check: object, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_tcp_connections_bytes_and_log_lines(proxy: Start, backends: Make) -> None:
    target = await backends("target")
    port, admin, log = free_port(), free_port(), io.StringIO()
    missing = Backend(namespace="shop", name="missing", port=80, invalid_reason="BackendNotFound")
    gw = l4_gateway(port, ListenerProtocol.TCP, local_backend("target", target.port), missing)
    await proxy([gw], admin_port=admin, access_log=AccessLog(1.0, log))
    outcomes = []
    for _ in range(2):  # one connection reaches the backend, the other is the invalid share
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        banner = await asyncio.wait_for(reader.readline(), WAIT)
        if banner:
            writer.write(b"x" * 1000)
            assert await asyncio.wait_for(reader.readexactly(1000), WAIT) == b"x" * 1000
        outcomes.append(banner)
        writer.close()
    assert sorted(outcomes) == [b"", b"target\n"]
    await until(lambda: len(lines(log)) == 2, "a log line per connection")
    by_outcome = {entry["outcome"]: entry for entry in lines(log)}
    served = by_outcome["connected"]
    assert (served["kind"], served["route"], served["backend"], served["port"]) == (
        "tcp",
        "TCPRoute/shop/l4",
        "shop/target:80",
        port,
    )
    assert (served["bytes_to_backend"], served["bytes_to_client"]) == (1000, 1000 + len(b"target\n"))
    assert served["endpoint"] == f"127.0.0.1:{target.port}" and served["client"] == "127.0.0.1"
    assert by_outcome["refused"]["backend"] == "shop/missing:80"
    metrics = await scrape(admin)
    route = ("route", "TCPRoute/shop/l4")
    connected = (("backend", "shop/target:80"), ("outcome", "connected"), route)
    assert metrics[("portico_proxy_l4_connections_total", connected)] == 1
    refused_share = (("backend", "shop/missing:80"), ("outcome", "refused"), route)
    assert metrics[("portico_proxy_l4_connections_total", refused_share)] == 1
    to_backend = (("backend", "shop/target:80"), ("direction", "to_backend"), route)
    to_client = (("backend", "shop/target:80"), ("direction", "to_client"), route)
    assert metrics[("portico_proxy_l4_bytes_total", to_backend)] == 1000
    assert metrics[("portico_proxy_l4_bytes_total", to_client)] == 1000 + len(b"target\n")


async def test_tls_connection_without_a_route_is_counted_and_logged(proxy: Start, backends: Make) -> None:
    target = await backends("t", "t.example.com")
    port, admin, log = free_port(), free_port(), io.StringIO()
    gw = tls_gateway(port, tls_rule("t", ("t.example.com",), local_backend("t", target.port)))
    await proxy([gw], admin_port=admin, access_log=AccessLog(1.0, log))
    assert await refused(port, "other.example.com")
    await until(lambda: lines(log), "the log line")
    (entry,) = lines(log)
    assert (entry["kind"], entry["outcome"], entry["server_name"]) == (
        "tls-passthrough",
        "no_route",
        "other.example.com",
    )
    metrics = await scrape(admin)
    assert (
        metrics[("portico_proxy_l4_connections_total", (("backend", "-"), ("outcome", "no_route"), ("route", "-")))]
        == 1
    )


async def test_udp_sessions_datagrams_and_drops(proxy: Start, udp_echo: UdpEcho) -> None:  # noqa: F811
    port, admin, log = free_port(), free_port(), io.StringIO()
    gw = l4_gateway(port, ListenerProtocol.UDP, local_backend("echo", echo_port(udp_echo)))
    runtime = await proxy([gw], Limits(idle_timeout_s=0.5), admin_port=admin, access_log=AccessLog(1.0, log))
    transport, received = await client(port)
    for payload in (b"one", b"three"):
        transport.sendto(payload)
        assert await asyncio.wait_for(received.received.get(), WAIT) == b"echo:" + payload
    route, backend = ("route", "UDPRoute/shop/l4"), ("backend", "shop/echo:80")
    metrics = await scrape(admin)
    assert metrics[("portico_proxy_udp_sessions_total", (backend, route))] == 1
    assert metrics[("portico_proxy_udp_active_sessions", ())] == 1
    assert metrics[("portico_proxy_udp_datagrams_total", (backend, ("direction", "to_backend"), route))] == 2
    assert metrics[("portico_proxy_l4_bytes_total", (backend, ("direction", "to_client"), route))] == 18
    await until(lambda: lines(log), "the session to expire and be logged")
    (entry,) = lines(log)
    assert (entry["kind"], entry["route"], entry["datagrams_to_backend"], entry["bytes_to_client"]) == (
        "udp",
        "UDPRoute/shop/l4",
        2,
        18,
    )
    # A backend without endpoints: the datagram is dropped, and counted for its route.
    await runtime.update([l4_gateway(port, ListenerProtocol.UDP, local_backend("echo"))])
    transport.sendto(b"lost")
    await until(lambda: runtime.ctx.metrics.l4.udp_dropped, "the drop")
    metrics = await scrape(admin)
    assert metrics[("portico_proxy_udp_dropped_datagrams_total", (route,))] == 1
    assert metrics[("portico_proxy_udp_active_sessions", ())] == 0
    transport.close()


async def test_a_zero_sample_logs_nothing_and_still_counts(proxy: Start, backends: Make) -> None:
    target = await backends("target")
    port, log = free_port(), io.StringIO()
    runtime = await proxy(
        [l4_gateway(port, ListenerProtocol.TCP, local_backend("target", target.port))], access_log=AccessLog(0.0, log)
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"target\n"
    writer.close()
    pair = runtime.ctx.metrics.l4.pairs[("TCPRoute/shop/l4", "shop/target:80")]
    await until(lambda: pair.to_client == len(b"target\n"), "the bytes to be counted")
    assert pair.outcomes == {"connected": 1}
    assert log.getvalue() == ""
