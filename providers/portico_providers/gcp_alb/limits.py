"""`Capabilities.check_rules` for GCP: which rules a URL map cannot hold, before calling GCP.

Per rule: everything `rules.pieces` refuses (RE2, lengths, redirect codes, one mirror, ...).
In aggregate: a URL map of an Envoy-based Application Load Balancer holds at most 1 MB
(load-balancing/docs/url-map-size-quota); rules are counted in precedence order and the
ones past the limit are rejected (a rule is counted once per host rule it lands in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import groupby

from portico.ir import Backend, Listener, ListenerProtocol, RouteKind
from portico_providers.gcp_alb.model import RouteRule
from portico_providers.gcp_alb.rules import Unsupported, pieces
from portico_providers.gcp_alb.urlmap import host_groups

URL_MAP_MAX_BYTES = 1024 * 1024
# What the rest of a URL map (names, host rules, defaults) may take; rules get the remainder.
URL_MAP_RESERVE = 64 * 1024
# A backend service reference as long as a real one (project ids are at most 30 characters).
_REF = "projects/" + "p" * 30 + "/regions/" + "r" * 24 + "/backendServices/" + "n" * 63


def _ref(backend: Backend, kind: RouteKind) -> str:
    return _REF


def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
    rejected: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for listener in listeners:
        for rule in listener.rules:
            try:
                parts = pieces(rule, _ref, _REF, https_listener=listener.protocol is ListenerProtocol.HTTPS)
            except Unsupported as error:
                rejected[rule.id] = str(error)
                continue
            except ValueError as error:  # a value outside the Compute model's bounds (pydantic)
                rejected[rule.id] = f"a URL map cannot hold this rule: {str(error).splitlines()[0]}"
                continue
            sizes[rule.id] = sum(
                len(
                    json.dumps(
                        RouteRule(
                            priority=2147483647,
                            description=p.key,
                            match_rules=(p.match,),
                            route_action=p.route_action,
                            url_redirect=p.url_redirect,
                            header_action=p.header_action,
                        ).dump()
                    )
                )
                for p in parts
            )
    ordered = sorted(listeners, key=lambda lst: lst.port)
    for port, group in groupby(ordered, key=lambda lst: lst.port):
        used = 0
        budget = URL_MAP_MAX_BYTES - URL_MAP_RESERVE
        copies: dict[str, int] = {}
        for _, rules in host_groups(list(group)):
            for rule in rules:
                copies[rule.id] = copies.get(rule.id, 0) + 1
        for lst in ordered:
            if lst.port != port:
                continue
            for rule in lst.rules:
                if rule.id not in sizes:
                    continue
                used += sizes[rule.id] * copies.get(rule.id, 1)
                if used > budget:
                    rejected[rule.id] = (
                        f"the URL map of port {port} would exceed GCP's 1 MB limit per URL map with this rule"
                    )
    return rejected
