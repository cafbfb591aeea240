"""Helpers for driving the azure-appgw provider against the ARM fake the way the operator does."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from portico.ir import Certificate, Endpoint, GatewayIR
from portico.provider import ApplyResult, ProviderContext
from portico_providers.azure_appgw.provider import AppGwProvider, create
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.conftest import GROUP
from tests.proxy.certs import self_signed

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "azure_appgw"
CLUSTER = "aks-test"


def example_ir(arm: ArmFake) -> GatewayIR:
    """The examples/ Gateway, pointed at the fake's subnet."""
    ir = GatewayIR.from_yaml((GOLDEN / "examples.in.yaml").read_text())
    subnet = arm.state.add_subnet(GROUP, "vnet-aks", "appgw")
    azure = {**ir.infrastructure.parameters["azure"], "subnetId": subnet, "location": arm.state.location}
    infrastructure = ir.infrastructure.model_copy(update={"parameters": {"azure": azure}})
    return ir.model_copy(update={"infrastructure": infrastructure})


def provider(arm: ArmFake, **options: Any) -> AppGwProvider:
    options = {**arm.provider_options(), "resource_group": GROUP, **options}
    return create(ProviderContext(cluster_id=CLUSTER, options=options))


def converge(p: AppGwProvider, arm: ArmFake, ir: GatewayIR, rounds: int = 6) -> tuple[ApplyResult, int]:
    """Reconcile until programmed, letting Azure finish its operations in between; (result, PUT/DELETE count)."""
    mutations = 0
    result = p.reconcile(ir)
    for _ in range(rounds):
        mutations += result.mutations
        if result.programmed:
            return result, mutations
        arm.state.settle()
        result = p.reconcile(ir)
    raise AssertionError(f"not programmed after {rounds} rounds: {result.message}")


def gateway(arm: ArmFake) -> dict[str, Any]:
    found = arm.state.owned_by_type("applicationGateways")
    assert len(found) == 1, [g["name"] for g in found]
    return found[0]


def path_map(arm: ArmFake, host: str, port: int = 443) -> list[tuple[list[str], str]]:
    """(paths, target name) of each path rule, in order, for the listener of (port, host)."""
    props = gateway(arm)["properties"]
    for item in props["urlPathMaps"]:
        if item["name"].startswith(f"paths-{port}-{host.replace('*', 'star')}-"):
            out = []
            for rule in item["properties"]["pathRules"]:
                body = rule["properties"]
                target = body.get("backendAddressPool") or body.get("redirectConfiguration") or {}
                out.append((body["paths"], target["id"].rsplit("/", 1)[1]))
            return out
    raise AssertionError(f"no path map for {port} {host}")


def with_endpoints(ir: GatewayIR, service: str, addresses: list[str]) -> GatewayIR:
    listeners = []
    for listener in ir.listeners:
        rules = []
        for rule in listener.rules:
            backends = tuple(
                b.model_copy(
                    update={"endpoints": tuple(Endpoint(address=a, port=b.endpoints[0].port) for a in addresses)}
                )
                if b.name == service
                else b
                for b in rule.backends
            )
            rules.append(rule.model_copy(update={"backends": backends}))
        listeners.append(listener.model_copy(update={"rules": tuple(rules)}))
    return ir.model_copy(update={"listeners": tuple(listeners)})


def rotated(ir: GatewayIR) -> tuple[GatewayIR, str]:
    """The same IR with a new certificate in the Secret; also its PEM."""
    cert_pem, key_pem = self_signed("shop.example.com", "*.shop.example.com")
    listeners = []
    for listener in ir.listeners:
        certs = tuple(
            Certificate(
                secret=c.secret,
                cert_pem=cert_pem,
                key_pem=key_pem,
                hostnames=c.hostnames,
                sha256=hashlib.sha256((cert_pem + key_pem).encode()).hexdigest(),
            )
            for c in listener.certificates
        )
        listeners.append(listener.model_copy(update={"certificates": certs}))
    return ir.model_copy(update={"listeners": tuple(listeners)}), cert_pem
