"""Running a plan: the kit's only I/O, step by step, with per-cloud error classification.

Each cloud says what its errors mean (`ErrorClassifier`): gone (a delete is then done),
transient (retried by the call policy; still failing, the reconcile fails and backs off),
conflict (in use, still provisioning, draining: looked at again later, reported as pending) or
invalid input (a failure with the cloud's reason). An error the classifier does not know is
not a cloud error: it propagates, and the operator logs it with its traceback.
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
from portico_providers.kit.references import resolved
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
    error: str = ""
    error_kind: ErrorKind | None = None
    running: str = ""
    recheck_after: float | None = None
    created: list[str] = field(default_factory=list)
    running_steps: list[str] = field(default_factory=list)  # steps whose operations still run


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
    """Run the steps in order; stop at the first failure (the next reconcile resumes from there)."""
    run = Execution(ids=dict(plan.ids))
    steps = list(plan.steps)
    index = 0
    wave: tuple[str, str] | None = None  # (kind, action) of a wave of operations still running
    while index < len(steps):
        step = steps[index]
        if wave is not None and (step.kind, step.action) != wave:
            return run
        handler = handlers[step.kind]
        count = 1
        try:
            if step.action == "update":
                batch = _update_batch(steps, index)
                for item in batch:
                    _check_ours(plan, item)
                handler.update(batch, [_spec(s, run.ids) for s in batch])
                count = len(batch)
            elif step.action == "create":
                assert step.desired is not None
                spec = _spec(step, run.ids)
                run.ids[step.id] = handler.create(step.desired, spec, marks_for(plan, step, spec))
                run.created.append(step.id)
            else:
                _check_ours(plan, step)
                _delete(handler, step, classifier)
        except StillRunning as running:
            _record_running(run, f"{step.action} {step.kind} {step.id}: {running.what}", running.recheck_after)
            if not running.wave:
                return run
            wave = (step.kind, step.action)
            index += count
            continue
        except StepFailed as error:
            run.error, run.error_kind = f"{step.action} {step.kind} {step.id}: {error}", error.kind
            return run
        except Exception as error:
            kind = classifier.classify(error)
            if kind is None:
                raise
            message = f"{step.action} {step.kind} {step.id}: {classifier.describe(error)}"
            if kind is ErrorKind.CONFLICT:
                run.running, run.recheck_after = message, CONFLICT_RECHECK_SECONDS
            else:
                run.error, run.error_kind = message, kind
            return run
        index += count
        run.done += count
    return run


def _record_running(run: Execution, what: str, recheck_after: float) -> None:
    """The first running step names the wait; later ones of a wave are counted."""
    run.running_steps.append(what)
    more = len(run.running_steps) - 1
    run.running = run.running_steps[0] + (f" (and {more} more running)" if more else "")
    run.recheck_after = min(run.recheck_after or recheck_after, recheck_after)


def _delete(handler: KindHandler, step: Step, classifier: ErrorClassifier) -> None:
    assert step.observed is not None
    try:
        handler.delete(step.observed)
    except Exception as error:
        # Already gone (an earlier attempt's answer was lost, or someone else deleted it): done.
        if classifier.classify(error) is not ErrorKind.GONE:
            raise
