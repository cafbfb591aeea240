"""Ownership by name plus description marker; regional internal load balancers and their proxy-only subnet."""

from __future__ import annotations

from google.cloud import compute_v1

from portico.provider import reconcile_once
from portico_providers.gcp_alb.naming import ComputeOwnership
from tests.providers.gcp.conftest import PROJECT, REGION, Compute, converge, delete_all, provider_for
from tests.providers.gcp.fake_server import mutating_calls
from tests.providers.gcp.irs import backend, gateway, rule


def test_a_colliding_name_without_our_marker_is_never_touched(compute: Compute) -> None:
    ir = gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))])
    owner = ComputeOwnership("test", ir.gateway)
    hand_made = {"description": "made by hand", "defaultService": "projects/x/global/backendServices/y"}
    compute.state.put(("global", "urlMaps", owner.name("um-80")), hand_made)
    provider = provider_for(compute)
    results = [reconcile_once(provider, ir) for _ in range(12)]
    assert not results[-1].programmed
    assert "not Portico's" in results[-1].message and owner.name("um-80") in results[-1].message
    assert compute.state.resources[("global", "urlMaps", owner.name("um-80"))]["description"] == "made by hand"
    assert not [c for c in mutating_calls(compute.state) if "/urlMaps" in c[1]]
    delete_all(provider, ir.gateway)
    assert compute.state.resources[("global", "urlMaps", owner.name("um-80"))]["description"] == "made by hand"


def test_another_clusters_resources_are_not_ours(compute: Compute) -> None:
    ir = gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))])
    converge(provider_for(compute, cluster_id="other"), ir)
    theirs = dict(compute.state.resources)
    mine = provider_for(compute, cluster_id="test")
    converge(mine, ir)
    delete_all(mine, ir.gateway)
    assert compute.state.resources == theirs


def test_regional_internal_needs_a_proxy_only_subnet(compute: Compute) -> None:
    params = {
        "scheme": "RegionalInternal",
        "region": REGION,
        "network": "prod",
        "subnetwork": "prod-europe-west1",
    }
    ir = gateway(
        [rule("r-api", "/api", backend("api", "10.0.1.20"))],
        gcp=params,
        addresses=({"type": "IPAddress", "value": "10.10.0.50"},),
    )
    provider = provider_for(compute)
    missing = reconcile_once(provider, ir)
    assert not missing.programmed
    assert "proxy-only subnet" in missing.message and "REGIONAL_MANAGED_PROXY" in missing.message
    assert mutating_calls(compute.state) == []
    network = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/prod"
    compute.state.put(
        (f"regions/{REGION}", "subnetworks", "proxy-only"),
        {"ipCidrRange": "10.129.0.0/23", "network": network, "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"},
    )
    result = converge(provider, ir)
    assert result.addresses == (("IPAddress", "10.10.0.50"),)
    maps = compute.client(compute_v1.RegionUrlMapsClient).list(project=PROJECT, region=REGION)
    assert [m.name for m in maps] == [ComputeOwnership("test", ir.gateway).name("um-80")]
    services = compute.client(compute_v1.RegionBackendServicesClient).list(project=PROJECT, region=REGION)
    assert {s.load_balancing_scheme for s in services} == {"INTERNAL_MANAGED"}

    # HTTPS, a route, endpoints and the health check change: regional resources update in place.
    changed = gateway(
        [rule("r-api", "/v2", backend("api", "10.0.1.20", zone="europe-west1-c"))],
        gcp={**params, "healthCheck": {"requestPath": "/ready"}},
        addresses=({"type": "IPAddress", "value": "10.10.0.50"},),
        cert="serial-1",
    )
    converge(provider, changed)
    converge(
        provider,
        gateway(
            changed.listeners[0].model_dump()["rules"],
            gcp=changed.infrastructure.parameters["gcp"],
            addresses=({"type": "IPAddress", "value": "10.10.0.50"},),
            cert="serial-2",
        ),
    )
    proxies = compute.client(compute_v1.RegionTargetHttpsProxiesClient).list(project=PROJECT, region=REGION)
    certificates = compute.client(compute_v1.RegionSslCertificatesClient).list(project=PROJECT, region=REGION)
    assert [c.rsplit("/", 1)[1] for p in proxies for c in p.ssl_certificates] == [c.name for c in certificates]
    delete_all(provider, ir.gateway)
    assert not [k for k, b in compute.state.resources.items() if b["name"].startswith("portico-")]
