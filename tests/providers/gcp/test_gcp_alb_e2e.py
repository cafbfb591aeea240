"""gcp-alb end to end against the fake Compute API, through the real SDK clients.

create -> change a route -> change endpoints -> rotate the certificate -> delete, each
asserted by reading Compute back with clients of the test's own.
"""

from __future__ import annotations

from typing import Any

from google.cloud import compute_v1

from portico.provider import reconcile_once
from portico_providers.gcp_alb.limits import rules_check_for
from tests.providers.gcp.conftest import PROJECT, REGION, Compute, converge, delete_all, provider_for
from tests.providers.gcp.fake_server import mutating_calls
from tests.providers.gcp.irs import backend, gateway, rule


def _names(compute: Compute, collection: str) -> list[str]:
    return sorted(body["name"] for (scope, coll, _), body in compute.state.resources.items() if coll == collection)


def _url_map(compute: Compute, port: int) -> Any:
    client = compute.client(compute_v1.UrlMapsClient)
    name = next(n for n in _names(compute, "urlMaps") if n.endswith(f"-um-{port}"))
    return client.get(project=PROJECT, url_map=name)


def test_create_change_rotate_delete(compute: Compute) -> None:
    provider = provider_for(compute)
    ir = gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))], cert="serial-1")
    result = converge(provider, ir)
    rules_client = compute.client(compute_v1.GlobalForwardingRulesClient)
    ips = {r.I_p_address for r in rules_client.list(project=PROJECT)}
    assert result.addresses == (("IPAddress", ips.pop()),) and not ips
    routes = _url_map(compute, 80).path_matchers[0].route_rules
    assert [(r.priority, r.match_rules[0].full_path_match or r.match_rules[0].prefix_match) for r in routes] == [
        (1000, "/api"),
        (2000, "/api/"),
    ]

    # A reconcile with nothing to change makes no mutating call.
    since = len(compute.state.calls)
    assert reconcile_once(provider, ir).programmed
    assert mutating_calls(compute.state, since) == []

    # Change a route: a new rule goes before the existing ones, which keep their priorities.
    changed = gateway(
        [rule("r-admin", "/admin", backend("api", "10.0.1.20")), rule("r-api", "/api", backend("api", "10.0.1.20"))],
        cert="serial-1",
    )
    converge(provider, changed)
    routes = _url_map(compute, 80).path_matchers[0].route_rules
    assert [(r.description, r.priority) for r in routes] == [
        ("r-admin#0", 333),
        ("r-admin#1", 666),
        ("r-api#0", 1000),
        ("r-api#1", 2000),
    ]

    # Change endpoints: only the difference is attached and detached.
    moved = gateway(
        [
            rule("r-admin", "/admin", backend("api", "10.0.1.21", "10.0.1.22")),
            rule("r-api", "/api", backend("api", "10.0.1.21", "10.0.1.22")),
        ],
        cert="serial-1",
    )
    since = len(compute.state.calls)
    converge(provider, moved)
    changes = [path.rsplit("/", 1)[1] for _, path in mutating_calls(compute.state, since)]
    assert sorted(changes) == ["attachNetworkEndpoints", "detachNetworkEndpoints"]
    (members,) = compute.state.endpoints.values()
    assert sorted(m["ipAddress"] for m in members) == ["10.0.1.21", "10.0.1.22"]

    # Rotate the certificate: create the new one, switch the proxy, then delete the old one.
    old = _names(compute, "sslCertificates")
    since = len(compute.state.calls)
    converge(provider, gateway(moved.listeners[0].model_dump()["rules"], cert="serial-2"))
    new = _names(compute, "sslCertificates")
    assert len(old) == len(new) == 1 and old != new
    proxy = compute.client(compute_v1.TargetHttpsProxiesClient).list(project=PROJECT)
    assert [c.rsplit("/", 1)[1] for p in proxy for c in p.ssl_certificates] == new
    order = [(m, p.rsplit("/", 2)[-2:]) for m, p in mutating_calls(compute.state, since)]
    assert [o[0] for o in order] == ["POST", "POST", "DELETE"]
    assert order[1][1][1] == "setSslCertificates"

    # Delete: everything Portico made is gone, in dependency order (the fake refuses otherwise).
    delete_all(provider, ir.gateway)
    owned = [k for k, body in compute.state.resources.items() if body["name"].startswith("portico-")]
    assert owned == []
    assert compute.state.running() == 0


