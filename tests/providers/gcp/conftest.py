"""A fake Compute API over HTTP and the real google-cloud-compute clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

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
