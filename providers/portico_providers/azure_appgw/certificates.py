"""kubernetes.io/tls Secrets -> the PFX (PKCS#12) Application Gateway takes in `sslCertificates`.

The upload is write-only on Azure (a GET shows only the public part), so a certificate's name
carries the Secret's fingerprint: a changed Secret is a new name, uploaded once, and the old one
goes away with the next PUT.
"""

from __future__ import annotations

import base64
import secrets

from portico.ir import Certificate
from portico_providers.azure_appgw.naming import azure_name


def certificate_name(cert: Certificate) -> str:
    return azure_name("cert", cert.secret.namespace, cert.secret.name, cert.sha256[:12])


def to_pfx(cert: Certificate) -> tuple[str, str]:
    """(base64 PFX, its password); the chain's first certificate is the leaf."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        load_pem_private_key,
        pkcs12,
    )

    if cert.key_pem is None:
        raise ValueError(f"Secret {cert.secret}: the private key is not in the IR")
    chain = x509.load_pem_x509_certificates(cert.cert_pem.encode())
    key = load_pem_private_key(cert.key_pem.encode(), password=None)
    password = secrets.token_urlsafe(24)
    blob = pkcs12.serialize_key_and_certificates(
        name=cert.secret.name.encode(),
        key=key,  # type: ignore[arg-type]
        cert=chain[0],
        cas=chain[1:] or None,
        encryption_algorithm=BestAvailableEncryption(password.encode()),
    )
    return base64.b64encode(blob).decode(), password
