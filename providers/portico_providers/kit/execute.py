"""Running a plan: the kit's only I/O, step by step, with per-cloud error classification.

Each cloud says what its errors mean (`ErrorClassifier`): gone (a delete is then done),
transient (retried by the call policy; still failing, the reconcile fails and backs off),
conflict (in use, still provisioning, draining: looked at again later, reported as pending) or
invalid input (the cloud refused that one resource). An error the classifier does not know is
not a cloud error: it propagates, and the operator logs it with its traceback.

A refused step does not hold the rest of the Gateway hostage: it is recorded with the cloud's
reason, the steps that need the refused resource are skipped (recorded too), and every
independent step still runs. A conflict or a long-running operation stops the run instead: what
follows may depend on it, and the next reconcile resumes from there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.diff import Step
from portico_providers.kit.ownership import Marks, is_ours
from portico_providers.kit.references import dependencies, resolved
from portico_providers.kit.resources import Desired, Observed


class ErrorKind(StrEnum):
    GONE = "gone"
    TRANSIENT = "transient"
    CONFLICT = "conflict"
    INVALID_INPUT = "invalid-input"


class ErrorClassifier(Protocol):
    def classify(self, error: BaseException) -> ErrorKind | None:
        """What a cloud error means; None for anything that is not a cloud error."""
        ...

    def describe(self, error: BaseException) -> str:
        """`Code: message` as the cloud reported it."""
        ...


class KindHandler(Protocol):
    """The SDK calls for one resource kind. `spec` is the desired spec with references resolved;
    `marks` are the ownership marks with the spec's user `tags` underneath them."""

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str: ...

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, observed: Observed) -> None: ...


class UpdateThenRetag(ABC):
    """A KindHandler's update for clouds with taggable resources: the other fields first
    (`update_one`), then the user tags brought in line (`retag`); ownership marks are never
    removed, because only keys the observed user tags had and the desired ones lack are stale."""

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        for step, spec in zip(steps, specs, strict=True):
            assert step.observed is not None
            self.update_one(step, spec)
            if "tags" in step.fields:
                wanted = dict(spec.get("tags") or {})
                had = step.observed.spec.model_dump().get("tags") or {}
                self.retag(step.observed, sorted(set(had) - set(wanted)), wanted)

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        """Fields other than tags; the default has nothing else that can change in place."""
        return

    @abstractmethod
    def retag(self, observed: Observed, stale: list[str], wanted: dict[str, str]) -> None:
        """Remove the `stale` user tag keys, then set `wanted` (both may be empty)."""


class StepFailed(Exception):
    """A step cannot run for a reason of Portico's own (not a cloud error)."""

    kind = ErrorKind.INVALID_INPUT


class UnresolvedReference(StepFailed):
    """A step points at a resource that does not exist (an earlier step failed)."""


class NotOurs(StepFailed):
    """A step would change a resource whose marks are not this Gateway's."""


class InProgress(str):
    """What a handler's `create` returns when the cloud accepted the resource and is still creating
    it: its cloud id, plus the state it reported. Later steps may use it; the Gateway is not
    programmed until it is ready."""

    state: str

    def __new__(cls, cloud_id: str, state: str) -> InProgress:
        made = super().__new__(cls, cloud_id)
        made.state = state
        return made


