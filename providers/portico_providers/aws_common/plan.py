"""The plan both AWS providers return, and the executor that applies it step by step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from portico.ir import ObjectKey
from portico_providers.aws_common.model import Desired, Observed, Step, dump, resolve, unresolved
from portico_providers.aws_common.retry import error_code
from portico_providers.aws_common.tags import Owner


@dataclass(frozen=True)
class AwsPlan:
    """Steps from observed to desired, plus what apply needs to fill the tokens in."""

    provider: str
    owner: Owner
    steps: tuple[Step, ...] = ()
    arns: Mapping[str, str] = field(default_factory=dict)
    desired: tuple[Desired, ...] = ()
    lookups: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    offline: bool = False
    deleting: bool = False
    addresses: tuple[tuple[str, str], ...] = ()  # as observed (apply may learn new ones)

    @property
    def gateway(self) -> ObjectKey:
        return self.owner.gateway

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def to_document(self) -> dict[str, Any]:
        counts = {a: sum(1 for s in self.steps if s.action == a) for a in ("create", "update", "delete")}
        doc: dict[str, Any] = {
            "provider": self.provider,
            "gateway": str(self.gateway),
            "cluster": self.owner.cluster_id,
            "mode": "offline dry run" if self.offline else "diff against the AWS account",
            "summary": counts,
        }
        if self.problems:
            doc["problems"] = list(self.problems)
        if self.notes:
            doc["notes"] = list(self.notes)
        if self.lookups:
            doc["lookups"] = dict(self.lookups)
        doc["steps"] = [step.to_document() for step in self.steps]
        return doc


# Error codes that mean "no such resource": a delete that meets one has nothing left to do.
GONE = frozenset(
    {
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "RuleNotFound",
        "ResourceNotFoundException",
        "CertificateNotFound",
    }
)


class KindHandler(Protocol):
    """The SDK calls for one resource kind. `spec` is the desired spec with tokens resolved."""

    def create(self, desired: Desired, spec: dict[str, Any], tags: dict[str, str]) -> str: ...

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, observed: Observed) -> None: ...


class StepFailed(Exception):
    """A step cannot run for a reason of Portico's own (not an AWS error)."""


class UnresolvedReference(StepFailed):
    """A step points at a resource that does not exist (an earlier step failed)."""


@dataclass
class Execution:
    arns: dict[str, str]
    done: int = 0
    error: str = ""


def describe_error(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


def _resolved_spec(step: Step, arns: Mapping[str, str]) -> dict[str, Any]:
    assert step.desired is not None
    spec: dict[str, Any] = resolve(dump(step.desired.spec), arns)
    missing = unresolved(spec)
    if missing:
        raise UnresolvedReference(f"{step.kind} {step.id} refers to {', '.join(missing)}, which does not exist")
    return spec


def _delete(handler: KindHandler, observed: Observed) -> None:
    from botocore.exceptions import ClientError

    try:
        handler.delete(observed)
    except ClientError as error:
        # Already gone (an earlier attempt's answer was lost, or someone else deleted it): done.
        if error_code(error) not in GONE:
            raise


def execute(plan: AwsPlan, handlers: Mapping[str, KindHandler]) -> Execution:
    """Run the steps in order; stop at the first failure (the next reconcile resumes from there).

    Consecutive updates of one kind go to the handler together, so it can batch them
    (ALB rule priorities must move in one call to avoid collisions).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    run = Execution(arns=dict(plan.arns))
    steps = list(plan.steps)
    index = 0
    while index < len(steps):
        step = steps[index]
        handler = handlers[step.kind]
        try:
            if step.action == "update":
                batch = [step]
                while (
                    index + len(batch) < len(steps)
                    and steps[index + len(batch)].action == "update"
                    and steps[index + len(batch)].kind == step.kind
                ):
                    batch.append(steps[index + len(batch)])
                handler.update(batch, [_resolved_spec(s, run.arns) for s in batch])
                index += len(batch)
                run.done += len(batch)
                continue
            if step.action == "create":
                assert step.desired is not None
                spec = _resolved_spec(step, run.arns)
                tags = plan.owner.tags(step.id, spec.get("tags") or {})
                run.arns[step.id] = handler.create(step.desired, spec, tags)
            else:
                assert step.observed is not None
                _delete(handler, step.observed)
        except (ClientError, BotoCoreError, StepFailed) as error:
            run.error = f"{step.action} {step.kind} {step.id}: {describe_error(error)}"
            return run
        index += 1
        run.done += 1
    return run
