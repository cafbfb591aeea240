"""Hand-built IR for the AWS provider tests: small builders with readable defaults."""

from __future__ import annotations

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

GATEWAY = ObjectKey(namespace="shop", name="web")


def backend(
    name: str, port: int = 80, ips: tuple[str, ...] = ("10.0.1.10",), target_port: int = 8080, **fields: Any
) -> Backend:
    endpoints = tuple(Endpoint(address=ip, port=target_port) for ip in ips)
    return Backend(namespace="shop", name=name, port=port, target_port=target_port, endpoints=endpoints, **fields)


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
    if match is None:
        match = Match(path=PathMatch(type=path_type, value=path) if path is not None else None)
    return Rule(
        id=f"{kind.value}/shop/{route}/{index}/0",
        route_kind=kind,
        route=ObjectKey(namespace="shop", name=route),
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
    certificates: tuple[Certificate, ...] = (),
) -> Listener:
    return Listener(name=name, port=port, protocol=protocol, rules=rules, certificates=certificates)


def gateway(
    *listeners: Listener, params: dict[str, Any] | None = None, controller: str = "portico.dev/aws-alb"
) -> GatewayIR:
    return GatewayIR(
        gateway=GATEWAY,
        gateway_class="aws",
        controller_name=controller,
        listeners=listeners,
        infrastructure=Infrastructure(parameters=params or {}),
    )


def certificate(cert_pem: str, key_pem: str, name: str = "web-tls") -> Certificate:
    return Certificate(
        secret=ObjectKey(namespace="shop", name=name),
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
