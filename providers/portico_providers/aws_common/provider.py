"""What both AWS providers do the same way: plan from observed state, apply, delete, reconcile.

A concrete provider supplies how to observe, how to build the desired resources (parameters and
lookups included) and the SDK handlers per resource kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, ProviderContext
from portico_providers.aws_common.clients import AwsClients
from portico_providers.aws_common.model import Desired, KindRules, Observed, diff
from portico_providers.aws_common.plan import AwsPlan, Execution, KindHandler, describe_error, execute
from portico_providers.aws_common.tags import Owner

Address = tuple[str, str]


@dataclass(frozen=True)
class ObservedState:
    """What a Gateway owns in the account, plus facts the build may look up (subnets, networks)."""

    owner: Owner
    resources: tuple[Observed, ...]
    addresses: tuple[Address, ...] = ()
    facts: Any = None


@dataclass
class Built:
    desired: list[Desired] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lookups: dict[str, Any] = field(default_factory=dict)


class AwsProvider(ABC):
    name = ""
    kinds: Sequence[KindRules] = ()
    # Whether a Gateway is only programmed once it has an address (an ALB's DNS name).
    address_required = True

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.clients = AwsClients(context.options)

    def owner(self, gateway: ObjectKey) -> Owner:
        return Owner(self.context.cluster_id, gateway)

    @abstractmethod
    def observe(self, gateway: ObjectKey) -> ObservedState:
        """Cloud resources owned by this Gateway (by tags), and the facts `build` may look up."""

    @abstractmethod
    def build(self, ir: GatewayIR, owner: Owner, seen: ObservedState | None) -> Built | list[str]:
        """Pure: the desired resources, or the problems (bad parameters, failed lookups)."""

    @abstractmethod
    def handlers(self, owner: Owner) -> Mapping[str, KindHandler]:
        """The SDK calls per resource kind."""

    def addresses(self, plan: AwsPlan, run: Execution) -> tuple[Address, ...]:
        return plan.addresses

    # The shared flow.
    def plan(self, ir: GatewayIR | None, observed: Any) -> AwsPlan:
        """Pure. `ir` None: delete all that `observed` holds. `observed` None: offline dry run."""
        seen = observed if isinstance(observed, ObservedState) else None
        if ir is None:
            if seen is None:
                return AwsPlan(
                    self.name,
                    self.owner(ObjectKey(namespace="", name="")),
                    problems=("deleting needs the observed state (run observe first)",),
                )
            gone = diff([], seen.resources, self.kinds)
            return AwsPlan(self.name, seen.owner, steps=gone.steps, arns=gone.arns, deleting=True)
        owner = self.owner(ir.gateway)
        problems = ir.validate_ir()
        built = self.build(ir, owner, seen)
        if isinstance(built, list) or problems:
            found = problems + (built if isinstance(built, list) else [])
            return AwsPlan(self.name, owner, problems=tuple(found), offline=seen is None)
        planned = diff(built.desired, seen.resources if seen else (), self.kinds)
        return AwsPlan(
            self.name,
            owner,
            steps=planned.steps,
            arns=planned.arns,
            desired=tuple(built.desired),
            lookups=built.lookups,
            notes=tuple(built.notes),
            offline=seen is None,
            addresses=seen.addresses if seen else (),
        )

    def apply(self, plan: Any) -> ApplyResult:
        if not isinstance(plan, AwsPlan) or plan.provider != self.name:
            return ApplyResult(programmed=False, message=f"not a plan of the {self.name} provider")
        if plan.problems:
            return ApplyResult(programmed=False, message="; ".join(plan.problems))
        if plan.offline:
            return ApplyResult(programmed=False, message="an offline dry-run plan cannot be applied")
        before = self.clients.counter.mutations
        run = execute(plan, self.handlers(plan.owner))
        mutations = self.clients.counter.mutations - before
        if plan.deleting:
            return ApplyResult(programmed=not run.error, message=run.error, mutations=mutations)
        addresses = self.addresses(plan, run)
        return ApplyResult(
            addresses=addresses, programmed=not run.error and bool(addresses), message=run.error, mutations=mutations
        )

    def _observed(self, gateway: ObjectKey) -> ObservedState | str:
        """observe, or why it failed after its retries (the next reconcile tries again)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.observe(gateway)
        except (BotoCoreError, ClientError) as error:
            return f"reading the account failed: {describe_error(error)}"

    def delete(self, gateway: ObjectKey) -> ApplyResult:
        seen = self._observed(gateway)
        if isinstance(seen, str):
            return ApplyResult(programmed=False, message=seen)
        return self.apply(self.plan(None, seen))

    def reconcile(self, ir: GatewayIR) -> ApplyResult:
        """observe -> plan -> apply for one Gateway (what the operator's worker does)."""
        seen = self._observed(ir.gateway)
        if isinstance(seen, str):
            return ApplyResult(programmed=False, message=seen)
        return self.apply(self.plan(ir, seen))
