"""Small IRs for the gcp-alb provider tests, built in code so each test states what it changes."""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR

GATEWAY = {"namespace": "shop", "name": "web"}


def backend(
    name: str, *addresses: str, zone: str = "europe-west1-b", port: int = 8080, node_port: int | None = None
) -> dict[str, Any]:
    return {
        "namespace": "shop",
        "name": name,
        "port": 80,
        "target_port": port,
        "node_port": node_port,
        "endpoints": [{"address": a, "port": port, "zone": zone, "node_name": f"node-{zone}"} for a in addresses],
    }


def rule(rid: str, path: str, *backends: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "route_kind": "HTTPRoute",
        "route": {"namespace": "shop", "name": "store"},
        "rule_index": 0,
        "match_index": 0,
        "hostnames": ["shop.example.com"],
        "match": {"path": {"type": "PathPrefix", "value": path}},
        "backends": list(backends),
        **extra,
    }


def certificate(serial: str) -> dict[str, Any]:
    return {
        "secret": {"namespace": "shop", "name": "tls"},
        "cert_pem": f"-----BEGIN CERTIFICATE-----\n{serial}\n-----END CERTIFICATE-----\n",
        "key_pem": f"-----BEGIN PRIVATE KEY-----\n{serial}\n-----END PRIVATE KEY-----\n",
        "hostnames": ["shop.example.com"],
        "sha256": serial,
    }


def gateway(
    rules: list[dict[str, Any]],
    *,
    cert: str | None = None,
    gcp: dict[str, Any] | None = None,
    name: str = "web",
    addresses: tuple[dict[str, str], ...] = (),
) -> GatewayIR:
    listeners: list[dict[str, Any]] = [{"name": "http", "port": 80, "protocol": "HTTP", "rules": rules}]
    if cert is not None:
        https_rules = [{**r, "id": "https-" + r["id"]} for r in rules]
        listeners.append(
            {
                "name": "https",
                "port": 443,
                "protocol": "HTTPS",
                "certificates": [certificate(cert)],
                "rules": https_rules,
            }
        )
    return GatewayIR.model_validate(
        {
            "gateway": {"namespace": "shop", "name": name},
            "gateway_class": "gcp",
            "controller_name": "portico.dev/gcp-alb",
            "listeners": listeners,
            "addresses": list(addresses),
            "infrastructure": {"parameters": {"gcp": gcp or {}}},
        }
    )
