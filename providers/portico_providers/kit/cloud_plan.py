"""The plan a kit provider returns: steps from observed to desired, and what apply needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.ir import ObjectKey
from portico_providers.kit.diff import Step
from portico_providers.kit.ownership import Ownership
from portico_providers.kit.resources import Desired


@dataclass(frozen=True)
class CloudPlan:
    provider: str
    ownership: Ownership
    steps: tuple[Step, ...] = ()
    ids: Mapping[str, str] = field(default_factory=dict)  # resource id -> cloud id known at plan time
    desired: tuple[Desired, ...] = ()
    lookups: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    offline: bool = False
    deleting: bool = False
    addresses: tuple[tuple[str, str], ...] = ()  # as observed (apply may learn new ones)
    # Kept resources the cloud is still working on ("listener arn:...: CREATE_IN_PROGRESS").
    waiting: tuple[str, ...] = ()
    running: tuple[str, ...] = ()  # earlier operations still running: apply waits for them
    recheck_after: float | None = None
    # How documents name a cloud id ("arn") and where the diff was taken ("the AWS account").
    id_label: str = "cloud_id"
    account: str = "the cloud account"

    @property
    def gateway(self) -> ObjectKey:
        return self.ownership.gateway

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def to_document(self) -> dict[str, Any]:
        counts = {a: sum(1 for s in self.steps if s.action == a) for a in ("create", "update", "delete")}
        doc: dict[str, Any] = {
            "provider": self.provider,
            "gateway": str(self.gateway),
            "cluster": self.ownership.cluster_id,
            "mode": "offline dry run" if self.offline else f"diff against {self.account}",
            "summary": counts,
        }
        if self.problems:
            doc["problems"] = list(self.problems)
        if self.notes:
            doc["notes"] = list(self.notes)
        if self.lookups:
            doc["lookups"] = dict(self.lookups)
        if self.running:
            doc["running"] = list(self.running)
        doc["steps"] = [step.to_document(self.id_label) for step in self.steps]
        return doc
