"""List, then watch from the list's resourceVersion; list again when the history is gone.

This is the informer pattern of Kubernetes' own controllers. Each full list *replaces* what the
store holds of that resource, so an object deleted while the watch was away (a 410 Gone on
resume, an operator restart, an HA takeover) is dropped, not kept for ever. The start-up list is
the one the watch continues from: there are never two lists that have to agree.

A watch cut by the server or the network resumes from the last resourceVersion seen; errors
(500, 429, connection failures) back off exponentially with jitter, up to `max_backoff_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import RetryCallState, wait_random_exponential

from portico.kube import ApiError, KubeClient, ResourceType

log = logging.getLogger("portico.reflector")

OnList = Callable[[ResourceType, Sequence[Mapping[str, Any]]], None]
OnEvent = Callable[[ResourceType, str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class ReflectorTiming:
    watch_timeout_seconds: int = 300
    backoff_multiplier: float = 0.1
    max_backoff_seconds: float = 10.0


class Reflector:
    def __init__(
        self,
        client: KubeClient,
        resource: ResourceType,
        on_list: OnList,
        on_event: OnEvent,
        label_selector: str | None = None,
        timing: ReflectorTiming = ReflectorTiming(),
    ) -> None:
        self.resource = resource
        self._client = client
        self._on_list = on_list
        self._on_event = on_event
        self._selector = label_selector
        self._timing = timing
        self._wait = wait_random_exponential(multiplier=timing.backoff_multiplier, max=timing.max_backoff_seconds)
        self.version: str | None = None
        self.lists = 0

    async def list_once(self) -> None:
        """One full list, handed to `on_list`; the watch continues from its resourceVersion."""
        items, version = await self._client.list_with_version(self.resource, label_selector=self._selector)
        self.lists += 1
        self._on_list(self.resource, items)
        self.version = version or None

    async def run(self) -> None:
        """Watch for ever (until cancelled), listing again whenever the history is gone."""
        failures = 0
        while True:
            try:
                if self.version is None:
                    await self.list_once()
                await self._watch(self.version or "")
                failures = 0
            except asyncio.CancelledError:
                raise
            except ApiError as error:
                if error.status == 410:
                    log.info("watch of %s expired; listing again", self.resource.plural)
                    self.version = None
                    continue
                failures += 1
                await self._back_off(failures, error)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
                failures += 1
                await self._back_off(failures, error)
            except Exception as error:  # a reflector must outlive anything one response does to it
                log.exception("watch of %s failed unexpectedly", self.resource.plural)
                failures += 1
                await self._back_off(failures, error)

    async def _watch(self, since: str) -> None:
        stream = self._client.watch(self.resource, since, self._timing.watch_timeout_seconds, self._selector)
        async for event in stream:
            kind = str(event.get("type") or "")
            obj = event.get("object")
            if not isinstance(obj, Mapping):
                continue
            if kind == "ERROR":
                raise ApiError(int(obj.get("code") or 500), str(obj.get("reason") or ""), str(obj.get("message")))
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if version:
                self.version = str(version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._on_event(
                    self.resource, kind, {**obj, "apiVersion": self.resource.api_version, "kind": self.resource.kind}
                )

    async def _back_off(self, failures: int, error: BaseException) -> None:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failures
        delay = float(self._wait(state))
        log.warning("watch of %s failed (%s); again in %.1fs", self.resource.plural, error, delay)
        await asyncio.sleep(delay)
