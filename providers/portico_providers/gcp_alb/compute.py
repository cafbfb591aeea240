"""google-cloud-compute clients (REST transport), built lazily, with retries and call counting.

Context options: `gcp_project` (str), `gcp_endpoint` (str, e.g. a test fake's URL),
`gcp_credentials` (google.auth credentials; default: Application Default Credentials, which
on GKE is Workload Identity). Every call is retried on 429 and 5xx with jittered backoff.
Long-running operations are never waited on with `ExtendedOperation.result()` (its poller
ignores a custom endpoint and blocks the worker): the `*_unary` methods return the Operation,
and `poll` asks the Global/Region/Zone operations client once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

T = TypeVar("T")
MAX_ATTEMPTS = 5
USER_AGENT = "portico-gateway"
TRANSIENT = frozenset({429, 500, 502, 503, 504})

GLOBAL_CLIENTS = {
    "address": "GlobalAddressesClient",
    "forwardingRule": "GlobalForwardingRulesClient",
    "targetHttpProxy": "TargetHttpProxiesClient",
    "targetHttpsProxy": "TargetHttpsProxiesClient",
    "urlMap": "UrlMapsClient",
    "backendService": "BackendServicesClient",
    "healthCheck": "HealthChecksClient",
    "sslCertificate": "SslCertificatesClient",
    "operation": "GlobalOperationsClient",
}
REGIONAL_CLIENTS = {
    "address": "AddressesClient",
    "forwardingRule": "ForwardingRulesClient",
    "targetHttpProxy": "RegionTargetHttpProxiesClient",
    "targetHttpsProxy": "RegionTargetHttpsProxiesClient",
    "urlMap": "RegionUrlMapsClient",
    "backendService": "RegionBackendServicesClient",
    "healthCheck": "RegionHealthChecksClient",
    "sslCertificate": "RegionSslCertificatesClient",
    "operation": "RegionOperationsClient",
    "subnetwork": "SubnetworksClient",
}
ZONAL_CLIENTS = {
    "networkEndpointGroup": "NetworkEndpointGroupsClient",
    "instanceGroup": "InstanceGroupsClient",
    "operation": "ZoneOperationsClient",
}
MESSAGES = {
    "address": "Address",
    "forwardingRule": "ForwardingRule",
    "targetHttpProxy": "TargetHttpProxy",
    "targetHttpsProxy": "TargetHttpsProxy",
    "urlMap": "UrlMap",
    "backendService": "BackendService",
    "healthCheck": "HealthCheck",
    "sslCertificate": "SslCertificate",
    "networkEndpointGroup": "NetworkEndpointGroup",
    "instanceGroup": "InstanceGroup",
}


def snake(kind: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind)


def where(scope: str) -> dict[str, str]:
    """The region/zone keyword arguments of a call in `scope`."""
    if scope.startswith("regions/"):
        return {"region": scope.removeprefix("regions/")}
    if scope.startswith("zones/"):
        return {"zone": scope.removeprefix("zones/")}
    return {}


def http_code(error: BaseException) -> int:
    code = getattr(error, "code", 0)
    return int(code) if isinstance(code, int) else 0


def reason(error: BaseException) -> str:
    errors = getattr(error, "errors", None) or []
    first = errors[0] if errors else {}
    return str(first.get("reason", "")) if isinstance(first, Mapping) else ""


def describe(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    code = http_code(error)
    return (
        f"{code} {reason(error) or type(error).__name__}: {message}" if code else f"{type(error).__name__}: {message}"
    )


def api_errors() -> tuple[type[BaseException], ...]:
    """What a Compute call raises when the API or the network fails (not a bug of ours)."""
    import requests
    from google.api_core import exceptions
    from google.auth import exceptions as auth

    return (exceptions.GoogleAPICallError, exceptions.RetryError, auth.GoogleAuthError, requests.RequestException)


def sleep(seconds: float) -> None:
    """Backoff pause; tests patch this so retries happen without waiting."""
    time.sleep(seconds)


def _is_transient(error: BaseException) -> bool:
    from google.api_core import exceptions

    return isinstance(error, exceptions.GoogleAPICallError) and http_code(error) in TRANSIENT


def to_dict(message: Any) -> dict[str, Any]:
    """A Compute message as its JSON body (camelCase, unset fields left out)."""
    data: dict[str, Any] = json.loads(type(message).to_json(message))
    return data


@dataclass
class Counter:
    calls: int = 0
    mutations: int = 0


class ComputeApi:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = options
        self._clients: dict[str, Any] = {}
        self.counter = Counter()

    def client(self, kind: str, scope: str) -> Any:
        table = (
            ZONAL_CLIENTS if scope.startswith("zones/") else REGIONAL_CLIENTS if scope != "global" else GLOBAL_CLIENTS
        )
        name = table[kind]
        if name not in self._clients:
            from google.api_core.client_options import ClientOptions
            from google.api_core.gapic_v1.client_info import ClientInfo
            from google.cloud import compute_v1

            endpoint = self._options.get("gcp_endpoint")
            options = ClientOptions(api_endpoint=endpoint) if endpoint else None
            self._clients[name] = getattr(compute_v1, name)(
                credentials=self._options.get("gcp_credentials"),
                transport="rest",
                client_options=options,
                # Portico's calls, recognisable in audit logs.
                client_info=ClientInfo(user_agent=USER_AGENT),  # type: ignore[no-untyped-call]
            )
        return self._clients[name]

    def message(self, kind: str, body: Mapping[str, Any]) -> Any:
        from google.cloud import compute_v1

        return getattr(compute_v1, MESSAGES[kind]).from_json(json.dumps(body), ignore_unknown_fields=False)

    def call(self, function: Callable[..., T], *, mutating: bool, **kwargs: Any) -> T:
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.5, max=20),
            sleep=sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self.counter.calls += 1
                self.counter.mutations += int(mutating)
                return function(**kwargs)
        raise AssertionError("unreachable: tenacity reraises")

    def poll(self, project: str, scope: str, name: str) -> Any:
        """One GET of an operation: its current status (and `error` once DONE)."""
        client = self.client("operation", scope)
        return self.call(client.get, mutating=False, project=project, operation=name, **where(scope))
