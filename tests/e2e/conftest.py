"""e2e fixtures: kmock's emulator with Portico's API-server layer, and the real operator on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from portico.devcluster import ClusterEmulator, declare_resources
from portico.handlers import Operator, OperatorConfig
from portico.handlers.reconcile import Timing
from portico.kube import ApiError, KubeClient, resource_for
from portico.kube.client import Connection
from portico.manifests import load_manifests
from tests.e2e.process import OperatorProcess
from tests.kube_requests import SESSION_LOG, TEST_CLIENT_TOKEN, from_operator

MANIFESTS = Path(__file__).parent / "manifests"


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    return {**kmock_options, "cls": ClusterEmulator}


class Cluster:
    """A test's view of the emulated API server, through the same HTTP client the operator uses."""

    def __init__(self, emulator: ClusterEmulator) -> None:
        self.emulator = emulator
        # The operator's connection; the test's own client is told apart by its token (see kube_requests).
        self.connection = Connection(server=str(emulator.url).rstrip("/"))
        self.client = KubeClient(Connection(server=self.connection.server, token=TEST_CLIENT_TOKEN))

    async def apply(self, name: str) -> None:
        for manifest in load_manifests([MANIFESTS / name]):
            await self.create(manifest.obj)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(resource_for(obj["kind"]), obj)

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.client.get_or_none(resource_for(kind), namespace or None, name)

    async def patch(self, kind: str, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return await self.client.patch(resource_for(kind), namespace or None, name, patch)

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        with contextlib.suppress(ApiError):
            await self.client.delete(resource_for(kind), namespace or None, name)

    async def wait_for(self, what: str, check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
        """Poll `check` until it returns something truthy; fail naming `what` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Any = None
        while loop.time() < deadline:
            last = await check()
            if last:
                return last
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")

    def writes(self, kind_plural: str, subresource: str | None = None) -> list[Any]:
        """Recorded PATCH/POST requests to a resource (plural name), e.g. 'configmaps'."""
        return [
            request
            for request in self.emulator.write_log
            if request.plural == kind_plural
            and request.method in ("PATCH", "POST")
            and request.subresource == subresource
        ]


@pytest.fixture
async def cluster(kmock: ClusterEmulator) -> AsyncIterator[Cluster]:
    declare_resources(kmock)
    view = Cluster(kmock)
    yield view
    await view.client.close()
    SESSION_LOG.update(from_operator(kmock.access_log))


FAST_RETRIES = Timing(not_ready_seconds=0.2, backoff_multiplier=0.1, backoff_max_seconds=1.0)


class RunningOperator:
    def __init__(self, cluster: Cluster, timing: Timing = FAST_RETRIES, **config: Any) -> None:
        self.cluster = cluster
        self.timing = timing
        self.config = config  # more OperatorConfig fields (provider_options, cluster_id)
        self.operator: Operator | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> Operator:
        config = OperatorConfig(
            connection=self.cluster.connection,
            standalone=True,
            quiet_seconds=0.3,
            max_delay_seconds=3.0,
            watch_timeout_seconds=30,
            timing=self.timing,
            **self.config,
        )
        self.operator = Operator(config)
        self._stop = asyncio.Event()
        ready = asyncio.Event()
        self._task = asyncio.create_task(self.operator.run(stop_flag=self._stop, ready_flag=ready))
        await asyncio.wait_for(ready.wait(), 15)
        return self.operator

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            # kopf ends its own root task by cancellation once the stop flag is honoured.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 20)
            self._task = None


@pytest.fixture
async def operator(cluster: Cluster) -> AsyncIterator[RunningOperator]:
    running = RunningOperator(cluster)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def operator_processes(
    cluster: Cluster, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[OperatorProcess]]]:
    """Start `portico run` child processes against the emulator; all are stopped at teardown."""
    started: list[OperatorProcess] = []

    async def start(*args: str) -> OperatorProcess:
        process = OperatorProcess(cluster.connection.server, tmp_path / f"operator-{len(started)}.log", *args)
        started.append(process)
        return await process.start()

    yield start
    await asyncio.gather(*(process.stop() for process in started))
