"""Without the Gateway API CRDs the operator says so, in its log and as an Event on its Pod, and stops."""

from __future__ import annotations

import json
import logging

import pytest

from portico.devcluster import ClusterEmulator, declare_resources
from portico.handlers import Operator, OperatorConfig
from portico.handlers.prerequisites import GATEWAY_API_INSTALL, MissingCRDs
from portico.kube.client import Connection
from portico.kube.resources import GW


async def test_missing_gateway_api_crds_are_named_with_the_fix(
    kmock: ClusterEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    declare_resources(kmock)
    for resource_id in [r for r in kmock.resources if r.group == GW]:
        del kmock.resources[resource_id]
    monkeypatch.setenv("POD_NAME", "portico-6d9f7-abcde")
    monkeypatch.setenv("POD_NAMESPACE", "portico-system")
    operator = Operator(OperatorConfig(connection=Connection(server=str(kmock.url).rstrip("/"))))
    try:
        with caplog.at_level(logging.ERROR, "portico.operator"), pytest.raises(MissingCRDs) as raised:
            await operator.start()
    finally:
        await operator.stop()
    message = str(raised.value)
    for plural in ("gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants"):
        assert f"{plural}.{GW}" in message
    assert GATEWAY_API_INSTALL in message
    assert "gatewayparameters.portico.dev" not in message
    assert message in caplog.text
    posted = [r for r in kmock if r.resource is not None and r.resource.plural == "events"]
    (event,) = [json.loads(r.body) for r in posted]
    assert event["involvedObject"]["kind"] == "Pod"
    assert event["involvedObject"]["name"] == "portico-6d9f7-abcde"
    assert (event["type"], event["reason"], event["message"]) == ("Warning", "MissingCRDs", message)
