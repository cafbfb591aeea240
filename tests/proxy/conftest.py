from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
import uvloop

from portico.ir import GatewayIR
from portico_proxy.context import Limits
from portico_proxy.runtime import ProxyRuntime
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
