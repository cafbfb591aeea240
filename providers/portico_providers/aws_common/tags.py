"""Ownership tags: how Portico recognises what it owns in an AWS account.

AWS tag keys may contain `/`, so the kit's tag scheme is used with `portico.dev/*` keys. A
resource is Portico's only when it carries all three with this cluster's id and this Gateway's
namespace/name (the kit's one ownership rule). Anything else is never modified or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portico_providers.kit.ownership import TagKeys, TagOwnership

CLUSTER_TAG = "portico.dev/cluster"
GATEWAY_TAG = "portico.dev/gateway"
RESOURCE_TAG = "portico.dev/resource"
# Content fingerprint of an imported certificate: a changed Secret is re-imported.
FINGERPRINT_TAG = "portico.dev/sha256"
AWS_KEYS = TagKeys(cluster=CLUSTER_TAG, gateway=GATEWAY_TAG, resource=RESOURCE_TAG)


@dataclass(frozen=True)
class Owner(TagOwnership):
    keys: TagKeys = AWS_KEYS


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """elbv2/ACM style: [{"Key": k, "Value": v}] sorted by key."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}
