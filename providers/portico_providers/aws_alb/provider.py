"""The `aws-alb` provider: one Application Load Balancer per Gateway."""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, Capabilities, ProviderContext
from portico_providers.aws_alb.build import LB_ID, build
from portico_providers.aws_alb.handlers import (
    ListenerHandler,
    LoadBalancerHandler,
    RuleHandler,
    TargetGroupHandler,
)
from portico_providers.aws_alb.lookups import Lookups, placeholder_lookups, resolve_lookups
from portico_providers.aws_alb.model import KINDS, LISTENER, LOAD_BALANCER, RULE, TARGET_GROUP
from portico_providers.aws_alb.observe import AlbObserved, observe
from portico_providers.aws_alb.params import SECTION, AlbParameters
from portico_providers.aws_alb.rules import check_rules
from portico_providers.aws_common.acm import KIND as CERTIFICATE
from portico_providers.aws_common.acm import CertificateHandler
from portico_providers.aws_common.clients import AwsClients
from portico_providers.aws_common.model import diff
from portico_providers.aws_common.params import parse_section
from portico_providers.aws_common.plan import AwsPlan, KindHandler, execute
from portico_providers.aws_common.tags import Owner

NAME = "aws-alb"
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
        "HTTPRouteNamedRouteRule",
        "GRPCRouteNamedRouteRule",
    }
)


class AlbProvider:
    name = NAME

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.clients = AwsClients(context.options)

    def owner(self, gateway: ObjectKey) -> Owner:
        return Owner(self.context.cluster_id, gateway)

    def capabilities(self) -> Capabilities:
        return Capabilities(features=FEATURES, check_rules=check_rules)

    def observe(self, gateway: ObjectKey) -> AlbObserved:
        return observe(self.clients, self.owner(gateway))

    def plan(self, ir: GatewayIR | None, observed: Any) -> AwsPlan:
        """Pure. `ir` None: delete all that `observed` holds. `observed` None: offline dry run."""
        seen = observed if isinstance(observed, AlbObserved) else None
        if ir is None:
            if seen is None:
                return AwsPlan(
                    NAME,
                    Owner(self.context.cluster_id, ObjectKey(namespace="", name="")),
                    problems=("deleting needs the observed state (run observe first)",),
                )
            gone = diff([], seen.resources, KINDS)
            return AwsPlan(NAME, seen.owner, steps=gone.steps, arns=gone.arns, deleting=True)
        owner = self.owner(ir.gateway)
        problems = ir.validate_ir()
        params = parse_section(AlbParameters, ir.infrastructure.parameters, SECTION)
        if isinstance(params, list):
            return AwsPlan(NAME, owner, problems=tuple(problems + params), offline=seen is None)
        lookups: Lookups | list[str] = (
            placeholder_lookups(params) if seen is None else resolve_lookups(params, seen.inventory)
        )
        if isinstance(lookups, list) or problems:
            return AwsPlan(
                NAME,
                owner,
                problems=tuple(problems + (lookups if isinstance(lookups, list) else [])),
                offline=seen is None,
            )
        built = build(ir, params, lookups, owner)
        planned = diff(built.desired, seen.resources if seen else (), KINDS)
        return AwsPlan(
            NAME,
            owner,
            steps=planned.steps,
            arns=planned.arns,
            desired=tuple(built.desired),
            lookups=lookups.to_document(),
            notes=tuple(built.notes),
            offline=seen is None,
            dns_name=seen.dns_name if seen else None,
        )

    def _handlers(self, owner: Owner) -> tuple[dict[str, KindHandler], LoadBalancerHandler]:
        elbv2 = self.clients.client("elbv2")
        balancers = LoadBalancerHandler(elbv2)
        handlers: dict[str, KindHandler] = {
            CERTIFICATE: CertificateHandler(self.clients.client("acm"), owner),
            TARGET_GROUP: TargetGroupHandler(elbv2),
            LOAD_BALANCER: balancers,
            LISTENER: ListenerHandler(elbv2),
            RULE: RuleHandler(elbv2),
        }
        return handlers, balancers

    def apply(self, plan: Any) -> ApplyResult:
        if not isinstance(plan, AwsPlan) or plan.provider != NAME:
            return ApplyResult(programmed=False, message="not a plan of the aws-alb provider")
        if plan.problems:
            return ApplyResult(programmed=False, message="; ".join(plan.problems))
        if plan.offline:
            return ApplyResult(programmed=False, message="an offline dry-run plan cannot be applied")
        handlers, balancers = self._handlers(plan.owner)
        before = self.clients.counter.mutations
        run = execute(plan, handlers)
        mutations = self.clients.counter.mutations - before
        if plan.deleting:
            return ApplyResult(programmed=not run.error, message=run.error, mutations=mutations)
        dns = balancers.dns_names.get(run.arns.get(LB_ID, "")) or plan.dns_name
        addresses = (("Hostname", dns),) if dns else ()
        return ApplyResult(
            addresses=addresses,
            programmed=not run.error and bool(dns),
            message=run.error,
            mutations=mutations,
        )

    def delete(self, gateway: ObjectKey) -> ApplyResult:
        return self.apply(self.plan(None, self.observe(gateway)))

    def reconcile(self, ir: GatewayIR) -> ApplyResult:
        """observe -> plan -> apply for one Gateway (what the operator's worker does)."""
        return self.apply(self.plan(ir, self.observe(ir.gateway)))


def create(context: ProviderContext) -> AlbProvider:
    return AlbProvider(context)
