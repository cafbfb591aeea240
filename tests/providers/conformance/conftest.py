"""One harness per provider; every conformance test runs once for each.

A new cloud adds its harness (see harness.Harness) and its name to PROVIDERS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from portico.devcluster import ClusterEmulator, declare_resources
from portico.kube import KubeClient
from portico.kube.client import Connection
from tests.providers.aws.conftest import fresh_account, no_backoff_wait  # noqa: F401
from tests.providers.azure.arm_server import serve
from tests.providers.conformance.aws_harness import AlbHarness, LatticeHarness
from tests.providers.conformance.azure_harness import AzureHarness
from tests.providers.conformance.gcp_harness import GcpHarness, compute_fake, no_gcp_backoff
from tests.providers.conformance.harness import Harness
from tests.providers.conformance.proxy_harness import ProxyHarness

PROVIDERS = ["proxy", "aws-alb", "aws-lattice", "azure-appgw", "gcp-alb"]


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    return {**kmock_options, "cls": ClusterEmulator}


@pytest.fixture(params=PROVIDERS)
async def harness(request: pytest.FixtureRequest, kmock: ClusterEmulator, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "proxy":
        emulator = kmock
        declare_resources(emulator)
        client = KubeClient(Connection(server=str(emulator.url).rstrip("/")))
        try:
            yield ProxyHarness(emulator, client, asyncio.get_running_loop())
        finally:
            await client.close()
        return
    if request.param == "azure-appgw":
        with mock.patch("portico_providers.azure_appgw.arm.sleep"), serve(tmp_path) as fake:
            yield AzureHarness(fake)
        return
    if request.param == "gcp-alb":
        with compute_fake() as (state, endpoint), no_gcp_backoff():
            yield GcpHarness(state, endpoint)
        return
    with fresh_account() as account:
        yield AlbHarness(account) if request.param == "aws-alb" else LatticeHarness(account)
