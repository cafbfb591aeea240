"""The single status writer: get, compare, patch only what changed, retry on conflict.

Every status Portico writes goes through here. Several Gateway workers may each own part of
one route's status (their `parents` entries): the writer folds all pending parts for an object
into one patch, made conditional on the resourceVersion it read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from portico.handlers.status import merge_owned_status, merge_patch, merge_route_status
from portico.handlers.store import ROUTE_KINDS, ObjKey, Store
from portico.kube import ApiError, KubeClient, resource_for

log = logging.getLogger("portico.status")


@dataclass
class WriterStats:
    writes: int = 0
    unchanged: int = 0
    conflicts: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def merged_status(
    kind: str, obj: Mapping[str, Any], parts: Sequence[Mapping[str, Any]], controller_prefix: str
) -> dict[str, Any]:
    """The status `obj` should have once every pending part is applied to what it has now."""
    status: dict[str, Any] = dict(obj.get("status") or {})
    for part in parts:
        if kind in ROUTE_KINDS:
            meta = obj.get("metadata") or {}
            status = merge_route_status(
                status,
                part,
                controller_prefix=controller_prefix,
                route_namespace=str(meta.get("namespace") or "default"),
                spec_parent_refs=(obj.get("spec") or {}).get("parentRefs") or (),
            )
        else:
            status = merge_owned_status(status, part)
    return status


def _is_conflict(error: BaseException) -> bool:
    return isinstance(error, ApiError) and error.conflict


class StatusWriter:
    def __init__(
        self,
        client: KubeClient,
        store: Store,
        controller_prefix: str,
        batch: int = 16,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._controller = controller_prefix
        self._batch = batch
        self._on_write = on_write
        self._pending: dict[ObjKey, dict[str, Mapping[str, Any]]] = {}
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = WriterStats()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="portico-status-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def submit(self, key: ObjKey, status: Mapping[str, Any], source: str) -> None:
        """Queue `status` for `key`; `source` names the writer's part (the Gateway, for routes)."""
        self._pending.setdefault(key, {})[source] = status
        self._idle.clear()
        self._wakeup.set()

    async def flushed(self) -> None:
        """Wait until everything submitted so far is written (for tests and shutdown)."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                keys = list(self._pending)[: self._batch]
                work = [(key, list(self._pending.pop(key).values())) for key in keys]
                await asyncio.gather(*(self._write(key, parts) for key, parts in work))
            self._idle.set()

    async def _write(self, key: ObjKey, parts: Sequence[Mapping[str, Any]]) -> None:
        kind, namespace, name = key
        cached = self._store.get(*key)
        if cached is not None and merged_status(kind, cached, parts, self._controller) == (cached.get("status") or {}):
            self.stats.unchanged += 1
            return
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_conflict),
                wait=wait_random_exponential(multiplier=0.05, max=1.0),
                stop=stop_after_attempt(8),
                reraise=True,
            ):
                with attempt:
                    await self._write_once(key, parts, attempt.retry_state.attempt_number)
        except ApiError as error:
            if not error.not_found:
                log.warning("status of %s %s/%s not written: %s", kind, namespace, name, error)
        except Exception as error:  # the writer must outlive any single object
            log.warning("status of %s %s/%s not written: %r", kind, namespace, name, error)

    async def _write_once(self, key: ObjKey, parts: Sequence[Mapping[str, Any]], attempt: int) -> None:
        kind, namespace, name = key
        resource = resource_for(kind)
        if attempt > 1:
            self.stats.conflicts += 1
        current = await self._client.get(resource, namespace or None, name)
        before: dict[str, Any] = current.get("status") or {}
        after = merged_status(kind, current, parts, self._controller)
        patch = merge_patch(before, after)
        if not patch:
            self.stats.unchanged += 1
            return
        body: dict[str, Any] = {"status": patch}
        version = (current.get("metadata") or {}).get("resourceVersion")
        if version:
            body["metadata"] = {"resourceVersion": version}
        await self._client.patch(resource, namespace or None, name, body, subresource="status")
        self.stats.writes += 1
        self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1
        if self._on_write is not None:
            self._on_write(kind)
