"""The URL map of one port: host rules per listener, a path matcher per host set, priorities.

Listener isolation: a host belongs to the most specific listener on the port whose hostname
matches it, and its path matcher holds only that listener's rules. Within a path matcher the
route rules keep Gateway API precedence as ascending priorities. Priorities are stable: a rule
keeps the priority it already has in Compute while the order allows, new rules go into the
gaps, and everything is renumbered only when a gap is too small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from portico.ir import Listener, Rule
from portico_providers.gcp_alb.model import HostRule, PathMatcher, RouteAction, RouteRule, UrlMap
from portico_providers.gcp_alb.naming import short_hash
from portico_providers.gcp_alb.rules import RoutePiece

STEP = 1000
MAX_PRIORITY = 2147483647  # HttpRouteRule.priority: 0 to 2147483647


def covers(pattern: str, host: str) -> bool:
    """Whether hostname `pattern` (maybe `*.x`) matches `host` (maybe a wildcard itself)."""
    if pattern in ("*", host):
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return False


def _specificity(listener: Listener) -> tuple[int, int]:
    name = listener.hostname
    if name is None:
        return (0, 0)
    return (1, len(name)) if name.startswith("*.") else (2, len(name))


def owner_listener(host: str, listeners: Sequence[Listener]) -> Listener | None:
    matching = [lst for lst in listeners if lst.hostname is None or covers(lst.hostname, host)]
    return max(matching, key=_specificity, default=None)


def host_groups(listeners: Sequence[Listener]) -> list[tuple[tuple[str, ...], tuple[Rule, ...]]]:
    """(hosts, rules in precedence order) per distinct rule list, hosts sorted."""
    hosts = sorted({h for lst in listeners for r in lst.rules for h in (r.hostnames or ("*",))})
    groups: dict[tuple[str, ...], list[str]] = {}
    rules_of: dict[tuple[str, ...], tuple[Rule, ...]] = {}
    for host in hosts:
        listener = owner_listener(host, listeners)
        if listener is None:
            continue
        rules = tuple(r for r in listener.rules if not r.hostnames or any(covers(p, host) for p in r.hostnames))
        key = tuple(r.id for r in rules)
        groups.setdefault(key, []).append(host)
        rules_of[key] = rules
    return [(tuple(hosts), rules_of[key]) for key, hosts in groups.items() if rules_of[key]]


def priorities(keys: Sequence[str], previous: Mapping[str, int]) -> dict[str, int]:
    """Ascending priorities for `keys`, reusing `previous` ones while they stay in order."""
    kept: dict[str, int] = {}
    last = -1
    for key in keys:
        old = previous.get(key)
        if old is not None and old > last:
            kept[key] = last = old
    out: dict[str, int] = {}
    index = 0
    while index < len(keys):
        key = keys[index]
        if key in kept:
            out[key] = kept[key]
            index += 1
            continue
        run = [key]
        while index + len(run) < len(keys) and keys[index + len(run)] not in kept:
            run.append(keys[index + len(run)])
        low = max(out.values(), default=0)
        following = keys[index + len(run)] if index + len(run) < len(keys) else None
        high = kept[following] if following is not None else min(low + STEP * (len(run) + 1), MAX_PRIORITY + 1)
        gap = (high - low) // (len(run) + 1)
        if gap < 1:
            return {k: (i + 1) * STEP for i, k in enumerate(keys)}  # no room: renumber everything
        for offset, new in enumerate(run, start=1):
            out[new] = low + offset * gap
        index += len(run)
    return out


def path_matcher(
    name: str, pieces: Sequence[RoutePiece], previous: Mapping[str, int], default: RouteAction
) -> PathMatcher:
    numbers = priorities([p.key for p in pieces], previous)
    rules = tuple(
        RouteRule(
            priority=numbers[p.key],
            description=p.key,
            match_rules=(p.match,),
            route_action=p.route_action,
            url_redirect=p.url_redirect,
            header_action=p.header_action,
        )
        for p in pieces
    )
    return PathMatcher(name=name, default_route_action=default, route_rules=rules or None)


def url_map(
    name: str,
    description: str,
    groups: Sequence[tuple[tuple[str, ...], Sequence[RoutePiece]]],
    previous: Mapping[str, Mapping[str, int]],
    default: RouteAction,
) -> UrlMap:
    """`previous`: path matcher name -> {route rule description: priority} as found in Compute."""
    host_rules = []
    matchers = []
    for hosts, pieces in groups:
        matcher = "pm-" + short_hash(",".join(hosts), 12)
        host_rules.append(HostRule(hosts=hosts, path_matcher=matcher))
        matchers.append(path_matcher(matcher, pieces, previous.get(matcher, {}), default))
    return UrlMap(
        name=name,
        description=description,
        default_route_action=default,
        host_rules=tuple(host_rules),  # empty, not unset: removing the last route must clear them
        path_matchers=tuple(matchers),
    )
