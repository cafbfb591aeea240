"""Default timeouts (a backend that never answers, a request body that stops) and file descriptor
exhaustion (a real process started with a low RLIMIT_NOFILE)."""

from __future__ import annotations

import argparse
import asyncio
import resource
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from portico.ir import IRBundle, Timeouts
from portico_proxy.context import Limits
from portico_proxy.fdlimit import max_connections_for, upstream_cap
from portico_proxy.process import add_common_arguments, limits_from
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.proxy_process import proxy_process
from tests.proxy.raw_backend import RawBackend
from tests.proxy.test_upstream_desync import read_response

SHORT = Limits(response_header_timeout_s=0.3, body_idle_timeout_s=0.3)


@pytest.fixture
async def raw() -> AsyncIterator[RawBackend]:
    server = await RawBackend().start()
    yield server
    await server.stop()


async def test_a_backend_that_never_answers_gets_504_by_default(proxy, raw) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    await proxy(
        [
            gateway(
                listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("raw", raw.port),)),))
            )
        ],
        limits=SHORT,
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /hang/x HTTP/1.1\r\nHost: a\r\n\r\n")
    head, body = await asyncio.wait_for(read_response(reader), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 504") and b"response header timeout" in body


async def test_a_route_timeout_replaces_the_default(proxy, raw) -> None:  # type: ignore[no-untyped-def]
    """A route with its own (longer) timeout is not cut by the default response-header timeout."""
    port = free_port()
    slow = rule("r", match=prefix("/"), backends=(local_backend("raw", raw.port),), timeouts=Timeouts(request_ms=900))
    await proxy([gateway(listener(port=port, rules=(slow,)))], limits=SHORT)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /hang/x HTTP/1.1\r\nHost: a\r\n\r\n")
    head, body = await asyncio.wait_for(read_response(reader), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 504") and b"request timeout" in body
    assert loop.time() - started >= 0.8


async def test_a_stalled_request_body_gets_408_and_frees_both_connections(proxy, raw) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    runtime = await proxy(
        [
            gateway(
                listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("raw", raw.port),)),))
            )
        ],
        limits=SHORT,
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /id/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    stats = runtime.ctx.pools.stats
    for _ in range(100):  # the backend socket is closed too
        if stats.sockets == 0:
            break
        await asyncio.sleep(0.02)
    assert stats.sockets == 0


def test_timeout_flags_reach_the_limits() -> None:
    parser = argparse.ArgumentParser()
    add_common_arguments(parser)
    limits = limits_from(
        parser.parse_args(["--connect-timeout", "2", "--response-header-timeout", "0", "--body-idle-timeout", "7.5"])
    )
    assert (limits.connect_timeout_s, limits.response_header_timeout_s, limits.body_idle_timeout_s) == (2, 0, 7.5)
    defaults = limits_from(parser.parse_args([]))
    assert (defaults.connect_timeout_s, defaults.response_header_timeout_s, defaults.body_idle_timeout_s) == (5, 60, 60)
    with pytest.raises(SystemExit):
        parser.parse_args(["--connect-timeout", "-1"])


def test_connection_caps_are_derived_from_the_descriptor_limit() -> None:
    assert max_connections_for(1024) == 768
    assert upstream_cap(768) == 960 < 1024 - 60
    assert max_connections_for(resource.RLIM_INFINITY) == 10000


SOFT, HARD = 64, 192


async def test_fd_exhaustion_is_refused_not_a_crash(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Many clients holding stalled request bodies (each with its backend connection) against a process
    with few descriptors: it raises its soft limit to the hard one, refuses what is over its caps,
    keeps polling its configuration, and serves again once the clients are gone."""
    a = await echo("a")
    port, admin = free_port(), free_port()
    ir = gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))
    async with proxy_process(tmp_path, ir, port, admin, nofile=(SOFT, HARD)) as proc:
        limits = Path(f"/proc/{proc.process.pid}/limits").read_text().splitlines()
        soft, hard = next(line.split()[3:5] for line in limits if line.startswith("Max open files"))
        assert (int(soft), int(hard)) == (HARD, HARD)  # started with SOFT, raised to the hard limit
        held = []
        refused = 0
        for i in range(HARD + 40):  # more clients than descriptors
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                refused += 1
                continue
            writer.write(b"POST /stall/%d HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\npart" % i)
            held.append((reader, writer))
        await asyncio.sleep(0.5)
        answers = []
        for reader, _ in held:
            try:
                answers.append(await asyncio.wait_for(reader.read(12), 0.05))
            except TimeoutError:
                answers.append(b"")  # still held open: admitted
            except OSError:
                refused += 1  # answered 503 and closed (reset, as the request was not read)
        admitted = answers.count(b"")
        assert refused or any(answer.startswith(b"HTTP/1.1 503") for answer in answers)
        assert 0 < admitted < HARD
        # Clients plus backend sockets stay within the caps derived from the limit, with a reserve.
        assert proc.open_fds() <= upstream_cap(max_connections_for(HARD)) + 24 < HARD
        # The configuration poller keeps working at the limit: a new route appears.
        moved = gateway(
            listener(port=port, rules=(rule("r", match=prefix("/moved"), backends=(local_backend("a", a.port),)),))
        )
        (tmp_path / "ir.json").write_text(IRBundle(gateways=(moved,)).to_json())
        await asyncio.sleep(1.5)
        assert proc.process.returncode is None
        for _, writer in held:
            writer.close()
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(100):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/moved/x")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the proxy did not serve the reloaded route after the clients left")
        assert proc.process.returncode is None


async def test_a_listener_closed_by_the_loop_is_bound_again(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    """uvloop closes a listening socket after an accept error libuv could not absorb (EMFILE without
    its reserve descriptor); the reaper binds it again."""
    a = await echo("a")
    port = free_port()
    runtime = await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))]
    )
    runtime.ports[port].server.close()  # what the loop does on such an error
    await runtime.ports[port].server.wait_closed()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(100):  # the reaper runs once a second
            try:
                if (await client.get(f"http://127.0.0.1:{port}/back")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the listener was not bound again")
