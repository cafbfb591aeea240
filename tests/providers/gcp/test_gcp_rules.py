"""check_rules, priorities, names and parameters of gcp-alb: the pure parts, without Compute."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.ir import Listener, ObjectKey
from portico_providers.gcp_alb.limits import check_rules, rules_check_for
from portico_providers.gcp_alb.naming import MAX_NAME, ComputeOwnership
from portico_providers.gcp_alb.params import Scheme, parse
from portico_providers.gcp_alb.urlmap import host_groups, priorities
from tests.providers.gcp.irs import backend, rule


def _listener(*rules: dict[str, Any], protocol: str = "HTTP") -> Listener:
    return Listener.model_validate({"name": "l", "port": 80, "protocol": protocol, "rules": list(rules)})


def _rejected(scheme: Scheme = "RegionalExternal", **extra: Any) -> str | None:
    return check_rules([_listener(rule("r", "/a", backend("api", "10.0.0.1"), **extra))], scheme).get("r")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"match": {"path": {"type": "RegularExpression", "value": "/(?=x)"}}}, "not an RE2 regular expression"),
        ({"match": {"headers": [{"type": "RegularExpression", "name": "x", "value": "(a)\\1"}]}}, "RE2"),
        ({"filters": [{"type": "RequestRedirect", "port": 8443}]}, "cannot set a port"),
        ({"filters": [{"type": "RequestRedirect", "scheme": "ftp"}]}, "only switch to https"),
        ({"timeouts": {"request_ms": 0}}, "cannot be switched off"),
        ({"timeouts": {"request_ms": 5000, "backend_request_ms": 1000}}, "one timeout per route"),
        (
            {
                "filters": [
                    {"type": "RequestMirror", "backend": backend("m1", "10.0.0.2")},
                    {"type": "RequestMirror", "backend": backend("m2", "10.0.0.3")},
                ]
            },
            "mirrors to one backend service",
        ),
        (
            {
                "match": {"path": {"type": "RegularExpression", "value": "/x.*"}},
                "filters": [{"type": "URLRewrite", "path": {"type": "ReplaceFullPath", "value": "/y"}}],
            },
            "from templates",
        ),
    ],
)
def test_rules_gcp_cannot_express_are_rejected_with_the_limit(extra: dict[str, Any], expected: str) -> None:
    message = _rejected(**extra)
    assert message is not None and expected in message


def test_rules_gcp_can_express_are_kept() -> None:
    assert _rejected(match={"path": {"type": "RegularExpression", "value": "/items/[0-9]+"}, "method": "PUT"}) is None
    assert _rejected(filters=[{"type": "RequestRedirect", "scheme": "https", "port": 443, "status_code": 308}]) is None
    assert _rejected(timeouts={"request_ms": 2500, "backend_request_ms": 2500}) is None


def _kept_in_order(rules: list[dict[str, Any]], rejected: Mapping[str, str]) -> list[str]:
    kept = [r["id"] for r in rules if r["id"] not in rejected]
    assert kept == [f"r{i}" for i in range(len(kept))]  # precedence order: the last ones go
    return kept


def test_the_one_megabyte_url_map_limit_rejects_the_rules_past_it() -> None:
    big = "x" * 4000
    rules = [
        rule(
            f"r{i}",
            f"/p{i}",
            backend("api", "10.0.0.1"),
            hostnames=[f"h{i}.example.com"],  # a path matcher each: only the size limit applies
            match={"headers": [{"type": "Exact", "name": "h", "value": big}]},
        )
        for i in range(300)
    ]
    rejected = check_rules([_listener(*rules)])
    assert rejected and all("1 MB" in m for m in rejected.values())
    assert 100 < len(_kept_in_order(rules, rejected)) < 300


@pytest.mark.parametrize(
    ("count", "extra", "kept", "limit"),
    [
        # A prefix is two route rules (fullPathMatch and prefixMatch/): 1000 route rules hold 500.
        (520, {}, 500, "at most 1000 route rules"),
        # No path match: one route rule (prefixMatch /) with two header matches, 3 predicates a rule.
        (
            400,
            {
                "match": {
                    "headers": [
                        {"type": "Exact", "name": "a", "value": "1"},
                        {"type": "Exact", "name": "b", "value": "2"},
                    ]
                }
            },
            333,
            "at most 1000 predicates",
        ),
        (
            8,
            {"match": {"path": {"type": "RegularExpression", "value": "/r[0-9]+"}}},
            5,
            "at most 5 regular expressions",
        ),
    ],
)
def test_path_matcher_limits_reject_the_lowest_precedence_rules(
    count: int, extra: dict[str, Any], kept: int, limit: str
) -> None:
    rules = [rule(f"r{i}", f"/p{i}", backend("api", "10.0.0.1"), **extra) for i in range(count)]
    rejected = check_rules([_listener(*rules)], "RegionalInternal")
    assert len(_kept_in_order(rules, rejected)) == kept
    assert all(limit in message for message in rejected.values()), set(rejected.values())


@pytest.mark.parametrize(
    ("scheme", "host_rules"), [("GlobalExternal", 1000), ("RegionalExternal", 1000), ("RegionalInternal", 2000)]
)
def test_host_rules_per_url_map_depend_on_the_scheme(scheme: Scheme, host_rules: int) -> None:
    rules = [  # exact paths: one route rule each, so 2000 stay under the 1 MB limit
        rule(
            f"r{i}",
            f"/p{i}",
            backend("api", "10.0.0.1"),
            hostnames=[f"h{i}.example.com"],
            match={"path": {"type": "Exact", "value": "/"}},
        )
        for i in range(host_rules + 3)
    ]
    rejected = rules_check_for({"gcp": {"scheme": scheme, "region": "europe-west1", "subnetwork": "s"}})(
        [_listener(*rules)]
    )
    assert len(_kept_in_order(rules, rejected)) == host_rules
    assert all(f"at most {host_rules} host rules" in m for m in rejected.values())


def test_regular_expressions_only_on_regional_and_internal_load_balancers() -> None:
    regex = {"match": {"headers": [{"type": "RegularExpression", "name": "v", "value": "v[0-9]+"}]}}
    refused = _rejected("GlobalExternal", **regex)
    assert refused is not None and "GlobalExternal load balancer cannot match regular expressions" in refused
    assert _rejected("RegionalExternal", **regex) is None
    assert _rejected("RegionalInternal", **regex) is None
    assert _rejected("GlobalExternal", match={"path": {"type": "Exact", "value": "/v1"}}) is None
    # Parameters that do not validate (the Gateway is not accepted then) get the strictest check.
    invalid = rules_check_for({"gcp": {"scheme": "Nearby"}})(
        [_listener(rule("r", "/a", backend("a", "10.0.0.1"), **regex))]
    )
    assert "GlobalExternal" in invalid["r"]
    long = _rejected(match={"path": {"type": "RegularExpression", "value": "/" + "a" * 260}})
    assert long is not None and "at most 250 characters" in long


def test_backend_services_per_url_map_are_limited() -> None:
    rules = [  # exact paths: one route rule each, so the 1 MB limit is not reached first
        rule(
            f"r{i}",
            f"/p{i}",
            backend(f"svc{i}", "10.0.0.1"),
            hostnames=[f"h{i % 900}.example.com"],
            match={"path": {"type": "Exact", "value": f"/p{i}"}},
        )
        for i in range(2503)
    ]
    rejected = check_rules([_listener(*rules)])
    assert len(_kept_in_order(rules, rejected)) == 2500
    assert all("at most 2500 distinct backend services" in m for m in rejected.values())


def test_priorities_stay_put_and_new_rules_fill_the_gaps() -> None:
    first = priorities(["a", "b", "c"], {})
    assert first == {"a": 1000, "b": 2000, "c": 3000}
    again = priorities(["a", "x", "b", "c"], first)
    assert again["a"] == 1000 and again["b"] == 2000 and again["c"] == 3000 and 1000 < again["x"] < 2000
    swapped = priorities(["b", "a"], first)
    assert swapped["b"] < swapped["a"]
    crowded = priorities(["a", "x", "b"], {"a": 5, "b": 6})
    assert crowded == {"a": 1000, "x": 2000, "b": 3000}  # no room between 5 and 6: renumbered


@given(st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=3), unique=True, max_size=12), st.data())
def test_priorities_are_strictly_ascending_whatever_was_there(keys: list[str], data: st.DataObject) -> None:
    previous = data.draw(st.dictionaries(st.sampled_from(keys) if keys else st.just("z"), st.integers(0, 10_000)))
    numbers = priorities(keys, previous)
    ordered = [numbers[k] for k in keys]
    assert ordered == sorted(set(ordered)) and all(0 <= n <= 2147483647 for n in ordered)


def test_names_fit_compute_and_ownership_needs_name_and_marker() -> None:
    owner = ComputeOwnership("cluster-" + "x" * 200, ObjectKey(namespace="n" * 63, name="g" * 253))
    name = owner.name("neg-0123456789")
    assert len(name) <= MAX_NAME and name.startswith("portico-")
    zone = "zones/europe-west1-b"
    description = owner.marker(zone, "neg-0123456789")
    assert owner.claim_in(zone, name, description) == f"{zone}/neg-0123456789"
    assert owner.claim_in("zones/europe-west1-c", name, description) is None  # found in another scope
    assert owner.claim_in(zone, name, "hand made") is None
    assert ComputeOwnership("other", owner.gateway).claim_in(zone, name, description) is None
    assert description == f"portico cluster={owner.cluster_id} gateway={owner.gateway} resource={zone}/neg-0123456789"


def test_parameters_name_the_field_at_fault() -> None:
    assert parse({"gcp": {"scheme": "RegionalInternal", "region": "europe-west1"}}) == [
        "spec.gcp: subnetwork: scheme RegionalInternal needs the subnet its address comes from"
    ]
    problems = parse({"gcp": {"network": "Bad_Name", "tls": {}}})
    assert isinstance(problems, list)
    assert any(p.startswith("spec.gcp.network: ") for p in problems)
    assert any(p.startswith("spec.gcp.tls: ") for p in problems)


def test_listener_isolation_each_host_sees_only_its_most_specific_listener() -> None:
    wildcard = Listener.model_validate(
        {
            "name": "any",
            "port": 80,
            "protocol": "HTTP",
            "hostname": "*.example.com",
            "rules": [rule("wild", "/", backend("a", "10.0.0.1"), hostnames=["*.example.com"])],
        }
    )
    exact = Listener.model_validate(
        {
            "name": "shop",
            "port": 80,
            "protocol": "HTTP",
            "hostname": "shop.example.com",
            "rules": [rule("shop", "/", backend("b", "10.0.0.2"), hostnames=["shop.example.com"])],
        }
    )
    groups = {hosts: [r.id for r in rules] for hosts, rules in host_groups([wildcard, exact])}
    assert groups == {("*.example.com",): ["wild"], ("shop.example.com",): ["shop"]}
