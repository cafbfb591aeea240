"""Ownership: how a provider marks what it creates and recognises it later.

Each cloud picks a scheme: tags (AWS; Azure with keys without `/`), labels (GCP: `[a-z0-9_-]`,
63 characters), or a deterministic name plus a description marker (GCP resources that take no
labels). The one rule, `claimed_id`, is what observe filters with and what execute checks again
before it updates or deletes anything: a resource is ours only when its marks say so exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from portico.ir import ObjectKey
from portico_providers.kit.naming import bounded_name, short_hash


@dataclass(frozen=True)
class Marks:
    """What a resource carries that says who made it."""

    tags: Mapping[str, str] = field(default_factory=dict)  # tags or labels
    name: str = ""
    description: str = ""


class Ownership(Protocol):
    """A provider's ownership scheme for one Gateway in one cluster."""

    @property
    def cluster_id(self) -> str: ...

    @property
    def gateway(self) -> ObjectKey: ...

    def mark(self, resource_id: str) -> Marks:
        """The marks a new resource `resource_id` is created with."""
        ...

    def claim(self, found: Marks) -> str | None:
        """The resource id when `found` belongs to this Gateway of this cluster; else None."""
        ...


def claimed_id(ownership: Ownership, found: Marks) -> str | None:
    """The single "never touch what is not ours" rule."""
    return ownership.claim(found)


def is_ours(ownership: Ownership, found: Marks, resource_id: str) -> bool:
    return claimed_id(ownership, found) == resource_id


@dataclass(frozen=True)
class TagKeys:
    cluster: str
    gateway: str
    resource: str


@dataclass(frozen=True)
class TagOwnership:
    """Three tags: cluster id, Gateway `namespace/name`, resource id (values kept verbatim)."""

    cluster_id: str
    gateway: ObjectKey
    keys: TagKeys

    def tags(self, resource_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """User tags first so they can never override the ownership tags."""
        tags = dict(extra or {})
        tags.update({self.keys.cluster: self.cluster_id, self.keys.gateway: str(self.gateway)})
        tags[self.keys.resource] = resource_id
        return tags

    def mark(self, resource_id: str) -> Marks:
        return Marks(tags=self.tags(resource_id))

    def claim(self, found: Marks) -> str | None:
        tags = found.tags
        if tags.get(self.keys.cluster) != self.cluster_id or tags.get(self.keys.gateway) != str(self.gateway):
            return None
        return tags.get(self.keys.resource) or None

    def owns(self, tags: Mapping[str, str]) -> bool:
        return self.claim(Marks(tags=tags)) is not None


LABEL_VALUE = re.compile(r"[^a-z0-9_-]+")
LABEL_MAX = 63


def label_value(text: str) -> str:
    """Any text as a GCP label value: `[a-z0-9_-]`, at most 63 characters, hashed to stay unique."""
    cleaned = LABEL_VALUE.sub("-", text.lower()).strip("-")
    suffix = short_hash(text)
    return f"{cleaned[: LABEL_MAX - len(suffix) - 1]}-{suffix}" if cleaned else suffix


def description_marker(prefix: str, cluster_id: str, gateway: ObjectKey, resource_id: str) -> str:
    return f"{prefix} cluster={cluster_id} gateway={gateway} resource={resource_id}"


def parse_marker(prefix: str, description: str) -> dict[str, str]:
    if not description.startswith(prefix + " "):
        return {}
    parts = description.removeprefix(prefix + " ").split(" ")
    pairs = [p.split("=", 1) for p in parts]
    return {p[0]: p[1] for p in pairs if len(p) == 2}


@dataclass(frozen=True)
class LabelOwnership:
    """Labels whose values are hashed into `[a-z0-9_-]`, plus the exact ids in a description
    marker (a label value cannot carry `ns/name`); both must agree."""

    cluster_id: str
    gateway: ObjectKey
    prefix: str = "portico"

    def _labels(self, resource_id: str) -> dict[str, str]:
        return {
            f"{self.prefix}-cluster": label_value(self.cluster_id),
            f"{self.prefix}-gateway": label_value(str(self.gateway)),
            f"{self.prefix}-resource": label_value(resource_id),
        }

    def mark(self, resource_id: str) -> Marks:
        marker = description_marker(self.prefix, self.cluster_id, self.gateway, resource_id)
        return Marks(tags=self._labels(resource_id), description=marker)

    def claim(self, found: Marks) -> str | None:
        fields = parse_marker(self.prefix, found.description)
        resource_id = fields.get("resource", "")
        if not resource_id or fields.get("cluster") != self.cluster_id or fields.get("gateway") != str(self.gateway):
            return None
        wanted = self._labels(resource_id)
        return resource_id if all(found.tags.get(k) == v for k, v in wanted.items()) else None


@dataclass(frozen=True)
class NameMarkerOwnership:
    """For resources without tags or labels: a deterministic name (hashing cluster, Gateway and
    resource id) and a description marker. A colliding name without the marker, or the marker
    on a resource of another name, is not ours."""

    cluster_id: str
    gateway: ObjectKey
    prefix: str = "portico"
    max_length: int = 63

    def name_for(self, resource_id: str) -> str:
        readable = f"{self.gateway.name}-{resource_id}"
        return bounded_name(
            readable, self.cluster_id, str(self.gateway), resource_id, max_length=self.max_length, lowercase=True
        )

    def mark(self, resource_id: str) -> Marks:
        marker = description_marker(self.prefix, self.cluster_id, self.gateway, resource_id)
        return Marks(name=self.name_for(resource_id), description=marker)

    def claim(self, found: Marks) -> str | None:
        fields = parse_marker(self.prefix, found.description)
        resource_id = fields.get("resource", "")
        if not resource_id or fields.get("cluster") != self.cluster_id or fields.get("gateway") != str(self.gateway):
            return None
        return resource_id if found.name == self.name_for(resource_id) else None
