"""aws-alb against moto: create, change routes, endpoints and certificates, delete; all via describe."""

from __future__ import annotations

from typing import Any

import pytest

from portico.ir import (
    Endpoint,
    GatewayIR,
    GRPCMethodMatch,
    ListenerProtocol,
    Match,
    MatchType,
    ObjectKey,
    RequestRedirectFilter,
    RouteKind,
)
from portico.provider import load_provider
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_common.clients import CallCounter, is_mutating
from tests.irs import GATEWAY, backend, certificate, gateway, listener, rule, self_signed
from tests.providers.aws.conftest import Account
from tests.providers.aws.settle import delete_until_finished, reconcile_until_programmed
from tests.providers.aws.state import alb_state, context

CERT, KEY = self_signed()


def make_alb(account: Account, counter: CallCounter, cluster_id: str = "test-cluster") -> AlbProvider:
    provider = load_provider("aws-alb", context(account.session, counter, cluster_id=cluster_id))
    assert isinstance(provider, AlbProvider)
    return provider


def shop(
    web_ips: tuple[str, ...] = ("10.0.1.10", "10.0.1.11"),
    cert: tuple[str, str] = (CERT, KEY),
    api_weight: int = 1,
    extra_rule: bool = False,
) -> GatewayIR:
    web = backend("web", ips=web_ips)
    api = backend("api", ips=("10.0.2.20",), weight=api_weight)
    http_rules = [
        rule("api", path="/api", backends=(api, web.model_copy(update={"weight": 3}))),
        rule("shop", backends=(web,)),
    ]
    if extra_rule:
        http_rules.insert(0, rule("admin", path="/admin", path_type=MatchType.EXACT, backends=(web,)))
    https = listener(
        "https",
        443,
        protocol=ListenerProtocol.HTTPS,
        certificates=(certificate(*cert),),
        rules=(rule("shop", hostnames=("shop.example.com",), backends=(web,)),),
    )
    return gateway(listener(rules=tuple(http_rules)), https)


def mutations(counter: CallCounter, start: int = 0) -> list[str]:
    return [op for _, op in counter.calls[start:] if is_mutating(op)]


def test_second_reconcile_makes_zero_mutating_calls(account: Account) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    first = alb.reconcile(shop())
    assert first.programmed and first.mutations > 0
    mark = len(counter.calls)
    again = alb.reconcile(shop())
    assert mutations(counter, mark) == []
    assert again.mutations == 0
    assert again.addresses == first.addresses


