"""Key pairs from the IR or the secrets directory, loaded into SSL contexts (listeners and backends)."""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from portico.ir import Certificate


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


def load_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, name: str) -> None:
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