def test_zero_mutations_when_nothing_changed_after_a_restart(compute: Compute) -> None:
    ir = gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))])
    converge(provider_for(compute), ir)
    restarted = provider_for(compute)
    since = len(compute.state.calls)
    result = reconcile_once(restarted, ir)
    assert result.programmed, result.message
    assert mutating_calls(compute.state, since) == []


def test_backend_and_health_check_changes_update_in_place(compute: Compute) -> None:
    provider = provider_for(compute)
    converge(provider, gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))]))
    services = compute.client(compute_v1.BackendServicesClient)
    before = {s.name: s.id for s in services.list(project=PROJECT)}
    moved = gateway(
        [rule("r-api", "/api", backend("api", "10.0.1.20", zone="europe-west1-c"))],
        gcp={"healthCheck": {"requestPath": "/ready"}},
    )
    converge(provider, moved)
    after = {s.name: s for s in services.list(project=PROJECT)}
    assert {name: s.id for name, s in after.items()} == before  # updated, not replaced
    groups = [b.group for s in after.values() for b in s.backends]
    assert len(groups) == 1 and "/zones/europe-west1-c/" in groups[0]
    checks = compute.client(compute_v1.HealthChecksClient).list(project=PROJECT)
    assert [c.http_health_check.request_path for c in checks] == ["/ready"]
    assert [k for k in compute.state.resources if k[1] == "networkEndpointGroups"] == [
        ("zones/europe-west1-c", "networkEndpointGroups", groups[0].rsplit("/", 1)[1])
    ]


def test_a_concurrent_change_is_re_read_not_overwritten(compute: Compute) -> None:
    provider = provider_for(compute)
    converge(provider, gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))]))
    changed = gateway([rule("r-api", "/v2", backend("api", "10.0.1.20"))])
    plan = provider.plan(changed, provider.observe(changed.gateway))
    assert [(s.action, s.kind) for s in plan.steps] == [("update", "urlMap")]
    # Someone else updates the URL map between our read and our write: its fingerprint moves on.
    (key,) = [k for k in compute.state.resources if k[1] == "urlMaps"]
    compute.state.resources[key] = {**compute.state.resources[key], "fingerprint": "someone-elses"}
    refused = provider.apply(plan)
    assert not refused.programmed and "412" in refused.message
    converge(provider, changed)  # the next reconcile reads the new fingerprint and applies on top
    assert _url_map(compute, 80).path_matchers[0].route_rules[0].match_rules[0].full_path_match == "/v2"


def test_instance_groups_and_node_ports_for_clusters_without_routable_pods(compute: Compute) -> None:
    for zone in ("europe-west1-b", "europe-west1-c"):
        compute.state.put((f"zones/{zone}", "instances", f"node-{zone}"), {})
    provider = provider_for(compute)
    by_nodes = {"backendType": "InstanceGroup"}
    ir = gateway([rule("r-api", "/api", backend("api", "10.4.0.2", node_port=31080))], gcp=by_nodes)
    converge(provider, ir)
    groups = compute.client(compute_v1.InstanceGroupsClient)
    (group,) = groups.list(project=PROJECT, zone="europe-west1-b")
    assert [(p.name, p.port) for p in group.named_ports] == [("np-31080", 31080)]
    (service,) = [s for s in compute.client(compute_v1.BackendServicesClient).list(project=PROJECT) if s.backends]
    assert service.port_name == "np-31080" and service.backends[0].group.endswith(f"/instanceGroups/{group.name}")
    assert not [k for k in compute.state.resources if k[1] == "networkEndpointGroups"]

    # Endpoints move to a node of another zone and the Service gets a second port.
    moved = gateway(
        [
            rule("r-api", "/api", backend("api", "10.4.1.2", zone="europe-west1-c", node_port=31080)),
            rule("r-web", "/", backend("web", "10.4.1.3", zone="europe-west1-c", node_port=31081)),
        ],
        gcp=by_nodes,
    )
    converge(provider, moved)
    members = {k[0]: [m[2] for m in v] for k, v in compute.state.members.items() if k in compute.state.resources}
    assert members == {"zones/europe-west1-c": ["node-europe-west1-c"]}
    (group,) = groups.list(project=PROJECT, zone="europe-west1-c")
    assert [p.port for p in group.named_ports] == [31080, 31081]
    delete_all(provider, ir.gateway)
    assert not [k for k, b in compute.state.resources.items() if b["name"].startswith("portico-")]


