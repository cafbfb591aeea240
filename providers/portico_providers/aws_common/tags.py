"""Ownership tags: how Portico recognises what it owns in an AWS account.

AWS tag keys may contain `/`, so the kit's tag scheme is used with `portico.dev/*` keys. A
resource is Portico's only when it carries all three with this cluster's id and this Gateway's
namespace/name (the kit's one ownership rule). Anything else is never modified or deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from portico_providers.kit.ownership import Marks, TagKeys, TagOwnership

CLUSTER_TAG = "portico.dev/cluster"
GATEWAY_TAG = "portico.dev/gateway"
RESOURCE_TAG = "portico.dev/resource"
# Content fingerprint of an imported certificate: a changed Secret is re-imported.
FINGERPRINT_TAG = "portico.dev/sha256"
TAG_VALUE_MAX = 256  # AWS: a tag value is at most 256 Unicode characters
DIGEST_CHARS = 16
AWS_KEYS = TagKeys(cluster=CLUSTER_TAG, gateway=GATEWAY_TAG, resource=RESOURCE_TAG)


@dataclass(frozen=True)
class Owner(TagOwnership):
    """The kit's tag ownership with every value within AWS's limit: a Gateway `namespace/name` may
    be 63 + 1 + 253 characters, and a tag value longer than 256 makes every tagging call fail."""

    keys: TagKeys = AWS_KEYS

    def tags(self, resource_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        tags = dict(extra or {})
        tags.update({self.keys.cluster: bounded_id(self.cluster_id), self.keys.gateway: bounded_id(str(self.gateway))})
        tags[self.keys.resource] = bounded_id(resource_id)
        return tags

    def claim(self, found: Marks) -> str | None:
        wanted = self.tags("")
        tags = found.tags
        if any(tags.get(key) != wanted[key] for key in (self.keys.cluster, self.keys.gateway)):
            return None
        return tags.get(self.keys.resource) or None


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
