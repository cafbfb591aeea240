"""Where each IR rule lands on an Application Gateway, and which rules cannot land at all.

A *site* is one Application Gateway HTTP listener: a frontend port plus one host name (a
multi-site listener) or none (a basic listener). A request reaches the site of its port and
host, then its URL path map, whose path rules are tried in order. Gateway API picks the most
specific Gateway listener first, then the routes on it in precedence order; the layout keeps
both: a site takes the rules of the most specific Gateway listener for its host, in IR order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from portico.ir import Listener, ListenerProtocol, Rule
from portico_providers.azure_appgw import limits
from portico_providers.azure_appgw.limits import Unsupported
from portico_providers.azure_appgw.rules import Redirect, RuleShape, shape_of

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, order=True)
class SiteKey:
    port: int
    host: str | None


@dataclass(frozen=True)
class Entry:
    """One IR rule in one site's path map; `paths` without those an earlier entry already took."""

    rule: Rule
    shape: RuleShape
    paths: tuple[str, ...]
    redirect_url: str | None = None
    redirect_listener: SiteKey | None = None


@dataclass
class Site:
    key: SiteKey
    protocol: ListenerProtocol
    listener: Listener
    entries: list[Entry] = field(default_factory=list)

    @property
    def scheme(self) -> str:
        return self.protocol.value.lower()


def covers(rule_host: str, site_host: str | None) -> bool:
    if site_host is None:
        return False
    if rule_host == site_host:
        return True
    return rule_host.startswith("*.") and site_host.endswith(rule_host[1:])


def _listener_matches(listener: Listener, host: str | None) -> int:
    """How specifically a Gateway listener takes `host`: 3 exact, 2 wildcard, 1 any host, 0 not at all."""
    if listener.hostname is None:
        return 1
    if host == listener.hostname:
        return 3
    return 2 if host is not None and covers(listener.hostname, host) else 0


def site_order(key: SiteKey) -> tuple[bool, bool, int, str, int]:
    """Multi-site listeners before basic ones; exact hosts before wildcards; longer wildcards first."""
    host = key.host or ""
    return (key.host is None, host.startswith("*"), -len(host), host, key.port)


@dataclass
class Layout:
    sites: list[Site]
    rejected: dict[str, str]
    notes: list[str]


def _sites(listeners: Sequence[Listener], notes: list[str]) -> list[Site]:
    protocols: dict[int, ListenerProtocol] = {}
    by_port: dict[int, list[Listener]] = {}
    for listener in listeners:
        if protocols.setdefault(listener.port, listener.protocol) is not listener.protocol:
            notes.append(
                f"listener {listener.name}: port {listener.port} is already {protocols[listener.port]}; skipped"
            )
            continue
        by_port.setdefault(listener.port, []).append(listener)
    sites: list[Site] = []
    for port, members in by_port.items():
        hosts: set[str | None] = set()
        for listener in members:
            hosts.add(listener.hostname)  # every Gateway listener is served, routes or not
            for rule in listener.rules:
                hosts.update(rule.hostnames or ([listener.hostname] if listener.hostname else [None]))
        for host in hosts:
            ranked = sorted(members, key=lambda m: -_listener_matches(m, host))
            owner = ranked[0]
            if _listener_matches(owner, host) == 0:
                continue
            site = Site(SiteKey(port, host), protocols[port], owner)
            sites.append(site)
    sites.sort(key=lambda s: site_order(s.key))
    return sites


def _rules_for(site: Site) -> list[Rule]:
    host = site.key.host
    if host is None:
        return [r for r in site.listener.rules if not r.hostnames]
    return [r for r in site.listener.rules if not r.hostnames or any(covers(h, host) for h in r.hostnames)]


def _redirect_target(site: Site, redirect: Redirect, keys: Mapping[SiteKey, Site]) -> tuple[str | None, SiteKey | None]:
    scheme = (redirect.scheme or site.scheme).lower()
    port = redirect.port or (DEFAULT_PORTS.get(scheme) if redirect.scheme else site.key.port) or site.key.port
    host = redirect.host
    if host is None and site.key.host is not None and not site.key.host.startswith("*"):
        host = site.key.host
    if host is None:
        target = keys.get(SiteKey(port, site.key.host))
        if target is not None and target.scheme == scheme and redirect.path is None:
            return None, target.key
        where = "a wildcard" if site.key.host else "a catch-all"
        raise Unsupported(
            f"redirect keeping the client's host name on {where} listener: Application Gateway redirects to a "
            f"fixed URL or to one of its listeners, and no {scheme} listener on port {port} has this host name"
        )
    shown_port = "" if DEFAULT_PORTS.get(scheme) == port else f":{port}"
    return f"{scheme}://{host}{shown_port}{redirect.path or ''}", None


