from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest
import uvloop

from portico.ir import GatewayIR
from portico_proxy.context import Limits
from portico_proxy.runtime import ProxyRuntime
from tests.proxy.certs import common_name
from tests.proxy.echo_backend import EchoBackend
from tests.proxy.l4_backends import Make, StreamBackend


@pytest.fixture(scope="session")
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    return uvloop.EventLoopPolicy()


@pytest.fixture
async def echo() -> AsyncIterator[Callable[[str], Awaitable[EchoBackend]]]:
    started: list[EchoBackend] = []

    async def make(name: str) -> EchoBackend:
        backend = await EchoBackend(name).start()
        started.append(backend)
        return backend

    yield make
    for backend in started:
        await backend.stop()


Start = Callable[..., Awaitable[ProxyRuntime]]


@pytest.fixture
async def proxy() -> AsyncIterator[Start]:
    runtimes: list[ProxyRuntime] = []

    async def start(gateways: Sequence[GatewayIR], limits: Limits | None = None, **kw: object) -> ProxyRuntime:
        runtime = ProxyRuntime(limits=limits, port_fallback=False, **kw)  # type: ignore[arg-type]
        await runtime.start()
        await runtime.update(gateways)
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop(drain_seconds=0.5)


@pytest.fixture
async def backends() -> AsyncIterator[Make]:
    """Byte-stream backends (TLSRoute, TCPRoute tests): `await backends(name, *tls_names)`."""
    started: list[StreamBackend] = []

    async def make(name: str, *tls_names: str, record_only: bool = False) -> StreamBackend:
        backend = await StreamBackend(name, tls_names, record_only=record_only).start()
        started.append(backend)
        return backend

    yield make
    for backend in started:
        await backend.stop()


TLSServer = Callable[..., Awaitable[int]]


@pytest.fixture
async def tls_backend(tmp_path: Path) -> AsyncIterator[TLSServer]:
    """An HTTPS backend with this certificate; it answers with the SNI the client sent, and with the
    client certificate's name when it requires one signed by `client_ca`."""
    servers: list[asyncio.Server] = []

    async def start(cert: str, key: str, client_ca: str | None = None) -> int:
        folder = tmp_path / f"backend-{len(servers)}"
        folder.mkdir()
        (folder / "tls.crt").write_text(cert)
        (folder / "tls.key").write_text(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "tls.crt", folder / "tls.key")
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=client_ca)
        seen: dict[int, str | None] = {}

        def remember(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
            seen[id(sock)] = name

        context.sni_callback = remember  # type: ignore[assignment]

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    tls = writer.get_extra_info("ssl_object")
                    answer: dict[str, str | None] = {"sni": seen.get(id(tls))}
                    if client_ca is not None:
                        answer["client"] = common_name(tls.getpeercert(binary_form=True))
                    body = json.dumps(answer).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()
