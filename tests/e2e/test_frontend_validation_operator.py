"""Gateway spec.tls.frontend through the operator (kopf over HTTP against the emulated API server):
a CA ConfigMap that appears after the Gateway is picked up (the operator watches CA ConfigMaps),
and the proxy's IR carries the validation; AllowInsecureFallback sets the Gateway condition, and
going back to AllowValidOnly removes it."""

from __future__ import annotations

import base64
import json
from typing import Any

from portico.kube.resources import GW
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import condition
from tests.proxy.certs import certificate_authority, self_signed

SERVER = self_signed("secure.example.com")
CLIENT_CA = certificate_authority("Portico e2e clients")[0]


def _gateway(mode: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GW}/v1",
        "kind": "Gateway",
        "metadata": {"name": "secure", "namespace": "default"},
        "spec": {
            "gatewayClassName": "portico",
            "tls": {
                "frontend": {
                    "default": {
                        "validation": {
                            "mode": mode,
                            "caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "clients-ca"}],
                        }
                    }
                }
            },
            "listeners": [
                {
                    "name": "https",
                    "port": 8443,
                    "protocol": "HTTPS",
                    "hostname": "secure.example.com",
                    "tls": {"certificateRefs": [{"name": "secure-tls"}]},
                }
            ],
        },
    }


def _listener_condition(gateway: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    listeners = ((gateway or {}).get("status") or {}).get("listeners") or []
    conditions = listeners[0].get("conditions") if listeners else []
    return next((c for c in conditions or [] if c["type"] == type_), None)


async def test_frontend_validation_follows_its_ca_configmap_and_mode(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    secret_data = {
        "tls.crt": base64.b64encode(SERVER[0].encode()).decode(),
        "tls.key": base64.b64encode(SERVER[1].encode()).decode(),
    }
    await cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "secure-tls", "namespace": "default"},
            "type": "kubernetes.io/tls",
            "data": secret_data,
        }
    )
    await cluster.create(_gateway("AllowValidOnly"))

    async def listener_with(type_: str, reason: str) -> dict[str, Any] | None:
        gateway = await cluster.get("Gateway", "default", "secure")
        found = _listener_condition(gateway, type_)
        return gateway if found is not None and found["reason"] == reason else None

    gateway = await cluster.wait_for("NoValidCACertificate", lambda: listener_with("Accepted", "NoValidCACertificate"))
    resolved = _listener_condition(gateway, "ResolvedRefs")
    assert resolved is not None and resolved["reason"] == "InvalidCACertificateRef"
    assert resolved["message"].startswith("spec.tls.frontend.default.validation.caCertificateRefs[0]: ConfigMap")

    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "clients-ca", "namespace": "default"}}
    await cluster.create({**config_map, "data": {"ca.crt": CLIENT_CA}})
    gateway = await cluster.wait_for("ResolvedRefs", lambda: listener_with("ResolvedRefs", "ResolvedRefs"))
    assert _listener_condition(gateway, "Accepted")["status"] == "True"  # type: ignore[index]
    assert condition(gateway, "InsecureFrontendValidationMode") is None

    async def validated_in_ir() -> dict[str, Any] | None:
        config = await cluster.get("ConfigMap", "default", "portico-secure")
        text = ((config or {}).get("data") or {}).get("ir.json")
        listeners = json.loads(text)["listeners"] if text else []
        return listeners[0] if listeners and listeners[0].get("client_validation") else None

    listener = await cluster.wait_for("the validation in the proxy's IR", validated_in_ir)
    assert listener["client_validation"]["mode"] == "AllowValidOnly"
    assert "BEGIN CERTIFICATE" in listener["client_validation"]["ca_pem"]

    await cluster.patch("Gateway", "default", "secure", {"spec": _gateway("AllowInsecureFallback")["spec"]})

    async def insecure(present: bool) -> dict[str, Any] | None:
        gateway = await cluster.get("Gateway", "default", "secure")
        found = condition(gateway, "InsecureFrontendValidationMode")
        return gateway if (found is not None) == present else None

    gateway = await cluster.wait_for("InsecureFrontendValidationMode", lambda: insecure(True))
    found = condition(gateway, "InsecureFrontendValidationMode")
    assert found is not None and (found["status"], found["reason"]) == ("True", "ConfigurationChanged")
    await cluster.patch("Gateway", "default", "secure", {"spec": _gateway("AllowValidOnly")["spec"]})
    await cluster.wait_for("InsecureFrontendValidationMode removed", lambda: insecure(False))
