"""check_rules: Application Gateway's published limits and semantics, counted in precedence order."""

from __future__ import annotations

from portico.ir import (
    Backend,
    Endpoint,
    Listener,
    ListenerProtocol,
    Match,
    MatchType,
    ObjectKey,
    PathMatch,
    RequestRedirectFilter,
    RouteKind,
    Rule,
)
from portico_providers.azure_appgw import limits
from portico_providers.azure_appgw.layout import check_rules, layout

ROUTE = ObjectKey(namespace="shop", name="r")


def rule(index: int, path: str, *, host: str | None = None, service: str = "web", **extra: object) -> Rule:
    backend = Backend(namespace="shop", name=service, port=80, endpoints=(Endpoint(address="10.0.0.1", port=8080),))
    return Rule(
        id=f"r{index}",
        route_kind=RouteKind.HTTP,
        route=ROUTE,
        rule_index=index,
        match_index=0,
        hostnames=(host,) if host else (),
        match=Match(path=PathMatch(type=MatchType.PATH_PREFIX, value=path)),
        backends=(backend,),
        **extra,  # type: ignore[arg-type]
    )


def listener(*rules: Rule, port: int = 80, hostname: str | None = None, https: bool = False) -> Listener:
    protocol = ListenerProtocol.HTTPS if https else ListenerProtocol.HTTP
    return Listener(name=f"l{port}", port=port, protocol=protocol, hostname=hostname, rules=rules)


def test_path_rules_past_one_hundred_per_map_are_rejected() -> None:
    rules = [rule(i, f"/p{i}") for i in range(limits.MAX_PATH_RULES_PER_MAP + 2)]
    rejected = check_rules([listener(*rules)])
    assert sorted(rejected) == ["r100", "r101"]
    assert "would be path rule 101 of one URL path map; Application Gateway allows 100" in rejected["r100"]


def test_listeners_past_the_active_listener_limit_are_rejected() -> None:
    rules = [rule(i, "/", host=f"h{i:03d}.example.com") for i in range(limits.MAX_LISTENERS + 1)]
    rejected = check_rules([listener(*rules)])
    assert list(rejected) == ["r100"], rejected  # h100 sorts last among equally specific host names
    assert "Application Gateway allows 100" in rejected["r100"]


def test_backend_pools_are_counted_in_precedence_order() -> None:
    rules = [rule(i, f"/p{i}", service=f"svc{i}") for i in range(limits.MAX_POOLS)]
    rejected = check_rules([listener(*rules)])
    assert list(rejected) == [f"r{limits.MAX_POOLS - 1}"]
    assert "needs more than 99 backend pools" in rejected[f"r{limits.MAX_POOLS - 1}"]


def test_paths_that_differ_only_in_case_reject_the_later_rule() -> None:
    rejected = check_rules([listener(rule(0, "/Docs"), rule(1, "/docs"), rule(2, "/docs/api"))])
    assert list(rejected) == ["r1"]
    assert "matches paths ignoring case, and /Docs is already routed" in rejected["r1"]


def test_a_scheme_redirect_on_a_wildcard_listener_targets_the_https_listener() -> None:
    redirect = RequestRedirectFilter(scheme="https", status_code=301)
    http = listener(rule(0, "/", filters=(redirect,)), hostname="*.shop.example.com")
    https = listener(rule(1, "/"), port=443, hostname="*.shop.example.com", https=True)
    plan = layout([http, https])
    assert plan.rejected == {}
    (site,) = [s for s in plan.sites if s.key.port == 80]
    (entry,) = site.entries
    assert entry.redirect_listener is not None and entry.redirect_listener.port == 443
    assert entry.redirect_url is None
    # Without the HTTPS listener there is nowhere to send the client's own host name.
    assert "no https listener on port 443" in check_rules([http])["r0"]


def test_multi_site_listeners_come_before_basic_ones() -> None:
    # IR order is precedence order: the exact host name's rule, the wildcard's, then the catch-all.
    rules = (rule(2, "/x", host="x.a.example.com"), rule(1, "/w", host="*.a.example.com"), rule(0, "/"))
    plan = layout([listener(*rules)])
    assert [s.key.host for s in plan.sites] == ["x.a.example.com", "*.a.example.com", None]
    # A host's path map holds every rule a request to that host can match, in precedence order.
    assert [[e.rule.id for e in s.entries] for s in plan.sites] == [["r2", "r1", "r0"], ["r1", "r0"], ["r0"]]
