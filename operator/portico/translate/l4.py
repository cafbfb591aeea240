"""TCPRoute and UDPRoute carry no hostname and no match: a TCP or UDP listener forwards everything
to one backend set. When several routes attach to one such listener, the oldest one (then
`namespace/name`, the spec's tie-break) is the listener's; the others are not attached there,
and a route attached nowhere else gets Accepted=False naming the route that holds the listener."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from portico.api.routes import Route
from portico.translate import conditions as c
from portico.translate.attachment import Attachment

SINGLE_ROUTE_KINDS = ("TCPRoute", "UDPRoute")


class _RouteState(Protocol):
    route: Route
    attachments: list[Attachment]


def one_route_per_listener(states: Iterable[_RouteState]) -> None:
    """Detach every TCP/UDP route but the first from each listener (in place)."""
    ordered = sorted(
        (s for s in states if s.route.kind in SINGLE_ROUTE_KINDS),
        key=lambda s: (s.route.metadata.creation_timestamp or "~", s.route.metadata.namespace, s.route.metadata.name),
    )
    holder: dict[tuple[tuple[str, str], str], str] = {}
    for state in ordered:
        for att in state.attachments:
            if att.accepted.status is not True:
                continue
            kept = []
            taken = []
            for listener, hosts in att.listeners:
                owner = holder.setdefault((att.gateway, listener.name), state.route.display)
                if owner == state.route.display:
                    kept.append((listener, hosts))
                else:
                    taken.append(f"{listener.name} (held by {state.route.kind} {owner})")
            att.listeners = kept
            if not kept:
                att.accepted = c.false(
                    "Accepted",
                    "NotAllowedByListeners",
                    f"a {state.route.kind} listener forwards to one route: {', '.join(taken)}",
                )
