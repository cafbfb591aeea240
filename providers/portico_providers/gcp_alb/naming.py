"""Ownership without labels: deterministic names plus a marker in `description`.

URL maps, backend services and target proxies have no labels, so a resource is Portico's only
when (1) its name is the one this cluster and Gateway derive for it and (2) its `description`
carries Portico's marker naming the same cluster, Gateway and resource id. A resource whose
name collides but whose description lacks the marker is someone else's: never changed or deleted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from portico.ir import ObjectKey

MANAGED_BY = "portico.dev"
MAX_NAME = 63  # RFC 1035 label, the limit of every Compute resource name


def short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Owner:
    cluster_id: str
    gateway: ObjectKey

    @property
    def prefix(self) -> str:
        """`portico-<cluster hash>-<gateway hash>`: 24 characters, room for every kind's suffix."""
        return f"portico-{short_hash(self.cluster_id, 6)}-{short_hash(str(self.gateway), 8)}"

    def name(self, resource_id: str) -> str:
        """The Compute name of `resource_id` (already RFC 1035-safe: built from kind tags and hashes)."""
        name = f"{self.prefix}-{resource_id}"
        if len(name) > MAX_NAME:
            raise ValueError(f"resource id {resource_id!r} makes a name longer than {MAX_NAME} characters")
        return name

    def marker(self, resource_id: str) -> str:
        """The machine-readable `description` that proves ownership."""
        return json.dumps(
            {
                "managedBy": MANAGED_BY,
                "cluster": self.cluster_id,
                "gateway": str(self.gateway),
                "resource": resource_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def resource_id(self, body: dict[str, Any]) -> str | None:
        """The resource id when `body` is this Gateway's (name and marker agree), else None."""
        try:
            marker = json.loads(body.get("description") or "")
        except ValueError:
            return None
        if not isinstance(marker, dict) or marker.get("managedBy") != MANAGED_BY:
            return None
        if marker.get("cluster") != self.cluster_id or marker.get("gateway") != str(self.gateway):
            return None
        rid = marker.get("resource")
        if not isinstance(rid, str) or body.get("name") != f"{self.prefix}-{rid}":
            return None
        return rid
