"""Every in-place update path: parameter changes and drift made behind Portico's back."""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR, ListenerProtocol
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY, backend, certificate, gateway, listener, rule, self_signed
from tests.providers.aws.conftest import REGION, Account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.settle import reconcile_until_programmed
from tests.providers.aws.state import alb_state
from tests.providers.aws.test_aws_alb_e2e import make_alb, mutations
from tests.providers.aws.test_aws_lattice_e2e import POLICY, VPC, make_lattice
from tests.providers.aws.test_aws_lattice_e2e import shop as lattice_shop

CERT, KEY = self_signed()
OTHER = self_signed("partner.example.com", serial=5)


def alb_ir(params: dict[str, Any], sni: bool = True, health: str = "/") -> GatewayIR:
    web = backend("web")
    listeners = [
        listener(rules=(rule("shop", backends=(web,)),)),
        listener(
            "https",
            443,
            protocol=ListenerProtocol.HTTPS,
            certificates=(certificate(CERT, KEY),),
            rules=(rule("shop", hostnames=("shop.example.com",), backends=(web,)),),
        ),
    ]
    if sni:
        listeners.append(
            listener(
                "partner",
                443,
                protocol=ListenerProtocol.HTTPS,
                certificates=(certificate(*OTHER, name="partner-tls"),),
                rules=(rule("partner", hostnames=("partner.example.com",), backends=(web,)),),
            )
        )
    return gateway(*listeners, params={"aws": {**params, "healthCheckPath": health}})


def test_alb_parameter_changes_update_in_place(account: Account) -> None:
    ec2 = account.client("ec2")
    third = ec2.create_subnet(VpcId=account.vpc_id, CidrBlock="10.0.9.0/24", AvailabilityZone=REGION + "c")
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=account.vpc_id)["GroupId"]
    counter = CallCounter()
    alb = make_alb(account, counter)
    assert alb.reconcile(alb_ir({"tags": {"team": "a", "old": "x"}})).programmed
    https = next(li for li in alb_state(account.session).listeners if li["Port"] == 443)
    listed = account.client("elbv2").describe_listener_certificates(ListenerArn=https["ListenerArn"])
    assert len(listed["Certificates"]) == 2  # default + the partner's, served by SNI
    changed = {
        "subnets": [*account.subnets, third["Subnet"]["SubnetId"]],
        "securityGroups": [group],
        "ipAddressType": "dualstack",
        "tags": {"team": "b"},
    }
    mark = len(counter.calls)
    # The certificate rotated out is in use until the ALB lets go of it: a later reconcile deletes it.
    reconcile_until_programmed(alb, alb_ir(changed, sni=False, health="/healthz"))
    done = set(mutations(counter, mark))
    assert {
        "SetSubnets",
        "SetSecurityGroups",
        "SetIpAddressType",
        "ModifyTargetGroup",
        "RemoveListenerCertificates",
        "RemoveTags",
        "AddTags",
        "AddTagsToCertificate",
        "RemoveTagsFromCertificate",
        "DeleteCertificate",
    } <= done
    assert not done & {"CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule"}
    [lb] = alb_state(account.session).balancers
    assert lb["SecurityGroups"] == [group] and lb["IpAddressType"] == "dualstack"
    assert len(lb["AvailabilityZones"]) == 3
    assert alb.plan(alb_ir(changed, sni=False, health="/healthz"), alb.observe(GATEWAY)).is_empty


def test_alb_drift_is_repaired(account: Account) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    ir = alb_ir({}, sni=False)
    alb.reconcile(ir)
    elbv2 = account.client("elbv2")
    state = alb_state(account.session)
    http = next(li for li in state.listeners if li["Port"] == 80)
    elbv2.modify_listener(
        ListenerArn=http["ListenerArn"],
        DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain"}}
        ],
    )
    rule_arn = next(
        r["RuleArn"]
        for r in state.rules
        if not r["IsDefault"] and r["RuleArn"].startswith(http["ListenerArn"].replace(":listener/", ":listener-rule/"))
    )
    elbv2.modify_rule(RuleArn=rule_arn, Conditions=[{"Field": "path-pattern", "Values": ["/drifted"]}])
    mark = len(counter.calls)
    alb.reconcile(ir)
    assert sorted(mutations(counter, mark)) == ["ModifyListener", "ModifyRule"]
    assert alb.plan(ir, alb.observe(GATEWAY)).is_empty


def test_lattice_parameter_changes_and_drift(account: Account) -> None:
    fake = LatticeFake(REGION)
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    lattice.reconcile(lattice_shop(params={"awsLattice": {"vpcId": VPC, "tags": {"team": "shop", "old": "x"}}}))
    [listener_item] = [li for li in fake.listeners.values() if li["port"] == 80]
    listener_item["defaultAction"] = {"fixedResponse": {"statusCode": 500}}
    rule_item = next(r for r in fake.rules.values() if r["listenerId"] == listener_item["id"])
    rule_item["match"] = {"httpMatch": {"pathMatch": {"match": {"prefix": "/drifted"}}}}
    params = {
        "awsLattice": {
            "vpcId": VPC,
            "authType": "AWS_IAM",
            "authPolicy": POLICY,
            "securityGroups": ["sg-0123456789"],
            "tags": {"team": "other"},
        }
    }
    mark = len(counter.calls)
    result = lattice.reconcile(lattice_shop(params=params))
    assert result.programmed, result.message
    done = set(mutations(counter, mark))
    assert {
        "UpdateServiceNetwork",
        "UpdateServiceNetworkVpcAssociation",
        "UpdateService",
        "PutAuthPolicy",
        "UpdateListener",
        "UpdateRule",
        "TagResource",
        "UntagResource",
        "AddTagsToCertificate",
        "RemoveTagsFromCertificate",
    } <= done
    assert not any(op.startswith(("Create", "Delete", "Import")) for op in done)
    assert {s["authType"] for s in fake.services.values()} == {"AWS_IAM"}
    assert lattice.plan(lattice_shop(params=params), lattice.observe(GATEWAY)).is_empty
    acm_arn = account.client("acm").import_certificate(Certificate=CERT.encode(), PrivateKey=KEY.encode())[
        "CertificateArn"
    ]
    with_arn = {"awsLattice": {**params["awsLattice"], "certificateArn": acm_arn}}
    mark = len(counter.calls)
    assert lattice.reconcile(lattice_shop(params=with_arn)).programmed
    assert {"UpdateService", "DeleteCertificate"} <= set(mutations(counter, mark))
    admin = next(s for s in fake.services.values() if s["customDomainName"] == "admin.shop.internal")
    assert admin["certificateArn"] == acm_arn
