"""TLS termination: one SSLContext per certificate, chosen by SNI (exact, then wildcard), ALPN h2/http1.1;
and the client side: the context that presents a Gateway's backend client certificate."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
import tempfile
from collections.abc import Iterable
from pathlib import Path

from portico.ir import Certificate, GatewayIR
from portico_proxy.tables import PortMode, PortTable, wildcard_suffix

ALPN = ["h2", "http/1.1"]


class CertificateError(ValueError):
    """A certificate that cannot be loaded, with the Secret named."""


def key_pair(cert: Certificate, secrets_dir: str | None) -> tuple[bytes, bytes]:
    """PEM certificate and key: from the IR, or `<secrets-dir>/<namespace>/<name>/tls.{crt,key}`."""
    if cert.key_pem is not None:
        return cert.cert_pem.encode(), cert.key_pem.encode()
    if secrets_dir is None:
        raise CertificateError(f"certificate {cert.secret}: key redacted from the IR and no --secrets-dir given")
    folder = Path(secrets_dir) / cert.secret.namespace / cert.secret.name
    try:
        return (folder / "tls.crt").read_bytes(), (folder / "tls.key").read_bytes()
    except OSError as exc:
        raise CertificateError(f"certificate {cert.secret}: cannot read {exc.filename}: {exc.strerror}") from exc


def _context(cert_pem: bytes, key_pem: bytes, name: str, alpn: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        context.set_alpn_protocols(alpn)
    _load_chain(context, cert_pem, key_pem, name)
    return context


def backend_client_context(cert_pem: bytes, key_pem: bytes, name: str) -> ssl.SSLContext:
    """Upstream TLS that presents `cert_pem` when the backend asks for a client certificate.

    The server side is not verified, as for every HTTPS backend until BackendTLSPolicy says how.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _load_chain(context, cert_pem, key_pem, name)
    return context


class ClientCertificates:
    """Gateway ("namespace/name") -> its client certificate context; kept across reloads while unchanged,
    so pooled upstream connections stay warm."""

    def __init__(self, secrets_dir: str | None) -> None:
        self.secrets_dir = secrets_dir
        self._by_fingerprint: dict[str, ssl.SSLContext] = {}

    def contexts(self, gateways: Iterable[GatewayIR]) -> dict[str, ssl.SSLContext]:
        out: dict[str, ssl.SSLContext] = {}
        kept: dict[str, ssl.SSLContext] = {}
        for gateway in gateways:
            cert = gateway.client_certificate
            if cert is None:
                continue
            cert_pem, key_pem = key_pair(cert, self.secrets_dir)
            fingerprint = hashlib.sha256(cert_pem + b"\0" + key_pem).hexdigest()
            context = kept.get(fingerprint) or self._by_fingerprint.get(fingerprint)
            if context is None:
                context = backend_client_context(cert_pem, key_pem, name=str(cert.secret))
            kept[fingerprint] = context
            out[str(gateway.gateway)] = context
        self._by_fingerprint = kept
        return out


def _load_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, name: str) -> None:
    # load_cert_chain reads files only: a private directory that is removed right after.
    with tempfile.TemporaryDirectory(prefix="portico-tls-") as folder:
        os.chmod(folder, 0o700)
        cert_path, key_path = Path(folder, "tls.crt"), Path(folder, "tls.key")
        cert_path.write_bytes(cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(key_pem)
        try:
            context.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, ValueError) as exc:
            raise CertificateError(f"certificate {name}: {exc}") from exc


class CertificateSelector:
    """SNI -> context: an exact hostname, else the longest wildcard, else the first certificate.

    HTTPS ports offer ALPN h2 and http/1.1; TLS Terminate ports relay bytes, so they offer none."""

    def __init__(self, table: PortTable, secrets_dir: str | None) -> None:
        self.exact: dict[str, ssl.SSLContext] = {}
        wildcards: dict[str, ssl.SSLContext] = {}
        self.default: ssl.SSLContext | None = None
        alpn = ALPN if table.mode == PortMode.HTTP else []
        for listener_hostname, cert in table.certificates:
            context = _context(*key_pair(cert, secrets_dir), name=str(cert.secret), alpn=alpn)
            if self.default is None:
                self.default = context
            names = cert.hostnames or ((listener_hostname,) if listener_hostname else ())
            for name in names:
                suffix = wildcard_suffix(name)
                if suffix is None:
                    self.exact.setdefault(name.lower(), context)
                else:
                    wildcards.setdefault(suffix.decode(), context)
        if self.default is None:
            raise CertificateError(f"port {table.port}: a TLS-terminating listener has no certificate")
        self.wildcards = sorted(wildcards.items(), key=lambda item: -len(item[0]))

    def choose(self, server_name: str | None) -> ssl.SSLContext:
        assert self.default is not None
        if not server_name:
            return self.default
        name = server_name.lower()
        found = self.exact.get(name)
        if found is not None:
            return found
        for suffix, context in self.wildcards:
            if name.endswith(suffix) and len(name) > len(suffix):
                return context
        return self.default


# Where the SNI of a connection is kept, on its SSLObject, for the 421 check (server_sni).
SERVER_NAME_ATTR = "portico_server_name"


def server_sni(transport: asyncio.BaseTransport) -> bytes:
    """The lower-case SNI the client sent on this TLS connection, b"" when none."""
    sslobj = transport.get_extra_info("ssl_object")
    return getattr(sslobj, SERVER_NAME_ATTR, b"") if sslobj is not None else b""


class SelectorHolder:
    """What the server's SSLContext consults on every handshake; reload swaps `selector`."""

    def __init__(self, selector: CertificateSelector) -> None:
        self.selector = selector

    def server_context(self) -> ssl.SSLContext:
        base = self.selector.default
        assert base is not None

        def on_sni(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            sock.context = self.selector.choose(server_name)
            if server_name:
                setattr(sock, SERVER_NAME_ATTR, server_name.lower().encode())

        base.sni_callback = on_sni
        return base
