"""An API server without the BackendTLSPolicy CRD: the operator starts, says the CRD is missing and how
to install it, claims no BackendTLSPolicy feature, and still verifies appProtocol https backends
against the system's CAs. With the CRD (the other e2e tests) both features are claimed."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from portico.kube.resources import GW
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import condition, programmed
from tests.e2e.test_tls_route_operator import features

POLICY_FEATURES = {"BackendTLSPolicy", "BackendTLSPolicySANValidation"}


async def _class_status(cluster: Cluster) -> dict[str, Any] | None:
    found = await cluster.get("GatewayClass", "", "portico")
    return found if condition(found, "Accepted") else None


async def test_with_the_crd_the_policy_features_are_claimed(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    gateway_class = await cluster.wait_for("GatewayClass status", lambda: _class_status(cluster))
    assert features(gateway_class) >= POLICY_FEATURES


async def test_without_the_backendtlspolicy_crd_https_backends_are_verified_against_system_cas(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.emulator.undeclare_group(GW, "backendtlspolicies")
    await cluster.apply("base.yaml")
    running = RunningOperator(cluster)
    with caplog.at_level(logging.WARNING, "portico.operator"):
        await running.start()
    try:
        gateway_class = await cluster.wait_for("GatewayClass status", lambda: _class_status(cluster))
        claimed = features(gateway_class)
        assert "HTTPRoute" in claimed and "GatewayBackendClientCertificate" in claimed
        assert not claimed & POLICY_FEATURES
        message = f"CRD backendtlspolicies.{GW} is not installed: backendtlspolicies are not watched"
        assert message in caplog.text
        assert "install the Gateway API CRDs" in caplog.text
        await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))

        https_port = {"name": "http", "port": 8080, "targetPort": 8080, "appProtocol": "https"}
        await cluster.patch("Service", "shop", "app", {"spec": {"ports": [https_port]}})

        async def system_verified() -> dict[str, Any] | None:
            config = await cluster.get("ConfigMap", "default", "portico-web")
            text = ((config or {}).get("data") or {}).get("ir.json")
            if not text:
                return None
            backends = [b for rule in json.loads(text)["rules"] for b in rule["backends"] if b["name"] == "app"]
            return backends[0] if backends and backends[0].get("tls") else None

        backend = await cluster.wait_for("the https backend verified in the IR", system_verified)
        assert backend["protocol"] == "https"
        # No policy: the Service's own name, the system's CAs (no bundle), never unverified.
        assert backend["tls"]["hostname"] == "app.shop.svc"
        assert not backend["tls"].get("ca_pem") and not backend["tls"].get("policy")
    finally:
        await running.stop()
