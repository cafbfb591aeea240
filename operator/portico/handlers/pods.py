"""The pods that speak for Services' health checks, read one at a time and remembered.

Watching every Pod would make the operator hold and re-read the busiest objects of a cluster (each
status change of each Pod, thousands per minute in a big one) for a few probe fields. Instead a
reconcile reads, per Service it routes to, only the Pod the translation listens to (the first ready
endpoint in address order, see portico.translate.probes), and only if it has not read that Pod
before: a Pod's containers and probes cannot change after it is created, so a Pod read once (by
uid) is good until it is gone. A new Pod shows up through the EndpointSlices, which the operator
watches anyway. A Pod that cannot be read (gone, forbidden) only means no learnt health check.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

from portico.api.base import parse_as
from portico.api.core import EndpointSlice
from portico.kube import ApiError, KubeClient
from portico.kube.resources import POD
from portico.translate.probes import PodRef, speakers

log = logging.getLogger("portico.pods")

# Pods whose answer was not found are tried in order, so a Pod deleted since the slice was written
# costs one more GET, not a missing health check; beyond this many the Service has none this time.
MAX_TRIES_PER_SERVICE = 3
# A 403 (a ClusterRole without `get pods`, e.g. an older chart) is the same for every Pod: no reads
# for this long, instead of one refused GET per Service per reconcile.
FORBIDDEN_PAUSE_S = 300.0


def trimmed_pod(pod: Mapping[str, Any]) -> dict[str, Any]:
    """What health checks read of a Pod: its identity and its containers' ports and probes."""
    meta = pod.get("metadata") or {}
    containers = [
        {k: c[k] for k in ("name", "ports", "readinessProbe", "livenessProbe") if k in c}
        for c in (pod.get("spec") or {}).get("containers") or ()
        if isinstance(c, Mapping)
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid") if k in meta},
        "spec": {"containers": containers},
    }


class PodReader:
    def __init__(self, client: KubeClient, capacity: int = 4096) -> None:
        self._client = client
        self._capacity = capacity
        self._known: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._gone: set[PodRef] = set()
        self._paused_until = 0.0
        self.reads = 0

    async def speaking_pods(self, objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The speaking Pod of every Service whose EndpointSlices are among `objects`."""
        by_service: dict[tuple[str, str], list[EndpointSlice]] = {}
        for obj in objects:
            if obj.get("kind") != "EndpointSlice":
                continue
            eps = parse_as(EndpointSlice, obj)
            if isinstance(eps, EndpointSlice) and eps.service_name:
                by_service.setdefault((eps.metadata.namespace, eps.service_name), []).append(eps)
        found: list[dict[str, Any]] = []
        for service in sorted(by_service):
            tries = 0
            for _, ref in speakers(by_service[service]):
                if ref in self._gone:
                    continue
                if tries == MAX_TRIES_PER_SERVICE:
                    break
                pod = self._remembered(ref)
                if pod is None:
                    tries += 1
                    pod = await self._read(ref)
                if pod is not None:
                    found.append(pod)
                    break
        return found

    def _remembered(self, ref: PodRef) -> dict[str, Any] | None:
        namespace, name, uid = ref
        pod = self._known.get((namespace, name))
        if pod is None or (uid and pod["metadata"].get("uid", uid) != uid):
            return None  # never read, or a new Pod with the old one's name (a StatefulSet's)
        self._known.move_to_end((namespace, name))
        return pod

    async def _read(self, ref: PodRef) -> dict[str, Any] | None:
        namespace, name, _ = ref
        if time.monotonic() < self._paused_until:
            return None
        self.reads += 1
        try:
            pod = trimmed_pod(await self._client.get(POD, namespace, name))
        except ApiError as error:
            if error.not_found:
                self._gone.add(ref)
                if len(self._gone) > self._capacity:
                    self._gone.clear()
            elif error.status == 403:
                self._paused_until = time.monotonic() + FORBIDDEN_PAUSE_S
                log.warning("pods: reading them is forbidden (%s); no learnt health checks for a while", error)
            else:
                log.warning("pod %s/%s: cannot read its probes (%s); no learnt health check", namespace, name, error)
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("pod %s/%s: cannot read its probes (%s); no learnt health check", namespace, name, error)
            return None
        self._known[(namespace, name)] = pod
        if len(self._known) > self._capacity:
            self._known.popitem(last=False)
        return pod
