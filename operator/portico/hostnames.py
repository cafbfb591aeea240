"""Hostname rules of the Gateway API (spec: Hostnames concept), shared by translation, the proxy and providers."""

from __future__ import annotations

from collections.abc import Sequence


def _wildcard_covers(wildcard: str, host: str) -> bool:
    """`*.example.com` covers `a.example.com` and `a.b.example.com`, never `example.com`."""
    return host.endswith(wildcard[1:]) and len(host) > len(wildcard) - 1


def intersect(listener_host: str | None, route_host: str) -> str | None:
    """The effective hostname a route hostname gives on a listener, or None."""
    if listener_host is None or listener_host == route_host:
        return route_host
    listener_wild = listener_host.startswith("*.")
    route_wild = route_host.startswith("*.")
    if listener_wild and route_wild:
        if route_host.endswith(listener_host[1:]):
            return route_host
        if listener_host.endswith(route_host[1:]):
            return listener_host
        return None
    if listener_wild:
        return route_host if _wildcard_covers(listener_host, route_host) else None
    if route_wild:
        return listener_host if _wildcard_covers(route_host, listener_host) else None
    return None


def effective_hostnames(listener_host: str | None, route_hosts: Sequence[str]) -> tuple[str, ...] | None:
    """Intersected hostnames for a route on a listener; () means any host; None means no overlap."""
    if not route_hosts:
        return (listener_host,) if listener_host else ()
    out: list[str] = []
    for host in route_hosts:
        hit = intersect(listener_host, host)
        if hit is not None and hit not in out:
            out.append(hit)
    return tuple(out) if out else None


def overlaps(a: str | None, b: str | None) -> bool:
    """Whether two listener hostnames can both match one request (OverlappingTLSConfig)."""
    if a is None or b is None:
        return True
    return intersect(a, b) is not None


def listener_hostname_rank(hostname: str | None) -> tuple[int, int, int]:
    """Which of the listeners sharing a port serves a host: an exact hostname, then wildcards with more
    labels (then longer), then none; the first that matches serves the request (listener isolation)."""
    if hostname is None:
        return (2, 0, 0)
    if hostname.startswith("*."):
        return (1, -hostname.count("."), -len(hostname))
    return (0, 0, 0)
