"""examples/aws through the whole pipeline: manifests -> translate -> offline plan, and -> moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from portico.api import build_snapshot
from portico.cli import main
from portico.manifests import load_manifests
from portico.provider import load_provider
from portico.translate import translate
from portico_providers.aws_common.clients import CallCounter
from portico_providers.aws_common.provider import AwsProvider
from tests.providers.aws.conftest import REGION, Account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.state import context
from tests.providers.aws.test_aws_lattice_e2e import make_lattice

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "aws"


def plan_document(provider: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["plan", "-f", str(EXAMPLES), "--provider", provider]) == 0
    document: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    return document


def test_portico_plan_prints_the_alb_offline(capsys: pytest.CaptureFixture[str]) -> None:
    document = plan_document("aws-alb", capsys)
    [entry] = document["gateways"]
    plan = entry["plan"]
    assert entry["gateway"] == "shop/web" and plan["mode"] == "offline dry run"
    assert "problems" not in plan and "notes" not in plan
    kinds = [(step["kind"], step["id"]) for step in plan["steps"]]
    assert ("certificate", "cert:shop/web-tls") in kinds and ("load-balancer", "load-balancer") in kinds
    assert [i for k, i in kinds if k == "listener"] == ["listener:80", "listener:443"]
    assert sum(1 for k, _ in kinds if k == "rule") == 6
    grpc = next(s for s in plan["steps"] if s["id"] == "tg:shop/greeter:50051:GRPC")
    assert grpc["spec"]["protocol_version"] == "GRPC"
    assert "PRIVATE KEY" not in yaml.safe_dump(plan)  # the Secret's key never reaches a plan document


def test_portico_plan_prints_lattice_offline(capsys: pytest.CaptureFixture[str]) -> None:
    [entry] = plan_document("aws-lattice", capsys)["gateways"]
    assert entry["gateway"] == "shop/internal"
    kinds = sorted({step["kind"] for step in entry["plan"]["steps"]})
    assert kinds == [
        "listener",
        "rule",
        "service",
        "service-association",
        "service-network",
        "target-group",
        "vpc-association",
    ]


def translated() -> dict[tuple[str, str], Any]:
    manifests = load_manifests([EXAMPLES])
    capabilities = {f"portico.dev/{name}": load_provider(name).capabilities() for name in ("aws-alb", "aws-lattice")}
    result = translate(build_snapshot([m.obj for m in manifests]), capabilities, now="2026-01-01T00:00:00Z")
    return result.ir_by_gateway


def test_examples_apply_on_moto_and_the_lattice_fake(account: Account) -> None:
    irs = translated()
    alb = load_provider("aws-alb", context(account.session, CallCounter()))
    assert isinstance(alb, AwsProvider)
    result = alb.reconcile(irs[("shop", "web")])
    assert result.programmed, result.message
    assert alb.plan(irs[("shop", "web")], alb.observe(irs[("shop", "web")].gateway)).is_empty
    fake = LatticeFake(REGION)
    lattice = make_lattice(account, fake, CallCounter())
    assert lattice.reconcile(irs[("shop", "internal")]).programmed
    assert [s["customDomainName"] for s in fake.services.values()] == ["api.shop.internal"]


def test_the_quickstart_gateway_is_reachable_without_security_group_parameters(account: Account) -> None:
    """docs/quickstart-aws.md sets no securityGroups: the ALB's group admits clients on the listener
    port, and the cluster's group admits the ALB on the pods' port."""
    manifests = load_manifests([EXAMPLES.parent / "quickstart-aws"])
    chart_class = {  # what the chart installs with providers.awsAlb.enabled
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "portico-aws-alb"},
        "spec": {"controllerName": "portico.dev/aws-alb"},
    }
    capabilities = {"portico.dev/aws-alb": load_provider("aws-alb").capabilities()}
    irs = translate(build_snapshot([chart_class, *(m.obj for m in manifests)]), capabilities).ir_by_gateway
    alb = load_provider("aws-alb", context(account.session, CallCounter()))
    assert isinstance(alb, AwsProvider)
    result = alb.reconcile(irs[("demo", "web")])
    assert result.programmed, result.message
    ec2 = account.client("ec2")
    [lb] = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    [frontend] = ec2.describe_security_groups(GroupIds=lb["SecurityGroups"])["SecurityGroups"]
    opened = {(p["FromPort"], r["CidrIp"]) for p in frontend["IpPermissions"] for r in p["IpRanges"]}
    assert opened == {(80, "0.0.0.0/0")}
    [group] = account.client("elbv2").describe_target_groups()["TargetGroups"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [account.node_group]}])
    admitted = {
        (r["FromPort"], r["ReferencedGroupInfo"]["GroupId"]) for r in rules["SecurityGroupRules"] if not r["IsEgress"]
    }
    assert admitted == {(group["Port"], frontend["GroupId"])}
