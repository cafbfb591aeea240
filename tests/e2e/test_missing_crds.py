"""Without the Gateway API CRDs the operator says so, in its log and as an Event on its Pod, and stops."""

from __future__ import annotations

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
    kmock.undeclare_group(GW)
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
    (event,) = [obj for (resource_id, _, _), obj in kmock.objects.items() if resource_id == "v1/events"]
    assert event["involvedObject"]["kind"] == "Pod"
    assert event["involvedObject"]["name"] == "portico-6d9f7-abcde"
    assert (event["type"], event["reason"], event["message"]) == ("Warning", "MissingCRDs", message)