class StillRunning(Exception):
    """Raised by a handler whose cloud operation has started and is not finished (a long-running
    operation): the plan stops here and the result is pending; `recheck_after` in seconds.

    `wave`: the following steps of the same kind and action do not depend on this one, so they
    still start (a wave of operations running together); the plan stops before the next other step.
    """

    def __init__(self, what: str, recheck_after: float = 15.0, *, wave: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.recheck_after = recheck_after
        self.wave = wave


CONFLICT_RECHECK_SECONDS = 15.0


@dataclass
class Execution:
    ids: dict[str, str]
    done: int = 0
    error: str = ""  # the first refusal (kept for callers that only need one reason)
    error_kind: ErrorKind | None = None
    running: str = ""
    recheck_after: float | None = None
    created: list[str] = field(default_factory=list)
    running_steps: list[str] = field(default_factory=list)  # steps whose operations still run
    refused: dict[str, str] = field(default_factory=dict)  # resource id -> the cloud's (or Portico's) reason
    skipped: dict[str, str] = field(default_factory=dict)  # resource id -> the refused resource it needs
    waiting: list[str] = field(default_factory=list)  # created, and the cloud is still creating them

    def refuse(self, step: Step, message: str, kind: ErrorKind) -> None:
        self.refused[step.id] = message
        if not self.error:
            self.error, self.error_kind = message, kind

    def blocker(self, step: Step) -> str | None:
        """The refused resource `step` cannot run without: one it refers to that does not exist
        (its create was refused, or skipped in turn), or, for a delete, the resource whose
        replacement was refused (the old one keeps serving)."""
        if step.action == "delete":
            return step.id if step.id in self.refused else self.skipped.get(step.id)
        if step.desired is None:
            return None
        for needed in sorted(dependencies(step.desired.spec)):
            if needed in self.ids:  # it exists (only its update was refused): usable as it is
                continue
            if needed in self.refused:
                return needed
            if needed in self.skipped:
                return self.skipped[needed]
        return None

    def reason(self, resource_id: str) -> str | None:
        """Why `resource_id` was not programmed in this run (None: it was, or it had nothing to do)."""
        if resource_id in self.refused:
            return self.refused[resource_id]
        if resource_id in self.skipped:
            return self.refused[self.skipped[resource_id]]
        return None

    def rules_not_programmed(self, desired: Sequence[Desired]) -> dict[str, str]:
        """IR rule id -> why, for every rule a refused or skipped resource serves."""
        out: dict[str, str] = {}
        for item in desired:
            why = self.reason(item.id)
            if why is not None:
                for rule_id in item.rules:
                    out.setdefault(rule_id, why)
        return out

    def gateway_refusals(self, desired: Sequence[Desired]) -> list[str]:
        """Refusals of resources that serve no particular rule: the whole Gateway needs them."""
        serving = {d.id for d in desired if d.rules}
        return sorted(
            {why for rid in [*self.refused, *self.skipped] if rid not in serving for why in [self.reason(rid)] if why}
        )


def marks_for(plan: CloudPlan, step: Step, spec: Mapping[str, Any]) -> Marks:
    own = plan.ownership.mark(step.id)
    user = spec.get("tags") or {}
    return Marks(tags={**user, **own.tags}, name=own.name, description=own.description)


def _spec(step: Step, ids: Mapping[str, str]) -> dict[str, Any]:
    assert step.desired is not None
    spec, missing = resolved(step.desired.spec, ids)
    if missing:
        raise UnresolvedReference(f"{step.kind} {step.id} refers to {', '.join(missing)}, which does not exist")
    return spec


def _check_ours(plan: CloudPlan, step: Step) -> None:
    observed = step.observed
    assert observed is not None
    if not is_ours(plan.ownership, observed.marks, observed.id):
        raise NotOurs(f"{step.kind} {observed.cloud_id} does not carry this Gateway's ownership marks")


def _update_batch(steps: Sequence[Step], index: int) -> list[Step]:
    """Consecutive updates of one kind go to the handler together, so it can batch them
    (rule priorities must move together to avoid collisions)."""
    batch = [steps[index]]
    while (
        index + len(batch) < len(steps)
        and steps[index + len(batch)].action == "update"
        and steps[index + len(batch)].kind == steps[index].kind
    ):
        batch.append(steps[index + len(batch)])
    return batch


def execute(plan: CloudPlan, handlers: Mapping[str, KindHandler], classifier: ErrorClassifier) -> Execution:
    """Run the steps in order. A refused step is recorded and the run goes on without what needs
    it; a conflict or a running operation stops it (the next reconcile resumes from there)."""
    run = Execution(ids=dict(plan.ids))
    steps = list(plan.steps)
    index = 0
    wave: tuple[str, str] | None = None  # (kind, action) of a wave of operations still running
    while index < len(steps):
        step = steps[index]
        if wave is not None and (step.kind, step.action) != wave:
            return run
        handler = handlers[step.kind]
        batch = _update_batch(steps, index) if step.action == "update" else [step]
        runnable = []
        for item in batch:
            blocker = run.blocker(item)
            if blocker is None:
                runnable.append(item)
            else:
                run.skipped[item.id] = blocker
        index += len(batch)
        if not runnable:
            continue
        try:
            _run(plan, run, handler, runnable, classifier)
        except StillRunning as running:
            _record_running(run, f"{step.action} {step.kind} {step.id}: {running.what}", running.recheck_after)
            if not running.wave:
                return run
            wave = (step.kind, step.action)
            continue
        except StepFailed as error:
            for item in runnable:
                run.refuse(item, f"{item.action} {item.kind} {item.id}: {error}", error.kind)
            continue
        except Exception as error:
            kind = classifier.classify(error)
            if kind is None:
                raise
            message = f"{step.action} {step.kind} {step.id}: {classifier.describe(error)}"
            if kind is ErrorKind.INVALID_INPUT:
                for item in runnable:
                    run.refuse(item, message, kind)
                continue
            if kind is ErrorKind.CONFLICT:
                run.running, run.recheck_after = message, CONFLICT_RECHECK_SECONDS
            else:
                run.error, run.error_kind = message, kind
            return run
        run.done += len(runnable)
    return run


def _record_running(run: Execution, what: str, recheck_after: float) -> None:
    """The first running step names the wait; later ones of a wave are counted."""
    run.running_steps.append(what)
    more = len(run.running_steps) - 1
    run.running = run.running_steps[0] + (f" (and {more} more running)" if more else "")
    run.recheck_after = min(run.recheck_after or recheck_after, recheck_after)


def _run(
    plan: CloudPlan, run: Execution, handler: KindHandler, steps: Sequence[Step], classifier: ErrorClassifier
) -> None:
    step = steps[0]
    if step.action == "update":
        for item in steps:
            _check_ours(plan, item)
        handler.update(steps, [_spec(s, run.ids) for s in steps])
    elif step.action == "create":
        assert step.desired is not None
        spec = _spec(step, run.ids)
        cloud_id = handler.create(step.desired, spec, marks_for(plan, step, spec))
        run.ids[step.id] = str(cloud_id)
        run.created.append(step.id)
        if isinstance(cloud_id, InProgress):
            run.waiting.append(f"{step.kind} {cloud_id}: {cloud_id.state}")
    else:
        _check_ours(plan, step)
        _delete(handler, step, classifier)


def _delete(handler: KindHandler, step: Step, classifier: ErrorClassifier) -> None:
    assert step.observed is not None
    try:
        handler.delete(step.observed)
    except Exception as error:
        # Already gone (an earlier attempt's answer was lost, or someone else deleted it): done.
        if classifier.classify(error) is not ErrorKind.GONE:
            raise
