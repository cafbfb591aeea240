"""moto-backed AWS for the provider tests: a VPC with tagged subnets in two zones, no real waits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest

from tests.providers.aws.strict_moto import Release, strict_moto

REGION = "eu-west-1"


@dataclass
class Account:
    """What a test may look at directly (with its own clients, not the provider's)."""

    session: Any
    vpc_id: str
    subnets: tuple[str, ...]
    release: Release
    calls: list[tuple[str, str]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    """Retries still happen; they just do not sleep."""
    with mock.patch("portico_providers.kit.retry.sleep"):
        yield


def _keep_tags_on_reimport(original: Any) -> Any:
    """ACM keeps a certificate's tags when it is re-imported under its ARN; moto drops them."""

    def import_certificate(
        self: Any,
        certificate: bytes,
        private_key: bytes,
        chain: bytes | None,
        arn: str | None,
        tags: list[dict[str, str]],
    ) -> str:
        kept = dict(self._certificates[arn].tags) if arn and arn in self._certificates else {}
        result: str = original(self, certificate, private_key, chain, arn, tags)
        if kept:
            self.add_tags_to_certificate(result, [{"Key": k, "Value": v} for k, v in kept.items()])
        return result

    return import_certificate


@contextmanager
def fresh_account(release_lag: int = 1) -> Iterator[Account]:
    """A new moto account, as strict as AWS on deletes in use and draining targets (`strict_moto`;
    `release_lag`: delete attempts refused after a resource's last user went away), with a VPC
    and subnets tagged for public ALBs in two zones."""
    import boto3
    from moto import mock_aws
    from moto.acm.models import AWSCertificateManagerBackend

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    patched = _keep_tags_on_reimport(AWSCertificateManagerBackend.import_certificate)
    with (
        mock.patch.dict(os.environ, env),
        mock.patch.object(AWSCertificateManagerBackend, "import_certificate", patched),
        mock_aws(),
        strict_moto(release_lag) as release,
    ):
        session = boto3.Session(region_name=REGION)
        ec2 = session.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = []
        for index, zone in enumerate(("a", "b")):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=REGION + zone)
            subnet_id = subnet["Subnet"]["SubnetId"]
            ec2.create_tags(Resources=[subnet_id], Tags=[{"Key": "kubernetes.io/role/elb", "Value": "1"}])
            subnets.append(subnet_id)
        yield Account(session=session, vpc_id=vpc, subnets=tuple(subnets), release=release)


@pytest.fixture
def account() -> Iterator[Account]:
    with fresh_account() as created:
        yield created
