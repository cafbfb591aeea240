"""Gateway spec.tls.frontend input the API server would refuse: the Gateway is not accepted and the
message names the field (translation never raises)."""

from __future__ import annotations

from typing import Any

import pytest

from portico.api import build_snapshot
from portico.provider import load_capabilities
from portico.translate import translate
from portico.translate.frontend_tls import FEATURE

CLASS = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "GatewayClass",
    "metadata": {"name": "portico"},
    "spec": {"controllerName": "portico.dev/proxy"},
}
CA_REF = {"group": "", "kind": "ConfigMap", "name": "ca"}


def _gateway(frontend: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "default"},
        "spec": {
            "gatewayClassName": "portico",
            "tls": {"frontend": frontend},
            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
        },
    }


@pytest.mark.parametrize(
    ("frontend", "expected"),
    [
        (
            {"default": {}, "perPort": [{"port": 443, "tls": {}}, {"port": 443, "tls": {}}]},
            "spec.tls.frontend: perPort lists port 443 more than once",
        ),
        (
            {"default": {"validation": {"caCertificateRefs": []}}},
            "spec.tls.frontend.default.validation.caCertificateRefs",
        ),
        (
            {"default": {"validation": {"caCertificateRefs": [CA_REF] * 17}}},
            "spec.tls.frontend.default.validation.caCertificateRefs",
        ),
        (
            {"default": {"validation": {"caCertificateRefs": [CA_REF], "mode": "AllowAnything"}}},
            "spec.tls.frontend.default.validation.mode",
        ),
        ({"perPort": []}, "spec.tls.frontend.default"),
        ({"default": {}, "perPort": [{"port": 0, "tls": {}}]}, "spec.tls.frontend.perPort[0].port"),
    ],
)
def test_refused_frontend_input_names_the_field(frontend: dict[str, Any], expected: str) -> None:
    result = translate(build_snapshot([CLASS, _gateway(frontend)]))
    conditions = {c["type"]: c for c in result.statuses[("Gateway", "default", "gw")]["conditions"]}
    assert (conditions["Accepted"]["status"], conditions["Accepted"]["reason"]) == ("False", "Invalid")
    assert expected in conditions["Accepted"]["message"]
    assert ("default", "gw") not in result.ir_by_gateway


def test_only_the_proxy_claims_frontend_validation() -> None:
    """Clouds do not program spec.tls.frontend yet, so they must not claim it (their listeners get
    UnsupportedValue); the proxy claims validation but not the insecure fallback it cannot fully do."""
    for provider in ("aws-alb", "aws-lattice", "azure-appgw", "gcp-alb"):
        assert FEATURE not in load_capabilities(provider).features, provider
    proxy = load_capabilities("proxy").features
    assert FEATURE in proxy
    assert f"{FEATURE}InsecureFallback" not in proxy
