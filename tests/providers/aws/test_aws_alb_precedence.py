"""ALB rule order vs the spec: on generated Gateways and requests, the ALB rule that AWS's documented
evaluation picks is the route rule Portico's proxy picks on the same IR (exact hostnames before
wildcards across routes, per hostname, and listeners sharing a port isolated from each other)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.hostnames import effective_hostnames
from portico.ir import GatewayIR, HeaderMatch, Match, MatchType, PathMatch, QueryParamMatch, Rule
from portico.provider import ProviderContext, load_provider
from portico.translate.precedence import rule_key
from portico_providers.aws_alb.build import alb_rule_id
from portico_providers.aws_alb.model import RuleSpec
from portico_providers.aws_alb.rules import check_rules, host_groups
from portico_proxy.rules import HeaderMap
from portico_proxy.tables import compile_gateways
from tests.irs import backend, gateway, listener, rule
from tests.providers.aws.alb_evaluator import Request, first_match

ROUTE_HOSTS = ["a.example.com", "b.example.com", "x.a.example.com", "*.example.com", "*.a.example.com"]
LISTENER_HOSTS = [None, "*.example.com", "a.example.com", "*.a.example.com", "x.a.example.com"]
REQUEST_HOSTS = ["a.example.com", "b.example.com", "x.a.example.com", "y.x.a.example.com", "q.example.com", "other.org"]
PATHS = ["/", "/a", "/a/", "/a/b", "/a/bc", "/ab", "/b"]

matches = st.builds(
    lambda path, method, header, query: Match(
        path=None if path is None else PathMatch(type=path[0], value=path[1]),
        method=method,
        headers=(HeaderMatch(type=MatchType.EXACT, name="x-env", value=header),) if header else (),
        query_params=(QueryParamMatch(type=MatchType.EXACT, name="v", value=query),) if query else (),
    ),
    st.none()
    | st.tuples(st.sampled_from([MatchType.EXACT, MatchType.PATH_PREFIX]), st.sampled_from(["/", "/a", "/a/b", "/b"])),
    st.none() | st.sampled_from(["GET", "POST"]),
    st.none() | st.sampled_from(["prod", "dev"]),
    st.none() | st.sampled_from(["1", "2"]),
)
routes = st.lists(
    st.tuples(
        st.lists(st.sampled_from(ROUTE_HOSTS), max_size=3, unique=True), st.lists(matches, min_size=1, max_size=3)
    ),
    min_size=1,
    max_size=5,
)
requests = st.builds(
    Request,
    host=st.sampled_from(REQUEST_HOSTS),
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "POST"]),
    headers=st.sampled_from([(), (("x-env", "prod"),), (("X-Env", "dev"),)]),
    query=st.sampled_from(["", "v=1", "v=2", "w=1&v=2"]),
)


def make_gateway(listener_hosts: list[str | None], routes: list[tuple[list[str], list[Match]]]) -> GatewayIR:
    """Every route attached to every listener it shares a hostname with, rules in the spec's order."""
    listeners = []
    for number, hostname in enumerate(listener_hosts):
        rules: list[tuple[Any, Rule]] = []
        for index, (hosts, route_matches) in enumerate(routes):
            effective = effective_hostnames(hostname, hosts)
            if effective is None:
                continue
            for rule_index, match in enumerate(route_matches):
                made = rule(f"r{index}", rule_index, hostnames=effective, match=match, backends=(backend(f"b{index}"),))
                rules.append((rule_key(made, f"2026-01-01T00:00:{index:02d}Z"), made))
        ordered = tuple(r for _, r in sorted(rules, key=lambda item: item[0]))
        listeners.append(listener(f"l{number}", 80, rules=ordered, hostname=hostname))
    ir = gateway(*listeners)
    # What translation does with check_rules' verdicts: rejected rules reach no data plane.
    rejected = check_rules(ir.listeners)
    kept = [li.model_copy(update={"rules": tuple(r for r in li.rules if r.id not in rejected)}) for li in ir.listeners]
    return ir.model_copy(update={"listeners": tuple(kept)})


def proxy_choice(ir: GatewayIR, request: Request) -> str | None:
    """The rule Portico's proxy routes `request` to: its own listener selection and host index."""
    table = compile_gateways([ir])[80]
    host = request.host.lower().encode()
    chosen = table.select(host)
    if chosen is None:
        return None
    headers = HeaderMap([(n.lower().encode(), v.encode()) for n, v in request.headers])
    for entry in chosen.candidates(host):
        found = entry.find(request.method.encode(), request.path.encode(), request.query.encode(), headers, False)
        if found is not None:
            return str(found.id)
    return None


def alb_rules(ir: GatewayIR) -> tuple[list[tuple[str, RuleSpec]], dict[str, str]]:
    """The ALB rules of port 80 and which IR rule each one programs."""
    plan = load_provider("aws-alb", ProviderContext(cluster_id="c")).plan(ir, None)
    assert not plan.problems, plan.problems
    programs = {
        alb_rule_id(80, r.id, index): r.id
        for li in ir.listeners
        for r in li.rules
        for index in range(len(host_groups(r)))
    }
    rules = [(d.id, d.spec) for d in plan.desired if isinstance(d.spec, RuleSpec)]
    return rules, programs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listener_hosts=st.lists(st.sampled_from(LISTENER_HOSTS), min_size=1, max_size=3, unique=True),
    routes=routes,
    batch=st.lists(requests, min_size=1, max_size=12),
)
def test_alb_answers_every_request_with_the_rule_the_spec_chooses(
    listener_hosts: list[str | None], routes: list[tuple[list[str], list[Match]]], batch: list[Request]
) -> None:
    ir = make_gateway(listener_hosts, routes)
    rules, programs = alb_rules(ir)
    for request in batch:
        chosen = first_match(rules, request)
        assert programs.get(chosen or "") == proxy_choice(ir, request), (request, chosen)


def test_an_exact_hostname_wins_over_a_wildcard_whatever_the_path() -> None:
    """The issue's example: `*.example.com` + `/api/v2` must not win over `foo.example.com` + `/`."""
    wildcard = rule("wild", path="/api/v2", hostnames=("*.example.com",), backends=(backend("w"),))
    exact = rule("foo", path="/", hostnames=("foo.example.com",), backends=(backend("f"),))
    ir = gateway(listener(rules=(wildcard, exact)))  # the spec's path precedence puts /api/v2 first
    rules, programs = alb_rules(ir)
    request = Request(host="foo.example.com", path="/api/v2")
    assert programs[first_match(rules, request) or ""] == exact.id == proxy_choice(ir, request)
    other = Request(host="bar.example.com", path="/api/v2")
    assert programs[first_match(rules, other) or ""] == wildcard.id


def test_a_more_specific_listener_isolates_its_host_from_the_others_on_the_port() -> None:
    specific = rule("a", path="/only", hostnames=("a.example.com",), backends=(backend("a"),))
    catch_all = rule("all", path="/", hostnames=("*.example.com",), backends=(backend("all"),))
    ir = gateway(
        listener("specific", rules=(specific,), hostname="a.example.com"),
        listener("wildcard", rules=(catch_all,), hostname="*.example.com"),
    )
    rules, programs = alb_rules(ir)
    request = Request(host="a.example.com", path="/other")
    assert first_match(rules, request) == "isolation:80:specific"  # a 404, as the proxy answers
    assert proxy_choice(ir, request) is None and programs.get("isolation:80:specific") is None
    assert programs[first_match(rules, Request(host="b.example.com", path="/other")) or ""] == catch_all.id
