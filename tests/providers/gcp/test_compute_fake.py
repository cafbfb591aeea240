"""The fake answers like Compute where Portico relies on it, through the real SDK clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from tests.providers.gcp.conftest import PROJECT, REGION, ZONE, Compute, wait
from tests.providers.gcp.fake_server import mutating_calls


def _health_check(compute: Compute, name: str = "hc") -> None:
    client = compute.client(compute_v1.HealthChecksClient)
    resource = compute_v1.HealthCheck(name=name, type_="HTTP", http_health_check=compute_v1.HTTPHealthCheck(port=80))
    wait(compute, client.insert_unary(project=PROJECT, health_check_resource=resource))


def _backend_service(compute: Compute, name: str = "bs", scheme: str = "EXTERNAL_MANAGED") -> compute_v1.BackendService:
    _health_check(compute)
    client = compute.client(compute_v1.BackendServicesClient)
    resource = compute_v1.BackendService(
        name=name,
        load_balancing_scheme=scheme,
        protocol="HTTP",
        health_checks=[f"projects/{PROJECT}/global/healthChecks/hc"],
    )
    wait(compute, client.insert_unary(project=PROJECT, backend_service_resource=resource))
    return client.get(project=PROJECT, backend_service=name)


def test_insert_runs_as_an_operation_and_shows_only_when_done(compute: Compute) -> None:
    client = compute.client(compute_v1.HealthChecksClient)
    resource = compute_v1.HealthCheck(name="hc", type_="HTTP", http_health_check=compute_v1.HTTPHealthCheck(port=80))
    operation = client.insert_unary(project=PROJECT, health_check_resource=resource)
    assert operation.status == compute_v1.Operation.Status.RUNNING
    with pytest.raises(exceptions.NotFound):
        client.get(project=PROJECT, health_check="hc")
    with pytest.raises(exceptions.Conflict):  # the name is taken from the insert on
        client.insert_unary(project=PROJECT, health_check_resource=resource)
    done = wait(compute, operation)
    assert not done.error.errors
    assert client.get(project=PROJECT, health_check="hc").http_health_check.port == 80


def test_unknown_fields_and_bad_enum_values_are_refused(compute: Compute) -> None:
    client = compute.client(compute_v1.BackendServicesClient)
    with pytest.raises(exceptions.BadRequest, match="loadBalancingScheme"):
        client.insert_unary(
            project=PROJECT,
            backend_service_resource=compute_v1.BackendService(name="bs", load_balancing_scheme="EXTERNAL_MANGED"),
        )
    # A field Compute does not have, sent past the SDK (as a hand-written request would be).
    request = urllib.request.Request(
        f"{compute.endpoint}/compute/v1/projects/{PROJECT}/global/urlMaps",
        data=json.dumps({"name": "um", "defaultBackend": "x"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert "no field named" in json.loads(refused.value.read())["error"]["message"]
    with pytest.raises(exceptions.BadRequest, match="name"):
        client.insert_unary(project=PROJECT, backend_service_resource=compute_v1.BackendService(name="Not_RFC1035"))


def test_references_must_exist_and_in_use_resources_cannot_be_deleted(compute: Compute) -> None:
    urls = compute.client(compute_v1.UrlMapsClient)
    missing = compute_v1.UrlMap(name="um", default_service=f"projects/{PROJECT}/global/backendServices/none")
    with pytest.raises(exceptions.NotFound):
        urls.insert_unary(project=PROJECT, url_map_resource=missing)
    _backend_service(compute)
    url_map = compute_v1.UrlMap(name="um", default_service=f"projects/{PROJECT}/global/backendServices/bs")
    wait(compute, urls.insert_unary(project=PROJECT, url_map_resource=url_map))
    services = compute.client(compute_v1.BackendServicesClient)
    with pytest.raises(exceptions.BadRequest) as refused:
        services.delete_unary(project=PROJECT, backend_service="bs")
    assert refused.value.errors[0]["reason"] == "resourceInUseByAnotherResource"
    wait(compute, urls.delete_unary(project=PROJECT, url_map="um"))
    wait(compute, services.delete_unary(project=PROJECT, backend_service="bs"))
    assert compute.state.list("global", "backendServices") == []


def test_updates_need_the_current_fingerprint_and_keep_immutable_fields(compute: Compute) -> None:
    current = _backend_service(compute)
    client = compute.client(compute_v1.BackendServicesClient)
    stale = compute_v1.BackendService(current)
    stale.fingerprint = "0000"
    stale.timeout_sec = 40
    with pytest.raises(exceptions.PreconditionFailed):
        client.update_unary(project=PROJECT, backend_service="bs", backend_service_resource=stale)
    changed = compute_v1.BackendService(current)
    changed.load_balancing_scheme = "INTERNAL_MANAGED"
    with pytest.raises(exceptions.BadRequest, match="cannot be changed"):
        client.update_unary(project=PROJECT, backend_service="bs", backend_service_resource=changed)
    fresh = compute_v1.BackendService(current)
    fresh.timeout_sec = 40
    wait(compute, client.update_unary(project=PROJECT, backend_service="bs", backend_service_resource=fresh))
    after = client.get(project=PROJECT, backend_service="bs")
    assert after.timeout_sec == 40
    assert after.fingerprint != current.fingerprint


def test_injected_refusals_and_failed_operations(compute: Compute) -> None:
    client = compute.client(compute_v1.HealthChecksClient)
    compute.state.faults.requests[("POST", "healthChecks")] = [429, 503]
    resource = compute_v1.HealthCheck(name="hc", type_="HTTP", http_health_check=compute_v1.HTTPHealthCheck(port=80))
    with pytest.raises(exceptions.TooManyRequests):
        client.insert_unary(project=PROJECT, health_check_resource=resource)
    with pytest.raises(exceptions.ServiceUnavailable):
        client.insert_unary(project=PROJECT, health_check_resource=resource)
    compute.state.faults.failed_operations.append(("QUOTA_EXCEEDED", "Quota 'HEALTH_CHECKS' exceeded"))
    done = wait(compute, client.insert_unary(project=PROJECT, health_check_resource=resource))
    assert done.error.errors[0].code == "QUOTA_EXCEEDED"
    assert compute.state.list("global", "healthChecks") == []
    assert len(mutating_calls(compute.state)) == 3


def test_zonal_negs_attach_and_detach_endpoints(compute: Compute) -> None:
    compute.state.put(("regions/" + REGION, "subnetworks", "default"), {"ipCidrRange": "10.0.0.0/20"})
    client = compute.client(compute_v1.NetworkEndpointGroupsClient)
    neg = compute_v1.NetworkEndpointGroup(name="neg", network_endpoint_type="GCE_VM_IP_PORT", default_port=8080)
    wait(compute, client.insert_unary(project=PROJECT, zone=ZONE, network_endpoint_group_resource=neg))
    endpoint = compute_v1.NetworkEndpoint(ip_address="10.0.0.7", port=8080)
    attach = compute_v1.NetworkEndpointGroupsAttachEndpointsRequest(network_endpoints=[endpoint])
    wait(
        compute,
        client.attach_network_endpoints_unary(
            project=PROJECT,
            zone=ZONE,
            network_endpoint_group="neg",
            network_endpoint_groups_attach_endpoints_request_resource=attach,
        ),
    )
    listed = client.list_network_endpoints(project=PROJECT, zone=ZONE, network_endpoint_group="neg")
    assert [item.network_endpoint.ip_address for item in listed] == ["10.0.0.7"]
    with pytest.raises(exceptions.BadRequest, match="already attached"):
        client.attach_network_endpoints_unary(
            project=PROJECT,
            zone=ZONE,
            network_endpoint_group="neg",
            network_endpoint_groups_attach_endpoints_request_resource=attach,
        )
    assert compute.state.permissions == set()  # recorded only for Portico's own calls (its User-Agent)


def test_a_lost_insert_answer_still_inserts(compute: Compute) -> None:
    client = compute.client(compute_v1.HealthChecksClient)
    compute.state.operation_polls = 0
    compute.state.faults.lose_next_insert_answer = True
    resource = compute_v1.HealthCheck(name="hc", type_="HTTP", http_health_check=compute_v1.HTTPHealthCheck(port=80))
    with pytest.raises(exceptions.ServiceUnavailable):
        client.insert_unary(project=PROJECT, health_check_resource=resource)
    assert client.get(project=PROJECT, health_check="hc").name == "hc"


@pytest.mark.parametrize(
    ("rules", "scheme", "limit"),
    [
        ([{"prefixMatch": f"/r{i}/"} for i in range(1001)], "EXTERNAL_MANAGED", "more than 1000 route rules"),
        # A global URL map takes regular expressions only for an internal (cross-region) load balancer.
        ([{"regexMatch": f"/r{i}/.*"} for i in range(6)], "INTERNAL_MANAGED", "more than 5 regular expressions"),
        (
            [{"prefixMatch": f"/r{i}/", "headerMatches": [{"headerName": "h", "exactMatch": "1"}]} for i in range(501)],
            "EXTERNAL_MANAGED",
            "more than 1000 predicates",
        ),
    ],
)
def test_url_maps_over_the_documented_limits_are_refused(
    compute: Compute, rules: list[dict[str, object]], scheme: str, limit: str
) -> None:
    service = f"projects/{PROJECT}/global/backendServices/{_backend_service(compute, scheme=scheme).name}"
    route_rules = [
        {
            "priority": i,
            "matchRules": [match],
            "routeAction": {"weightedBackendServices": [{"backendService": service, "weight": 100}]},
        }
        for i, match in enumerate(rules)
    ]
    body = {
        "name": "um",
        "defaultService": service,
        "hostRules": [{"hosts": ["a.example.com"], "pathMatcher": "pm"}],
        "pathMatchers": [{"name": "pm", "defaultService": service, "routeRules": route_rules}],
    }
    client = compute.client(compute_v1.UrlMapsClient)
    with pytest.raises(exceptions.BadRequest, match=limit):
        client.insert_unary(project=PROJECT, url_map_resource=compute_v1.UrlMap.from_json(json.dumps(body)))
    body["pathMatchers"][0]["routeRules"] = route_rules[:5]  # type: ignore[index]
    wait(compute, client.insert_unary(project=PROJECT, url_map_resource=compute_v1.UrlMap.from_json(json.dumps(body))))


def test_a_global_external_url_map_takes_no_regular_expression(compute: Compute) -> None:
    service = f"projects/{PROJECT}/global/backendServices/{_backend_service(compute).name}"
    header = {"headerName": "h", "regexMatch": "v[0-9]+"}
    body = {
        "name": "um",
        "defaultService": service,
        "hostRules": [{"hosts": ["a.example.com"], "pathMatcher": "pm"}],
        "pathMatchers": [
            {
                "name": "pm",
                "defaultService": service,
                "routeRules": [
                    {"priority": 1, "matchRules": [{"prefixMatch": "/", "headerMatches": [header]}], "service": service}
                ],
            }
        ],
    }
    client = compute.client(compute_v1.UrlMapsClient)
    with pytest.raises(exceptions.BadRequest, match="regexMatch is only supported"):
        client.insert_unary(project=PROJECT, url_map_resource=compute_v1.UrlMap.from_json(json.dumps(body)))
    header.pop("regexMatch")
    header["exactMatch"] = "v1"
    wait(compute, client.insert_unary(project=PROJECT, url_map_resource=compute_v1.UrlMap.from_json(json.dumps(body))))