def test_removing_the_last_route_clears_the_url_map(compute: Compute) -> None:
    provider = provider_for(compute)
    converge(provider, gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))]))
    assert _url_map(compute, 80).path_matchers
    converge(provider, gateway([]))
    emptied = _url_map(compute, 80)
    assert not emptied.host_rules and not emptied.path_matchers  # no route of the old rules is left
    since = len(compute.state.calls)
    assert reconcile_once(provider, gateway([])).programmed
    assert mutating_calls(compute.state, since) == []


REGEX_RULES = [
    rule(
        f"r{i}",
        f"/p{i}",
        backend("api", "10.0.1.20"),
        match={"path": {"type": "RegularExpression", "value": f"/r{i}/.*"}},
    )
    for i in range(7)
]


def test_what_check_rules_admits_is_what_compute_accepts(compute: Compute) -> None:
    """A regional external load balancer: regular expressions, five per path matcher."""
    network = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/default"
    compute.state.put(
        (f"regions/{REGION}", "subnetworks", "proxy-only"),
        {"ipCidrRange": "10.129.0.0/23", "network": network, "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"},
    )
    regional = {"scheme": "RegionalExternal", "region": REGION}
    everything = gateway(REGEX_RULES, gcp=regional)
    rejected = rules_check_for(everything.infrastructure.parameters)(everything.listeners)
    assert sorted(rejected) == ["r5", "r6"] and "at most 5 regular expressions" in rejected["r6"]
    # Applied as it is, the IR still loses exactly those rules (Compute refuses a sixth: test_compute_fake).
    converge(provider_for(compute), everything)
    maps = compute.client(compute_v1.RegionUrlMapsClient).list(project=PROJECT, region=REGION)
    assert [[r.match_rules[0].regex_match for r in m.path_matchers[0].route_rules] for m in maps] == [
        [f"/r{i}/.*" for i in range(5)]
    ]


def test_a_global_external_load_balancer_takes_no_regular_expression(compute: Compute) -> None:
    everything = gateway([*REGEX_RULES[:2], rule("plain", "/plain", backend("api", "10.0.1.20"))])
    rejected = rules_check_for(everything.infrastructure.parameters)(everything.listeners)
    assert sorted(rejected) == ["r0", "r1"] and all("GlobalExternal" in m for m in rejected.values())
    # Applied as it is, the IR still loses exactly those rules: Compute would refuse the whole URL map.
    converge(provider_for(compute), everything)
    route_rules = _url_map(compute, 80).path_matchers[0].route_rules
    assert [r.match_rules[0].full_path_match for r in route_rules] == ["/plain", ""]  # the prefix: exact and "/plain/"


def test_settings_compute_cannot_change_in_place_replace_before_the_old_resource_goes(compute: Compute) -> None:
    provider = provider_for(compute)
    converge(provider, gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))], cert="serial-1"))
    negs, proxies = _names(compute, "networkEndpointGroups"), _names(compute, "targetHttpsProxies")
    # A new target port (the NEG's defaultPort) and an SSL policy (a target HTTPS proxy's): neither
    # changes in place, and both resources are still referenced while their replacements come up.
    compute.state.put(("global", "sslPolicies", "modern"), {})
    changed = gateway(
        [rule("r-api", "/api", backend("api", "10.0.1.20", port=9090))], cert="serial-1", gcp={"sslPolicy": "modern"}
    )
    converge(provider, changed)
    assert len(_names(compute, "networkEndpointGroups")) == 1 and _names(compute, "networkEndpointGroups") != negs
    (proxy,) = compute.client(compute_v1.TargetHttpsProxiesClient).list(project=PROJECT)
    assert [proxy.name] != proxies and proxy.ssl_policy.endswith("/sslPolicies/modern")
    (members,) = compute.state.endpoints.values()
    assert [(m["ipAddress"], m["port"]) for m in members] == [("10.0.1.20", 9090)]
