"""Cross-namespace references (ReferenceGrant) and TLS certificate Secrets."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP
from portico.api.core import Secret
from portico.api.gateway import SecretObjectReference
from portico.ir import Certificate, ObjectKey

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


def reference_permitted(
    snapshot: Snapshot,
    *,
    from_kind: str,
    from_namespace: str,
    to_group: str,
    to_kind: str,
    to_namespace: str,
    to_name: str,
    from_group: str = GATEWAY_GROUP,
) -> bool:
    """Same namespace is always allowed; otherwise a ReferenceGrant in the target namespace must allow it."""
    if from_namespace == to_namespace:
        return True
    return any(
        grant.permits(from_group, from_kind, from_namespace, to_group, to_kind, to_name)
        for grant in snapshot.grants_in(to_namespace)
    )


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]] | None:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    blocks: list[tuple[str, bytes]] = []
    for label, body in _PEM_BLOCK.findall(text):
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
        if not der or der[0] != 0x30:  # every certificate and key is a DER SEQUENCE
            return None
        blocks.append((label, der))
    return blocks


def check_keypair(secret: Secret) -> str | None:
    """Why the Secret is not a usable TLS keypair, or None."""
    if secret.type != "kubernetes.io/tls":
        return f"Secret {secret.display} is of type {secret.type!r}, not kubernetes.io/tls"
    cert, key = secret.value("tls.crt"), secret.value("tls.key")
    if not cert or not key:
        return f"Secret {secret.display} lacks tls.crt or tls.key"
    cert_blocks = _pem_blocks(cert)
    if not cert_blocks or not any(label == "CERTIFICATE" for label, _ in cert_blocks):
        return f"Secret {secret.display}: tls.crt is not a PEM certificate"
    key_blocks = _pem_blocks(key)
    if not key_blocks or not any(label.endswith("PRIVATE KEY") for label, _ in key_blocks):
        return f"Secret {secret.display}: tls.key is not a PEM private key"
    # Imported here: cryptography adds about 9 MiB to every process that imports translation, and
    # `portico serve` and the proxy's workers need it only when a Gateway has TLS Secrets to check.
    from portico.translate.keypair import keypair_problem

    mismatch = keypair_problem(cert, key)
    if mismatch:
        return f"Secret {secret.display}: {mismatch}"
    return None


@dataclass(frozen=True)
class CertificateResult:
    certificate: Certificate | None
    reason: str | None = None
    message: str = ""


def resolve_certificate(
    snapshot: Snapshot,
    gateway_namespace: str,
    ref: SecretObjectReference,
    hostname: str | None,
    *,
    field: str = "certificateRef",
    invalid_reason: str = "InvalidCertificateRef",
    from_kind: str = "Gateway",
) -> CertificateResult:
    """A kubernetes.io/tls Secret as a Certificate; `invalid_reason` is the reason for a bad or missing one."""
    namespace = ref.namespace or gateway_namespace
    where = f"{field} {namespace}/{ref.name}"
    if ref.group != "" or ref.kind != "Secret":
        return CertificateResult(
            None,
            invalid_reason,
            f"{where}: unsupported kind {ref.group or 'core'}/{ref.kind}; use a core Secret",
        )
    if not reference_permitted(
        snapshot,
        from_kind=from_kind,
        from_namespace=gateway_namespace,
        to_group="",
        to_kind="Secret",
        to_namespace=namespace,
        to_name=ref.name,
    ):
        return CertificateResult(
            None, "RefNotPermitted", f"{where}: no ReferenceGrant in namespace {namespace} allows it"
        )
    secret = snapshot.secrets.get((namespace, ref.name))
    if secret is None:
        return CertificateResult(None, invalid_reason, f"{where}: Secret not found")
    problem = check_keypair(secret)
    if problem:
        return CertificateResult(None, invalid_reason, problem)
    cert_pem = (secret.value("tls.crt") or b"").decode("ascii")
    key_pem = (secret.value("tls.key") or b"").decode("ascii")
    return CertificateResult(
        Certificate(
            secret=ObjectKey(namespace=namespace, name=ref.name),
            cert_pem=cert_pem,
            key_pem=key_pem,
            hostnames=(hostname,) if hostname else (),
            sha256=hashlib.sha256((cert_pem + key_pem).encode()).hexdigest(),
        )
    )
