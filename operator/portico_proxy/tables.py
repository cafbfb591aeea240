"""Route tables compiled ahead of time from the IR: per port, listener selection by host; per listener,
a host index (exact, then wildcard suffixes longest first, then any) over rules in the IR's order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from portico.hostnames import listener_hostname_rank
from portico.ir import Certificate, GatewayIR, Listener, ListenerProtocol, TLSMode
from portico_proxy.dispatch import Entry, build_entries
from portico_proxy.l4tables import L4Router
from portico_proxy.rules import CompiledRule
from portico_proxy.upstream_tls import DEFAULT, GatewayUpstreamTLS

HOST_CACHE_LIMIT = 4096


def wildcard_suffix(hostname: str) -> bytes | None:
    """`*.example.com` -> `.example.com`; None for an exact hostname."""
    return hostname[1:].lower().encode() if hostname.startswith("*.") else None


def host_matches(pattern: str, host: bytes) -> bool:
    suffix = wildcard_suffix(pattern)
    if suffix is None:
        return host == pattern.lower().encode()
    return host.endswith(suffix) and len(host) > len(suffix)


class ListenerTable:
    __slots__ = ("_any", "_cache", "_exact", "_wildcards", "gateway", "hostname", "name", "port", "scheme")

    def __init__(self, gateway: str, listener: Listener, backend_tls: GatewayUpstreamTLS = DEFAULT) -> None:
        self.gateway = gateway
        self.name = listener.name
        self.hostname = listener.hostname
        self.port = listener.port
        self.scheme = b"https" if listener.protocol is ListenerProtocol.HTTPS else b"http"
        exact: dict[bytes, list[CompiledRule]] = {}
        wildcards: dict[bytes, list[CompiledRule]] = {}
        any_host: list[CompiledRule] = []
        for rule in listener.rules:
            compiled = CompiledRule(rule, backend_tls)
            if not rule.hostnames:
                any_host.append(compiled)
            for hostname in dict.fromkeys(h.lower() for h in rule.hostnames):
                suffix = wildcard_suffix(hostname)
                if suffix is None:
                    exact.setdefault(hostname.encode(), []).append(compiled)
                else:
                    wildcards.setdefault(suffix, []).append(compiled)
        self._exact = {host: tuple(rules) for host, rules in exact.items()}
        self._wildcards = sorted(((s, tuple(r)) for s, r in wildcards.items()), key=lambda i: -len(i[0]))
        self._any = tuple(any_host)
        self._cache: dict[bytes, tuple[Entry, ...]] = {}

    def candidates(self, host: bytes) -> tuple[Entry, ...]:
        """Rules that may serve `host`, most specific hostname first, IR order within each group."""
        found = self._cache.get(host)
        if found is not None:
            return found
        groups: list[tuple[CompiledRule, ...]] = [self._exact.get(host, ())]
        groups += [rules for suffix, rules in self._wildcards if host.endswith(suffix) and len(host) > len(suffix)]
        groups.append(self._any)
        found = build_entries(tuple(dict.fromkeys(rule for group in groups for rule in group)))
        if len(self._cache) >= HOST_CACHE_LIMIT:
            self._cache.clear()
        self._cache[host] = found
        return found


class PortMode:
    """How a port's connections are served (one mode per port; a change rebinds the port)."""

    HTTP = "http"  # HTTP/1.1 and HTTP/2, HTTPS included
    TLS_PASSTHROUGH = "tls-passthrough"
    TLS_TERMINATE = "tls-terminate"
    TCP = "tcp"
    UDP = "udp"


def _port_mode(listeners: Sequence[tuple[str, Listener]]) -> str:
    protocol = listeners[0][1].protocol
    if protocol is ListenerProtocol.TLS:
        modes = {listener.tls_mode for _, listener in listeners}
        if len(modes) > 1:
            raise ValueError(f"port {listeners[0][1].port}: TLS listeners mix Passthrough and Terminate")
        return PortMode.TLS_PASSTHROUGH if modes == {TLSMode.PASSTHROUGH} else PortMode.TLS_TERMINATE
    if protocol is ListenerProtocol.UDP:
        return PortMode.UDP
    return PortMode.TCP if protocol is ListenerProtocol.TCP else PortMode.HTTP


class PortTable:
    """Every listener on one port; a request is served only by its most specific listener (isolation)."""

    __slots__ = ("_cache", "certificates", "l4", "listeners", "mode", "port", "tls")

    def __init__(
        self,
        port: int,
        listeners: Sequence[tuple[str, Listener]],
        backend_tls: Mapping[str, GatewayUpstreamTLS] | None = None,
    ) -> None:
        self.port = port
        ordered = sorted(listeners, key=lambda item: listener_hostname_rank(item[1].hostname))
        by_gateway = backend_tls or {}
        self.mode = _port_mode(listeners)
        self.l4 = L4Router([listener for _, listener in ordered]) if self.mode != PortMode.HTTP else None
        self.listeners = tuple(
            (listener.hostname, ListenerTable(gw, listener, by_gateway.get(gw, DEFAULT)))
            for gw, listener in ordered
            if self.l4 is None
        )
        self.tls = self.mode == PortMode.TLS_TERMINATE or any(
            listener.protocol is ListenerProtocol.HTTPS for _, listener in listeners
        )
        self.certificates: tuple[tuple[str | None, Certificate], ...] = tuple(
            (listener.hostname, cert) for _, listener in ordered for cert in listener.certificates
        )
        self._cache: dict[bytes, ListenerTable | None] = {}

    def select(self, host: bytes) -> ListenerTable | None:
        try:
            return self._cache[host]
        except KeyError:
            pass
        chosen = next((t for name, t in self.listeners if name is None or host_matches(name, host)), None)
        if len(self._cache) >= HOST_CACHE_LIMIT:
            self._cache.clear()
        self._cache[host] = chosen
        return chosen


def compile_gateways(
    gateways: Iterable[GatewayIR], backend_tls: Mapping[str, GatewayUpstreamTLS] | None = None
) -> dict[int, PortTable]:
    """Group every listener of every Gateway by port and compile it; raises ValueError on bad IR.

    `backend_tls` maps a Gateway ("namespace/name") to its upstream TLS (client certificate, verification).
    """
    by_port: dict[int, list[tuple[str, Listener]]] = {}
    for gateway in gateways:
        problems = gateway.validate_ir()
        if problems:
            raise ValueError(f"gateway {gateway.gateway}: " + "; ".join(problems))
        for listener in gateway.listeners:
            by_port.setdefault(listener.port, []).append((str(gateway.gateway), listener))
    tables: dict[int, PortTable] = {}
    for port, listeners in sorted(by_port.items()):
        protocols = {listener.protocol for _, listener in listeners}
        if len(protocols) > 1:
            raise ValueError(f"port {port}: listeners mix protocols {sorted(protocols)}")
        tables[port] = PortTable(port, listeners, backend_tls)
    return tables


class PortState:
    """The tables a port serves; swapped whole on reload, read once per request."""

    __slots__ = ("port", "table")

    def __init__(self, port: int, table: PortTable) -> None:
        self.port = port
        self.table = table
