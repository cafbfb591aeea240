"""aws-alb security groups against moto made as strict as EC2: Portico's own frontend group, the
backend rules in the nodes' group, and deletes that wait for the balancer to let go."""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY, gateway
from tests.providers.aws.conftest import Account, fresh_account
from tests.providers.aws.settle import delete_until_finished
from tests.providers.aws.test_aws_alb_e2e import make_alb, mutations, shop

OWNED = {"portico.dev/cluster": "test-cluster", "portico.dev/gateway": str(GATEWAY)}


def with_params(ir: GatewayIR, **aws: Any) -> GatewayIR:
    return ir.model_copy(update={"infrastructure": gateway(params={"aws": aws}).infrastructure})


def owned_groups(account: Account) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in OWNED.items()]
    groups: list[dict[str, Any]] = account.client("ec2").describe_security_groups(Filters=filters)["SecurityGroups"]
    return groups


def node_rules(account: Account) -> list[dict[str, Any]]:
    rules = account.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [account.node_group]}]
    )["SecurityGroupRules"]
    return [r for r in rules if not r["IsEgress"]]


def ingress(group: dict[str, Any]) -> set[tuple[int, str]]:
    return {
        (p["FromPort"], cidr)
        for p in group["IpPermissions"]
        for cidr in [r["CidrIp"] for r in p.get("IpRanges", [])] + [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]
    }


def test_without_security_groups_the_alb_gets_an_owned_frontend_group_open_on_its_ports(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    result = alb.reconcile(shop())
    assert result.programmed, result.message
    [frontend] = owned_groups(account)
    assert {t["Key"]: t["Value"] for t in frontend["Tags"]}["portico.dev/resource"] == "security-group:frontend"
    assert frontend["VpcId"] == account.vpc_id
    assert ingress(frontend) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")}
    [lb] = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert lb["SecurityGroups"] == [frontend["GroupId"]]
    # The nodes' group admits the frontend group on the target port, by a rule Portico owns.
    [rule] = node_rules(account)
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8080, 8080)
    assert rule["ReferencedGroupInfo"]["GroupId"] == frontend["GroupId"]
    tags = {t["Key"]: t["Value"] for t in rule["Tags"]}
    assert tags["portico.dev/resource"] == f"backend-rule:{account.node_group}:8080"
    assert OWNED.items() <= tags.items()


def test_dualstack_admits_ipv6_and_inbound_cidrs_replace_the_default(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    assert alb.reconcile(with_params(shop(), ipAddressType="dualstack")).programmed
    [frontend] = owned_groups(account)
    assert ingress(frontend) == {(port, cidr) for port in (80, 443) for cidr in ("0.0.0.0/0", "::/0")}
    counter = CallCounter()
    alb = make_alb(account, counter)
    narrowed = with_params(shop(), inboundCidrs=["203.0.113.0/24", "2001:db8::/32"])
    assert alb.reconcile(narrowed).programmed
    [frontend] = owned_groups(account)
    assert ingress(frontend) == {(port, cidr) for port in (80, 443) for cidr in ("203.0.113.0/24", "2001:db8::/32")}
    assert "CreateSecurityGroup" not in mutations(counter)  # changed in place
    assert alb.plan(narrowed, alb.observe(GATEWAY)).is_empty


def test_a_rule_added_by_hand_to_the_owned_group_is_revoked(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    alb.reconcile(shop())
    [frontend] = owned_groups(account)
    account.client("ec2").authorize_security_group_ingress(
        GroupId=frontend["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    assert alb.reconcile(shop()).programmed
    [frontend] = owned_groups(account)
    assert ingress(frontend) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")}


def test_given_security_groups_are_used_as_they_are(account: Account) -> None:
    ec2 = account.client("ec2")
    mine = ec2.create_security_group(GroupName="mine", Description="mine", VpcId=account.vpc_id)["GroupId"]
    alb = make_alb(account, CallCounter())
    assert alb.reconcile(with_params(shop(), securityGroups=[mine])).programmed
    [lb] = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert lb["SecurityGroups"] == [mine]
    assert owned_groups(account) == [] and node_rules(account) == []
    delete_until_finished(alb)
    assert ec2.describe_security_groups(GroupIds=[mine])["SecurityGroups"]  # not ours: kept


def test_backend_rules_can_be_left_to_the_user(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    assert alb.reconcile(with_params(shop(), manageBackendSecurityGroupRules=False)).programmed
    assert len(owned_groups(account)) == 1 and node_rules(account) == []


def test_without_a_cluster_tagged_group_the_plan_says_what_to_admit(account: Account) -> None:
    alb = make_alb(account, CallCounter(), cluster_id="other-cluster")
    plan = alb.plan(shop(), alb.observe(GATEWAY))
    assert any("tagged kubernetes.io/cluster/other-cluster" in note and "8080" in note for note in plan.notes)
    assert alb.apply(plan).programmed


def test_delete_waits_while_ec2_still_holds_the_group_and_then_leaves_nothing() -> None:
    with fresh_account(release_lag=2) as account:
        alb = make_alb(account, CallCounter())
        assert alb.reconcile(shop()).programmed
        [frontend] = owned_groups(account)
        results = [alb.delete(GATEWAY) for _ in range(12)]
        finished = next(i for i, r in enumerate(results) if r.finished)
        assert finished > 0
        pending = [r for r in results[:finished] if "DependencyViolation" in r.message]
        assert pending, [r.message for r in results[:finished]]
        assert all(f"security-group {frontend['GroupId']}" in r.remaining for r in pending)
        assert frontend["GroupId"] in account.release.refused
        assert owned_groups(account) == [] and node_rules(account) == []
        ec2 = account.client("ec2")
        assert ec2.describe_security_groups(GroupIds=[account.node_group])["SecurityGroups"]  # the nodes' stays
