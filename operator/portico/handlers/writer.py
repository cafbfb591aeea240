"""The single status writer: get, compare, patch only what changed, retry until written.

Every status Portico writes goes through here. Several Gateway workers may each own part of
one route's status (their `parents` entries): the writer folds all pending parts for an object
into one patch, made conditional on the resourceVersion it read.

A write that fails (a conflict that keeps coming back, 429, 5xx, a lost connection) is not
dropped: its parts go back in the queue after an exponential backoff, unless a newer part from
the same source arrived meanwhile (then the newer one is written instead: superseded). Only an
object that is gone (404) or a request the API server refuses as such (other 4xx) ends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from portico.handlers.status import (
    merge_owned_status,
    merge_patch,
    merge_policy_status,
    merge_route_status,
    released_gateway_status,
)
from portico.handlers.store import ROUTE_KINDS, ObjKey, Store
from portico.kube import ApiError, KubeClient, resource_for

log = logging.getLogger("portico.status")
POLICY_KINDS = frozenset({"BackendTLSPolicy"})


@dataclass
class WriterStats:
    writes: int = 0
    unchanged: int = 0
    conflicts: int = 0
    failures: int = 0  # writes that failed and were queued again
    superseded: int = 0  # failed parts replaced by a newer part before their retry
    by_kind: dict[str, int] = field(default_factory=dict)


RELEASE = "release"  # the source of a Gateway release: no status part, the Gateway is let go
# A route part with the entries of a ListenerSet parent: "ListenerSet:namespace/name".
LISTENER_SET_SOURCE = "ListenerSet:"


def merged_status(
    kind: str, obj: Mapping[str, Any], parts: Mapping[str, Any], controller_prefix: str
) -> dict[str, Any]:
    """The status `obj` should have once every pending part (by source) is applied to what it has now.

    A route part's source is the Gateway ("namespace/name") whose entries it holds; a Gateway's
    RELEASE source clears what Portico wrote there (see `released_gateway_status`)."""
    status: dict[str, Any] = dict(obj.get("status") or {})
    meta = obj.get("metadata") or {}
    for source, part in parts.items():
        if kind in ROUTE_KINDS:
            parent_kind = "ListenerSet" if source.startswith(LISTENER_SET_SOURCE) else "Gateway"
            gateway_ns, _, gateway_name = source.removeprefix(LISTENER_SET_SOURCE).partition("/")
            status = merge_route_status(
                status,
                part,
                controller_prefix=controller_prefix,
                route_namespace=str(meta.get("namespace") or "default"),
                spec_parent_refs=(obj.get("spec") or {}).get("parentRefs") or (),
                covers=(gateway_ns, gateway_name) if gateway_name else None,
                covers_kind=parent_kind,
            )
        elif kind in POLICY_KINDS:
            gateway_ns, _, gateway_name = source.partition("/")
            status = merge_policy_status(
                status, part, controller_prefix=controller_prefix, covers=(gateway_ns, gateway_name)
            )
        elif source == RELEASE:
            status = released_gateway_status(status, int(meta.get("generation") or 0))
        else:
            status = merge_owned_status(status, part)
    return status


def _is_conflict(error: BaseException) -> bool:
    return isinstance(error, ApiError) and error.conflict


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ApiError):
        return error.conflict or error.transient
    return isinstance(error, aiohttp.ClientError | OSError | TimeoutError)


Parts = dict[str, Mapping[str, Any]]  # source (the Gateway, for routes; "gateway"/"class") -> status part


class StatusWriter:
    def __init__(
        self,
        client: KubeClient,
        store: Store,
        controller_prefix: str,
        batch: int = 16,
        on_write: Callable[[str], None] | None = None,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self._store = store
        self._controller = controller_prefix
        self._batch = batch
        self._on_write = on_write
        self._pending: dict[ObjKey, Parts] = {}
        self._retries: dict[ObjKey, asyncio.TimerHandle] = {}
        self._failed: dict[ObjKey, Parts] = {}  # parts waiting for their retry, by object and source
        self._failures: dict[ObjKey, int] = {}
        self._backoff = wait_random_exponential(multiplier=0.1, max=max_backoff_seconds)
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = WriterStats()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="portico-status-writer")

    async def close(self) -> None:
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        self._failed.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def submit(self, key: ObjKey, status: Mapping[str, Any], source: str) -> None:
        """Queue `status` for `key`; `source` names the writer's part (the Gateway, for routes)."""
        self._pending.setdefault(key, {})[source] = status
        failed = self._failed.get(key)
        if failed is not None and failed.pop(source, None) is not None:
            self.stats.superseded += 1  # the newer part is written instead of the failed one
        self._idle.clear()
        self._wakeup.set()

    async def flushed(self) -> None:
        """Wait until everything submitted so far is written, retries included (tests, shutdown)."""
        await self._idle.wait()

    @property
    def retrying(self) -> int:
        """Objects whose write failed and waits for its retry."""
        return len(self._retries)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                keys = list(self._pending)[: self._batch]
                work = [(key, self._pending.pop(key)) for key in keys]
                await asyncio.gather(*(self._write(key, parts) for key, parts in work))
            if not self._retries:
                self._idle.set()

    async def _write(self, key: ObjKey, parts: Parts) -> None:
        kind, namespace, name = key
        cached = self._store.get(*key)
        if cached is not None and merged_status(kind, cached, parts, self._controller) == (cached.get("status") or {}):
            self.stats.unchanged += 1
            self._failures.pop(key, None)
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
            self._failures.pop(key, None)
        except Exception as error:  # the writer must outlive any single object
            if isinstance(error, ApiError) and error.not_found:
                self._failures.pop(key, None)
                return  # the object is gone: nothing left to write
            if not _retryable(error):
                self._failures.pop(key, None)
                log.warning("status of %s %s/%s refused, not retried: %s", kind, namespace, name, error)
                return
            self._retry_later(key, parts, error)

    def _retry_later(self, key: ObjKey, parts: Parts, error: BaseException) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        self.stats.failures += 1
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failures
        delay = float(self._backoff(state))
        log.warning("status of %s %s/%s not written (%s); retry in %.1fs", *key, error, delay)
        failed = self._failed.setdefault(key, {})
        for source, part in parts.items():
            failed[source] = part  # what was just tried is the newest part of its source
        if key not in self._retries:
            self._retries[key] = asyncio.get_running_loop().call_later(delay, self._requeue, key)

    def _requeue(self, key: ObjKey) -> None:
        """Put the failed parts back; those a newer submit replaced were dropped by submit()."""
        self._retries.pop(key, None)
        failed = self._failed.pop(key, {})
        if failed:
            pending = self._pending.setdefault(key, {})
            for source, part in failed.items():
                pending.setdefault(source, part)
        self._idle.clear()
        self._wakeup.set()

    async def _write_once(self, key: ObjKey, parts: Parts, attempt: int) -> None:
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
