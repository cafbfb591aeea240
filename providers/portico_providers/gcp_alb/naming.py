"""Ownership without labels: the kit's name-plus-marker scheme with Compute's names.

URL maps, backend services and target proxies have no labels, so a resource is Portico's only
when (1) its name is the one this cluster and Gateway derive for it and (2) its `description`
carries the kit's marker naming the same cluster, Gateway and resource id. A resource whose name
collides but whose description lacks the marker is someone else's: never changed or deleted.

Resource ids are `<scope>/<name suffix>` (`global/um-80`, `zones/europe-west1-b/neg-…`): a
zonal NEG has the same name in every zone, so the scope keeps the ids apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from portico_providers.kit.ownership import Marks, NameMarkerOwnership

MAX_NAME = 63  # RFC 1035 label, the limit of every Compute resource name


def short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def versioned(base: str, *immutable: object) -> str:
    """`<base>-<hash>` of the settings a kind cannot change in place: changing one makes a new
    name, so the replacement is created and switched to before the old resource is deleted
    (Compute refuses to delete what something still refers to)."""
    return f"{base}-{short_hash(chr(31).join(str(v) for v in immutable), 6)}"


def resource_id(scope: str, suffix: str) -> str:
    return f"{scope}/{suffix}"


def scope_of(rid: str) -> str:
    return rid.rsplit("/", 1)[0]


def suffix_of(rid: str) -> str:
    return rid.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ComputeOwnership(NameMarkerOwnership):
    """`portico-<cluster hash>-<gateway hash>-<suffix>`: one prefix per Gateway, so a listing
    finds every name this Gateway could hold (ours or a colliding one) by its prefix."""

    @property
    def name_prefix(self) -> str:
        return f"{self.prefix}-{short_hash(self.cluster_id, 6)}-{short_hash(str(self.gateway), 8)}"

    def name_for(self, resource_id: str) -> str:
        name = f"{self.name_prefix}-{suffix_of(resource_id)}"
        if len(name) > MAX_NAME:
            raise ValueError(f"resource id {resource_id!r} makes a name longer than {MAX_NAME} characters")
        return name

    def name(self, suffix: str) -> str:
        return self.name_for(suffix)

    def marker(self, scope: str, suffix: str) -> str:
        """The machine-readable `description` that proves ownership."""
        return self.mark(resource_id(scope, suffix)).description

    def claim_in(self, scope: str, name: str, description: str) -> str | None:
        """The resource id of a listed resource when it is this Gateway's, in the scope it was found in."""
        found = self.claim(Marks(name=name, description=description))
        return found if found is not None and scope_of(found) == scope else None
