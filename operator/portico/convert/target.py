"""The converted objects run through Portico's own translation with the target's capabilities: every
condition that comes out False is a rule (or listener) the target would reject, with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from portico.api import build_snapshot
from portico.convert.objects import SOURCE_ANNOTATION
from portico.convert.report import Finding, Outcome
from portico.provider import Capabilities
from portico.translate import translate

# What translation needs from the input besides the converted objects: backends and certificates.
_CONTEXT_KINDS = frozenset({"Service", "EndpointSlice", "Secret", "Namespace"})
_EPOCH = "1970-01-01T00:00:00Z"  # status timestamps are not reported; a fixed clock keeps this pure


def _false(conditions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Conditions that say something is wrong (`Conflicted` is the one whose good state is False)."""
    return [c for c in conditions if c.get("status") == ("True" if c.get("type") == "Conflicted" else "False")]


def target_findings(
    converted: Iterable[Mapping[str, Any]],
    inputs: Iterable[Mapping[str, Any]],
    controller: str,
    capabilities: Capabilities,
    target: str,
) -> list[Finding]:
    objects = [dict(o) for o in converted]
    context = [dict(o) for o in inputs if o.get("kind") in _CONTEXT_KINDS]
    result = translate(build_snapshot([*objects, *context]), {controller: capabilities}, now=_EPOCH)
    sources = {
        (str(o["kind"]), str(o["metadata"].get("namespace", "")), str(o["metadata"]["name"])): str(
            (o["metadata"].get("annotations") or {}).get(SOURCE_ANNOTATION, "")
        )
        for o in objects
    }
    findings: list[Finding] = []
    for (kind, namespace, name), status in sorted(result.statuses.items()):
        source = sources.get((kind, namespace, name), "")
        subject = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        problems = [(c, "") for c in _false(status.get("conditions") or [])]
        for listener in status.get("listeners") or []:
            problems += [(c, f" listener {listener.get('name')}") for c in _false(listener.get("conditions") or [])]
        for parent in status.get("parents") or []:
            section = (parent.get("parentRef") or {}).get("sectionName")
            where = f" on {section}" if section else ""
            problems += [(c, where) for c in _false(parent.get("conditions") or [])]
        for condition, where in problems:
            message = f"{target}{where}: {condition.get('type')}={condition.get('reason')}: {condition.get('message')}"
            findings.append(Finding(source, subject, Outcome.TARGET, message))
    return findings
