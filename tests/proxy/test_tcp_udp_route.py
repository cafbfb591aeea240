"""TCPRoute and UDPRoute through the proxy with real sockets: one weighted backend set per listener,
a backend that speaks first, half-close; UDP sessions by client address, their idle expiry and
their bound."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from portico.ir import Backend, GatewayIR, ListenerProtocol, RouteKind, Rule
from portico_proxy.context import Limits
from portico_proxy.l4stream import EARLY_BYTES, StreamClient
from portico_proxy.runtime import ProxyRuntime
from portico_proxy.udp import UdpServer
from tests.irs import free_port, gateway, listener, local_backend, rule
from tests.proxy.l4_backends import Make
from tests.proxy.test_tls_route import Start

WAIT = 10.0


def l4_gateway(port: int, protocol: ListenerProtocol, *targets: Backend) -> GatewayIR:
    kind = RouteKind.TCP if protocol is ListenerProtocol.TCP else RouteKind.UDP
    only: Rule = rule("l4", path=None, kind=kind, backends=targets)
    return gateway(listener("l4", port, (only,), protocol=protocol), controller="portico.dev/proxy")


async def test_tcp_weights_and_a_backend_that_speaks_first(proxy: Start, backends: Make) -> None:
    first, second = await backends("first"), await backends("second")
    port = free_port()
    await proxy(
        [
            l4_gateway(
                port,
                ListenerProtocol.TCP,
                local_backend("first", first.port, weight=2),
                local_backend("second", second.port, weight=1),
            )
        ]
    )
    seen = []
    for _ in range(6):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        seen.append((await asyncio.wait_for(reader.readline(), WAIT)).decode().strip())  # before we send
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.readexactly(5), WAIT) == b"hello"
        writer.close()
    assert sorted(seen) == ["first"] * 4 + ["second"] * 2


async def test_tcp_half_close_and_bytes_sent_at_once(proxy: Start, backends: Make) -> None:
    recorder = await backends("recorder", record_only=True)
    port = free_port()
    await proxy([l4_gateway(port, ListenerProtocol.TCP, local_backend("recorder", recorder.port))])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x" * 100_000)  # before the proxy has reached the backend
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), WAIT) == b"got 100000 bytes from you"
    writer.close()


class UdpEcho(asyncio.DatagramProtocol):
    """Answers `<name>:<data>` and remembers which source addresses it saw."""

    def __init__(self, name: str) -> None:
        self.name = name.encode()
        self.sources: list[tuple[str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sources.append(addr)
        assert self.transport is not None
        self.transport.sendto(self.name + b":" + data, addr)


class UdpClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait(data)


@pytest.fixture
async def udp_echo() -> AsyncIterator[UdpEcho]:
    loop = asyncio.get_running_loop()
    transport, echo = await loop.create_datagram_endpoint(lambda: UdpEcho("echo"), local_addr=("127.0.0.1", 0))
    yield echo
    transport.close()


async def client(port: int) -> tuple[asyncio.DatagramTransport, UdpClient]:
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(UdpClient, remote_addr=("127.0.0.1", port))


def echo_port(echo: UdpEcho) -> int:
    assert echo.transport is not None
    return int(echo.transport.get_extra_info("sockname")[1])


def sessions(runtime: ProxyRuntime, port: int) -> int:
    server = runtime.ports[port].server
    assert isinstance(server, UdpServer)
    return len(server.listener.sessions)


async def until(check: object, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_udp_sessions_by_client_and_their_idle_expiry(proxy: Start, udp_echo: UdpEcho) -> None:
    port = free_port()
    runtime = await proxy(
        [l4_gateway(port, ListenerProtocol.UDP, local_backend("echo", echo_port(udp_echo)))],
        Limits(idle_timeout_s=0.5),
    )
    (a, a_rx), (b, b_rx) = await client(port), await client(port)
    for n in range(3):
        a.sendto(b"a%d" % n)
        b.sendto(b"b%d" % n)
        assert await asyncio.wait_for(a_rx.received.get(), WAIT) == b"echo:a%d" % n
        assert await asyncio.wait_for(b_rx.received.get(), WAIT) == b"echo:b%d" % n
    assert len(set(udp_echo.sources)) == 2  # one backend socket per client address
    assert sessions(runtime, port) == 2
    await until(lambda: sessions(runtime, port) == 0, "idle sessions to expire")
    a.sendto(b"again")
    assert await asyncio.wait_for(a_rx.received.get(), WAIT) == b"echo:again"
    assert len(set(udp_echo.sources)) == 3  # a new session, a new source port
    a.close()
    b.close()


async def test_udp_sessions_are_bounded(proxy: Start, udp_echo: UdpEcho) -> None:
    port = free_port()
    runtime = await proxy(
        [l4_gateway(port, ListenerProtocol.UDP, local_backend("echo", echo_port(udp_echo)))],
        Limits(max_udp_sessions=2),
    )
    clients = [await client(port) for _ in range(3)]
    for index, (transport, _) in enumerate(clients[:2]):
        transport.sendto(b"%d" % index)
    for index, (_, rx) in enumerate(clients[:2]):
        assert await asyncio.wait_for(rx.received.get(), WAIT) == b"echo:%d" % index
    third, third_rx = clients[2]
    third.sendto(b"over the bound")
    ok, ok_rx = clients[0]
    ok.sendto(b"still served")  # answered after the third's datagram was handled
    assert await asyncio.wait_for(ok_rx.received.get(), WAIT) == b"echo:still served"
    assert third_rx.received.empty()
    assert sessions(runtime, port) == 2
    for transport, _ in clients:
        transport.close()


async def test_tcp_and_udp_listeners_share_a_port_number(proxy: Start, backends: Make, udp_echo: UdpEcho) -> None:
    """Two sockets on one number (DNS on 53 is the usual case), as the spec's distinct listeners allow."""
    stream = await backends("stream")
    port = free_port()
    tcp_only = l4_gateway(port, ListenerProtocol.TCP, local_backend("stream", stream.port))
    udp_rule = rule("dns", path=None, kind=RouteKind.UDP, backends=(local_backend("echo", echo_port(udp_echo)),))
    both = tcp_only.model_copy(
        update={"listeners": (*tcp_only.listeners, listener("udp", port, (udp_rule,), protocol=ListenerProtocol.UDP))}
    )
    runtime = await proxy([both])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"stream\n"
    writer.close()
    transport, received = await client(port)
    transport.sendto(b"ping")
    assert await asyncio.wait_for(received.received.get(), WAIT) == b"echo:ping"
    transport.close()
    # A reload without the UDP listener closes its socket and keeps TCP served.
    await runtime.update([tcp_only])
    assert runtime.ports[port].datagram is None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"stream\n"
    writer.close()


