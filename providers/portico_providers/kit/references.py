"""Typed cross-references between the resources of one plan.

A spec field that points at another resource holds a `Ref` (the token type; its `id` is the
dependency). Only `Ref` objects are ever resolved: a string in user data that happens to look
like `${load-balancer}` stays data. Resolution happens while dumping a spec, so the comparable
form and the form handed to the SDK come from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializationInfo, model_serializer


def token_text(resource_id: str) -> str:
    """How an unresolved reference reads in plan documents: `${resource-id}`."""
    return "${" + resource_id + "}"


@dataclass
class Resolution:
    """Serialization context: the cloud ids known so far, and the references still missing."""

    values: Mapping[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class Ref(BaseModel):
    """A reference to the resource `id` of the same plan, replaced by its cloud id (ARN, URL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str

    @model_serializer(mode="plain")
    def _serialize(self, info: SerializationInfo) -> str:
        context = info.context
        if isinstance(context, Resolution):
            value = context.values.get(self.id)
            if value is not None:
                return value
            context.missing.append(self.id)
        return token_text(self.id)


# A field that refers to another resource: a `Ref` in desired specs, the cloud id in observed ones.
Reference = Ref | str


def order_key(value: Reference) -> str:
    """A sort key that orders references by their token text and cloud ids as themselves."""
    return token_text(value.id) if isinstance(value, Ref) else value


def ref(resource_id: str) -> Ref:
    return Ref(id=resource_id)


def dump(spec: BaseModel, values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Canonical comparable form: JSON types, unset (None) fields left out, known refs resolved."""
    return spec.model_dump(mode="json", exclude_none=True, context=Resolution(values or {}))


def resolved(spec: BaseModel, values: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The spec with its references replaced, and the ids of those not known yet."""
    resolution = Resolution(values)
    document = spec.model_dump(mode="json", exclude_none=True, context=resolution)
    return document, sorted(set(resolution.missing))


def dependencies(spec: BaseModel) -> frozenset[str]:
    """The resource ids `spec` refers to."""
    return frozenset(resolved(spec, {})[1])
