"""Kubernetes Events for the transitions a user looks for with `kubectl describe`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portico.kube import ApiError, KubeClient
from portico.kube.resources import EVENT

log = logging.getLogger("portico.events")
COMPONENT = "portico"


def build_event(obj: Mapping[str, Any], kind_type: str, reason: str, message: str, now: datetime) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta.get('name', 'object')}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": meta.get("name"),
            "namespace": namespace,
            "uid": meta.get("uid"),
        },
        "type": kind_type,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class Events:
    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def post(self, obj: Mapping[str, Any], kind_type: str, reason: str, message: str) -> None:
        event = build_event(obj, kind_type, reason, message, datetime.now(UTC))
        try:
            await self._client.create(EVENT, event)
        except (ApiError, OSError) as error:  # an event is best effort, never a reason to fail
            log.debug("event %s not posted: %s", reason, error)
