"""The `gcp-alb` provider: observe -> plan (pure) -> apply, with long-running operations pending.

Cloud-specific pieces (naming/ownership, build, observe, apply) are separate from the generic
desired-vs-observed `diff`, so moving onto the shared provider kit replaces only the glue here.
"""

from __future__ import annotations

from dataclasses import replace

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, Capabilities, DeleteResult, ProviderContext
from portico_providers.gcp_alb.apply import PendingOperation, execute, poll
from portico_providers.gcp_alb.build import build
from portico_providers.gcp_alb.compute import ComputeApi, api_errors, describe
from portico_providers.gcp_alb.diff import diff
from portico_providers.gcp_alb.limits import check_rules
from portico_providers.gcp_alb.naming import Owner
from portico_providers.gcp_alb.observe import ObservedState, observe
from portico_providers.gcp_alb.params import parse
from portico_providers.gcp_alb.plan import GcpPlan

NAME = "gcp-alb"
RECHECK = 5.0  # seconds until the operator looks again at running Compute operations
FEATURES = frozenset(
    {
        "Gateway",
        "ReferenceGrant",
        "HTTPRoute",
        "GRPCRoute",
        "GatewayPort8080",
        "GatewayStaticAddresses",
        "HTTPRouteQueryParamMatching",
        "HTTPRouteMethodMatching",
        "HTTPRouteResponseHeaderModification",
        "HTTPRouteBackendRequestHeaderModification",
        "HTTPRouteHostRewrite",
        "HTTPRoutePathRewrite",
        "HTTPRouteSchemeRedirect",
        "HTTPRoutePathRedirect",
        "HTTPRoute303RedirectStatusCode",
        "HTTPRoute307RedirectStatusCode",
        "HTTPRoute308RedirectStatusCode",
        "HTTPRouteRequestMirror",
        "HTTPRouteRequestPercentageMirror",
        "HTTPRouteRequestTimeout",
        "HTTPRouteBackendTimeout",
        "HTTPRouteNamedRouteRule",
        "GRPCRouteNamedRouteRule",
    }
)


