"""Small builders of hand-made IR for the proxy tests."""

from __future__ import annotations

import socket
from typing import Any

from portico.ir import (
    Backend,
    Endpoint,
    GatewayIR,
    Listener,
    ListenerProtocol,
    Match,
    MatchType,
    ObjectKey,
    PathMatch,
    RouteKind,
    Rule,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backend(name: str, *ports: int, weight: int = 1, **extra: Any) -> Backend:
    endpoints = tuple(Endpoint(address="127.0.0.1", port=p) for p in ports)
    return Backend(namespace="default", name=name, port=80, weight=weight, endpoints=endpoints, **extra)


def prefix(value: str) -> Match:
    return Match(path=PathMatch(type=MatchType.PATH_PREFIX, value=value))


def rule(rid: str, match: Match | None = None, backends: tuple[Backend, ...] = (), **extra: Any) -> Rule:
    route = extra.pop("route", ObjectKey(namespace="default", name=rid))
    kind = extra.pop("route_kind", RouteKind.HTTP)
    return Rule(
        id=rid,
        route_kind=kind,
        route=route,
        rule_index=0,
        match_index=0,
        match=match or Match(),
        backends=backends,
        **extra,
    )


def listener(port: int, *rules: Rule, name: str = "http", **extra: Any) -> Listener:
    protocol = extra.pop("protocol", ListenerProtocol.HTTP)
    return Listener(name=name, port=port, protocol=protocol, rules=rules, **extra)


def gateway(*listeners: Listener, name: str = "gw") -> GatewayIR:
    return GatewayIR(
        gateway=ObjectKey(namespace="default", name=name),
        gateway_class="portico",
        controller_name="portico.dev/proxy",
        listeners=listeners,
    )
