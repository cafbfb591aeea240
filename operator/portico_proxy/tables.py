"""Route tables compiled ahead of time from the IR: per port, listener selection by host; per listener,
a host index (exact, then wildcard suffixes longest first, then any) over rules in the IR's order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from portico.ir import Certificate, GatewayIR, Listener, ListenerProtocol, TLSMode
from portico.translate.hostnames import listener_hostname_rank
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
    # HTTPS and TLS listeners, or TLS listeners in both modes: the ClientHello's SNI picks the
    # listener before anything is terminated (tls_mixed.py).
    TLS_MIXED = "tls-mixed"
    TCP = "tcp"
    UDP = "udp"


class SniKind:
    """What the listener a TLS server name selects on a mixed port does with the connection."""

    HTTPS = "https"
    PASSTHROUGH = "passthrough"
    TERMINATE = "terminate"


def _sni_kind(listener: Listener) -> str:
    if listener.protocol is ListenerProtocol.HTTPS:
        return SniKind.HTTPS
    return SniKind.PASSTHROUGH if listener.tls_mode is TLSMode.PASSTHROUGH else SniKind.TERMINATE


def _port_mode(listeners: Sequence[tuple[str, Listener]]) -> str:
    protocols = {listener.protocol for _, listener in listeners}
    if ListenerProtocol.TLS in protocols:
        kinds = {_sni_kind(listener) for _, listener in listeners}
        if kinds == {SniKind.PASSTHROUGH}:
            return PortMode.TLS_PASSTHROUGH
        return PortMode.TLS_TERMINATE if kinds == {SniKind.TERMINATE} else PortMode.TLS_MIXED
    if protocols == {ListenerProtocol.UDP}:
        return PortMode.UDP
    return PortMode.TCP if protocols == {ListenerProtocol.TCP} else PortMode.HTTP


HTTP_PROTOCOLS = (ListenerProtocol.HTTP, ListenerProtocol.HTTPS)


class PortTable:
    """Every listener on one port; a request is served only by its most specific listener (isolation).

    On a mixed TLS port, `listeners` holds the TLS listeners too, as None: a Host that selects one
    of them is not served by an HTTPS listener's routes. `certificates` are those the port's
    server context offers (HTTPS listeners', or TLS Terminate ones' on a TLS_TERMINATE port);
    `terminate_certificates` those of the TLS Terminate listeners of a mixed port."""

    __slots__ = (
        "_cache",
        "certificates",
        "datagram",
        "l4",
        "listeners",
        "mode",
        "port",
        "sni",
        "terminate_certificates",
        "tls",
    )

    def __init__(
        self,
        port: int,
        listeners: Sequence[tuple[str, Listener]],
        backend_tls: Mapping[str, GatewayUpstreamTLS] | None = None,
    ) -> None:
        self.port = port
        ordered = sorted(listeners, key=lambda item: listener_hostname_rank(item[1].hostname))
        by_gateway = backend_tls or {}
        self.mode = mode = _port_mode(listeners)
        streams = [listener for _, listener in ordered if listener.protocol not in HTTP_PROTOCOLS]
        self.l4 = L4Router(streams) if streams else None
        self.listeners: tuple[tuple[str | None, ListenerTable | None], ...] = tuple(
            (
                listener.hostname,
                ListenerTable(gw, listener, by_gateway.get(gw, DEFAULT))
                if listener.protocol in HTTP_PROTOCOLS
                else None,
            )
            for gw, listener in ordered
            if mode in (PortMode.HTTP, PortMode.TLS_MIXED)
        )
        self.tls = mode in (PortMode.TLS_TERMINATE, PortMode.TLS_MIXED) or any(
            listener.protocol is ListenerProtocol.HTTPS for _, listener in listeners
        )
        offered = (ListenerProtocol.TLS,) if mode == PortMode.TLS_TERMINATE else (ListenerProtocol.HTTPS,)
        self.certificates: tuple[tuple[str | None, Certificate], ...] = tuple(
            (listener.hostname, cert)
            for _, listener in ordered
            if listener.protocol in offered
            for cert in listener.certificates
        )
        self.terminate_certificates: tuple[tuple[str | None, Certificate], ...] = tuple(
            (listener.hostname, cert)
            for _, listener in ordered
            if mode == PortMode.TLS_MIXED and _sni_kind(listener) == SniKind.TERMINATE
            for cert in listener.certificates
        )
        # Mixed ports: the most specific listener first, and what it does with a connection.
        self.sni: tuple[tuple[str | None, str], ...] = tuple(
            (listener.hostname, _sni_kind(listener)) for _, listener in ordered if mode == PortMode.TLS_MIXED
        )
        self._cache: dict[bytes, ListenerTable | None] = {}
        # The UDP listeners of a port number that also has TCP-based ones (a socket of its own).
        self.datagram: PortTable | None = None

    def sni_kind(self, server_name: str | None) -> str | None:
        """Mixed ports: how a connection with this SNI is served. A name no listener has, or none,
        is HTTPS when the port has an HTTPS listener (the default certificate, and Host decides, as
        on an HTTPS-only port); else None, and the connection is closed."""
        if server_name:
            for hostname, kind in self.sni:
                if hostname is None or host_matches(hostname, server_name.encode()):
                    return kind
        return SniKind.HTTPS if any(kind == SniKind.HTTPS for _, kind in self.sni) else None

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


# Protocols that may share a port: HTTPS and TLS are both told apart by the TLS server name.
_FAMILY = {
    ListenerProtocol.HTTP: "http",
    ListenerProtocol.HTTPS: "tls",
    ListenerProtocol.TLS: "tls",
    ListenerProtocol.TCP: "tcp",
    ListenerProtocol.UDP: "udp",
}


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
        # A UDP listener is a socket of its own, so it may share its number with TCP-based ones.
        udp = [item for item in listeners if item[1].protocol is ListenerProtocol.UDP]
        streams = [item for item in listeners if item[1].protocol is not ListenerProtocol.UDP]
        families = {_FAMILY[listener.protocol] for _, listener in streams}
        if len(families) > 1:
            protocols = sorted(listener.protocol.value for _, listener in streams)
            raise ValueError(f"port {port}: listeners mix protocols {protocols}")
        if not streams:
            tables[port] = PortTable(port, udp, backend_tls)
            continue
        tables[port] = PortTable(port, streams, backend_tls)
        if udp:
            tables[port].datagram = PortTable(port, udp, backend_tls)
    return tables


class PortState:
    """The tables a port serves; swapped whole on reload, read once per request."""

    __slots__ = ("port", "table")

    def __init__(self, port: int, table: PortTable) -> None:
        self.port = port
        self.table = table
