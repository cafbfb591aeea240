"""aws-lattice against the stateful Lattice fake (real boto3 serialisation) and moto's ACM."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portico.ir import GatewayIR, HeaderMatch, ListenerProtocol, Match, MatchType, PathMatch, QueryParamMatch
from portico.provider import load_provider
from portico_providers.aws_common.clients import CallCounter, is_mutating
from portico_providers.aws_lattice.provider import LatticeProvider
from tests.irs import GATEWAY, backend, certificate, gateway, listener, rule, self_signed
from tests.providers.aws.conftest import REGION, Account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.settle import delete_until_finished
from tests.providers.aws.state import context

CERT, KEY = self_signed()
VPC = "vpc-0abc"
FAKE_ENDPOINT = "https://vpc-lattice.fake.test"
PARAMS = {"awsLattice": {"vpcId": VPC, "tags": {"team": "shop"}}}


@pytest.fixture
def fake() -> LatticeFake:
    return LatticeFake(REGION)


def make_lattice(
    account: Account,
    fake: LatticeFake,
    counter: CallCounter,
    cluster_id: str = "test-cluster",
    hooks_extra: list[tuple[str, Any]] | None = None,
    **options: Any,
) -> LatticeProvider:
    hooks = [("before-send.vpc-lattice", fake), *(hooks_extra or [])]
    ctx = context(account.session, counter, *hooks, cluster_id=cluster_id)
    # A host moto does not claim: botocore runs every before-send hook, and moto's would
    # answer (or fail) Lattice calls it does not implement.
    endpoints = {"vpc-lattice": FAKE_ENDPOINT}
    ctx = type(ctx)(cluster_id=ctx.cluster_id, options={**ctx.options, "endpoint_urls": endpoints, **options})
    provider = load_provider("aws-lattice", ctx)
    assert isinstance(provider, LatticeProvider)
    return provider


def shop(
    web_ips: tuple[str, ...] = ("10.0.1.10", "10.0.1.11"),
    extra_rule: bool = False,
    cert: tuple[str, str] = (CERT, KEY),
    params: dict[str, Any] | None = None,
) -> GatewayIR:
    web = backend("web", ips=web_ips)
    api = backend("api", ips=("10.0.2.20",))
    rules = [
        rule(
            "store",
            0,
            path="/api",
            backends=(api, web.model_copy(update={"weight": 3})),
            hostnames=("store.shop.internal",),
        ),
        rule("store", 1, backends=(web,), hostnames=("store.shop.internal",)),
    ]
    if extra_rule:
        beta = Match(
            path=PathMatch(type=MatchType.PATH_PREFIX, value="/api"),
            headers=(HeaderMatch(type=MatchType.EXACT, name="x-beta", value="1"),),
        )
        rules.insert(0, rule("store", 2, match=beta, backends=(api,), hostnames=("store.shop.internal",)))
    https = listener(
        "https",
        443,
        protocol=ListenerProtocol.HTTPS,
        certificates=(certificate(*cert),),
        rules=(rule("admin", backends=(web,), hostnames=("admin.shop.internal",)),),
    )
    return gateway(listener(rules=tuple(rules)), https, params=params or PARAMS, controller="portico.dev/aws-lattice")


def mutations(counter: CallCounter, start: int = 0) -> list[str]:
    return [op for _, op in counter.calls[start:] if is_mutating(op)]


def test_create_then_noop_makes_zero_mutating_calls(account: Account, fake: LatticeFake) -> None:
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    first = lattice.reconcile(shop())
    assert first.programmed, first.message
    assert len(fake.networks) == 1 and len(fake.services) == 2 and len(fake.listeners) == 2
    assert len(fake.rules) == 3 and len(fake.target_groups) == 2 and len(fake.vpc_associations) == 1
    assert sorted(v for _, v in first.addresses) == sorted(s["dnsEntry"]["domainName"] for s in fake.services.values())
    mark = len(counter.calls)
    again = lattice.reconcile(shop())
    assert mutations(counter, mark) == [] and again.mutations == 0
    assert again.addresses == first.addresses


def test_mapping_matches_weights_domains_certificates(account: Account, fake: LatticeFake) -> None:
    lattice = make_lattice(account, fake, CallCounter())
    assert lattice.reconcile(shop()).programmed
    store = next(s for s in fake.services.values() if s["customDomainName"] == "store.shop.internal")
    admin = next(s for s in fake.services.values() if s["customDomainName"] == "admin.shop.internal")
    assert admin["certificateArn"].startswith("arn:aws:acm:")
    assert store.get("certificateArn") is None
    [store_listener] = [li for li in fake.listeners.values() if li["serviceId"] == store["id"]]
    assert (store_listener["protocol"], store_listener["port"]) == ("HTTP", 80)
    assert store_listener["defaultAction"] == {"fixedResponse": {"statusCode": 404}}
    rules = sorted(
        (r for r in fake.rules.values() if r["listenerId"] == store_listener["id"]), key=lambda r: r["priority"]
    )
    assert [r["match"]["httpMatch"]["pathMatch"]["match"] for r in rules] == [{"prefix": "/api"}, {"prefix": "/"}]
    weights = sorted(g["weight"] for g in rules[0]["action"]["forward"]["targetGroups"])
    assert weights == [1, 3]
    web = next(g for g in fake.target_groups.values() if g["name"].startswith("pt-web-"))
    assert set(fake.targets[web["id"]]) == {("10.0.1.10", 8080), ("10.0.1.11", 8080)}
    assert web["config"]["vpcIdentifier"] == VPC
    assert all(fake.tags[g["arn"]]["team"] == "shop" for g in fake.target_groups.values())


def test_route_change_reorders_with_batch_update(account: Account, fake: LatticeFake) -> None:
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    lattice.reconcile(shop())
    before = set(fake.rules)
    mark = len(counter.calls)
    result = lattice.reconcile(shop(extra_rule=True))
    assert result.programmed, result.message
    done = mutations(counter, mark)
    assert "BatchUpdateRule" in done and done.count("CreateRule") == 1 and "DeleteRule" not in done
    assert before < set(fake.rules)
    assert lattice.plan(shop(extra_rule=True), lattice.observe(GATEWAY)).is_empty
    mark = len(counter.calls)
    lattice.reconcile(shop())
    assert mutations(counter, mark).count("DeleteRule") == 1
    assert set(fake.rules) == before


def test_endpoint_change_registers_only_the_difference(account: Account, fake: LatticeFake) -> None:
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    lattice.reconcile(shop())
    mark = len(counter.calls)
    lattice.reconcile(shop(web_ips=("10.0.1.11", "10.0.1.12")))
    assert sorted(mutations(counter, mark)) == ["DeregisterTargets", "RegisterTargets"]
    web = next(g for g in fake.target_groups.values() if g["name"].startswith("pt-web-"))
    states = {key: target["status"] for key, target in fake.targets[web["id"]].items()}
    assert states == {("10.0.1.10", 8080): "DRAINING", ("10.0.1.11", 8080): "HEALTHY", ("10.0.1.12", 8080): "HEALTHY"}


def test_certificate_rotation_keeps_the_arn(account: Account, fake: LatticeFake) -> None:
    lattice = make_lattice(account, fake, CallCounter())
    lattice.reconcile(shop())
    admin = next(s for s in fake.services.values() if s["customDomainName"] == "admin.shop.internal")
    arn = admin["certificateArn"]
    rotated = self_signed(serial=7)
    assert lattice.reconcile(shop(cert=rotated)).programmed
    body = account.client("acm").get_certificate(CertificateArn=arn)["Certificate"]
    assert body.strip() == rotated[0].strip()
    assert admin["certificateArn"] == arn


def test_delete_removes_everything_owned_and_nothing_else(account: Account, fake: LatticeFake) -> None:
    foreign = fake.create_service_network({"name": "someone-elses", "tags": {}})
    foreign_tg = fake.create_target_group(
        {
            "name": "someone-elses",
            "type": "IP",
            "tags": {},
            "config": {"port": 80, "protocol": "HTTP", "vpcIdentifier": VPC},
        }
    )
    other = make_lattice(account, fake, CallCounter(), cluster_id="other-cluster")
    assert other.reconcile(shop(params={"awsLattice": {"vpcId": "vpc-other"}})).programmed
    lattice = make_lattice(account, fake, CallCounter())
    lattice.reconcile(shop())
    lattice.reconcile(shop(extra_rule=True))
    delete_until_finished(lattice)
    mine = [
        arn
        for arn, tags in fake.tags.items()
        if tags.get("portico.dev/cluster") == "test-cluster"
        and any(
            arn == item["arn"]
            for table in (
                fake.networks,
                fake.services,
                fake.listeners,
                fake.rules,
                fake.target_groups,
                fake.vpc_associations,
                fake.service_associations,
            )
            for item in table.values()
        )
    ]
    assert mine == []
    assert foreign["id"] in fake.networks and foreign_tg["id"] in fake.target_groups
    assert other.plan(shop(params={"awsLattice": {"vpcId": "vpc-other"}}), other.observe(GATEWAY)).is_empty
    assert account.client("acm").list_certificates()["CertificateSummaryList"] != []  # the other cluster's


def test_existing_service_network_is_joined_not_owned(account: Account, fake: LatticeFake) -> None:
    shared = fake.create_service_network({"name": "shared", "tags": {}})
    params = {"awsLattice": {"vpcId": VPC, "serviceNetwork": "shared", "associateVpc": False}}
    lattice = make_lattice(account, fake, CallCounter())
    assert lattice.reconcile(shop(params=params)).programmed
    assert list(fake.networks) == [shared["id"]]
    assert {a["serviceNetworkId"] for a in fake.service_associations.values()} == {shared["id"]}
    delete_until_finished(lattice)
    assert list(fake.networks) == [shared["id"]] and fake.service_associations == {}


POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}'
)


def test_aws_iam_auth_puts_the_policy_on_the_network_and_every_service(account: Account, fake: LatticeFake) -> None:
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    iam = {"awsLattice": {**PARAMS["awsLattice"], "authType": "AWS_IAM", "authPolicy": POLICY}}
    assert lattice.reconcile(shop(params=iam)).programmed
    protected = [*fake.networks.values(), *fake.services.values()]
    assert {item["authType"] for item in protected} == {"AWS_IAM"}
    assert sorted(fake.auth_policies) == sorted(item["arn"] for item in protected)
    assert {json.loads(p)["Statement"][0]["Effect"] for p in fake.auth_policies.values()} == {"Allow"}
    assert lattice.reconcile(shop(params=iam)).mutations == 0
    deny = POLICY.replace("Allow", "Deny")
    mark = len(counter.calls)
    assert lattice.reconcile(shop(params={"awsLattice": {**iam["awsLattice"], "authPolicy": deny}})).programmed
    assert mutations(counter, mark) == ["PutAuthPolicy"] * 3
    mark = len(counter.calls)
    assert lattice.reconcile(shop()).programmed  # back to NONE: the policies go
    assert sorted(set(mutations(counter, mark))) == ["DeleteAuthPolicy", "UpdateService", "UpdateServiceNetwork"]
    assert fake.auth_policies == {}
    delete_until_finished(lattice)


def test_quota_limits_and_unsupported_matches_are_reported(account: Account, fake: LatticeFake) -> None:
    lattice = make_lattice(account, fake, CallCounter(), lattice_rules_per_listener=2)
    query = Match(
        path=PathMatch(type=MatchType.PATH_PREFIX, value="/q"),
        query_params=(QueryParamMatch(type=MatchType.EXACT, name="a", value="1"),),
    )
    ir = gateway(
        listener(
            rules=(
                rule("store", 0, path="/a", backends=(backend("web"),)),
                rule("store", 1, match=query, backends=(backend("web"),)),
                rule("store", 2, path="/b", backends=(backend("web"),)),
                rule("store", 3, path="/c", backends=(backend("web"),)),
            )
        ),
        params=PARAMS,
        controller="portico.dev/aws-lattice",
    )
    rejected = lattice.capabilities().check_rules(ir.listeners)  # type: ignore[misc]
    assert "query parameter" in rejected[ir.listeners[0].rules[1].id]
    assert "2 rules per listener" in rejected[ir.listeners[0].rules[3].id]
    assert len(rejected) == 2
    assert lattice.reconcile(ir).programmed
    assert sorted(r["priority"] for r in fake.rules.values()) == [1, 2]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, "spec.awsLattice.vpcId: required"),
        ({"awsLattice": {"vpcId": VPC, "serviceNetwork": "missing"}}, "serviceNetwork: missing not found"),
        ({"awsLattice": {"vpcId": VPC, "authType": "MAGIC"}}, "spec.awsLattice.authType"),
        ({"awsLattice": {"vpcId": VPC, "authType": "AWS_IAM"}}, "spec.awsLattice.authPolicy: Value error, required"),
        ({"awsLattice": {"vpcId": VPC, "authPolicy": POLICY}}, "authPolicy: Value error, applies only with authType"),
        ({"awsLattice": {"vpcId": VPC, "authType": "AWS_IAM", "authPolicy": "{"}}, "not a JSON policy document"),
    ],
)
def test_bad_parameters(account: Account, fake: LatticeFake, params: dict[str, Any], problem: str) -> None:
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    ir = gateway(
        listener(rules=(rule("store", backends=(backend("web"),)),)),
        params=params,
        controller="portico.dev/aws-lattice",
    )
    result = lattice.reconcile(ir)
    assert not result.programmed and problem in result.message
    assert mutations(counter) == []
