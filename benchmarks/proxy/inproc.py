"""Python cost of one proxied HTTP/1.1 request, without sockets: the real H1Server and UpstreamH1
objects on fake transports, the same 100 header routes in front as run.py, nginx's response head.

Syscalls and scheduling are left out, so two builds compare to a few percent where wrk runs differ
by more. Run: `.venv/bin/python benchmarks/proxy/inproc.py [requests]`; prints the best of five.
`--calls` counts the Python calls per request instead (cProfile): the same on a busy machine as on an
idle one, for comparing builds when timings are not worth reading.
"""

from __future__ import annotations

import asyncio
import cProfile
import sys
import time

import uvloop

from portico.ir import (
    Backend,
    Endpoint,
    GatewayIR,
    HeaderMatch,
    Listener,
    ListenerProtocol,
    Match,
    MatchType,
    ObjectKey,
    PathMatch,
    RouteKind,
    Rule,
)
from portico_proxy.context import Context
from portico_proxy.server_h1 import H1Server
from portico_proxy.tables import PortState, compile_gateways
from portico_proxy.upstream_h1 import UpstreamH1

PORT, UPSTREAM_PORT = 8080, 8081
REQUEST = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
# What nginx 1.22 answers for a 12-byte static file.
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 12:00:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: 12\r\n"
    b"Last-Modified: Fri, 27 Nov 2026 11:00:00 GMT\r\nConnection: keep-alive\r\n"
    b'ETag: "6567a3c0-c"\r\nAccept-Ranges: bytes\r\n\r\nhello world\n'
)


class FakeTransport:
    """Counts writes; everything else a protocol may call is a no-op."""

    def __init__(self) -> None:
        self.writes = 0
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        return

    def resume_reading(self) -> None:
        return


def rule(index: int, header: str | None) -> Rule:
    headers = () if header is None else (HeaderMatch(type=MatchType.EXACT, name="x-tenant", value=header),)
    backend = Backend(
        namespace="default",
        name="up",
        port=80,
        weight=1,
        endpoints=(Endpoint(address="127.0.0.1", port=UPSTREAM_PORT),),
    )
    return Rule(
        id=f"r{index}",
        route_kind=RouteKind.HTTP,
        route=ObjectKey(namespace="default", name=f"route-{index}"),
        rule_index=0,
        match_index=0,
        match=Match(path=PathMatch(type=MatchType.PATH_PREFIX, value="/"), headers=headers),
        backends=(backend,),
    )


def gateway() -> GatewayIR:
    rules = (*(rule(index, f"t{index}") for index in range(100)), rule(100, None))
    return GatewayIR(
        gateway=ObjectKey(namespace="default", name="gw"),
        gateway_class="portico",
        controller_name="portico.dev/proxy",
        listeners=(Listener(name="http", port=PORT, protocol=ListenerProtocol.HTTP, rules=rules),),
    )


def connected() -> tuple[Context, H1Server, FakeTransport, UpstreamH1]:
    ctx = Context()
    server = H1Server(ctx, PortState(PORT, compile_gateways([gateway()])[PORT]), False)
    client = FakeTransport()
    server.connection_made(client)
    pool = ctx.pools.h1("127.0.0.1", UPSTREAM_PORT)
    upstream = UpstreamH1(pool)
    upstream.connection_made(FakeTransport())
    pool.release(upstream)
    return ctx, server, client, upstream


async def count_calls(requests: int) -> float:
    """Python calls per request (functions and builtins), after a warm-up that fills the caches."""
    ctx, server, _, upstream = connected()
    profile = cProfile.Profile()
    for measured in (False, True):
        if measured:
            profile.enable()
        for _ in range(requests):
            server.data_received(REQUEST)
            upstream.data_received(RESPONSE)
            ctx.writes.flush()
        profile.disable()
        await asyncio.sleep(0)
    return sum(entry.callcount for entry in profile.getstats()) / requests


async def measure(requests: int) -> float:
    ctx, server, client, upstream = connected()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for index in range(requests):
            server.data_received(REQUEST)
            upstream.data_received(RESPONSE)
            ctx.writes.flush()
            if index % 64 == 0:
                await asyncio.sleep(0)  # let the loop run what the requests scheduled
        best = min(best, (time.perf_counter() - start) / requests)
    if client.writes < requests:
        raise RuntimeError(f"only {client.writes} responses for {requests} requests")
    return best * 1e6


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--calls"]
    requests = int(args[0]) if args else 30000
    if "--calls" in sys.argv:
        print(f"{uvloop.run(count_calls(requests)):.1f} Python calls per request ({requests} requests)")
        return
    print(f"{uvloop.run(measure(requests)):.2f} µs of Python per request (best of 5, {requests} requests)")


if __name__ == "__main__":
    main()
