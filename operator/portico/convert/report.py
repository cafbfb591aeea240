"""The conversion report: one finding per Ingress and annotation, as text or as a document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    EXACT = "converted"
    DIFFERENCE = "converted-with-difference"
    NOT_CONVERTIBLE = "not-convertible"
    IGNORED = "ignored"  # ingress-nginx itself ignores it (skipped class, snippets off, canary-only options)
    TARGET = "rejected-by-target"  # the target provider cannot program it


@dataclass(frozen=True, order=True)
class Finding:
    """`ingress` is `namespace/name` ("" for the whole conversion); `subject` an annotation name,
    a field path or a host; `message` says what happens now and, where it is not the same, why
    and what to do instead."""

    ingress: str
    subject: str
    outcome: Outcome
    message: str

    def to_document(self) -> dict[str, str]:
        return {
            "ingress": self.ingress,
            "subject": self.subject,
            "outcome": self.outcome.value,
            "message": self.message,
        }


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Deterministic, duplicates removed; the whole-conversion findings first."""
    return sorted(set(findings))


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {o.value: 0 for o in Outcome}
    for f in findings:
        out[f.outcome.value] += 1
    return out


def report_document(findings: Iterable[Finding]) -> dict[str, Any]:
    items = sorted_findings(findings)
    return {"summary": counts(items), "findings": [f.to_document() for f in items]}


def report_text(findings: Iterable[Finding]) -> str:
    items = sorted_findings(findings)
    lines: list[str] = []
    current: str | None = None
    for f in items:
        if f.ingress != current:
            current = f.ingress
            lines.append(f"Ingress {f.ingress}:" if f.ingress else "Conversion:")
        lines.append(f"  {f.subject}: {f.outcome.value}: {f.message}")
    summary = ", ".join(f"{n} {name}" for name, n in counts(items).items() if n)
    lines.append(f"Summary: {summary or 'nothing to report'}")
    return "\n".join(lines) + "\n"
