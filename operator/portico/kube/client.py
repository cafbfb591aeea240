"""An asyncio client for the few Kubernetes API calls Portico makes.

aiohttp is already what kopf runs on, so the operator keeps one HTTP stack, one event loop
and one set of credentials (the same `Connection` kopf logs in with).
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from portico.kube.resources import ResourceType

if TYPE_CHECKING:
    from portico.kube.credentials import Credentials

MERGE_PATCH = "application/merge-patch+json"
Items = list[dict[str, Any]]  # a list's objects (an alias: the method `list` shadows the builtin in the class)


@dataclass(frozen=True)
class Connection:
    """Where the API server is and how to authenticate (a subset of kubeconfig)."""

    server: str
    token: str | None = None
    ca_path: str | None = None
    ca_data: str | None = None
    insecure: bool = False
    certificate_path: str | None = None
    certificate_data: str | None = None
    private_key_path: str | None = None
    private_key_data: str | None = None
    # Tokens that expire (exec plugins, projected service-account tokens): asked for on each request,
    # refreshed on a 401.
    credentials: Credentials | None = field(default=None, compare=False, repr=False)


class ApiError(Exception):
    """A non-2xx answer from the API server, with its status code and reason."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def transient(self) -> bool:
        """Worth retrying as it is: throttled, a server error, or a timeout."""
        return self.status in (429, 500, 502, 503, 504) or self.status == 408


def _api_error(status: int, default_reason: str, text: str) -> ApiError:
    try:
        payload = json.loads(text) if text else {}
    except json.JSONDecodeError:
        payload = {"message": text}
    reason = payload.get("reason") if isinstance(payload, dict) else None
    message = payload.get("message") if isinstance(payload, dict) else None
    return ApiError(status, str(reason or default_reason), str(message or text)[:500])


def _pem(data: str) -> str:
    """kubeconfig carries certificate data base64-encoded; kopf passes it decoded or not."""
    if "-----BEGIN" in data:
        return data
    return base64.b64decode(data).decode()


def ssl_context(connection: Connection) -> ssl.SSLContext | bool:
    if not connection.server.startswith("https"):
        return False
    if connection.insecure:
        return False
    context = ssl.create_default_context(
        cafile=connection.ca_path, cadata=_pem(connection.ca_data) if connection.ca_data else None
    )
    cert, key = connection.certificate_path, connection.private_key_path
    with tempfile.TemporaryDirectory() as tmp:
        if connection.certificate_data:
            cert = str(Path(tmp, "cert.pem"))
            Path(cert).write_text(_pem(connection.certificate_data))
        if connection.private_key_data:
            key = str(Path(tmp, "key.pem"))
            Path(key).write_text(_pem(connection.private_key_data))
        if cert:
            context.load_cert_chain(cert, key)
    return context


class KubeClient:
    """get/list/create/patch/delete on a `ResourceType`; errors raise `ApiError`."""

    def __init__(self, connection: Connection, timeout_seconds: float = 30.0) -> None:
        self.connection = connection
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self.calls = 0

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Accept": "application/json"}
            if self.connection.token and self.connection.credentials is None:
                headers["Authorization"] = f"Bearer {self.connection.token}"
            self._session = aiohttp.ClientSession(
                base_url=self.connection.server.rstrip("/") + "/",
                headers=headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(ssl=ssl_context(self.connection), limit=32),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _authorization(self) -> dict[str, str]:
        credentials = self.connection.credentials
        if credentials is None:
            return {}
        value = await credentials.authorization()
        return {"Authorization": value} if value else {}

    async def _refused(self, sent: Mapping[str, str]) -> bool:
        """After a 401: True when there is a new credential worth one more try."""
        credentials = self.connection.credentials
        if credentials is None:
            return False
        previous = sent.get("Authorization")
        return await credentials.refused(previous) != previous

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        self.calls += 1
        data = None if body is None else json.dumps(body)
        for attempt in range(2):
            headers = {"Content-Type": content_type} if body is not None else {}
            authorization = await self._authorization()
            async with self._open().request(
                method, path.lstrip("/"), data=data, headers={**headers, **authorization}, params=params
            ) as response:
                text = await response.text()
                status, reason = response.status, response.reason or ""
            if status == 401 and attempt == 0 and await self._refused(authorization):
                continue
            break
        if status >= 400:
            raise _api_error(status, reason, text)
        try:
            payload = json.loads(text) if text else {}
        except json.JSONDecodeError:
            payload = {"message": text}
        return payload if isinstance(payload, dict) else {"items": payload}

    async def get(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        return await self.request("GET", resource.path(namespace, name))

    async def get_or_none(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return await self.get(resource, namespace, name)
        except ApiError as error:
            if error.not_found:
                return None
            raise

    async def list(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        items, _ = await self.list_with_version(resource, namespace, label_selector)
        return items

    async def list_with_version(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[Items, str]:
        """Every object, and the list's resourceVersion (where a watch continues from)."""
        params = {"labelSelector": label_selector} if label_selector else None
        payload = await self.request("GET", resource.path(namespace), params=params)
        items = payload.get("items") or []
        version = str((payload.get("metadata") or {}).get("resourceVersion") or "")
        return [dict(item, apiVersion=resource.api_version, kind=resource.kind) for item in items], version

    async def watch(
        self,
        resource: ResourceType,
        since: str,
        timeout_seconds: int,
        label_selector: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Watch events from `since` until the server ends the stream; ERROR events are yielded as they are."""
        params = {"watch": "true", "resourceVersion": since, "timeoutSeconds": str(timeout_seconds)}
        params["allowWatchBookmarks"] = "true"
        if label_selector:
            params["labelSelector"] = label_selector
        self.calls += 1
        # The stream lives up to timeout_seconds; a silent connection is caught by the read timeout.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=timeout_seconds + 30)
        authorization = await self._authorization()
        url = resource.path().lstrip("/")
        async with self._open().get(url, params=params, timeout=timeout, headers=authorization) as response:
            if response.status >= 400:
                error = _api_error(response.status, response.reason or "", await response.text())
                if response.status == 401:
                    await self._refused(authorization)  # the watcher's next try sends the new credential
                raise error
            # One event per line, of any length (a route can be larger than aiohttp's line limit).
            pending = bytearray()
            async for chunk in response.content.iter_any():
                pending += chunk
                while (end := pending.find(b"\n")) >= 0:
                    line = bytes(pending[:end])
                    del pending[: end + 1]
                    if line.strip() and isinstance(event := json.loads(line), dict):
                        yield event

    async def create(self, resource: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
        namespace = obj.get("metadata", {}).get("namespace")
        return await self.request("POST", resource.path(namespace), dict(obj))

    async def patch(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        patch: Mapping[str, Any],
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """A JSON merge patch; put metadata.resourceVersion in it to make it conditional."""
        path = resource.path(namespace, name, subresource)
        return await self.request("PATCH", path, dict(patch), content_type=MERGE_PATCH)

    async def delete(self, resource: ResourceType, namespace: str | None, name: str) -> bool:
        """True when something was deleted, False when it was already gone."""
        try:
            await self.request("DELETE", resource.path(namespace, name))
        except ApiError as error:
            if error.not_found:
                return False
            raise
        return True
