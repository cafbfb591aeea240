"""The in-process bus: handlers publish keys, one worker task per key coalesces bursts.

A key published 100 times within the quiet window causes one call of the reconcile function.
Different keys never wait for each other: each has its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger("portico.bus")


@dataclass(frozen=True)
class Outcome:
    """What a reconcile asks of its worker: to look again later, or to stop (object gone)."""

    requeue_after: float | None = None
    finished: bool = False


Reconcile = Callable[[Hashable], Awaitable[Outcome]]


class Bus:
    def __init__(self, reconcile: Reconcile, quiet_seconds: float = 0.2, max_delay_seconds: float = 2.0) -> None:
        self._reconcile = reconcile
        self._quiet = quiet_seconds
        self._max_delay = max_delay_seconds
        self._dirty: dict[Hashable, asyncio.Event] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._waiting: set[Hashable] = set()  # keys whose worker waits for a publish or a requeue
        self._closed = False

    @property
    def pending(self) -> int:
        """Keys published and not yet reconciled (the queue depth)."""
        return sum(1 for event in self._dirty.values() if event.is_set())

    @property
    def workers(self) -> int:
        return len(self._tasks)

    def idle(self, key: Hashable) -> bool:
        """True when nothing is pending or running for `key` (its worker waits or is gone)."""
        return key not in self._tasks or (key in self._waiting and not self._dirty[key].is_set())

    def publish(self, key: Hashable) -> None:
        if self._closed:
            return
        event = self._dirty.setdefault(key, asyncio.Event())
        event.set()
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._work(key, event), name=f"portico-worker:{key}")

    async def _settle(self, event: asyncio.Event) -> None:
        """Wait until no publish arrived for the quiet window, or the maximum delay passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_delay
        while True:
            event.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(self._quiet, remaining))
            if not event.is_set():
                return

    async def _work(self, key: Hashable, event: asyncio.Event) -> None:
        try:
            while True:
                self._waiting.add(key)
                await event.wait()
                self._waiting.discard(key)
                await self._settle(event)
                try:
                    outcome = await self._reconcile(key)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A reconcile function handles its own errors; this is the last line of defence.
                    log.exception("reconcile of %s failed unexpectedly; retrying in 5s", key)
                    outcome = Outcome(requeue_after=5.0)
                if outcome.finished and not event.is_set():
                    return
                if outcome.requeue_after is not None and not event.is_set():
                    self._waiting.add(key)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), outcome.requeue_after)
                    event.set()
        finally:
            self._waiting.discard(key)
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
                self._dirty.pop(key, None)

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
