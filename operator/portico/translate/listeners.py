"""Listener validation: protocol, conflicts, TLS certificates, allowed route kinds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP
from portico.api.gateway import Gateway, Listener, ParsedListener
from portico.ir import Certificate
from portico.provider import Capabilities
from portico.translate import conditions as c
from portico.translate.hostnames import overlaps
from portico.translate.refs import resolve_certificate

KINDS_BY_PROTOCOL = {
    "HTTP": ("HTTPRoute", "GRPCRoute"),
    "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TLS": ("TLSRoute",),
    "TCP": ("TCPRoute",),
    "UDP": ("UDPRoute",),
}
TLS_PROTOCOLS = ("HTTPS", "TLS")


@dataclass
class ListenerState:
    """What translation learned about one listener; conditions are rendered at the end."""

    parsed: ParsedListener
    accepted: c.Condition = field(default_factory=lambda: c.true("Accepted", message="listener is accepted"))
    resolved: c.Condition = field(default_factory=lambda: c.true("ResolvedRefs", message="all references resolved"))
    conflicted: c.Condition = field(
        default_factory=lambda: c.Condition("Conflicted", False, "NoConflicts", "No conflicts")
    )
    overlapping: c.Condition | None = None
    supported_kinds: tuple[str, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    tls_mode: str | None = None  # TLS listeners: Terminate or Passthrough
    tls_problem: str | None = None
    gateway_problem: str | None = None
    attached_routes: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.parsed.name

    @property
    def spec(self) -> Listener | None:
        return self.parsed.listener

    @property
    def is_accepted(self) -> bool:
        return self.accepted.status is True

    @property
    def is_programmable(self) -> bool:
        """Accepted and with everything it needs to serve (certificates for HTTPS)."""
        return self.is_accepted and self.tls_problem is None and self.gateway_problem is None

    def programmed(self) -> c.Condition:
        if self.gateway_problem:
            return c.false("Programmed", "Invalid", self.gateway_problem)
        if not self.is_accepted:
            return c.false("Programmed", "Invalid", f"listener is not accepted: {self.accepted.message}")
        if self.tls_problem:
            return c.false("Programmed", "Invalid", self.tls_problem)
        return c.true("Programmed", message="listener is programmed")

    def conditions(self) -> list[c.Condition]:
        out = [self.accepted, self.programmed(), self.resolved, self.conflicted]
        if self.overlapping is not None:
            out.append(self.overlapping)
        return out


def _check_kinds(state: ListenerState, listener: Listener, capabilities: Capabilities) -> None:
    possible = [k for k in KINDS_BY_PROTOCOL.get(listener.protocol, ()) if k in capabilities.route_kinds]
    if not listener.allowed_routes.kinds:
        state.supported_kinds = tuple(possible)
        return
    kept: list[str] = []
    bad: list[str] = []
    for entry in listener.allowed_routes.kinds:
        if entry.group == GATEWAY_GROUP and entry.kind in possible:
            if entry.kind not in kept:
                kept.append(entry.kind)
        else:
            bad.append(f"{entry.group or 'core'}/{entry.kind}")
    state.supported_kinds = tuple(kept)
    if bad:
        state.resolved = c.false(
            "ResolvedRefs",
            "InvalidRouteKinds",
            f"allowedRoutes.kinds has kinds this listener cannot serve: {', '.join(bad)}",
        )


def _check_tls_mode(state: ListenerState, listener: Listener, capabilities: Capabilities) -> bool:
    """A TLS listener's mode: Passthrough needs no certificate; Terminate needs TLSRouteModeTerminate.
    True when certificates are still to be checked."""
    tls = listener.tls
    if tls is None:
        state.accepted = c.false("Accepted", "UnsupportedValue", "tls.mode must be set on a TLS listener")
        return False
    state.tls_mode = tls.mode
    if tls.mode == "Passthrough":
        return False  # certificateRefs are ignored: the backend terminates
    if "TLSRouteModeTerminate" not in capabilities.features:
        state.accepted = c.false(
            "Accepted",
            "UnsupportedValue",
            "tls.mode Terminate on a TLS listener needs TLSRouteModeTerminate, which this provider does not support",
        )
        return False
    return True


def _check_tls(state: ListenerState, gateway: Gateway, listener: Listener, snapshot: Snapshot) -> None:
    tls = listener.tls
    protocol = listener.protocol
    if tls is None or (not tls.certificate_refs and not tls.options):
        state.tls_problem = f"{protocol} listener needs tls.certificateRefs (InvalidTLSConfig)"
        state.resolved = c.false(
            "ResolvedRefs",
            "InvalidCertificateRef",
            f"tls.certificateRefs is empty: a terminating {protocol} listener needs a certificate",
        )
        return
    if tls.mode != "Terminate":
        state.accepted = c.false(
            "Accepted",
            "UnsupportedValue",
            f"tls.mode {tls.mode} is not supported on HTTPS listeners; use Terminate",
        )
        return
    certs: list[Certificate] = []
    for index, ref in enumerate(tls.certificate_refs):
        result = resolve_certificate(snapshot, gateway.metadata.namespace, ref, listener.hostname)
        if result.certificate is None:
            state.resolved = c.false(
                "ResolvedRefs",
                result.reason or "InvalidCertificateRef",
                f"tls.certificateRefs[{index}]: {result.message}",
            )
            state.tls_problem = result.message
            return
        certs.append(result.certificate)
    state.certificates = tuple(certs)


# Listener protocols that can share a port (the spec's "compatible" listeners, told apart by
# hostname: HTTPS and TLS both by the TLS server name). TCP and UDP listeners are distinct from each
# other on one port number: they are different sockets.
PORT_FAMILY = {"HTTP": "HTTP", "HTTPS": "TLS", "TLS": "TLS", "TCP": "TCP", "UDP": "UDP"}


def transport_of(protocol: str) -> str:
    return "udp" if protocol == "UDP" else "tcp"


def _mark_conflicts(states: list[ListenerState], capabilities: Capabilities) -> None:
    by_port: dict[tuple[int, str], list[ListenerState]] = defaultdict(list)
    for state in states:
        if state.spec is not None and state.is_accepted:
            by_port[(state.spec.port, transport_of(state.spec.protocol))].append(state)
    for (port, _), group in by_port.items():
        protocols = {s.spec.protocol for s in group if s.spec}
        if len({PORT_FAMILY.get(p, p) for p in protocols}) > 1:
            for state in group:
                _conflict(
                    state,
                    "ProtocolConflict",
                    f"port {port} is used with more than one protocol ({', '.join(sorted(protocols))})",
                )
            continue
        # HTTPS listeners terminate, like TLS ones in Terminate mode; a port that also passes TLS
        # through must peek at the SNI before deciding, which TLSRouteModeMixed claims.
        modes = {"Terminate" if s.spec and s.spec.protocol == "HTTPS" else s.tls_mode for s in group} - {None}
        if len(modes) > 1 and "TLSRouteModeMixed" not in capabilities.features:
            for state in group:
                _conflict(
                    state,
                    "ProtocolConflict",
                    f"port {port} has TLS listeners in both Passthrough and Terminate mode, which is not supported",
                )
            continue
        by_host: dict[str | None, list[ListenerState]] = defaultdict(list)
        for state in group:
            by_host[state.spec.hostname if state.spec else None].append(state)
        for host, same in by_host.items():
            if len(same) > 1:
                for state in same:
                    _conflict(
                        state,
                        "HostnameConflict",
                        f"listeners {', '.join(s.name for s in same)} share port {port} and "
                        f"hostname {host or '(none)'}",
                    )
        _mark_tls_overlaps([s for s in group if s.is_accepted and s.spec and s.spec.protocol in TLS_PROTOCOLS])


def _conflict(state: ListenerState, reason: str, message: str) -> None:
    state.conflicted = c.true("Conflicted", reason, message)
    state.accepted = c.false("Accepted", reason, message)


def _mark_tls_overlaps(group: list[ListenerState]) -> None:
    for state in group:
        others = [
            o
            for o in group
            if o is not state and o.spec and state.spec and overlaps(o.spec.hostname, state.spec.hostname)
        ]
        if others:
            state.overlapping = c.true(
                "OverlappingTLSConfig",
                "OverlappingHostnames",
                f"hostname overlaps listener(s) {', '.join(o.name for o in others)} on the same port",
            )


def evaluate_listeners(gateway: Gateway, snapshot: Snapshot, capabilities: Capabilities) -> list[ListenerState]:
    states: list[ListenerState] = []
    for parsed in gateway.listeners:
        state = ListenerState(parsed)
        states.append(state)
        listener = parsed.listener
        if listener is None:
            state.accepted = c.false("Accepted", "UnsupportedValue", "; ".join(parsed.errors))
            continue
        if listener.protocol not in capabilities.listener_protocols:
            state.accepted = c.false(
                "Accepted",
                "UnsupportedProtocol",
                f"protocol {listener.protocol} is not supported; supported: "
                f"{', '.join(sorted(capabilities.listener_protocols))}",
            )
            continue
        _check_kinds(state, listener, capabilities)
        if listener.protocol == "HTTPS" or (
            listener.protocol == "TLS" and _check_tls_mode(state, listener, capabilities)
        ):
            _check_tls(state, gateway, listener, snapshot)
    _mark_conflicts(states, capabilities)
    return states
