"""Gateways served from one address (`portico serve` binds every Gateway to `--address`).

The Gateway API allows merging Gateways onto shared addresses only when every listener across them
is distinct. Like ListenerSets, the earlier listener keeps serving: Gateways are taken in
namespace/name order, and a later Gateway's listener that would take the same port and hostname
(HostnameConflict) or the same port with an incompatible protocol (ProtocolConflict) is not served.
HTTPS and TLS listeners share a port (the SNI chooses), and a TCP and a UDP listener share a port
number (two sockets), as the spec's distinct listeners allow.
"""

from __future__ import annotations

from collections.abc import Sequence

from portico.ir import GatewayIR, Listener, ListenerProtocol


def merge_on_one_address(gateways: Sequence[GatewayIR]) -> tuple[list[GatewayIR], list[str]]:
    """The Gateways with conflicting listeners removed, and one message per listener removed."""
    protocols: dict[tuple[int, str], tuple[str, str, str]] = {}
    hostnames: dict[tuple[int, str, str | None], tuple[str, str]] = {}
    merged: list[GatewayIR] = []
    problems: list[str] = []
    for gateway in sorted(gateways, key=lambda g: (g.gateway.namespace, g.gateway.name)):
        name = str(gateway.gateway)
        kept: list[Listener] = []
        for listener in gateway.listeners:
            port = (listener.port, _transport(listener))
            protocol, *first = protocols.get(port, (_serving(listener), name, listener.name))
            host_owner = hostnames.get((*port, listener.hostname), (name, listener.name))
            if protocol != _serving(listener):
                problems.append(
                    f"Gateway {name} listener {listener.name}: not served: ProtocolConflict: port {listener.port} "
                    f"is served as {protocol} by {_shown(*first)} (one address for all Gateways)"
                )
            elif host_owner[0] != name:
                problems.append(
                    f"Gateway {name} listener {listener.name}: not served: HostnameConflict: port {listener.port}, "
                    f"{listener.hostname or 'any hostname'}, is served by {_shown(*host_owner)} "
                    "(one address for all Gateways)"
                )
            else:
                kept.append(listener)
                protocols.setdefault(port, (_serving(listener), name, listener.name))
                hostnames.setdefault((*port, listener.hostname), (name, listener.name))
        unchanged = len(kept) == len(gateway.listeners)
        merged.append(gateway if unchanged else gateway.model_copy(update={"listeners": tuple(kept)}))
    return merged, problems


def _serving(listener: Listener) -> str:
    """How a port serves: HTTPS and TLS (either mode) alike by the TLS server name."""
    protocol = listener.protocol
    return "HTTPS/TLS" if protocol in (ListenerProtocol.HTTPS, ListenerProtocol.TLS) else protocol.value


def _transport(listener: Listener) -> str:
    return "udp" if listener.protocol is ListenerProtocol.UDP else "tcp"


def _shown(gateway: str, listener: str) -> str:
    return f"Gateway {gateway} listener {listener}"
