"""TLS from the proxy to backends: the trust, SNI and names a backend's certificate is checked
against (BackendTLSPolicy, or the default for appProtocol https), and the Gateway's client certificate.

Contexts and per-backend settings are made once per distinct configuration and kept across reloads
while unchanged, so the connection pools keyed by them stay warm. What the tables of a reload no
longer use is pruned once that reload is applied (`begin`, then `prune`), so a process that reloads
many distinct policies over its life keeps only what it serves.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
import time
from collections.abc import Iterable
from typing import Any

from portico.ir import Backend, BackendTLS, GatewayIR
from portico_proxy.keys import key_pair, load_chain

log = logging.getLogger("portico.proxy")
REFUSAL_LOG_INTERVAL_S = 10.0  # one log line per backend and reason at most this often


class ClientIdentity:
    """A Gateway's backend client certificate (spec.tls.backend.clientCertificateRef)."""

    __slots__ = ("cert_pem", "fingerprint", "key_pem", "name")

    def __init__(self, cert_pem: bytes, key_pem: bytes, name: str) -> None:
        self.cert_pem, self.key_pem, self.name = cert_pem, key_pem, name
        self.fingerprint = hashlib.sha256(cert_pem + b"\0" + key_pem).hexdigest()


def _dns_matches(pattern: str, name: str) -> bool:
    """A certificate DNS name (`*.example.com` covers exactly one label) against a wanted name."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and head != "*" and rest == pattern[2:]
    return False


class UpstreamTLS:
    """How one backend is reached over TLS; `check` runs after the handshake."""

    __slots__ = ("context", "hostnames", "last_refusal", "server_hostname", "uris", "verified", "where")

    def __init__(self, context: ssl.SSLContext, tls: BackendTLS | None, where: str) -> None:
        self.context = context
        self.verified = tls is not None
        self.server_hostname = tls.hostname if tls is not None else None
        sans = tls.subject_alt_names if tls is not None else ()
        self.hostnames = tuple(s.value for s in sans if s.type == "Hostname")
        self.uris = tuple(s.value for s in sans if s.type == "URI")
        self.where = where
        self.last_refusal: dict[str, float] = {}

    def check(self, peer: dict[str, Any] | None) -> str | None:
        """With subjectAltNames, the certificate must carry one of them (the context checked the chain)."""
        if not (self.hostnames or self.uris):
            return None
        names = (peer or {}).get("subjectAltName", ())
        dns = [value for kind, value in names if kind == "DNS"]
        uris = [value for kind, value in names if kind == "URI"]
        if any(_dns_matches(d, want) for want in self.hostnames for d in dns) or any(u in uris for u in self.uris):
            return None
        wanted = ", ".join([*self.hostnames, *self.uris])
        got = ", ".join(f"{kind}:{value}" for kind, value in names) or "none"
        return f"certificate subjectAltNames ({got}) match none of {wanted}"

    def refused(self, host: str, port: int, reason: str) -> None:
        """Log why a backend's certificate was refused, once per reason every few seconds."""
        now = time.monotonic()
        if now - self.last_refusal.get(reason, -REFUSAL_LOG_INTERVAL_S) >= REFUSAL_LOG_INTERVAL_S:
            self.last_refusal[reason] = now
            log.warning("backend %s endpoint %s:%d: TLS certificate refused: %s", self.where, host, port, reason)


