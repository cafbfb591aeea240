"""The plan the gcp-alb provider returns: the steps, and the full desired resources for review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portico.ir import ObjectKey
from portico_providers.gcp_alb.diff import Step
from portico_providers.gcp_alb.model import Desired
from portico_providers.gcp_alb.naming import Owner


@dataclass(frozen=True)
class GcpPlan:
    provider: str
    owner: Owner
    project: str = ""
    steps: tuple[Step, ...] = ()
    desired: tuple[Desired, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    offline: bool = False
    deleting: bool = False
    addresses: tuple[tuple[str, str], ...] = ()  # as observed
    running: tuple[str, ...] = ()  # earlier operations still running: nothing is applied until they end
    failure: str = ""  # an earlier operation that failed (its step is planned again)

    @property
    def gateway(self) -> ObjectKey:
        return self.owner.gateway

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def to_document(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.action] = counts.get(step.action, 0) + 1
        doc: dict[str, Any] = {
            "provider": self.provider,
            "gateway": str(self.gateway),
            "cluster": self.owner.cluster_id,
            "project": self.project,
            "mode": "offline dry run" if self.offline else "diff against the GCP project",
            "summary": counts,
        }
        if self.problems:
            doc["problems"] = list(self.problems)
        if self.notes:
            doc["notes"] = list(self.notes)
        if self.running:
            doc["running"] = list(self.running)
        doc["steps"] = [step.to_document() for step in self.steps]
        return doc
