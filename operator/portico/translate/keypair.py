"""Does a PEM private key belong to a PEM certificate? (RSA, ECDSA and Ed25519, as TLS stacks accept.)

Expiry is deliberately not checked: an expired certificate is valid input, and clients decide.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

SUPPORTED_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def _spki(key: object) -> bytes | None:
    """The DER SubjectPublicKeyInfo of a supported public key, the form two keys are compared in."""
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@lru_cache(maxsize=256)  # every reconcile sees the same Secrets; loading an RSA key is the slow part
def keypair_problem(cert_pem: bytes, key_pem: bytes) -> str | None:
    """Why tls.key is not the private key of the first certificate in tls.crt, or None."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        return f"tls.crt cannot be read as an X.509 certificate ({exc})"
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        return "tls.key is encrypted; the key must be unencrypted"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"tls.key cannot be read as a private key ({exc})"
    if not isinstance(key, SUPPORTED_KEYS):
        return f"tls.key is a {type(key).__name__.removeprefix('_')}; use an RSA, ECDSA or Ed25519 key"
    try:
        cert_public = _spki(certificate.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"tls.crt has a public key that cannot be read ({exc})"
    if cert_public is None or cert_public != _spki(key.public_key()):
        return "tls.key does not match the public key of the certificate in tls.crt"
    return None
