"""The `gcp-alb` provider on the kit: observe -> build (pure) -> diff -> execute, pending while
Compute operations run.

read() polls the operations an earlier apply left running, then lists what this Gateway owns
(claimed by the kit's name-plus-marker ownership); build() is pure; the kit's diff compares
with Compute's defaulted bodies by containment (`compare.same`), so a no-op makes zero
mutating calls; the handlers start operations and never wait for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from portico.ir import GatewayIR, ObjectKey
from portico.provider import Address, ApplyResult, Capabilities, Provider, ProviderContext
from portico_providers.gcp_alb.build import Facts, build
from portico_providers.gcp_alb.compare import RULES
from portico_providers.gcp_alb.compute import ComputeApi, api_errors, where
from portico_providers.gcp_alb.errors import ComputeErrors
from portico_providers.gcp_alb.handlers import RECHECK, ComputeHandler, PendingOperation, poll
from portico_providers.gcp_alb.limits import check_rules, rules_check_for
from portico_providers.gcp_alb.model import COLLECTIONS, FORWARDING_RULE, KINDS
from portico_providers.gcp_alb.naming import ComputeOwnership, scope_of
from portico_providers.gcp_alb.observe import observe
from portico_providers.gcp_alb.params import parse
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.execute import ErrorClassifier, Execution, KindHandler
from portico_providers.kit.flow import Built, CloudProvider, ObservedState

NAME = "gcp-alb"
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


class GcpAlbProvider(CloudProvider[ComputeOwnership]):
    name = NAME
    kinds = RULES
    id_label: ClassVar[str] = "selfLink"
    account: ClassVar[str] = "the GCP project"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.api = ComputeApi(context.options)
        self._projects: dict[ObjectKey, str] = {}
        self._pending: dict[ObjectKey, list[PendingOperation]] = {}
        self._errors = ComputeErrors()

    def capabilities(self) -> Capabilities:
        return Capabilities(features=FEATURES, check_rules=check_rules, check_rules_for=rules_check_for)

    def ownership(self, gateway: ObjectKey) -> ComputeOwnership:
        return ComputeOwnership(self.context.cluster_id, gateway)

    @property
    def classifier(self) -> ErrorClassifier:
        return self._errors

    def mutation_count(self) -> int:
        return self.api.counter.mutations

    def project(self, gateway: ObjectKey) -> str | None:
        default = self.context.options.get("gcp_project")
        return self._projects.get(gateway) or (str(default) if default else None)

    def read(self, gateway: ObjectKey) -> ObservedState:
        """Polls the operations an earlier apply left running first, so the listing is fresh."""
        ownership = self.ownership(gateway)
        project = self.project(gateway)
        if project is None:
            return ObservedState(ownership, error="no GCP project: set the operator's --gcp-project")
        earlier = poll(self.api, project, self._pending.get(gateway, []))  # kept if polling fails
        self._pending[gateway] = earlier.running
        seen = observe(self.api, ownership, project, str(earlier.error or ""))
        return replace(seen, running=tuple(op.what for op in earlier.running), recheck_after=RECHECK)

    def build(self, ir: GatewayIR, ownership: ComputeOwnership, seen: ObservedState | None) -> Built | list[str]:
        params = parse(ir.infrastructure.parameters)
        if isinstance(params, list):
            return params
        facts = seen.facts if seen is not None and isinstance(seen.facts, Facts) else None
        project = params.project or (facts.project if facts else None) or self.project(ir.gateway)
        built = build(ir, params, ownership, project, facts)
        if isinstance(built, list) or facts is None:
            return built
        taken = set(facts.foreign)
        conflicts = [
            f"{COLLECTIONS[d.kind]} {d.spec.model_dump()['name']} in {scope_of(d.id)} exists but is not Portico's "
            "(no ownership marker in its description): left alone, this Gateway cannot be programmed"
            for d in built.desired
            if (scope_of(d.id), d.spec.model_dump()["name"]) in taken
        ]
        if conflicts:
            return conflicts
        if facts.failure:
            built.notes.append(f"the previous attempt failed: {facts.failure}")
        return built

    def handlers(self, ownership: ComputeOwnership) -> Mapping[str, KindHandler]:
        project = self.project(ownership.gateway) or ""
        pending = self._pending.setdefault(ownership.gateway, [])
        return {kind: ComputeHandler(self.api, project, kind, pending) for kind in KINDS}

    def apply(self, plan: CloudPlan) -> ApplyResult:
        project = plan.lookups.get("project")
        if project and not plan.offline:
            self._projects[plan.gateway] = str(project)
        return super().apply(plan)

    def addresses(self, plan: CloudPlan, run: Execution) -> tuple[Address, ...]:
        """The forwarding rule's IP: as observed, or read back once this apply changed something."""
        if plan.addresses and not run.done:
            return plan.addresses
        rules = sorted(d.id for d in plan.desired if d.kind == FORWARDING_RULE)
        project = self.project(plan.gateway)
        if not rules or project is None or run.running or run.error:
            return plan.addresses
        scope = scope_of(rules[0])
        client = self.api.client(FORWARDING_RULE, scope)
        name = self.ownership(plan.gateway).name_for(rules[0])
        try:
            found = self.api.call(client.get, mutating=False, project=project, forwarding_rule=name, **where(scope))
        except api_errors():
            return plan.addresses  # the next reconcile reads it
        return (("IPAddress", found.I_p_address),) if found.I_p_address else ()


def create(context: ProviderContext) -> Provider[ObservedState, CloudPlan]:
    """Typed as the contract, so mypy checks GcpAlbProvider against Provider[ObservedState, CloudPlan]."""
    return GcpAlbProvider(context)
