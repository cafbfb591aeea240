"""The URL map limits Compute enforces, as the fake answers them (400 invalid naming the limit).

Figures: cloud.google.com/load-balancing/docs/quotas, "URL maps" (limits that cannot be raised),
and load-balancing/docs/url-map-size-quota (1 MB per URL map of an Envoy-based load balancer).
Regular expressions: the Compute v1 reference of every `regexMatch` field allows them only with the
schemes INTERNAL_SELF_MANAGED, EXTERNAL_MANAGED of regional scope, and INTERNAL_MANAGED.
Written from the documentation, independently of the provider's own checks.
"""

from __future__ import annotations

import json
from typing import Any

URL_MAP_MAX_BYTES = 1024 * 1024
HOST_RULES = {"EXTERNAL": 1000, "INTERNAL": 2000}  # host rules (and path matchers) per URL map
HOSTS_PER_HOST_RULE = 1000
ROUTE_RULES_PER_PATH_MATCHER = 1000
PREDICATES_PER_PATH_MATCHER = 1000
PATH_TEMPLATES_PER_PATH_MATCHER = 100
REGEXES_PER_PATH_MATCHER = 5
REGEX_MAX_CHARACTERS = 250
BACKEND_SERVICES_PER_URL_MAP = 2500


def _regexes(value: Any) -> bool:
    if isinstance(value, dict):
        return "regexMatch" in value or any(_regexes(v) for v in value.values())
    return isinstance(value, list) and any(_regexes(v) for v in value)


def _services(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {str(v) for k, v in value.items() if k in ("backendService", "defaultService")}
        return found.union(*(_services(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_services(v) for v in value))
    return set()


def _matcher_problem(matcher: dict[str, Any]) -> str:
    rules = matcher.get("routeRules", [])
    if len(rules) > ROUTE_RULES_PER_PATH_MATCHER:
        return f"more than {ROUTE_RULES_PER_PATH_MATCHER} route rules in path matcher {matcher.get('name')}"
    predicates = templates = 0
    regexes: list[str] = []
    for rule in rules:
        for match in rule.get("matchRules", []):
            headers, params = match.get("headerMatches", []), match.get("queryParameterMatches", [])
            predicates += 1 + len(headers) + len(params)
            templates += int("pathTemplateMatch" in match)
            regexes += [m["regexMatch"] for m in (match, *headers, *params) if "regexMatch" in m]
    if predicates > PREDICATES_PER_PATH_MATCHER:
        return f"more than {PREDICATES_PER_PATH_MATCHER} predicates in path matcher {matcher.get('name')}"
    if templates > PATH_TEMPLATES_PER_PATH_MATCHER:
        return f"more than {PATH_TEMPLATES_PER_PATH_MATCHER} pathTemplateMatch predicates in a path matcher"
    if len(regexes) > REGEXES_PER_PATH_MATCHER:
        return f"more than {REGEXES_PER_PATH_MATCHER} regular expressions in path matcher {matcher.get('name')}"
    if any(len(r) > REGEX_MAX_CHARACTERS for r in regexes):
        return f"a regular expression longer than {REGEX_MAX_CHARACTERS} characters"
    return ""


def internal_scheme(backend_service: dict[str, Any]) -> bool:
    return backend_service.get("loadBalancingScheme") == "INTERNAL_MANAGED"


def url_map_problem(body: dict[str, Any], internal: bool, regional: bool) -> str:
    """Why Compute refuses this URL map body, or '' (`regional`: a regionUrlMaps resource)."""
    if not internal and not regional and _regexes(body):
        return "regexMatch is only supported with loadBalancingScheme INTERNAL_MANAGED or regional EXTERNAL_MANAGED"
    if len(json.dumps(body).encode()) > URL_MAP_MAX_BYTES:
        return "URL map exceeds the maximum size of 1 MB"
    host_rules = body.get("hostRules", [])
    limit = HOST_RULES["INTERNAL" if internal else "EXTERNAL"]
    if len(host_rules) > limit or len(body.get("pathMatchers", [])) > limit:
        return f"more than {limit} host rules or path matchers in one URL map"
    if any(len(rule.get("hosts", [])) > HOSTS_PER_HOST_RULE for rule in host_rules):
        return f"more than {HOSTS_PER_HOST_RULE} hosts in one host rule"
    if len(_services(body)) > BACKEND_SERVICES_PER_URL_MAP:
        return f"more than {BACKEND_SERVICES_PER_URL_MAP} distinct backend services in one URL map"
    return next((p for p in map(_matcher_problem, body.get("pathMatchers", [])) if p), "")
