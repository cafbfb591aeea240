"""Deterministic, prefixed names and resource ids: a diff is by name, and a name says whose it is.

Azure resource names here: 1-80 characters, letters, digits, `_`, `.` and `-`, starting with a
letter or digit and ending with a letter, digit or `_`. Readable parts come first; a short hash of
all parts keeps two long names from colliding after truncation.
"""

from __future__ import annotations

import hashlib
import re

from portico.ir import ObjectKey

MAX_NAME = 80
UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# ARM tag names may not contain '/', so Portico's ownership tags use '.' where AWS uses '/'.
CLUSTER_TAG = "portico.dev.cluster"
GATEWAY_TAG = "portico.dev.gateway"
RESOURCE_TAG = "portico.dev.resource"
GATEWAY_RESOURCE = "application-gateway"
PUBLIC_IP_RESOURCE = "public-ip"
NETWORK = "providers/Microsoft.Network"


def azure_name(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:8]
    shown = "-".join("default" if p is None else str(p).replace("*", "star") for p in parts)
    readable = UNSAFE.sub("-", shown).strip("-.")
    head = f"{prefix}-{readable}"[: MAX_NAME - 9].rstrip("-.")
    return f"{head}-{digest}"


def gateway_name(cluster_id: str, gateway: ObjectKey) -> str:
    return azure_name("portico", gateway.namespace, gateway.name, cluster_id)


def public_ip_name(cluster_id: str, gateway: ObjectKey) -> str:
    return azure_name("portico-ip", gateway.namespace, gateway.name, cluster_id)


def resource_id(subscription: str, group: str, kind: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/{NETWORK}/{kind}/{name}"


def owner_tags(cluster_id: str, gateway: ObjectKey, resource: str) -> dict[str, str]:
    return {CLUSTER_TAG: cluster_id, GATEWAY_TAG: f"{gateway.namespace}/{gateway.name}", RESOURCE_TAG: resource}
