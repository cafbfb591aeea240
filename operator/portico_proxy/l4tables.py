"""Routing for the byte-stream listeners (TLS Passthrough/Terminate, TCP): compiled ahead of time
from the IR. A TLS port picks its listener by the SNI (the most specific listener hostname, as for
HTTPS), then the route by hostname: exact, then the longest wildcard; the oldest route wins a tie
(the IR's precedence order). A TCP listener has one backend set: its first route's rule."""

from __future__ import annotations

from collections.abc import Sequence

from portico.ir import Backend, Listener, Rule
from portico_proxy.balance import WeightedPicker

Address = tuple[str, int]


class L4Backend:
    """One weighted backendRef; `refused` is why its share of connections is closed at once."""

    __slots__ = ("backend", "endpoints", "label", "next_endpoint", "refused")

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.label = backend.id
        self.endpoints: tuple[Address, ...] = tuple((e.address, e.port) for e in backend.endpoints)
        self.next_endpoint = 0
        self.refused = (
            backend.invalid_message or backend.invalid_reason
            if backend.invalid_reason
            else None
            if self.endpoints
            else "no ready endpoints"
        )

    def endpoint_order(self) -> list[Address]:
        """Every endpoint, starting at the next one in round robin (the rest are fallbacks)."""
        start = self.next_endpoint % len(self.endpoints)
        self.next_endpoint = start + 1
        return [*self.endpoints[start:], *self.endpoints[:start]]


class L4Route:
    """A route rule's weighted backends (smooth weighted round robin, weight 0 gets nothing)."""

    __slots__ = ("label", "picker")

    def __init__(self, rule: Rule) -> None:
        self.label = f"{rule.route_kind.value}/{rule.route}"
        self.picker = WeightedPicker([(b.weight, L4Backend(b)) for b in rule.backends])

    def pick(self) -> L4Backend | None:
        return self.picker.pick()


def _wildcard_suffix(hostname: str) -> str | None:
    return hostname[1:] if hostname.startswith("*.") else None


def _matches(pattern: str | None, name: str) -> bool:
    if pattern is None:
        return True
    suffix = _wildcard_suffix(pattern)
    return name == pattern if suffix is None else name.endswith(suffix) and len(name) > len(suffix)


class L4Listener:
    __slots__ = ("exact", "first", "hostname", "name", "wildcards")

    def __init__(self, listener: Listener) -> None:
        self.name = listener.name
        self.hostname = listener.hostname
        exact: dict[str, L4Route] = {}
        wildcards: dict[str, L4Route] = {}
        routes = [L4Route(rule) for rule in listener.rules]
        self.first = routes[0] if routes else None
        for rule, route in zip(listener.rules, routes, strict=True):
            for hostname in rule.hostnames:
                suffix = _wildcard_suffix(hostname.lower())
                if suffix is None:
                    exact.setdefault(hostname.lower(), route)
                else:
                    wildcards.setdefault(suffix, route)
        self.exact = exact
        self.wildcards = sorted(wildcards.items(), key=lambda item: -len(item[0]))

    def route_for(self, server_name: str) -> L4Route | None:
        found = self.exact.get(server_name)
        if found is not None:
            return found
        for suffix, route in self.wildcards:
            if server_name.endswith(suffix) and len(server_name) > len(suffix):
                return route
        return None


def _rank(listener: Listener) -> tuple[int, int]:
    hostname = listener.hostname
    if hostname is None:
        return (2, 0)
    return (1, -hostname.count(".")) if hostname.startswith("*.") else (0, 0)


class L4Router:
    """Every byte-stream listener of one port."""

    __slots__ = ("listeners",)

    def __init__(self, listeners: Sequence[Listener]) -> None:
        self.listeners = tuple(L4Listener(listener) for listener in sorted(listeners, key=_rank))

    def by_server_name(self, server_name: str | None) -> L4Route | None:
        """TLS: no SNI, or one that selects no listener or no route, gets no route (the connection
        is closed): a TLSRoute always has hostnames."""
        if not server_name:
            return None
        listener = next((item for item in self.listeners if _matches(item.hostname, server_name)), None)
        return listener.route_for(server_name) if listener is not None else None

    def only_route(self) -> L4Route | None:
        """TCP/UDP: the port's listener's route."""
        return next((item.first for item in self.listeners if item.first is not None), None)
