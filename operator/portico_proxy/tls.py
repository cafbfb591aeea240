"""TLS termination: one SSLContext per certificate, chosen by SNI (exact, then wildcard), ALPN h2/http1.1.
Backend (client side) TLS is in upstream_tls.py."""

from __future__ import annotations

import asyncio
import ssl

from portico_proxy.keys import CertificateError, key_pair, load_chain
from portico_proxy.tables import PortMode, PortTable, wildcard_suffix

ALPN = ["h2", "http/1.1"]


def _context(cert_pem: bytes, key_pem: bytes, name: str, alpn: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        context.set_alpn_protocols(alpn)
    load_chain(context, cert_pem, key_pem, name)
    return context


class CertificateSelector:
    """SNI -> context: an exact hostname, else the longest wildcard, else the first certificate.

    HTTPS ports offer ALPN h2 and http/1.1; TLS Terminate ports relay bytes, so they offer none.
    `terminate`: the TLS Terminate listeners of a mixed port (tls_mixed.py) instead of its HTTPS ones."""

    def __init__(self, table: PortTable, secrets_dir: str | None, *, terminate: bool = False) -> None:
        self.exact: dict[str, ssl.SSLContext] = {}
        wildcards: dict[str, ssl.SSLContext] = {}
        self.default: ssl.SSLContext | None = None
        alpn = ALPN if table.mode in (PortMode.HTTP, PortMode.TLS_MIXED) and not terminate else []
        for listener_hostname, cert in table.terminate_certificates if terminate else table.certificates:
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
