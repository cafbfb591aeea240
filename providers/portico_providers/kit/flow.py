"""The shared flow of a kit provider: observe -> build -> diff -> execute, and delete.

A concrete provider supplies how to observe (marked resources plus the facts its build may look
up), a pure `build`, the SDK handlers per kind, its ownership scheme and its error classifier.
It then satisfies `portico.provider.Provider[ObservedState, CloudPlan]`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from portico.ir import GatewayIR, ObjectKey
from portico.provider import Address, ApplyResult, Capabilities, DeleteResult, ProviderContext, reconcile_once
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.diff import diff
from portico_providers.kit.execute import (
    CONFLICT_RECHECK_SECONDS,
    ErrorClassifier,
    ErrorKind,
    Execution,
    KindHandler,
    execute,
)
from portico_providers.kit.ownership import Ownership
from portico_providers.kit.resources import Desired, KindRules, Observed


@dataclass(frozen=True)
class ObservedState:
    """What a Gateway owns in the account, plus facts the build may look up (subnets, networks).

    `error` is set when the account could not be read (an expected cloud error, after retries).
    `running`: long-running operations an earlier apply started that have not ended; nothing is
    applied until they have (the listing may not show their effect yet)."""

    ownership: Ownership
    resources: tuple[Observed, ...] = ()
    addresses: tuple[Address, ...] = ()
    facts: Any = None
    error: str = ""
    running: tuple[str, ...] = ()
    recheck_after: float | None = None


@dataclass
class Built:
    desired: list[Desired] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lookups: dict[str, Any] = field(default_factory=dict)


OwnershipT = TypeVar("OwnershipT", bound=Ownership)


class CloudProvider(ABC, Generic[OwnershipT]):
    name: str = ""
    kinds: ClassVar[Sequence[KindRules]] = ()
    # Whether a Gateway is programmed only once it has an address (an ALB's DNS name).
    address_required: ClassVar[bool] = True
    id_label: ClassVar[str] = "cloud_id"
    account: ClassVar[str] = "the cloud account"

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def ownership(self, gateway: ObjectKey) -> OwnershipT:
        """This provider's ownership scheme for `gateway` in this cluster."""

    @property
    @abstractmethod
    def classifier(self) -> ErrorClassifier:
        """What this cloud's errors mean (gone / transient / conflict / invalid input)."""

    @abstractmethod
    def read(self, gateway: ObjectKey) -> ObservedState:
        """Cloud resources owned by this Gateway (by their marks), and the facts `build` may look up."""

    @abstractmethod
    def build(self, ir: GatewayIR, ownership: OwnershipT, seen: ObservedState | None) -> Built | list[str]:
        """Pure: the desired resources, or the problems (bad parameters, failed lookups)."""

    @abstractmethod
    def handlers(self, ownership: OwnershipT) -> Mapping[str, KindHandler]:
        """The SDK calls per resource kind."""

    def mutation_count(self) -> int:
        """Mutating calls made so far (providers count them at the SDK; -1: count executed steps)."""
        return -1

    def addresses(self, plan: CloudPlan, run: Execution) -> tuple[Address, ...]:
        return plan.addresses

    def observe(self, gateway: ObjectKey) -> ObservedState:
        """`read`, or the cloud's reason it could not be read (the next reconcile tries again)."""
        try:
            return self.read(gateway)
        except Exception as error:
            if self.classifier.classify(error) is None:
                raise
            return ObservedState(
                self.ownership(gateway), error=f"reading the account failed: {self.classifier.describe(error)}"
            )

    def _plan(self, ownership: Ownership, **fields: Any) -> CloudPlan:
        return CloudPlan(self.name, ownership, id_label=self.id_label, account=self.account, **fields)

    def plan(self, ir: GatewayIR | None, observed: ObservedState | None) -> CloudPlan:
        """Pure. `ir` None: delete all that `observed` holds. `observed` None: offline dry run."""
        if observed is not None and observed.error:
            return self._plan(observed.ownership, problems=(observed.error,), deleting=ir is None)
        if ir is None:
            if observed is None:
                return self._plan(
                    self.ownership(ObjectKey(namespace="", name="")),
                    problems=("deleting needs the observed state (run observe first)",),
                )
            gone = diff([], observed.resources, self.kinds)
            return self._plan(
                observed.ownership,
                steps=gone.steps,
                ids=gone.ids,
                deleting=True,
                running=observed.running,
                recheck_after=observed.recheck_after,
            )
        ownership = self.ownership(ir.gateway)
        problems = ir.validate_ir()
        built = self.build(ir, ownership, observed)
        if isinstance(built, list) or problems:
            found = problems + (built if isinstance(built, list) else [])
            return self._plan(ownership, problems=tuple(found), offline=observed is None)
        planned = diff(built.desired, observed.resources if observed else (), self.kinds)
        # Busy resources the plan keeps: the Gateway is programmed once the cloud has finished them.
        dropped = {(s.kind, s.observed.cloud_id) for s in planned.steps if s.action == "delete" and s.observed}
        kept = [o for o in (observed.resources if observed else ()) if o.busy and (o.kind, o.cloud_id) not in dropped]
        return self._plan(
            ownership,
            waiting=tuple(f"{o.kind} {o.cloud_id}: {o.busy}" for o in kept),
            steps=planned.steps,
            ids=planned.ids,
            desired=tuple(built.desired),
            lookups=built.lookups,
            notes=tuple(built.notes),
            offline=observed is None,
            addresses=observed.addresses if observed else (),
            running=observed.running if observed else (),
            recheck_after=observed.recheck_after if observed else None,
        )

    def _execute(self, plan: CloudPlan) -> tuple[Execution, int]:
        before = self.mutation_count()
        run = execute(plan, self.handlers(self.ownership(plan.gateway)), self.classifier)
        counted = self.mutation_count()
        return run, (counted - before if before >= 0 else run.done)

    def apply(self, plan: CloudPlan) -> ApplyResult:
        if plan.provider != self.name:
            return ApplyResult.failed(f"not a plan of the {self.name} provider")
        if plan.problems:
            return ApplyResult.failed("; ".join(plan.problems))
        if plan.offline:
            return ApplyResult.failed("an offline dry-run plan cannot be applied")
        if plan.running:
            return ApplyResult.pending(_waiting(plan.running), plan.recheck_after, plan.addresses)
        run, mutations = self._execute(plan)
        result = self._result(plan, run, mutations)
        refused = run.rules_not_programmed(plan.desired)
        return result.with_refused_rules(refused) if refused else result

    def _result(self, plan: CloudPlan, run: Execution, mutations: int) -> ApplyResult:
        # A refusal that only concerns some rules is reported on their routes; one the whole
        # Gateway needs (the load balancer, a listener) fails it. A transient error fails it too.
        whole = run.gateway_refusals(plan.desired)
        if whole or (run.error and run.error_kind is not ErrorKind.INVALID_INPUT):
            return ApplyResult.failed("; ".join(whole) or run.error, plan.addresses, mutations)
        addresses = self.addresses(plan, run)
        if run.running:
            return ApplyResult.pending(run.running, run.recheck_after, addresses, mutations)
        waiting = [*plan.waiting, *run.waiting]
        if waiting:
            return ApplyResult.pending(
                f"waiting for {'; '.join(waiting)}", CONFLICT_RECHECK_SECONDS, addresses, mutations
            )
        if self.address_required and not addresses:
            return ApplyResult.pending("waiting for the data plane to get an address", None, addresses, mutations)
        return ApplyResult.done(addresses, mutations)

    def reconcile(self, ir: GatewayIR) -> ApplyResult:
        """observe -> plan -> apply, exactly as the operator runs it."""
        return reconcile_once(self, ir)

    def delete(self, gateway: ObjectKey) -> DeleteResult:
        """Delete everything owned, then look again: finished only when nothing owned remains."""
        seen = self.observe(gateway)
        if seen.error:
            return DeleteResult(remaining=("unknown (the account could not be read)",), message=seen.error)
        plan = self.plan(None, seen)
        if plan.running:
            left = tuple(sorted(f"{o.kind} {o.cloud_id}" for o in seen.resources))
            return DeleteResult(left, _waiting(plan.running), plan.recheck_after)
        run, mutations = self._execute(plan)
        # Look again whatever happened: a refused delete does not stop the others, and only the
        # account says what is left.
        after = self.observe(gateway)
        if after.error:
            return DeleteResult(("unknown (the account could not be read)",), after.error, None, mutations)
        left = tuple(sorted(f"{o.kind} {o.cloud_id}" for o in after.resources))
        message = "; ".join(m for m in (run.error, run.running) if m) or ("deletion still in progress" if left else "")
        return DeleteResult(left, message, run.recheck_after, mutations)


def _waiting(running: tuple[str, ...]) -> str:
    more = f" (and {len(running) - 1} more)" if len(running) > 1 else ""
    return f"waiting for running operations: {running[0]}{more}"
