"""A blocking view of `KubeClient` for provider code running in a worker thread.

Providers are synchronous (their cloud SDKs are); the operator runs them with
`asyncio.to_thread`. The in-cluster proxy provider talks to Kubernetes through this
bridge, which runs each call on the operator's event loop and its one HTTP session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from portico.kube.client import KubeClient
from portico.kube.resources import ResourceType

T = TypeVar("T")


class BlockingKube:
    def __init__(self, client: KubeClient, loop: asyncio.AbstractEventLoop, timeout_seconds: float = 60.0) -> None:
        self._client = client
        self._loop = loop
        self._timeout = timeout_seconds

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self._timeout)

    def get_or_none(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._run(self._client.get_or_none(resource, namespace, name))

    def list(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        return self._run(self._client.list(resource, namespace, label_selector))

    def create(self, resource: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self._run(self._client.create(resource, obj))

    def patch(
        self, resource: ResourceType, namespace: str | None, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._run(self._client.patch(resource, namespace, name, patch))

    def delete(self, resource: ResourceType, namespace: str | None, name: str) -> bool:
        return self._run(self._client.delete(resource, namespace, name))
