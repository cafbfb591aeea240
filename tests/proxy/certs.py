"""Self-signed certificates made on the fly for TLS tests."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _certificate(
    subject_cn: str,
    key: ec.EllipticCurvePrivateKey,
    extensions: list[tuple[x509.ExtensionType, bool]],
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
) -> x509.Certificate:
    """A certificate valid from yesterday to tomorrow; self-signed unless `issuer` (name, key) is given."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer_name, signing_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def self_signed(*names: str) -> tuple[str, str]:
    """(cert PEM, key PEM) valid for `names` (DNS SANs)."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans = x509.SubjectAlternativeName([x509.DNSName(n) for n in names])
    return _pem(
        _certificate(names[0], key, [(sans, False), (x509.BasicConstraints(ca=True, path_length=None), True)]), key
    )


def common_name(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def certificate_authority(name: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A CA certificate (PEM) and its key, to issue leaf certificates with `issued`."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    cert = _certificate(name, key, [(x509.BasicConstraints(ca=True, path_length=0), True), (usage, True)])
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


def issued(
    ca: tuple[str, ec.EllipticCurvePrivateKey], dns: tuple[str, ...], uris: tuple[str, ...] = (), client: bool = False
) -> tuple[str, str]:
    """(cert PEM, key PEM) of a server (or, with `client`, a client) certificate signed by `ca` for
    these DNS and URI SANs."""
    ca_cert = x509.load_pem_x509_certificate(ca[0].encode())
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns]
    names += [x509.UniformResourceIdentifier(u) for u in uris]
    purpose = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.SubjectAlternativeName(names), False),
        (x509.ExtendedKeyUsage([purpose]), False),
    ]
    return _pem(_certificate((dns or ("leaf",))[0], key, extensions, issuer=(ca_cert.subject, ca[1])), key)