class UpstreamTLSRegistry:
    """Every upstream TLS setting of the process. `insecure_default`: https backends without a
    BackendTLSPolicy are encrypted but not verified (the explicit opt-out, --insecure-backend-tls)."""

    def __init__(self, secrets_dir: str | None = None, insecure_default: bool = False) -> None:
        self.secrets_dir = secrets_dir
        self.insecure_default = insecure_default
        self._contexts: dict[tuple[str, bool, str], ssl.SSLContext] = {}
        self._settings: dict[tuple[Any, ...], UpstreamTLS] = {}
        # Keys the tables being compiled use (since `begin`); None: nothing is tracked (no runtime).
        self._used_contexts: set[tuple[str, bool, str]] | None = None
        self._used_settings: set[tuple[Any, ...]] | None = None

    def begin(self) -> None:
        """A compile starts: from now on, note what its tables use."""
        self._used_contexts, self._used_settings = set(), set()

    def prune(self) -> list[UpstreamTLS]:
        """Its tables are serving: forget every context and setting they do not use (requests still on
        older tables keep theirs by reference). Returns the settings in use (their pools are kept)."""
        if self._used_contexts is None or self._used_settings is None:
            return list(self._settings.values())
        used_contexts, used_settings = self._used_contexts, self._used_settings
        self._contexts = {k: v for k, v in self._contexts.items() if k in used_contexts}
        self._settings = {k: v for k, v in self._settings.items() if k in used_settings}
        self._used_contexts = self._used_settings = None
        return list(self._settings.values())

    def for_gateways(self, gateways: Iterable[GatewayIR]) -> dict[str, GatewayUpstreamTLS]:
        """Gateway ("namespace/name") -> its upstream TLS maker; raises CertificateError on a bad client key."""
        out: dict[str, GatewayUpstreamTLS] = {}
        for gateway in gateways:
            cert = gateway.client_certificate
            identity = ClientIdentity(*key_pair(cert, self.secrets_dir), str(cert.secret)) if cert else None
            out[str(gateway.gateway)] = GatewayUpstreamTLS(self, identity)
        return out

    def context(self, identity: ClientIdentity | None, tls: BackendTLS | None) -> ssl.SSLContext:
        """`tls` None: encrypted, not verified. Else the system's CAs or `ca_pem`, and the hostname
        checked unless subjectAltNames replace it."""
        key = _context_key(identity, tls)
        check_hostname = key[1]
        if self._used_contexts is not None:
            self._used_contexts.add(key)
        context = self._contexts.get(key)
        if context is None:
            context = ssl.create_default_context(cadata=tls.ca_pem if tls and tls.ca_pem else None)
            if tls is None:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                context.check_hostname = check_hostname
            if identity is not None:
                load_chain(context, identity.cert_pem, identity.key_pem, identity.name)
            self._contexts[key] = context
        return context

    def setting(self, identity: ClientIdentity | None, backend: Backend) -> UpstreamTLS:
        tls = backend.tls
        if tls is not None and tls.policy is None and self.insecure_default:
            tls = None
        where = f"{backend.namespace}/{backend.name}:{backend.port}"
        if tls is not None and tls.policy is not None:
            where += f" (BackendTLSPolicy {tls.policy})"
        key = (identity.fingerprint if identity else "", tls, where)
        setting = self._settings.get(key)
        if setting is None:
            setting = self._settings[key] = UpstreamTLS(self.context(identity, tls), tls, where)
        elif self._used_contexts is not None:
            self._used_contexts.add(_context_key(identity, tls))
        if self._used_settings is not None:
            self._used_settings.add(key)
        return setting


def _context_key(identity: ClientIdentity | None, tls: BackendTLS | None) -> tuple[str, bool, str]:
    trust = "insecure" if tls is None else (tls.ca_pem or "system")
    check_hostname = tls is not None and not tls.subject_alt_names
    return (identity.fingerprint if identity else "", check_hostname, trust)


class GatewayUpstreamTLS:
    """One Gateway's view: its client identity joined to each backend's verification."""

    __slots__ = ("identity", "registry")

    def __init__(self, registry: UpstreamTLSRegistry, identity: ClientIdentity | None) -> None:
        self.registry = registry
        self.identity = identity

    def for_backend(self, backend: Backend) -> UpstreamTLS:
        return self.registry.setting(self.identity, backend)


DEFAULT = GatewayUpstreamTLS(UpstreamTLSRegistry(), None)  # IR compiled without a runtime (tests, tools)
