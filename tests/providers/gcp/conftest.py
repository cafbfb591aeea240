"""A fake Compute API over HTTP and the real google-cloud-compute clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from portico.provider import reconcile_once
from tests.providers.gcp.fake_server import serve
from tests.providers.gcp.fake_state import ComputeState

PROJECT = "portico-test"
REGION = "europe-west1"
ZONE = "europe-west1-b"


@dataclass
class Compute:
    state: ComputeState
    endpoint: str

    def client(self, kind: type[Any]) -> Any:
        """A real SDK client of `kind` talking REST to the fake."""
        return kind(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options=ClientOptions(api_endpoint=self.endpoint),
        )


@pytest.fixture
def compute() -> Iterator[Compute]:
    state = ComputeState(PROJECT)
    # The VPC Portico's resources refer to but never own: a network, its subnets, a proxy-only subnet.
    state.put(("global", "networks", "default"), {})
    state.put(("global", "networks", "prod"), {})
    network = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/prod"
    state.put(
        (f"regions/{REGION}", "subnetworks", "prod-europe-west1"), {"ipCidrRange": "10.10.0.0/20", "network": network}
    )
    with serve(state) as endpoint:
        yield Compute(state, endpoint)


def wait(compute: Compute, operation: Any) -> Any:
    """Poll one operation to DONE with the SDK's own operations clients (bounded)."""
    where: dict[str, str] = {}
    if operation.zone:
        client, where = compute.client(compute_v1.ZoneOperationsClient), {"zone": operation.zone.rsplit("/", 1)[1]}
    elif operation.region:
        client = compute.client(compute_v1.RegionOperationsClient)
        where = {"region": operation.region.rsplit("/", 1)[1]}
    else:
        client = compute.client(compute_v1.GlobalOperationsClient)
    for _ in range(20):
        operation = client.get(project=PROJECT, operation=operation.name, **where)
        if operation.status == compute_v1.Operation.Status.DONE:
            return operation
    raise AssertionError(f"operation {operation.name} never finished")


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    """Retries still happen; they just do not sleep."""
    with mock.patch("portico_providers.gcp_alb.compute.sleep"):
        yield


def provider_for(compute: Compute, cluster_id: str = "test") -> Any:
    from portico.provider import ProviderContext, load_provider

    options = {"gcp_project": PROJECT, "gcp_endpoint": compute.endpoint, "gcp_credentials": AnonymousCredentials()}
    return load_provider("gcp-alb", ProviderContext(cluster_id=cluster_id, options=options))


def converge(provider: Any, ir: Any, limit: int = 40) -> Any:
    """Reconcile until Programmed (each running operation costs one more reconcile); bounded."""
    for _ in range(limit):
        result = reconcile_once(provider, ir)
        if result.programmed:
            return result
    raise AssertionError(f"not programmed after {limit} reconciles: {result.message}")


def delete_all(provider: Any, gateway: Any, limit: int = 40) -> None:
    for _ in range(limit):
        if provider.delete(gateway).finished:
            return
    raise AssertionError(f"delete did not finish after {limit} rounds")