def layout(listeners: Sequence[Listener]) -> Layout:
    """Sites with their path-map entries, plus {rule id: why it cannot be programmed}."""
    notes: list[str] = []
    rejected: dict[str, str] = {}
    sites = _sites(listeners, notes)
    keys = {site.key: site for site in sites}
    shapes: dict[str, RuleShape] = {}
    for listener in listeners:
        for rule in listener.rules:
            try:
                shapes[rule.id] = shape_of(rule)
            except Unsupported as error:
                rejected[rule.id] = str(error)
    if len(sites) > limits.MAX_LISTENERS:
        for site in sites[limits.MAX_LISTENERS :]:
            for rule in _rules_for(site):
                rejected.setdefault(
                    rule.id, f"needs listener {len(sites)}; Application Gateway allows {limits.MAX_LISTENERS}"
                )
    for site in sites[: limits.MAX_LISTENERS]:
        taken: dict[str, str] = {}  # lower-cased path -> path as first listed
        for rule in _rules_for(site):
            if rule.id in rejected:
                continue
            shape = shapes[rule.id]
            try:
                url, target = _redirect_target(site, shape.redirect, keys) if shape.redirect else (None, None)
            except Unsupported as error:
                rejected[rule.id] = str(error)
                continue
            fresh: list[str] = []
            clash = next((p for p in shape.paths if p.lower() in taken and taken[p.lower()] != p), None)
            if clash is not None:
                rejected[rule.id] = (
                    f"path {clash}: Application Gateway matches paths ignoring case, and {taken[clash.lower()]} "
                    "is already routed by a rule before this one"
                )
                continue
            fresh = [p for p in shape.paths if p.lower() not in taken]
            if not fresh:
                notes.append(f"rule {rule.id}: every path is taken by an earlier rule on {site.key}; never reached")
                continue
            if len(site.entries) >= limits.MAX_PATH_RULES_PER_MAP:
                rejected[rule.id] = (
                    f"would be path rule {len(site.entries) + 1} of one URL path map; Application Gateway "
                    f"allows {limits.MAX_PATH_RULES_PER_MAP}"
                )
                continue
            taken.update({p.lower(): p for p in fresh})
            site.entries.append(Entry(rule, shape, tuple(fresh), url, target))
    _aggregate_limits(sites, rejected)
    for site in sites:
        site.entries = [e for e in site.entries if e.rule.id not in rejected]
    return Layout(sites[: limits.MAX_LISTENERS], rejected, notes)


def settings_key(shape: RuleShape) -> tuple[str, str, int | None, str | None]:
    assert shape.backend is not None
    return (shape.backend.id, shape.backend.protocol.value, shape.timeout_s, shape.host_override)


def _aggregate_limits(sites: list[Site], rejected: dict[str, str]) -> None:
    """Pools, backend settings, rewrite rule sets and redirects are counted in precedence order."""
    counts: dict[str, tuple[int, set[object]]] = {
        "backend pools": (limits.MAX_POOLS - 1, set()),  # one pool is the empty default of every path map
        "backend settings": (limits.MAX_SETTINGS - 1, set()),
        "rewrite rule sets": (limits.MAX_REWRITE_SETS, set()),
        "redirect configurations": (limits.MAX_REDIRECTS, set()),
    }
    for site in sites:
        for entry in site.entries:
            shape = entry.shape
            wanted: dict[str, object] = {}
            if shape.redirect is not None:
                wanted["redirect configurations"] = (site.key, entry.rule.id)
            elif shape.backend is not None:
                wanted["backend pools"] = shape.backend.id
                wanted["backend settings"] = settings_key(shape)
            if not shape.rewrite.empty:
                wanted["rewrite rule sets"] = shape.rewrite
            for what, key in wanted.items():
                limit, seen = counts[what]
                if key not in seen and len(seen) >= limit:
                    rejected.setdefault(entry.rule.id, f"needs more than {limit} {what}; Application Gateway's limit")
            if entry.rule.id not in rejected:
                for what, key in wanted.items():
                    counts[what][1].add(key)


def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
    """{rule.id: why Application Gateway cannot program it}, for translation (Capabilities.check_rules)."""
    return layout(listeners).rejected