class GcpAlbProvider:
    name = NAME

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.api = ComputeApi(context.options)
        self._projects: dict[ObjectKey, str] = {}
        self._pending: dict[ObjectKey, list[PendingOperation]] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(features=FEATURES, check_rules=check_rules)

    def owner(self, gateway: ObjectKey) -> Owner:
        return Owner(self.context.cluster_id, gateway)

    def project(self, gateway: ObjectKey) -> str | None:
        default = self.context.options.get("gcp_project")
        return self._projects.get(gateway) or (str(default) if default else None)

    def observe(self, gateway: ObjectKey) -> ObservedState:
        """Polls the operations an earlier apply left running first, so the listing is fresh.

        A project that cannot be read is a result (`unreadable`), not an exception: the plan
        then reports it instead of planning anything.
        """
        owner = self.owner(gateway)
        project = self.project(gateway)
        if project is None:
            return ObservedState(owner, "", (), unreadable="no GCP project: set the operator's --gcp-project")
        try:
            earlier = poll(self.api, project, self._pending.pop(gateway, []))
            if earlier.running:
                self._pending[gateway] = earlier.running
            seen = observe(self.api, owner, project)
        except api_errors() as error:
            return ObservedState(owner, project, (), unreadable=f"reading the project failed: {describe(error)}")
        return replace(seen, running=tuple(op.what for op in earlier.running), failure=earlier.error)

    def plan(self, ir: GatewayIR | None, observed: ObservedState | None) -> GcpPlan:
        seen = observed
        if seen is not None and seen.unreadable:
            return GcpPlan(NAME, seen.owner, seen.project, problems=(seen.unreadable,))
        if ir is None:
            if seen is None:
                owner = self.owner(ObjectKey(namespace="", name=""))
                return GcpPlan(NAME, owner, problems=("deleting needs the observed state (run observe first)",))
            gone = diff([], seen.resources)
            return GcpPlan(
                NAME,
                seen.owner,
                seen.project,
                steps=gone.steps,
                deleting=True,
                running=seen.running,
                failure=seen.failure,
            )
        owner = self.owner(ir.gateway)
        params = parse(ir.infrastructure.parameters)
        problems = ir.validate_ir()
        if isinstance(params, list):
            return GcpPlan(NAME, owner, problems=tuple(problems + params), offline=seen is None)
        project = params.project or (seen.project if seen else self.project(ir.gateway))
        built = build(ir, params, owner, project, seen.facts if seen else None)
        if isinstance(built, list) or problems:
            found = problems + (built if isinstance(built, list) else [])
            return GcpPlan(NAME, owner, project or "", problems=tuple(found), offline=seen is None)
        planned = diff(built.desired, seen.resources if seen else (), seen.foreign if seen else ())
        return GcpPlan(
            NAME,
            owner,
            project or "",
            steps=planned.steps,
            desired=tuple(built.desired),
            problems=planned.conflicts,
            notes=tuple(built.notes),
            offline=seen is None,
            addresses=seen.addresses if seen else (),
            running=seen.running if seen else (),
            failure=seen.failure if seen else "",
        )

    def apply(self, plan: GcpPlan) -> ApplyResult:
        if plan.provider != NAME:
            return ApplyResult.failed(f"not a plan of the {NAME} provider")
        if plan.problems:
            return ApplyResult.failed("; ".join(plan.problems))
        if plan.offline:
            return ApplyResult.failed("an offline dry-run plan cannot be applied")
        if plan.running:
            # The plan was read while earlier work was still running: act once it has ended.
            return ApplyResult.pending(f"{len(plan.running)} operation(s) running ({plan.running[0]})", RECHECK)
        self._projects[plan.gateway] = plan.project
        before = self.api.counter.mutations
        try:
            outcome = execute(self.api, plan.project, plan.steps)
        except api_errors() as error:  # a failure after retries: reported, the next reconcile resumes
            return ApplyResult.failed(describe(error), mutations=self.api.counter.mutations - before)
        mutations = self.api.counter.mutations - before
        if outcome.running:
            self._pending[plan.gateway] = outcome.running
            message = f"{len(outcome.running)} operation(s) running ({outcome.running[0].what})"
            if plan.failure:
                message += f"; the previous attempt failed: {plan.failure}"
            return ApplyResult.pending(message, RECHECK, mutations=mutations)
        if outcome.error:
            return ApplyResult.failed(outcome.error, mutations=mutations)
        if plan.steps:
            # Every change landed; the next read confirms it and learns the forwarding rule's address.
            return ApplyResult.pending("changes applied; confirming", 1.0, mutations=mutations)
        if not plan.addresses:
            return ApplyResult.pending("waiting for the forwarding rule's address", RECHECK)
        return ApplyResult.done(plan.addresses, mutations=mutations)

    def delete(self, gateway: ObjectKey) -> DeleteResult:
        seen = self.observe(gateway)
        plan = self.plan(None, seen)
        owned = tuple(f"{r.kind} {r.body.get('name')}" for r in seen.resources)
        if plan.problems:
            return DeleteResult(owned, "; ".join(plan.problems))
        if plan.running:
            return DeleteResult(owned, f"{len(plan.running)} operation(s) running ({plan.running[0]})", RECHECK)
        if plan.is_empty:
            return DeleteResult()
        before = self.api.counter.mutations
        try:
            outcome = execute(self.api, plan.project, plan.steps)
        except api_errors() as error:
            return DeleteResult(owned, describe(error), mutations=self.api.counter.mutations - before)
        mutations = self.api.counter.mutations - before
        if outcome.running:
            self._pending[gateway] = outcome.running
            message = f"{len(outcome.running)} operation(s) running ({outcome.running[0].what})"
            return DeleteResult(owned, message, RECHECK, mutations)
        if outcome.error:
            return DeleteResult(owned, outcome.error, mutations=mutations)
        return DeleteResult(mutations=mutations)


def create(context: ProviderContext) -> GcpAlbProvider:
    return GcpAlbProvider(context)
