"""The `aws-alb` provider: one Application Load Balancer per Gateway."""

from __future__ import annotations

from collections.abc import Mapping

from portico.ir import GatewayIR, ObjectKey
from portico.provider import Address, ApplyResult, Capabilities, Provider, ProviderContext
from portico_providers.aws_alb.build import LB_ID, build
from portico_providers.aws_alb.handlers import (
    ListenerHandler,
    LoadBalancerHandler,
    RuleHandler,
    TargetGroupHandler,
    balancer_state,
)
from portico_providers.aws_alb.lookups import Inventory, Lookups, placeholder_lookups, resolve_lookups
from portico_providers.aws_alb.model import (
    BACKEND_RULE,
    KINDS,
    LISTENER,
    LOAD_BALANCER,
    RULE,
    SECURITY_GROUP,
    TARGET_GROUP,
)
from portico_providers.aws_alb.observe import observe
from portico_providers.aws_alb.params import SECTION, AlbParameters
from portico_providers.aws_alb.rules import check_rules
from portico_providers.aws_alb.security import BackendRuleHandler, SecurityGroupHandler
from portico_providers.aws_common.acm import KIND as CERTIFICATE
from portico_providers.aws_common.acm import CertificateHandler
from portico_providers.aws_common.params import parse_section, section_problems
from portico_providers.aws_common.provider import AwsProvider
from portico_providers.aws_common.tags import Owner
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.execute import Execution, KindHandler
from portico_providers.kit.flow import Built, ObservedState

NAME = "aws-alb"
PROVISIONING_RECHECK_SECONDS = 30.0  # an ALB is usually active a few minutes after it is created
FEATURES = frozenset(
    {
        "Gateway",
        "ReferenceGrant",
        "HTTPRoute",
        "GRPCRoute",
        "GatewayPort8080",
        "HTTPRouteQueryParamMatching",
        "HTTPRouteMethodMatching",
        "HTTPRouteSchemeRedirect",
        "HTTPRoutePortRedirect",
        "HTTPRoutePathRedirect",
        "HTTPRouteHostRewrite",
        "HTTPRoutePathRewrite",
        "HTTPRouteNamedRouteRule",
        "GRPCRouteNamedRouteRule",
    }
)


class AlbProvider(AwsProvider):
    name = NAME
    kinds = KINDS

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._balancers: LoadBalancerHandler | None = None
        self._balancer_arn = ""

    def capabilities(self) -> Capabilities:
        return Capabilities(
            features=FEATURES, check_rules=check_rules, check_parameters=section_problems(AlbParameters, SECTION)
        )

    def read(self, gateway: ObjectKey) -> ObservedState:
        return observe(self.clients, self.ownership(gateway))

    def build(self, ir: GatewayIR, owner: Owner, seen: ObservedState | None) -> Built | list[str]:
        params = parse_section(AlbParameters, ir.infrastructure.parameters, SECTION)
        if isinstance(params, list):
            return params
        lookups: Lookups | list[str]
        if seen is None:
            lookups = placeholder_lookups(params, owner.cluster_id)
        else:
            assert isinstance(seen.facts, Inventory)
            lookups = resolve_lookups(params, seen.facts)
        if isinstance(lookups, list):
            return lookups
        return build(ir, params, lookups, owner)

    def handlers(self, owner: Owner) -> Mapping[str, KindHandler]:
        elbv2 = self.clients.client("elbv2")
        ec2 = self.clients.client("ec2")
        self._balancers = LoadBalancerHandler(elbv2)
        return {
            SECURITY_GROUP: SecurityGroupHandler(ec2),
            BACKEND_RULE: BackendRuleHandler(ec2),
            CERTIFICATE: CertificateHandler(self.clients.client("acm"), owner),
            TARGET_GROUP: TargetGroupHandler(elbv2),
            LOAD_BALANCER: self._balancers,
            LISTENER: ListenerHandler(elbv2),
            RULE: RuleHandler(elbv2),
        }

    def addresses(self, plan: CloudPlan, run: Execution) -> tuple[Address, ...]:
        self._balancer_arn = run.ids.get(LB_ID, "")
        created = self._balancers.dns_names.get(self._balancer_arn) if self._balancers else None
        return (("Hostname", created),) if created else plan.addresses

    def apply(self, plan: CloudPlan) -> ApplyResult:
        """Programmed only once the load balancer's State is active (ALB provisions for minutes)."""
        self._balancer_arn = ""
        result = super().apply(plan)
        if not result.programmed or not self._balancer_arn:
            return result
        try:
            state = balancer_state(self.clients.client("elbv2"), self._balancer_arn)
        except Exception as error:
            if self.classifier.classify(error) is None:
                raise
            what = f"reading the load balancer's state failed: {self.classifier.describe(error)}"
            return ApplyResult.pending(what, PROVISIONING_RECHECK_SECONDS, result.addresses, result.mutations)
        if state.code in ("active", "active_impaired"):
            return result
        if state.code == "failed":
            answer = ApplyResult.failed(
                f"load balancer State failed: {state.reason}", result.addresses, result.mutations
            )
        else:
            what = f"load balancer {state.code}" + (f": {state.reason}" if state.reason else "")
            answer = ApplyResult.pending(what, PROVISIONING_RECHECK_SECONDS, result.addresses, result.mutations)
        return answer.with_refused_rules(result.refused_rules) if result.refused_rules else answer


def create(context: ProviderContext) -> Provider[ObservedState, CloudPlan]:
    """Typed as the contract, so mypy checks AlbProvider against Provider[ObservedState, CloudPlan]."""
    return AlbProvider(context)
