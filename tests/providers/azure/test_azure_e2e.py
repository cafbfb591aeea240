"""azure-appgw end to end against the ARM fake, through the real SDK: create -> change route ->
change endpoints -> rotate certificate -> delete, each asserted by what Azure holds."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from unittest import mock

import pytest
from azure.mgmt.network import models
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from portico.ir import GatewayIR
from portico.provider import ApplyState
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.conftest import GROUP
from tests.providers.azure.scenario import (
    GOLDEN,
    converge,
    example_ir,
    gateway,
    path_map,
    provider,
    rotated,
    with_endpoints,
)


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    with mock.patch("portico_providers.azure_appgw.arm.sleep"):
        yield


def test_create_change_rotate_delete(arm: ArmFake) -> None:
    p = provider(arm)
    ir = example_ir(arm)
    first = p.reconcile(ir)
    assert first.state is ApplyState.PENDING, first.message
    assert first.mutations == 1  # the public IP; the gateway must wait until it is provisioned
    arm.state.settle()
    result, mutations = converge(p, arm, ir)
    assert mutations == 1  # the whole gateway in one PUT
    ip = arm.state.owned_by_type("publicIPAddresses")[0]["properties"]["ipAddress"]
    assert result.addresses == (("IPAddress", ip),)
    props = gateway(arm)["properties"]
    assert (props["provisioningState"], props["operationalState"]) == ("Succeeded", "Running")
    assert path_map(arm, "www.shop.example.com") == [
        (["/healthz"], path_map(arm, "www.shop.example.com")[0][1]),
        (["/v1/api", "/v1/api/*"], path_map(arm, "www.shop.example.com")[1][1]),
        (["/api", "/api/*"], path_map(arm, "www.shop.example.com")[2][1]),
        (["/*"], path_map(arm, "www.shop.example.com")[3][1]),
    ]
    priorities = {r["name"]: r["properties"]["priority"] for r in props["requestRoutingRules"]}
    assert sorted(priorities.values()) == [10, 20, 30]

    writes = arm.state.writes
    again = p.reconcile(ir)
    assert again.programmed and again.mutations == 0 and arm.state.writes == writes  # no-op: zero PUTs

    # Change a route: the /api rule is gone.
    listeners = [
        listener.model_copy(update={"rules": tuple(r for r in listener.rules if ":r0:" not in r.id)})
        for listener in ir.listeners
    ]
    ir = ir.model_copy(update={"listeners": tuple(listeners)})
    result, mutations = converge(p, arm, ir)
    assert mutations == 1
    assert [paths for paths, _ in path_map(arm, "www.shop.example.com")] == [
        ["/healthz"],
        ["/v1/api", "/v1/api/*"],
        ["/*"],
    ]

    # Change endpoints: the pool follows, in one PUT.
    ir = with_endpoints(ir, "web", ["10.244.3.3"])
    _, mutations = converge(p, arm, ir)
    assert mutations == 1
    pools = {
        pool["name"]: pool["properties"]["backendAddresses"]
        for pool in gateway(arm)["properties"]["backendAddressPools"]
    }
    assert [{"ipAddress": "10.244.3.3"}] in pools.values()

    # Rotate the certificate: a new upload under a new name, the old one gone.
    old_names = {c["name"] for c in gateway(arm)["properties"]["sslCertificates"]}
    ir, cert_pem = rotated(ir)
    _, mutations = converge(p, arm, ir)
    assert mutations == 1
    certs = gateway(arm)["properties"]["sslCertificates"]
    assert len(certs) == 1 and certs[0]["name"] not in old_names
    uploaded = base64.b64decode(certs[0]["properties"]["publicCertData"])
    assert uploaded == x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(Encoding.DER)

    # Delete: the gateway first, then its public IP; finished only when nothing is left.
    for _ in range(6):
        done = p.delete(ir.gateway)
        if done.finished:
            break
        arm.state.settle()
    assert done.finished, (done.remaining, done.message)
    assert arm.state.owned_by_type("applicationGateways") == []
    assert arm.state.owned_by_type("publicIPAddresses") == []


def test_a_concurrent_edit_is_kept_not_overwritten(arm: ArmFake) -> None:
    p = provider(arm)
    ir = example_ir(arm)
    converge(p, arm, ir)
    gid = gateway(arm)["id"]
    seen = p.observe(ir.gateway)
    # Someone adds a custom error page and a tag in the portal after Portico read the gateway.
    arm.state.edit(gid, lambda b: b["tags"].update({"owner": "ops"}))
    arm.state.edit(
        gid,
        lambda b: b["properties"].update(
            customErrorConfigurations=[{"statusCode": "HttpStatus502", "customErrorPageUrl": "https://e.example/502"}]
        ),
    )
    changed = with_endpoints(ir, "api", ["10.244.9.9"])
    result = p.apply(p.plan(changed, seen))  # planned on the old etag: Azure answers 412, nothing is overwritten
    assert result.state is ApplyState.PENDING and "PreconditionFailed" in result.message, result.message
    assert gateway(arm)["tags"]["owner"] == "ops"
    again = p.reconcile(changed)  # the next reconcile re-reads and PUTs on top of their version
    assert again.state is ApplyState.PENDING and again.mutations == 1, again.message
    arm.state.settle()
    body = gateway(arm)
    assert body["tags"]["owner"] == "ops"
    assert body["properties"]["customErrorConfigurations"][0]["statusCode"] == "HttpStatus502"
    assert any(
        pool["properties"]["backendAddresses"] == [{"ipAddress": "10.244.9.9"}]
        for pool in body["properties"]["backendAddressPools"]
    )


def test_resources_without_portico_tags_are_never_touched(arm: ArmFake) -> None:
    p = provider(arm)
    ir = example_ir(arm)
    converge(p, arm, ir)
    gid = gateway(arm)["id"]
    arm.state.edit(gid, lambda b: b["tags"].clear())
    writes = arm.state.writes
    result = p.reconcile(with_endpoints(ir, "web", ["10.244.7.7"]))
    assert not result.programmed and "without this Gateway's ownership tags" in result.message
    deleted = p.delete(ir.gateway)
    # The untagged gateway stays; its public IP (still Portico's) is in use by it, so Azure refuses that too.
    assert not deleted.finished and "PublicIPAddressCannotBeDeleted" in deleted.message, deleted.message
    assert arm.state.get(gid) is not None and gateway(arm)["tags"] == {}
    assert arm.state.writes == writes


def test_private_waf_gateway_with_key_vault_certificate_and_an_existing_ip(arm: ArmFake) -> None:
    """WAF_v2 with a WAF policy, a private frontend, a Key Vault certificate through a user-assigned identity."""
    ir = GatewayIR.from_yaml((GOLDEN / "private-waf-keyvault.in.yaml").read_text())
    subnet = arm.state.add_subnet(GROUP, "vnet-aks", "appgw")
    azure = {**ir.infrastructure.parameters["azure"], "subnetId": subnet, "location": arm.state.location}
    ir = ir.model_copy(update={"infrastructure": ir.infrastructure.model_copy(update={"parameters": {"azure": azure}})})
    p = provider(arm)
    result, mutations = converge(p, arm, ir)
    assert mutations == 1 and result.addresses == (("IPAddress", "10.1.0.10"),)
    props = gateway(arm)["properties"]
    assert props["sku"]["name"] == "WAF_v2" and props["firewallPolicy"]["id"].endswith("/shop-waf")
    assert [c["properties"].get("keyVaultSecretId") for c in props["sslCertificates"]] == [
        "https://shop-kv.vault.azure.net/secrets/wildcard-shop"
    ]
    assert arm.state.owned_by_type("publicIPAddresses") == []
    assert p.reconcile(ir).mutations == 0


def test_an_existing_public_ip_is_used_and_never_changed(arm: ArmFake) -> None:
    client = arm.client()
    existing = models.PublicIPAddress(
        {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    )
    pip = client.public_ip_addresses.begin_create_or_update("rg-shared", "shop-ip", existing, polling=False).result()
    arm.state.settle()
    before = arm.state.get(pip.id)
    ir = example_ir(arm)
    azure = {**ir.infrastructure.parameters["azure"], "publicIpId": pip.id}
    ir = ir.model_copy(update={"infrastructure": ir.infrastructure.model_copy(update={"parameters": {"azure": azure}})})
    p = provider(arm)
    result, mutations = converge(p, arm, ir)
    assert mutations == 1  # only the gateway
    assert result.addresses == (("IPAddress", before["properties"]["ipAddress"]),)
    assert arm.state.get(pip.id) == before
    assert [r["name"] for r in arm.state.owned_by_type("publicIPAddresses")] == ["shop-ip"]
    for _ in range(4):
        if p.delete(ir.gateway).finished:
            break
        arm.state.settle()
    assert arm.state.owned_by_type("applicationGateways") == [] and arm.state.get(pip.id) == before
