"""Condition constructors: every condition carries type/status/reason/message/observedGeneration
and lastTransitionTime, as the spec's status model requires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool | None
    reason: str
    message: str = ""

    def render(self, generation: int, now: str) -> dict[str, Any]:
        status = "Unknown" if self.status is None else ("True" if self.status else "False")
        return {
            "type": self.type,
            "status": status,
            "reason": self.reason,
            "message": self.message or _default_message(self.type, status, self.reason),
            "observedGeneration": generation,
            "lastTransitionTime": now,
        }


def _default_message(type_: str, status: str, reason: str) -> str:
    return f"{type_} is {status}: {reason}"


def true(type_: str, reason: str | None = None, message: str = "") -> Condition:
    return Condition(type_, True, reason or type_, message)


def false(type_: str, reason: str, message: str) -> Condition:
    return Condition(type_, False, reason, message)


def render_all(conditions: list[Condition], generation: int, now: str) -> list[dict[str, Any]]:
    return [c.render(generation, now) for c in conditions]