def test_create_programs_the_alb_and_reports_its_dns_name(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    result = alb.reconcile(shop())
    state = alb_state(account.session)
    [lb] = state.balancers
    assert result.addresses == (("Hostname", lb["DNSName"]),)
    assert lb["Scheme"] == "internet-facing"
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(account.subnets)
    assert sorted((li["Port"], li["Protocol"]) for li in state.listeners) == [(80, "HTTP"), (443, "HTTPS")]
    for li in state.listeners:
        assert li["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    rules = [(int(r["Priority"]), r) for r in state.rules if not r["IsDefault"]]
    paths = [[c.get("PathPatternConfig", {}).get("Values") for c in r["Conditions"]] for _, r in rules]
    assert [["/api", "/api/*"]] in paths
    by_name = {g["TargetGroupName"]: g for g in state.target_groups}
    web = next(n for n in by_name if "-web-" in n)
    assert state.targets[web] == {("10.0.1.10", 8080), ("10.0.1.11", 8080)}
    forward = next(r for _, r in rules if any(c.get("PathPatternConfig") for c in r["Conditions"]))
    weights = sorted(g["Weight"] for g in forward["Actions"][0]["ForwardConfig"]["TargetGroups"])
    assert weights == [1, 3]
    [cert] = state.certificates
    assert state.tags[cert["CertificateArn"]]["portico.dev/resource"] == "cert:shop/web-tls"
    https = next(li for li in state.listeners if li["Port"] == 443)
    assert https["Certificates"][0]["CertificateArn"] == cert["CertificateArn"]


def test_route_change_moves_priorities_without_recreating_rules(account: Account) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    alb.reconcile(shop())
    before = {r["RuleArn"] for r in alb_state(account.session).rules if not r["IsDefault"]}
    mark = len(counter.calls)
    alb.reconcile(shop(extra_rule=True, api_weight=2))
    done = mutations(counter, mark)
    assert done.count("SetRulePriorities") == 2  # two waves: 2->3, then 1->2
    assert "DeleteRule" not in done and done.count("CreateRule") == 1
    state = alb_state(account.session)
    after = {r["RuleArn"] for r in state.rules if not r["IsDefault"]}
    assert before < after
    http = next(li for li in state.listeners if li["Port"] == 80)
    prefix = http["ListenerArn"].replace(":listener/", ":listener-rule/")
    ordered = sorted(
        ((int(r["Priority"]), r) for r in state.rules if r["RuleArn"].startswith(prefix) and not r["IsDefault"]),
        key=lambda item: item[0],
    )
    assert [p for p, _ in ordered] == [1, 2, 3]
    assert ordered[0][1]["Conditions"][0]["PathPatternConfig"]["Values"] == ["/admin"]
    assert alb.plan(shop(extra_rule=True, api_weight=2), alb.observe(GATEWAY)).is_empty
    mark = len(counter.calls)
    alb.reconcile(shop())
    assert mutations(counter, mark).count("DeleteRule") == 1


def test_endpoint_change_registers_and_deregisters_only_the_difference(account: Account) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    registered: list[dict[str, Any]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("RegisterTargets", "DeregisterTargets"):
            registered.append({"op": model.name, "targets": sorted(t["Id"] for t in params["Targets"])})

    account_hooks = ("provide-client-params.elastic-load-balancing-v2", record)
    alb = load_provider("aws-alb", context(account.session, counter, account_hooks))
    assert isinstance(alb, AlbProvider)
    alb.reconcile(shop())
    registered.clear()
    alb.reconcile(shop(web_ips=("10.0.1.11", "10.0.1.12")))
    assert registered == [
        {"op": "RegisterTargets", "targets": ["10.0.1.12"]},
        {"op": "DeregisterTargets", "targets": ["10.0.1.10"]},
    ]
    state = alb_state(account.session)
    web = next(n for n in state.targets if "-web-" in n)
    assert state.targets[web] == {("10.0.1.11", 8080), ("10.0.1.12", 8080)}


def test_rotated_secret_is_reimported_under_the_same_arn(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    alb.reconcile(shop())
    [before] = alb_state(account.session).certificates
    rotated = self_signed(serial=2)
    alb.reconcile(shop(cert=rotated))
    state = alb_state(account.session)
    [after] = state.certificates
    assert after["CertificateArn"] == before["CertificateArn"]
    body = account.client("acm").get_certificate(CertificateArn=after["CertificateArn"])["Certificate"]
    assert body.strip() == rotated[0].strip()
    assert alb.plan(shop(cert=rotated), alb.observe(GATEWAY)).is_empty


def test_unreferenced_certificate_is_deleted_after_the_listener_lets_go(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    alb.reconcile(shop())
    other = self_signed("other.example.com", serial=3)
    ir = shop()
    https = ir.listeners[1].model_copy(update={"certificates": (certificate(*other, name="other-tls"),)})
    ir = ir.model_copy(update={"listeners": (ir.listeners[0], https)})
    first = alb.reconcile(ir)  # ACM refuses to delete the old certificate until the ALB lets go
    assert "ResourceInUseException" in first.message and not first.programmed
    reconcile_until_programmed(alb, ir)
    state = alb_state(account.session)
    [cert] = state.certificates
    assert state.tags[cert["CertificateArn"]]["portico.dev/resource"] == "cert:shop/other-tls"


def test_delete_removes_everything_tagged_and_nothing_else(account: Account) -> None:
    elbv2 = account.client("elbv2")
    foreign_tg = elbv2.create_target_group(
        Name="someone-elses", Protocol="HTTP", Port=80, VpcId=account.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    foreign_lb = elbv2.create_load_balancer(Name="someone-elses", Subnets=list(account.subnets))
    other_cluster = make_alb(account, CallCounter(), cluster_id="other-cluster")
    other_cluster.reconcile(shop())
    alb = make_alb(account, CallCounter())
    alb.reconcile(shop())
    alb.reconcile(shop(extra_rule=True))
    delete_until_finished(alb)
    state = alb_state(account.session)
    mine = [a for a in state.tagged(str(GATEWAY)) if state.tags[a]["portico.dev/cluster"] == "test-cluster"]
    assert mine == []
    assert foreign_tg in {g["TargetGroupArn"] for g in state.target_groups}
    assert foreign_lb["LoadBalancers"][0]["LoadBalancerArn"] in {b["LoadBalancerArn"] for b in state.balancers}
    theirs = other_cluster.observe(GATEWAY)
    assert other_cluster.plan(shop(), theirs).is_empty
    assert alb.plan(None, alb.observe(GATEWAY)).is_empty


def test_redirect_invalid_backend_and_grpc(account: Account) -> None:
    redirect = rule("old", path="/old", filters=(RequestRedirectFilter(scheme="https", status_code=301),))
    broken = rule("broken", path="/broken", backends=(backend("gone", invalid_reason="BackendNotFound"),))
    grpc = rule(
        "greeter",
        kind=RouteKind.GRPC,
        path=None,
        backends=(backend("greeter"),),
        match=Match(grpc=GRPCMethodMatch(type=MatchType.EXACT, service="helloworld.Greeter")),
    )
    ir = gateway(
        listener(rules=(redirect, broken)),
        listener("https", 443, protocol=ListenerProtocol.HTTPS, certificates=(certificate(CERT, KEY),), rules=(grpc,)),
    )
    alb = make_alb(account, CallCounter())
    assert alb.reconcile(ir).programmed
    state = alb_state(account.session)
    actions = {
        r["Conditions"][0]["PathPatternConfig"]["Values"][0]: r["Actions"][0] for r in state.rules if not r["IsDefault"]
    }
    assert actions["/old"]["RedirectConfig"]["Protocol"] == "HTTPS"
    assert actions["/old"]["RedirectConfig"]["Port"] == "443"
    assert actions["/old"]["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert actions["/broken"]["FixedResponseConfig"]["StatusCode"] == "500"
    assert "/helloworld.Greeter/*" in actions
    [group] = state.target_groups
    assert group["ProtocolVersion"] == "GRPC"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"aws": {"scheme": "public"}}, "spec.aws.scheme"),
        ({"aws": {"subnetz": ["x"]}}, "spec.aws.subnetz"),
        ({"aws": {"tags": {"portico.dev/cluster": "x"}}}, "reserved prefix"),
        ({"aws": {"subnets": ["subnet-missing"]}}, "subnet-missing not found"),
        ({"aws": {"subnetTags": {"tier": "none"}}}, "two Availability Zones"),
        ({"aws": "internal"}, "spec.aws: must be an object"),
    ],
)
def test_bad_parameters_are_named_and_nothing_is_called(account: Account, params: dict[str, Any], problem: str) -> None:
    counter = CallCounter()
    alb = make_alb(account, counter)
    ir = gateway(listener(rules=(rule("shop", backends=(backend("web"),)),)), params=params)
    result = alb.reconcile(ir)
    assert not result.programmed
    assert problem in result.message
    assert mutations(counter) == []


def test_parameters_scheme_tags_and_acm_arn(account: Account) -> None:
    for subnet in account.subnets:
        account.client("ec2").create_tags(Resources=[subnet], Tags=[{"Key": "tier", "Value": "private"}])
    acm_arn = account.client("acm").import_certificate(Certificate=CERT.encode(), PrivateKey=KEY.encode())[
        "CertificateArn"
    ]
    params = {
        "aws": {
            "scheme": "internal",
            "subnetTags": {"tier": "private"},
            "tags": {"team": "shop"},
            "certificateArns": {"https": [acm_arn]},
        }
    }
    ir = shop().model_copy(update={"infrastructure": gateway(params=params).infrastructure})
    alb = make_alb(account, CallCounter())
    assert alb.reconcile(ir).programmed
    state = alb_state(account.session)
    [lb] = state.balancers
    assert lb["Scheme"] == "internal"
    assert state.tags[lb["LoadBalancerArn"]]["team"] == "shop"
    https = next(li for li in state.listeners if li["Port"] == 443)
    assert https["Certificates"][0]["CertificateArn"] == acm_arn
    assert [c["CertificateArn"] for c in state.certificates] == [acm_arn]  # nothing imported
    changed = {"aws": {**params["aws"], "tags": {"team": "checkout"}}}
    alb.reconcile(ir.model_copy(update={"infrastructure": gateway(params=changed).infrastructure}))
    state = alb_state(account.session)
    assert {state.tags[a].get("team") for a in state.tagged(str(GATEWAY))} == {"checkout"}
    alb.delete(GATEWAY)
    assert account.client("acm").describe_certificate(CertificateArn=acm_arn)  # given, so never deleted


def test_observe_ignores_other_gateways(account: Account) -> None:
    alb = make_alb(account, CallCounter())
    alb.reconcile(shop())
    other = ObjectKey(namespace="shop", name="other")
    assert alb.observe(other).resources == ()


def test_instance_targets_register_the_nodes_at_the_node_port(account: Account) -> None:
    ec2 = account.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "kubernetes.io/cluster/test-cluster", "Value": "owned"}]}]
    launched = ec2.run_instances(
        ImageId=image, MinCount=2, MaxCount=2, SubnetId=account.subnets[0], TagSpecifications=tags
    )["Instances"]
    nodes = {i["PrivateDnsName"]: i["InstanceId"] for i in launched}
    endpoints = tuple(Endpoint(address=f"10.0.1.{n}", port=8080, node_name=name) for n, name in enumerate(nodes))
    web = backend("web", node_port=30080).model_copy(
        update={"endpoints": (*endpoints, Endpoint(address="10.0.1.99", port=8080, node_name="elsewhere"))}
    )
    plain = backend("api")  # a ClusterIP Service: no nodePort
    ir = gateway(
        listener(rules=(rule("shop", backends=(web,)), rule("api", path="/api", backends=(plain,)))),
        params={"aws": {"targetType": "instance"}},
    )
    alb = make_alb(account, CallCounter())
    plan = alb.plan(ir, alb.observe(GATEWAY))
    assert any("node elsewhere is not a running instance" in n for n in plan.notes)
    assert any("instance targets need a NodePort Service" in n for n in plan.notes)
    assert alb.apply(plan).programmed
    state = alb_state(account.session)
    [group] = state.target_groups
    assert (group["TargetType"], group["Port"]) == ("instance", 30080)
    assert state.targets[group["TargetGroupName"]] == {(i, 30080) for i in nodes.values()}
    api_rule = next(
        r
        for r in state.rules
        if any(c.get("PathPatternConfig", {}).get("Values") == ["/api", "/api/*"] for c in r["Conditions"])
    )
    assert api_rule["Actions"][0]["FixedResponseConfig"]["StatusCode"] == "500"
    assert alb.plan(ir, alb.observe(GATEWAY)).is_empty
