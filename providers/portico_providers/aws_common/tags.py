"""Ownership tags: how Portico recognises what it owns in an AWS account.

A resource is Portico's only when it carries all three tags with this cluster's id and this
Gateway's namespace/name. Anything else is never modified or deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from portico.ir import ObjectKey

CLUSTER_TAG = "portico.dev/cluster"
GATEWAY_TAG = "portico.dev/gateway"
RESOURCE_TAG = "portico.dev/resource"
# Content fingerprint of an imported certificate: a changed Secret is re-imported.
FINGERPRINT_TAG = "portico.dev/sha256"
TAG_VALUE_MAX = 256  # AWS: a tag value is at most 256 Unicode characters
DIGEST_CHARS = 16


@dataclass(frozen=True)
class Owner:
    cluster_id: str
    gateway: ObjectKey

    @property
    def gateway_tag(self) -> str:
        return bounded_id(str(self.gateway))

    def tags(self, resource_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """User tags first so they can never override the ownership tags."""
        tags = dict(extra or {})
        tags.update({CLUSTER_TAG: self.cluster_id, GATEWAY_TAG: self.gateway_tag, RESOURCE_TAG: resource_id})
        return tags

    def owns(self, tags: Mapping[str, str]) -> bool:
        return (
            tags.get(CLUSTER_TAG) == self.cluster_id
            and tags.get(GATEWAY_TAG) == self.gateway_tag
            and bool(tags.get(RESOURCE_TAG))
        )


def bounded_id(value: str, limit: int = TAG_VALUE_MAX) -> str:
    """`value`, or when it is longer than an AWS tag value may be, its start and a digest of the whole:
    still unique and the same on every reconcile (a 253-character route name made 293-character ids)."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:DIGEST_CHARS]
    return f"{value[: limit - DIGEST_CHARS - 1]}~{digest}"


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """elbv2/ACM style: [{"Key": k, "Value": v}] sorted by key."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}
