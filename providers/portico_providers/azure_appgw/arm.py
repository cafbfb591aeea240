"""The only module that talks to Azure: NetworkManagementClient calls with one retry policy.

Context options (`ProviderContext.options`): `subscription_id` and `resource_group` (where
every Gateway's Application Gateway lives), `credential` (an azure-core TokenCredential; default:
azure-identity's DefaultAzureCredential, which picks up AKS Workload Identity), `connection_timeout_s`
and `read_timeout_s` (azure-core waits 300 s by default: a hung answer would hold the Gateway's worker
for minutes per attempt; a timed-out call is retried like a 5xx), and for tests `base_url` and
`connection_verify`. The SDK's own retries are off: tenacity retries throttling
(429, honouring Retry-After), 5xx and connection failures, and tests make its waits instant by
patching `sleep`. Long-running operations are never waited for: a write returns the
Azure-AsyncOperation URL, which the next reconcile reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

T = TypeVar("T")
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER_S = 30.0
CONNECTION_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0  # ARM answers a PUT at once (the work is the long-running operation)
APPGW = "applicationGateways"
PIP = "publicIPAddresses"


def sleep(seconds: float) -> None:
    """The only place retries wait (tests patch it)."""
    time.sleep(seconds)


def status_of(error: BaseException) -> int:
    return int(getattr(error, "status_code", 0) or 0)


def code_of(error: BaseException) -> str:
    inner = getattr(error, "error", None)
    return str(getattr(inner, "code", "") or "")


def is_transient(error: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return True
    return isinstance(error, HttpResponseError) and (status_of(error) == 429 or status_of(error) >= 500)


def _wait(state: RetryCallState) -> float:
    """Retry-After when Azure sends one (capped), else jittered exponential backoff."""
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    response = getattr(error, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    if header and header.isdigit():
        return min(float(header), MAX_RETRY_AFTER_S)
    return float(wait_random_exponential(multiplier=0.5, max=10)(state))


def call(function: Callable[..., T], /, **kwargs: Any) -> T:
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=_wait,
        stop=stop_after_attempt(MAX_ATTEMPTS),
        sleep=sleep,
        reraise=True,
    )
    return retrying(function, **kwargs)


def describe(error: BaseException) -> str:
    code = code_of(error)
    message = getattr(getattr(error, "error", None), "message", None) or str(error).splitlines()[0]
    return f"{code}: {message}" if code else f"{type(error).__name__}: {message}"


@dataclass
class Written:
    """What a PUT or DELETE started: the operation to read on later reconciles."""

    status: int
    operation_url: str | None
    resource: dict[str, Any] | None = None


@dataclass
class Arm:
    options: Mapping[str, Any]
    mutations: int = 0
    calls: list[str] = field(default_factory=list)
    _client: Any = None

    @property
    def subscription(self) -> str:
        return str(self.options.get("subscription_id") or "")

    @property
    def resource_group(self) -> str:
        return str(self.options.get("resource_group") or "")

    def client(self) -> Any:
        if self._client is None:
            from azure.mgmt.network import NetworkManagementClient

            credential = self.options.get("credential")
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            extra = {k: self.options[k] for k in ("base_url", "connection_verify") if k in self.options}
            self._client = NetworkManagementClient(
                credential,
                self.subscription,
                retry_total=0,
                connection_timeout=float(self.options.get("connection_timeout_s", CONNECTION_TIMEOUT_S)),
                read_timeout=float(self.options.get("read_timeout_s", READ_TIMEOUT_S)),
                **extra,
            )
        return self._client

    def _operations(self, kind: str) -> Any:
        return self.client().application_gateways if kind == APPGW else self.client().public_ip_addresses

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        from azure.core.exceptions import ResourceNotFoundError

        self.calls.append(f"GET {kind}")
        try:
            found = call(self._operations(kind).get, resource_group_name=self.resource_group, **{_arg(kind): name})
        except ResourceNotFoundError:
            return None
        return dict(found.as_dict())

    def get_by_group(self, kind: str, group: str, name: str) -> dict[str, Any] | None:
        """A resource Portico only reads (a public IP the user named), maybe in another group."""
        from azure.core.exceptions import ResourceNotFoundError

        self.calls.append(f"GET {kind}")
        try:
            found = call(self._operations(kind).get, resource_group_name=group, **{_arg(kind): name})
        except ResourceNotFoundError:
            return None
        return dict(found.as_dict())

    def put(self, kind: str, name: str, body: Mapping[str, Any], headers: Mapping[str, str]) -> Written:
        from azure.mgmt.network import models

        model = models.ApplicationGateway(dict(body)) if kind == APPGW else models.PublicIPAddress(dict(body))
        return self._write(
            kind,
            "PUT",
            self._operations(kind).begin_create_or_update,
            resource_group_name=self.resource_group,
            parameters=model,
            headers=dict(headers),
            **{_arg(kind): name},
        )

    def delete(self, kind: str, name: str) -> Written:
        return self._write(
            kind,
            "DELETE",
            self._operations(kind).begin_delete,
            resource_group_name=self.resource_group,
            **{_arg(kind): name},
        )

    def _write(self, kind: str, verb: str, begin: Callable[..., Any], **kwargs: Any) -> Written:
        seen: dict[str, Any] = {}

        def hook(response: Any) -> None:
            http = response.http_response
            seen["status"] = http.status_code
            seen["url"] = http.headers.get("Azure-AsyncOperation") or http.headers.get("Location")

        def once() -> Any:
            self.mutations += 1
            self.calls.append(f"{verb} {kind}")
            return begin(polling=False, raw_response_hook=hook, **kwargs).result()

        result = call(once)
        resource = dict(result.as_dict()) if result is not None and hasattr(result, "as_dict") else None
        return Written(int(seen.get("status", 0)), seen.get("url"), resource)

    def operation(self, url: str) -> tuple[str, str]:
        """(status, error message) of a long-running operation: InProgress, Succeeded, Failed, Canceled."""
        from azure.core.rest import HttpRequest

        self.calls.append("GET operation")
        response = call(self.client().send_request, request=HttpRequest("GET", url))
        if response.status_code == 404:
            return "Unknown", "the operation is no longer known to Azure"
        response.raise_for_status()
        if not response.content:  # a Location URL: 202 while running, 200/204 once done
            return ("InProgress" if response.status_code == 202 else "Succeeded"), ""
        answer = response.json()
        error = answer.get("error") or {}
        return str(answer.get("status", "Unknown")), str(error.get("message", ""))


def _arg(kind: str) -> str:
    return "application_gateway_name" if kind == APPGW else "public_ip_address_name"
