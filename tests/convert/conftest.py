from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from portico.devcluster import ClusterEmulator
from tests.proxy.echo_backend import EchoBackend


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


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    return {**kmock_options, "cls": ClusterEmulator}
