"""Read an AWS account back with plain describe calls, independent of the provider's code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portico.provider import ProviderContext
from portico_providers.aws_common.clients import CallCounter

GATEWAY_TAG = "portico.dev/gateway"
# Every call any provider built by `context` makes (the IAM action files are checked against it).
RECORDER = CallCounter()


def tags_of(elbv2: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        for item in elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
            out[item["ResourceArn"]] = {t["Key"]: t["Value"] for t in item["Tags"]}
    return out


@dataclass
class AlbState:
    balancers: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    target_groups: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, set[tuple[str, int]]] = field(default_factory=dict)  # TG name -> registered targets
    draining: dict[str, set[tuple[str, int]]] = field(default_factory=dict)  # TG name -> draining targets
    certificates: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)

    def tagged(self, gateway: str) -> list[str]:
        """ARNs of everything that carries this Gateway's ownership tag."""
        return sorted(arn for arn, tags in self.tags.items() if tags.get(GATEWAY_TAG) == gateway)


def alb_state(session: Any) -> AlbState:
    elbv2 = session.client("elbv2")
    acm = session.client("acm")
    state = AlbState()
    state.balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    for lb in state.balancers:
        listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        state.listeners += listeners
        for listener in listeners:
            state.rules += elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    state.target_groups = elbv2.describe_target_groups()["TargetGroups"]
    for group in state.target_groups:
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
        for h in health:
            target = (h["Target"]["Id"], h["Target"]["Port"])
            draining = h["TargetHealth"]["State"] == "draining"
            (state.draining if draining else state.targets).setdefault(group["TargetGroupName"], set()).add(target)
    arns = [lb["LoadBalancerArn"] for lb in state.balancers] + [li["ListenerArn"] for li in state.listeners]
    arns += [r["RuleArn"] for r in state.rules if not r["IsDefault"]]
    arns += [g["TargetGroupArn"] for g in state.target_groups]
    state.tags = tags_of(elbv2, arns)
    state.certificates = acm.list_certificates()["CertificateSummaryList"]
    for cert in state.certificates:
        tags = acm.list_tags_for_certificate(CertificateArn=cert["CertificateArn"]).get("Tags", [])
        state.tags[cert["CertificateArn"]] = {t["Key"]: t.get("Value", "") for t in tags}
    return state


def context(
    session: Any, counter: CallCounter, *hooks: tuple[str, Callable[..., Any]], cluster_id: str = "test-cluster"
) -> ProviderContext:
    """A provider context on `session` whose every call is also counted by `counter`."""
    return ProviderContext(
        cluster_id=cluster_id,
        options={
            "session": session,
            "region": session.region_name,
            "hooks": [("before-call.*.*", counter), ("before-call.*.*", RECORDER), *hooks],
        },
    )
