"""The ARM fake itself, driven through the real NetworkManagementClient: it must refuse what ARM refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.network import models
from azure.mgmt.network.operations._operations import build_application_gateways_get_request

from tests.providers.azure.arm_model import API_VERSION
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.arm_state import Fault
from tests.providers.azure.conftest import GROUP


def gateway_body(arm: ArmFake, name: str = "gw", pip: str | None = None) -> dict[str, Any]:
    sub = arm.state.subscription
    gid = f"/subscriptions/{sub}/resourceGroups/{GROUP}/providers/Microsoft.Network/applicationGateways/{name}"
    network = f"/subscriptions/{sub}/resourceGroups/{GROUP}/providers/Microsoft.Network"
    subnet = f"{network}/virtualNetworks/vnet-aks/subnets/appgw"
    frontend: dict[str, Any] = (
        {"publicIPAddress": {"id": pip}}
        if pip
        else {"privateIPAllocationMethod": "Static", "privateIPAddress": "10.1.0.10", "subnet": {"id": subnet}}
    )
    return {
        "location": "westeurope",
        "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2"},
            "autoscaleConfiguration": {"minCapacity": 0, "maxCapacity": 2},
            "gatewayIPConfigurations": [{"name": "gwip", "properties": {"subnet": {"id": subnet}}}],
            "frontendIPConfigurations": [{"name": "fe", "properties": frontend}],
            "frontendPorts": [{"name": "p80", "properties": {"port": 80}}],
            "httpListeners": [
                {
                    "name": "l80",
                    "properties": {
                        "frontendIPConfiguration": {"id": f"{gid}/frontendIPConfigurations/fe"},
                        "frontendPort": {"id": f"{gid}/frontendPorts/p80"},
                        "protocol": "Http",
                    },
                }
            ],
            "backendAddressPools": [{"name": "pool", "properties": {"backendAddresses": [{"ipAddress": "10.2.0.4"}]}}],
            "backendHttpSettingsCollection": [{"name": "s", "properties": {"port": 8080, "protocol": "Http"}}],
            "urlPathMaps": [
                {
                    "name": "map",
                    "properties": {
                        "defaultBackendAddressPool": {"id": f"{gid}/backendAddressPools/pool"},
                        "defaultBackendHttpSettings": {"id": f"{gid}/backendHttpSettingsCollection/s"},
                        "pathRules": [
                            {
                                "name": "api",
                                "properties": {
                                    "paths": ["/api", "/api/*"],
                                    "backendAddressPool": {"id": f"{gid}/backendAddressPools/pool"},
                                    "backendHttpSettings": {"id": f"{gid}/backendHttpSettingsCollection/s"},
                                },
                            }
                        ],
                    },
                }
            ],
            "requestRoutingRules": [
                {
                    "name": "r80",
                    "properties": {
                        "ruleType": "PathBasedRouting",
                        "priority": 10,
                        "httpListener": {"id": f"{gid}/httpListeners/l80"},
                        "urlPathMap": {"id": f"{gid}/urlPathMaps/map"},
                    },
                }
            ],
        },
    }


def put(arm: ArmFake, body: dict[str, Any], name: str = "gw", **kwargs: Any) -> Any:
    seen: dict[str, Any] = {}

    def hook(response: Any) -> None:
        seen["status"] = response.http_response.status_code
        seen["headers"] = dict(response.http_response.headers)

    poller = arm.client().application_gateways.begin_create_or_update(
        GROUP, name, models.ApplicationGateway(body), polling=False, raw_response_hook=hook, **kwargs
    )
    return poller.result(), seen


def test_the_fake_speaks_the_api_version_the_sdk_sends() -> None:
    request = build_application_gateways_get_request("rg", "gw", "sub")
    assert f"api-version={API_VERSION}" in request.url


def test_put_is_a_long_running_operation_polled_to_succeeded(arm: ArmFake) -> None:
    created, seen = put(arm, gateway_body(arm))
    assert seen["status"] == 201
    assert created.properties.provisioning_state == "Updating"
    status_url = seen["headers"]["Azure-AsyncOperation"]
    client = arm.client()
    polls = [client.send_request(HttpRequest("GET", status_url)).json()["status"] for _ in range(2)]
    assert polls == ["InProgress", "Succeeded"]
    got = client.application_gateways.get(GROUP, "gw")
    assert (got.properties.provisioning_state, got.properties.operational_state) == ("Succeeded", "Running")
    _, again = put(arm, gateway_body(arm), headers={"If-Match": got.etag})
    assert again["status"] == 200


def test_requests_are_validated_against_the_api_model(arm: ArmFake) -> None:
    body = gateway_body(arm)
    body["properties"]["frontendPorts"][0]["properties"]["portNumber"] = 80
    body["properties"]["backendHttpSettingsCollection"][0]["properties"]["protocol"] = "Gopher"
    body["properties"]["requestRoutingRules"][0]["properties"]["priority"] = "10"
    with pytest.raises(HttpResponseError) as caught:
        put(arm, body)
    assert caught.value.status_code == 400
    message = str(caught.value)
    assert "frontendPorts[0].properties.portNumber: unknown property" in message
    assert "'Gopher' is not one of" in message
    assert "priority: expected an integer" in message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda p: p["requestRoutingRules"].append(copy.deepcopy(p["requestRoutingRules"][0])), "DuplicateName"),
        (
            lambda p: p["urlPathMaps"][0]["properties"]["pathRules"][0]["properties"].update(paths=["/a*"]),
            "InvalidPath",
        ),
        (
            lambda p: p["urlPathMaps"][0]["properties"]["pathRules"][0]["properties"].update(paths=["/a", "/A"]),
            "Duplicate",
        ),
        (lambda p: p["requestRoutingRules"][0]["properties"].pop("priority"), "PriorityInvalid"),
        (lambda p: p["httpListeners"][0]["properties"]["frontendPort"].update(id="/nope"), "InvalidResourceReference"),
        (lambda p: p["sku"].update(name="Standard_Medium", tier="Standard"), "SkuInvalid"),
    ],
)
def test_application_gateway_rules_are_enforced(arm: ArmFake, change: Any, code: str) -> None:
    body = gateway_body(arm)
    change(body["properties"])
    with pytest.raises(HttpResponseError) as caught:
        put(arm, body)
    assert caught.value.status_code == 400
    assert code in str(caught.value.error.code if caught.value.error else caught.value)
    assert arm.state.writes == 0


def test_stale_etag_is_412_and_busy_resource_is_409(arm: ArmFake) -> None:
    put(arm, gateway_body(arm))
    with pytest.raises(HttpResponseError) as busy:
        put(arm, gateway_body(arm))
    assert busy.value.status_code == 409
    arm.state.settle()
    etag = arm.client().application_gateways.get(GROUP, "gw").etag
    arm.state.edit(
        arm.client().application_gateways.get(GROUP, "gw").id, lambda b: b.setdefault("tags", {}).update(x="y")
    )
    with pytest.raises(HttpResponseError) as stale:
        put(arm, gateway_body(arm), headers={"If-Match": etag})
    assert stale.value.status_code == 412
    with pytest.raises(HttpResponseError) as exists:
        put(arm, gateway_body(arm), headers={"If-None-Match": "*"})
    assert exists.value.status_code == 412


def test_throttling_and_server_errors_on_demand(arm: ArmFake) -> None:
    arm.state.faults += [Fault("GET", "/applicationGateways/", 429, retry_after=7), Fault("GET", "/gw", 503)]
    client = arm.client()
    with pytest.raises(HttpResponseError) as throttled:
        client.application_gateways.get(GROUP, "gw")
    assert throttled.value.status_code == 429
    assert throttled.value.response.headers["Retry-After"] == "7"
    with pytest.raises(HttpResponseError) as unavailable:
        client.application_gateways.get(GROUP, "gw")
    assert unavailable.value.status_code == 503
    with pytest.raises(ResourceNotFoundError) as missing:
        client.application_gateways.get(GROUP, "gw")
    assert missing.value.error is not None and missing.value.error.code == "ResourceNotFound"


def test_delete_is_202_with_location_and_an_ip_in_use_cannot_go(arm: ArmFake) -> None:
    client = arm.client()
    ip = models.PublicIPAddress(
        {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    )
    pip = client.public_ip_addresses.begin_create_or_update(GROUP, "pip", ip, polling=False).result()
    arm.state.settle()
    assert client.public_ip_addresses.get(GROUP, "pip").properties.ip_address
    put(arm, gateway_body(arm, pip=pip.id))
    arm.state.settle()
    with pytest.raises(HttpResponseError) as in_use:
        client.public_ip_addresses.begin_delete(GROUP, "pip", polling=False).result()
    assert in_use.value.status_code == 400
    seen: dict[str, Any] = {}
    client.application_gateways.begin_delete(
        GROUP, "gw", polling=False, raw_response_hook=lambda r: seen.update(r.http_response.headers)
    ).result()
    assert "Location" in seen
    assert client.application_gateways.get(GROUP, "gw").properties.provisioning_state == "Deleting"
    client.application_gateways.begin_delete(GROUP, "gw", polling_interval=0).result()  # SDK polls Location
    with pytest.raises(ResourceNotFoundError):
        client.application_gateways.get(GROUP, "gw")
