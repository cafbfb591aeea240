"""TLS certificates from kubernetes.io/tls Secrets, imported into ACM and kept in step.

Each referenced Secret becomes one ACM certificate tagged with Portico's ownership tags and
the SHA-256 of its PEM. A changed Secret is re-imported under the same ARN (listeners keep
pointing at it); an unreferenced one is deleted after the listeners stop using it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from portico.ir import Certificate
from portico_providers.aws_common.retry import call
from portico_providers.aws_common.tags import FINGERPRINT_TAG, RESOURCE_TAG, Owner, bounded_id, tag_dict, tag_list
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import StepFailed
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Desired, KindRules, Observed, Spec

KIND = "certificate"
RULES = KindRules(KIND)
PEM_END = "-----END CERTIFICATE-----"
# ListCertificates shows only RSA-2048 certificates unless asked for the other key types.
KEY_TYPES = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")


class CertificateSpec(Spec):
    secret: str
    fingerprint: str
    tags: dict[str, str] = {}


@dataclass(frozen=True)
class Material:
    """What ACM needs to import; kept out of every plan document."""

    certificate: str
    chain: str | None
    private_key: str | None


def certificate_id(cert: Certificate) -> str:
    """Also the resource tag's value: a Secret's `namespace/name` can exceed a tag value's 256 characters."""
    return bounded_id(f"cert:{cert.secret}")


def fingerprint(cert: Certificate) -> str:
    return hashlib.sha256(cert.cert_pem.encode()).hexdigest()


def split_chain(pem: str) -> tuple[str, str | None]:
    """Leaf first, then the intermediates (ACM takes them as separate arguments)."""
    blocks = [b.strip() + "\n" + PEM_END + "\n" for b in pem.split(PEM_END) if b.strip()]
    if not blocks:
        return pem, None
    return blocks[0], ("".join(blocks[1:]) or None)


def desired_certificate(cert: Certificate, tags: dict[str, str]) -> Desired:
    leaf, chain = split_chain(cert.cert_pem)
    return Desired(
        KIND,
        certificate_id(cert),
        CertificateSpec(secret=str(cert.secret), fingerprint=fingerprint(cert), tags=tags),
        secret=Material(certificate=leaf, chain=chain, private_key=cert.key_pem),
    )


def desired_certificates(certs: Iterable[Certificate], tags: dict[str, str]) -> list[Desired]:
    seen: dict[str, Desired] = {}
    for cert in certs:
        seen.setdefault(certificate_id(cert), desired_certificate(cert, tags))
    return list(seen.values())


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags that are not Portico's own bookkeeping (those are never part of a spec)."""
    return {k: v for k, v in tags.items() if not k.startswith("portico.dev/")}


def observe_certificates(acm: Any, owner: Owner) -> list[Observed]:
    found: list[Observed] = []
    token: str | None = None
    while True:
        page = call(
            acm.list_certificates, Includes={"keyTypes": list(KEY_TYPES)}, **({"NextToken": token} if token else {})
        )
        for summary in page.get("CertificateSummaryList", []):
            arn = summary["CertificateArn"]
            tags = tag_dict(call(acm.list_tags_for_certificate, CertificateArn=arn).get("Tags"))
            if owner.owns(tags):
                rid = tags[RESOURCE_TAG]
                spec = CertificateSpec(
                    secret=rid.removeprefix("cert:"),
                    fingerprint=tags.get(FINGERPRINT_TAG, ""),
                    tags=user_tags(tags),
                )
                found.append(Observed(KIND, rid, arn, spec, marks=Marks(tags=tags)))
        token = page.get("NextToken")
        if not token:
            return found


class MissingKey(StepFailed):
    """An imported certificate needs its private key."""


class CertificateHandler:
    """import_certificate (create and re-import), tags, delete_certificate."""

    def __init__(self, acm: Any, owner: Owner) -> None:
        self.acm = acm
        self.owner = owner

    def _import(self, material: Material, arn: str | None, tags: dict[str, str] | None) -> str:
        if not material.private_key:
            raise MissingKey("the Secret's private key is not available (redacted IR?)")
        args: dict[str, Any] = {
            "Certificate": material.certificate.encode(),
            "PrivateKey": material.private_key.encode(),
        }
        if material.chain:
            args["CertificateChain"] = material.chain.encode()
        if arn:
            args["CertificateArn"] = arn
        if tags:
            args["Tags"] = tag_list(tags)
        result: str = call(self.acm.import_certificate, **args)["CertificateArn"]
        return result

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        return self._import(desired.secret, None, {**marks.tags, FINGERPRINT_TAG: spec["fingerprint"]})

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        for step, spec in zip(steps, specs, strict=True):
            assert step.observed is not None and step.desired is not None
            arn = step.observed.arn
            if "fingerprint" in step.fields:
                # ACM refuses tags on re-import: import first, then move the fingerprint tag.
                self._import(step.desired.secret, arn, None)
            wanted = self.owner.tags(step.id, {**spec["tags"], FINGERPRINT_TAG: spec["fingerprint"]})
            stale = sorted(set(step.observed.spec.model_dump()["tags"]) - set(spec["tags"]))
            if stale:
                call(
                    self.acm.remove_tags_from_certificate,
                    CertificateArn=arn,
                    Tags=[{"Key": k} for k in stale],
                )
            call(self.acm.add_tags_to_certificate, CertificateArn=arn, Tags=tag_list(wanted))

    def delete(self, observed: Observed) -> None:
        call(self.acm.delete_certificate, CertificateArn=observed.arn)
