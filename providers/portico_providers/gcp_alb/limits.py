"""`Capabilities.check_rules` for GCP: which rules a URL map cannot hold, before calling GCP.

Per rule: everything `rules.pieces` refuses (RE2, lengths, redirect codes, one mirror, ...).
In aggregate, per URL map (one per port) and per path matcher (one per host set), the limits
of cloud.google.com/load-balancing/docs/quotas ("URL maps"; they cannot be raised) and of
load-balancing/docs/url-map-size-quota (1 MB per URL map of an Envoy-based load balancer).
Rules are counted in precedence order, so the lowest-precedence rules are the ones rejected;
a rejected rule does not count. Two limits depend on the Gateway's scheme (`rules_check_for`):
internal load balancers hold 2000 host rules per URL map, external ones 1000; and regular
expressions are for regional and internal load balancers only (the Compute v1 reference of every
`regexMatch`: "only ... INTERNAL_SELF_MANAGED, EXTERNAL_MANAGED (regional scope) or INTERNAL_MANAGED").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby
from typing import Any

from portico.ir import Backend, Listener, ListenerProtocol, RouteKind, Rule
from portico.provider import RulesCheck
from portico_providers.gcp_alb.model import RouteRule
from portico_providers.gcp_alb.naming import short_hash
from portico_providers.gcp_alb.params import Scheme, parse
from portico_providers.gcp_alb.rules import RoutePiece, Unsupported, pieces
from portico_providers.gcp_alb.urlmap import host_groups

URL_MAP_MAX_BYTES = 1024 * 1024
# What the rest of a URL map (names, host rules, defaults) may take; rules get the remainder.
URL_MAP_RESERVE = 64 * 1024
ROUTE_RULES_PER_PATH_MATCHER = 1000  # "Path rules or route rules per path matcher"
PREDICATES_PER_PATH_MATCHER = 1000  # path match + header matches + query parameter matches
PATH_TEMPLATES_PER_PATH_MATCHER = 100  # "pathTemplateMatch predicates per path matcher"
REGEXES_PER_PATH_MATCHER = 5  # "Maximum number of regular expressions per path matcher"
REGEX_MAX_CHARACTERS = 250  # "Maximum number of characters in a regular expression"
BACKEND_SERVICES_PER_URL_MAP = 2500  # "distinct backend services ... referenced by a URL map"


@dataclass(frozen=True)
class SchemeLimits:
    host_rules_per_url_map: int  # "Host rules, path matchers per URL map"
    regular_expressions: bool  # whether `regexMatch` may be used at all


SCHEME_LIMITS: dict[Scheme, SchemeLimits] = {
    "GlobalExternal": SchemeLimits(host_rules_per_url_map=1000, regular_expressions=False),
    "RegionalExternal": SchemeLimits(host_rules_per_url_map=1000, regular_expressions=True),
    "RegionalInternal": SchemeLimits(host_rules_per_url_map=2000, regular_expressions=True),
}
# A backend service reference as long as a real one (project ids are at most 30 characters).
_REF_HEAD = "projects/" + "p" * 30 + "/regions/" + "r" * 24 + "/backendServices/"


def _ref(backend: Backend, kind: RouteKind) -> str:
    """A distinct, full-length stand-in for the backend service of `backend`."""
    return _REF_HEAD + short_hash(f"{backend.id}/{kind.value}", 63)


_EMPTY = _REF_HEAD + "n" * 63


@dataclass(frozen=True)
class Cost:
    """What one rule adds to its path matchers and URL map."""

    route_rules: int
    predicates: int
    templates: int
    regexes: tuple[str, ...]
    services: frozenset[str]
    size: int


def _cost(parts: list[RoutePiece]) -> Cost:
    predicates = templates = 0
    regexes: list[str] = []
    services: set[str] = set()
    size = 0
    for part in parts:
        match = part.match
        headers, params = match.header_matches or (), match.query_parameter_matches or ()
        predicates += 1 + len(headers) + len(params)
        templates += int(match.path_template_match is not None)
        regexes += [r for r in (match.regex_match,) if r is not None]
        regexes += [h.regex_match for h in headers if h.regex_match is not None]
        regexes += [q.regex_match for q in params if q.regex_match is not None]
        action = part.route_action
        if action is not None:
            services |= {w.backend_service for w in action.weighted_backend_services or ()}
            if action.request_mirror_policy is not None:
                services.add(action.request_mirror_policy.backend_service)
        rule = RouteRule(
            priority=2147483647,
            description=part.key,
            match_rules=(part.match,),
            route_action=part.route_action,
            url_redirect=part.url_redirect,
            header_action=part.header_action,
        )
        size += len(json.dumps(rule.dump()))
    return Cost(len(parts), predicates, templates, tuple(regexes), frozenset(services - {_EMPTY}), size)


@dataclass
class Matcher:
    """Running totals of one path matcher."""

    route_rules: int = 0
    predicates: int = 0
    templates: int = 0
    regexes: int = 0

    def refusal(self, cost: Cost) -> str:
        if self.route_rules + cost.route_rules > ROUTE_RULES_PER_PATH_MATCHER:
            return f"a path matcher holds at most {ROUTE_RULES_PER_PATH_MATCHER} route rules"
        if self.predicates + cost.predicates > PREDICATES_PER_PATH_MATCHER:
            return (
                f"a path matcher holds at most {PREDICATES_PER_PATH_MATCHER} predicates "
                "(one per path match, header match and query parameter match)"
            )
        if self.templates + cost.templates > PATH_TEMPLATES_PER_PATH_MATCHER:
            return f"a path matcher holds at most {PATH_TEMPLATES_PER_PATH_MATCHER} pathTemplateMatch predicates"
        if self.regexes + len(cost.regexes) > REGEXES_PER_PATH_MATCHER:
            return f"a path matcher holds at most {REGEXES_PER_PATH_MATCHER} regular expressions"
        return ""

    def add(self, cost: Cost) -> None:
        self.route_rules += cost.route_rules
        self.predicates += cost.predicates
        self.templates += cost.templates
        self.regexes += len(cost.regexes)


@dataclass
class UrlMapTotals:
    """Running totals of one URL map (one listener port)."""

    port: int
    host_rules: int
    hosts: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    size: int = 0

    def refusal(self, rule: Rule, cost: Cost, copies: int) -> str:
        hosts = self.hosts | set(rule.hostnames or ("*",))
        if len(hosts) > self.host_rules:
            # Each distinct hostname makes at most one host rule and path matcher: an upper bound.
            return (
                f"the URL map of port {self.port} holds at most {self.host_rules} host rules and path "
                f"matchers, and this rule's hostnames would make {len(hosts)} distinct hosts"
            )
        if len(self.services | cost.services) > BACKEND_SERVICES_PER_URL_MAP:
            return (
                f"the URL map of port {self.port} refers to at most {BACKEND_SERVICES_PER_URL_MAP} distinct "
                "backend services"
            )
        if self.size + cost.size * copies > URL_MAP_MAX_BYTES - URL_MAP_RESERVE:
            return f"the URL map of port {self.port} would exceed GCP's 1 MB limit per URL map with this rule"
        return ""

    def add(self, rule: Rule, cost: Cost, copies: int) -> None:
        self.hosts |= set(rule.hostnames or ("*",))
        self.services |= cost.services
        self.size += cost.size * copies


def _costs(listeners: Sequence[Listener], rejected: dict[str, str], scheme: Scheme) -> dict[str, Cost]:
    costs: dict[str, Cost] = {}
    for listener in listeners:
        for rule in listener.rules:
            try:
                parts = pieces(rule, _ref, _EMPTY, https_listener=listener.protocol is ListenerProtocol.HTTPS)
            except Unsupported as error:
                rejected[rule.id] = str(error)
                continue
            except ValueError as error:  # a value outside the Compute model's bounds (pydantic)
                rejected[rule.id] = f"a URL map cannot hold this rule: {str(error).splitlines()[0]}"
                continue
            cost = _cost(parts)
            if cost.regexes and not SCHEME_LIMITS[scheme].regular_expressions:
                rejected[rule.id] = (
                    f"a {scheme} load balancer cannot match regular expressions (regexMatch is for regional and "
                    "internal Application Load Balancers: spec.gcp.scheme RegionalExternal or RegionalInternal)"
                )
                continue
            long = [r for r in cost.regexes if len(r) > REGEX_MAX_CHARACTERS]
            if long:
                rejected[rule.id] = (
                    f"a URL map regular expression holds at most {REGEX_MAX_CHARACTERS} characters, got {len(long[0])}"
                )
                continue
            costs[rule.id] = cost
    return costs


def check_rules(listeners: Sequence[Listener], scheme: Scheme = "GlobalExternal") -> Mapping[str, str]:
    rejected: dict[str, str] = {}
    costs = _costs(listeners, rejected, scheme)
    ordered = sorted(listeners, key=lambda lst: lst.port)
    for port, group in groupby(ordered, key=lambda lst: lst.port):
        on_port = list(group)
        matchers_of: dict[str, list[Matcher]] = {}
        for _, rules in host_groups(on_port):
            matcher = Matcher()
            for rule in rules:
                matchers_of.setdefault(rule.id, []).append(matcher)
        totals = UrlMapTotals(port, SCHEME_LIMITS[scheme].host_rules_per_url_map)
        for listener in on_port:
            for rule in listener.rules:  # precedence order: what does not fit is the least preferred
                cost = costs.get(rule.id)
                if cost is None or rule.id in rejected:
                    continue
                matchers = matchers_of.get(rule.id, [])
                refusal = next((r for m in matchers if (r := m.refusal(cost))), "")
                refusal = refusal or totals.refusal(rule, cost, max(len(matchers), 1))
                if refusal:
                    rejected[rule.id] = refusal
                    continue
                for matcher in matchers:
                    matcher.add(cost)
                totals.add(rule, cost, max(len(matchers), 1))
    return rejected


def rules_check_for(parameters: Mapping[str, Any]) -> RulesCheck:
    """The check for a Gateway whose merged GatewayParameters spec is `parameters`; invalid parameters
    (the Gateway is not accepted then) get the strictest scheme's."""
    params = parse(dict(parameters))
    return partial(check_rules, scheme="GlobalExternal" if isinstance(params, list) else params.scheme)
