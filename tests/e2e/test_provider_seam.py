"""The provider seam under faults: an unfinished delete keeps the finalizer; a provider bug is logged and counted.

The API server refuses to delete the proxy's ConfigMap (429, as it does under load) until the test
lifts the refusal; the operator must neither drop the finalizer early nor give up.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp.web
import pytest

from portico.devcluster import ClusterEmulator
from portico.handlers.cleanup import FINALIZER
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import programmed


class RefusingEmulator(ClusterEmulator):
    """The emulator, refusing ConfigMap deletes while `refuse_deletes` is set."""

    refuse_deletes = False
    refused = 0

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if self.refuse_deletes and raw_request.method == "DELETE" and "/configmaps/" in raw_request.path:
            self.refused += 1
            status = {"kind": "Status", "status": "Failure", "reason": "TooManyRequests", "code": 429}
            return aiohttp.web.json_response({**status, "message": "injected: try again later"}, status=429)
        return await super().__call__(raw_request)


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    return {**kmock_options, "cls": RefusingEmulator}


def events(emulator: ClusterEmulator, reason: str) -> list[dict[str, Any]]:
    found = [obj for (resource, _, _), obj in emulator.objects.items() if resource == "v1/events"]
    return [e for e in found if e.get("reason") == reason]


async def test_the_finalizer_stays_until_the_provider_has_deleted_everything(
    cluster: Cluster, operator: RunningOperator
) -> None:
    emulator = cluster.emulator
    assert isinstance(emulator, RefusingEmulator)
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    emulator.refuse_deletes = True
    await cluster.delete("Gateway", "default", "web")

    async def delete_pending() -> list[dict[str, Any]]:
        return events(emulator, "DeletePending")

    [event] = await cluster.wait_for("a DeletePending event", delete_pending)
    assert "ConfigMap default/portico-web" in event["message"]
    attempts = emulator.refused

    async def retried() -> bool:
        return emulator.refused > attempts

    await cluster.wait_for("another delete attempt", retried)
    gateway = await cluster.get("Gateway", "default", "web")
    assert gateway is not None and FINALIZER in gateway["metadata"]["finalizers"]
    assert await cluster.get("ConfigMap", "default", "portico-web") is not None

    emulator.refuse_deletes = False

    async def gone() -> bool:
        return await cluster.get("Gateway", "default", "web") is None

    await cluster.wait_for("the Gateway to be released", gone)
    assert await cluster.get("ConfigMap", "default", "portico-web") is None
    assert len(events(emulator, "DeletePending")) == 1  # one Event, not one per retry


async def test_a_provider_exception_is_logged_with_its_traceback_counted_and_retried(
    cluster: Cluster, operator: RunningOperator, caplog: pytest.LogCaptureFixture
) -> None:
    from unittest import mock

    from portico_providers.proxy.provider import ProxyProvider

    running = operator.operator
    assert running is not None
    fault = RuntimeError("injected provider bug")
    with (
        caplog.at_level(logging.ERROR, logger="portico.reconcile"),
        mock.patch.object(ProxyProvider, "apply", side_effect=fault),
    ):
        await cluster.apply("base.yaml")

        async def failed() -> dict[str, Any] | None:
            gateway = await cluster.get("Gateway", "default", "web")
            cond = next(
                (c for c in ((gateway or {}).get("status") or {}).get("conditions") or [] if c["type"] == "Programmed"),
                None,
            )
            return cond if cond and "injected provider bug" in cond["message"] else None

        cond = await cluster.wait_for("Programmed=False naming the error", failed)
        assert cond["status"] == "False"
    [record, *_] = [r for r in caplog.records if "raised while programming" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[1] is fault
    counted = running.metrics.registry.get_sample_value(
        "portico_provider_exceptions_total", {"provider": "proxy", "call": "apply"}
    )
    assert counted is not None and counted >= 1
    await cluster.wait_for("Gateway web Programmed once the bug is gone", lambda: programmed(cluster))