async def test_bytes_held_before_the_backend_connects_are_capped(proxy: Start) -> None:
    """A client may send only EARLY_BYTES (256 KiB) while its backend is not connected yet; then
    the proxy stops reading it, and everything arrives once the backend accepts."""
    loop = asyncio.get_running_loop()
    with socket.socket() as backend, socket.socket() as filler:
        backend.bind(("127.0.0.1", 0))
        backend.listen(0)
        backend.setblocking(False)
        filler.connect(backend.getsockname())  # fills the accept queue: the proxy's SYN is dropped, retried
        port = free_port()
        runtime = await proxy(
            [l4_gateway(port, ListenerProtocol.TCP, local_backend("slow", backend.getsockname()[1]))],
            Limits(connect_timeout_s=60),
        )
        payload = bytes(range(256)) * (32 * 4096)  # 32 MiB: more than every socket buffer in between
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)

        def waiting() -> StreamClient | None:
            return next((c for c in runtime.ctx.connections if isinstance(c, StreamClient)), None)

        await until(lambda: waiting() is not None and not waiting().transport.is_reading(), "reads to pause")  # type: ignore[union-attr]
        held = waiting()
        assert held is not None
        assert EARLY_BYTES <= len(held.buffer) <= EARLY_BYTES + 256 * 1024  # at most one read past the cap
        (await loop.sock_accept(backend))[0].close()  # the filler's turn; the proxy's next SYN gets in
        upstream, _ = await asyncio.wait_for(loop.sock_accept(backend), WAIT)
        with upstream:
            received = 0
            while received < len(payload):
                chunk = await asyncio.wait_for(loop.sock_recv(upstream, 1 << 20), WAIT)
                assert chunk == payload[received : received + len(chunk)]
                received += len(chunk)
        writer.close()
