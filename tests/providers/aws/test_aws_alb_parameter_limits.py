"""Tags and subnets AWS would refuse are named before any call (moto made as strict as AWS on both)."""

from __future__ import annotations

from typing import Any

import pytest

from portico.provider import ApplyState
from portico_providers.aws_common.clients import CallCounter
from tests.providers.aws.conftest import REGION, Account
from tests.providers.aws.test_aws_alb_e2e import make_alb, mutations, shop
from tests.providers.aws.test_aws_security_groups import with_params

MANY = {f"team-{n}": "x" for n in range(47)}  # 47 + Portico's 3 on a balancer: 50, 51 on a certificate


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        (MANY, "47 tags; AWS allows 50 per resource"),
        ({"k" * 129: "v"}, "is 129 characters; AWS allows 1 to 128"),
        ({"team": "v" * 257}, "the value is 257 characters; AWS allows 256"),
    ],
)
def test_tags_aws_would_refuse_are_named_and_nothing_is_created(
    account: Account, tags: dict[str, str], problem: str
) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    result = alb.reconcile(with_params(shop(), tags=tags))
    assert result.state is ApplyState.FAILED
    assert "spec.aws.tags" in result.message and problem in result.message, result.message
    assert mutations(counter) == []


def test_46_tags_fit(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    tags = dict(list(MANY.items())[:46])
    assert alb.reconcile(with_params(shop(), tags=tags)).programmed


def test_explicit_subnets_in_one_zone_are_refused_by_name(account: Account) -> None:
    ec2 = account.client("ec2")
    same_zone = ec2.create_subnet(VpcId=account.vpc_id, CidrBlock="10.0.7.0/24", AvailabilityZone=REGION + "a")
    subnets = [account.subnets[0], same_zone["Subnet"]["SubnetId"]]
    counter = CallCounter()
    alb = make_alb(account, counter)
    result = alb.reconcile(with_params(shop(), subnets=subnets))
    assert result.state is ApplyState.FAILED
    assert f"spec.aws.subnets: an ALB needs subnets in at least two Availability Zones; {subnets[0]}" in result.message
    assert f"are all in {REGION}a" in result.message
    assert mutations(counter) == []
    one = alb.reconcile(with_params(shop(), subnets=[account.subnets[0]]))
    assert "spec.aws.subnets" in one.message and "only " + account.subnets[0] in one.message


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("one_zone", "InvalidConfigurationRequest"),
        ("too_many_tags", "TooManyTags"),
    ],
)
def test_the_fake_refuses_what_aws_refuses(account: Account, call: str, code: str) -> None:
    from botocore.exceptions import ClientError

    elbv2 = account.client("elbv2")
    kwargs: dict[str, Any] = {"Name": "direct", "Subnets": list(account.subnets)}
    if call == "one_zone":
        kwargs["Subnets"] = account.subnets[:1]
    else:
        kwargs["Tags"] = [{"Key": f"k{n}", "Value": "v"} for n in range(51)]
    with pytest.raises(ClientError) as refused:
        elbv2.create_load_balancer(**kwargs)
    assert refused.value.response["Error"]["Code"] == code
