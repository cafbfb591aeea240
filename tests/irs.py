"""Hand-built IR for every test (providers, proxy, operator): small builders with readable defaults.

Everything lives in namespace `shop`, under the Gateway `shop/web`. `backend` is a Service whose
endpoints are pod IPs in a VPC (what a cloud load balancer registers); `local_backend` one whose
endpoints listen on this machine (what the proxy tests start and connect to).
"""

from __future__ import annotations

import socket
from typing import Any

from portico.ir import (
    Backend,
    Certificate,
    Endpoint,
    GatewayIR,
    Infrastructure,
    Listener,
    ListenerProtocol,
    Match,
    MatchType,
    ObjectKey,
    PathMatch,
    RouteKind,
    Rule,
)

NAMESPACE = "shop"
GATEWAY = ObjectKey(namespace=NAMESPACE, name="web")
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def backend(
    name: str, port: int = 80, ips: tuple[str, ...] = ("10.0.1.10",), target_port: int = 8080, **fields: Any
) -> Backend:
    endpoints = tuple(Endpoint(address=ip, port=target_port) for ip in ips)
    return Backend(namespace=NAMESPACE, name=name, port=port, target_port=target_port, endpoints=endpoints, **fields)


def local_backend(name: str, *ports: int, **fields: Any) -> Backend:
    """A Service on port 80 whose endpoints are these ports of 127.0.0.1."""
    endpoints = tuple(Endpoint(address=LOOPBACK, port=port) for port in ports)
    return Backend(namespace=NAMESPACE, name=name, port=80, endpoints=endpoints, **fields)


def prefix(value: str) -> Match:
    return Match(path=PathMatch(type=MatchType.PATH_PREFIX, value=value))


def rule(
    route: str,
    index: int = 0,
    path: str | None = "/",
    path_type: MatchType = MatchType.PATH_PREFIX,
    backends: tuple[Backend, ...] = (),
    hostnames: tuple[str, ...] = (),
    match: Match | None = None,
    kind: RouteKind = RouteKind.HTTP,
    **fields: Any,
) -> Rule:
    """Rule `index` (its only match) of route `shop/<route>`; `match` wins over `path`."""
    if match is None:
        match = Match(path=PathMatch(type=path_type, value=path) if path is not None else None)
    return Rule(
        id=f"{kind.value}/{NAMESPACE}/{route}/{index}/0",
        route_kind=kind,
        route=ObjectKey(namespace=NAMESPACE, name=route),
        rule_index=index,
        match_index=0,
        hostnames=hostnames,
        match=match,
        backends=backends,
        **fields,
    )


def listener(
    name: str = "http",
    port: int = 80,
    rules: tuple[Rule, ...] = (),
    protocol: ListenerProtocol = ListenerProtocol.HTTP,
    **fields: Any,
) -> Listener:
    return Listener(name=name, port=port, protocol=protocol, rules=rules, **fields)


def gateway(
    *listeners: Listener,
    name: str = GATEWAY.name,
    params: dict[str, Any] | None = None,
    controller: str = "portico.dev/aws-alb",
    gateway_class: str = "aws",
    **fields: Any,
) -> GatewayIR:
    return GatewayIR(
        gateway=ObjectKey(namespace=NAMESPACE, name=name),
        gateway_class=gateway_class,
        controller_name=controller,
        listeners=listeners,
        infrastructure=Infrastructure(parameters=params or {}),
        **fields,
    )


def certificate(cert_pem: str, key_pem: str, name: str = "web-tls") -> Certificate:
    return Certificate(
        secret=ObjectKey(namespace=NAMESPACE, name=name),
        cert_pem=cert_pem,
        key_pem=key_pem,
        hostnames=("shop.example.com",),
    )


def self_signed(hostname: str = "shop.example.com", serial: int = 1) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a fresh self-signed certificate."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()
