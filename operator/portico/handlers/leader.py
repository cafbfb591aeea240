"""Leader election with a `coordination.k8s.io/v1` Lease, as Kubernetes' own controllers do it.

A candidate takes the Lease when it is free (no holder) or expired: its record has not changed
for `lease_duration` seconds *as observed by this candidate's own clock* (so clocks between
nodes never need to agree). The leader renews every `retry_period`; if it cannot renew for
`renew_deadline` it stops leading (the process then exits and starts again as a standby). On a
clean shutdown the leader releases the Lease (no holder, duration 1 s), so a standby takes over
within one `retry_period` instead of waiting for the lease to expire.

Every write carries the resourceVersion it read, so two candidates can never both win.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from portico.kube import ApiError, KubeClient
from portico.kube.resources import LEASE

log = logging.getLogger("portico.leader")


@dataclass(frozen=True)
class LeaseConfig:
    name: str
    namespace: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError(
                "--lease-duration must be greater than --renew-deadline, which must be greater than --retry-period "
                f"(got {self.lease_duration}, {self.renew_deadline}, {self.retry_period})"
            )


def micro_time(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(self, client: KubeClient, config: LeaseConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self.config = config
        self._clock = clock
        self._observed: tuple[Any, float] | None = None  # (holder record, when this candidate saw it change)
        self.leading = False
        self.transitions = 0

    def _spec(self, previous: dict[str, Any] | None, duration: float | None = None) -> dict[str, Any]:
        now = micro_time(datetime.now(UTC))
        spec = dict(previous or {})
        taking_over = spec.get("holderIdentity") != self.config.identity
        spec.update(
            holderIdentity=self.config.identity,
            leaseDurationSeconds=max(1, round(duration or self.config.lease_duration)),
            renewTime=now,
        )
        if taking_over:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if previous else 0)
        return spec

    def expired(self, spec: dict[str, Any]) -> bool:
        """True when the holder's record has not changed for its lease duration, by our clock."""
        record = (spec.get("holderIdentity"), spec.get("renewTime"), spec.get("leaseDurationSeconds"))
        now = self._clock()
        if self._observed is None or self._observed[0] != record:
            self._observed = (record, now)
        duration = float(spec.get("leaseDurationSeconds") or self.config.lease_duration)
        return now - self._observed[1] >= duration

    async def try_acquire_or_renew(self) -> bool:
        """One attempt; True when this candidate holds the Lease afterwards."""
        lease = await self._client.get_or_none(LEASE, self.config.namespace, self.config.name)
        if lease is None:
            body = {
                "apiVersion": LEASE.api_version,
                "kind": LEASE.kind,
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": self._spec(None),
            }
            await self._client.create(LEASE, body)
            return True
        spec = dict(lease.get("spec") or {})
        holder = spec.get("holderIdentity")
        if holder and holder != self.config.identity and not self.expired(spec):
            return False
        patch = {"metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]}, "spec": self._spec(spec)}
        await self._client.patch(LEASE, self.config.namespace, self.config.name, patch)
        return True

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except (ApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.debug("lease %s/%s: %s", self.config.namespace, self.config.name, error)
            return False

    async def acquire(self) -> None:
        """Return once this candidate leads; tries every retry_period (with jitter)."""
        while not await self._attempt():
            await asyncio.sleep(self.config.retry_period * (1 + 0.2 * random.random()))
        self.leading = True
        self.transitions += 1
        log.info("leading: lease %s/%s held by %s", self.config.namespace, self.config.name, self.config.identity)

    async def keep(self) -> None:
        """Renew until a renewal has failed for renew_deadline; then return (leadership lost)."""
        last = self._clock()
        while True:
            await asyncio.sleep(self.config.retry_period)
            if await self._attempt():
                last = self._clock()
            elif self._clock() - last >= self.config.renew_deadline:
                self.leading = False
                log.error(
                    "lost the lease %s/%s: not renewed for %.0fs",
                    self.config.namespace,
                    self.config.name,
                    self.config.renew_deadline,
                )
                return

    async def release(self) -> None:
        """Give the Lease up so a standby takes over at once (best effort: it expires anyway)."""
        if not self.leading:
            return
        self.leading = False
        try:
            lease = await self._client.get(LEASE, self.config.namespace, self.config.name)
            if (lease.get("spec") or {}).get("holderIdentity") != self.config.identity:
                return
            spec = {"holderIdentity": None, "leaseDurationSeconds": 1, "renewTime": micro_time(datetime.now(UTC))}
            patch = {"metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]}, "spec": spec}
            await self._client.patch(LEASE, self.config.namespace, self.config.name, patch)
            log.info("released the lease %s/%s", self.config.namespace, self.config.name)
        except (ApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("lease %s/%s not released: %s", self.config.namespace, self.config.name, error)


async def lead(elector: LeaderElector, on_started: Callable[[], Awaitable[None]]) -> None:
    """Acquire, run `on_started`, and keep the lease; returns when leadership is lost."""
    await elector.acquire()
    await on_started()
    await elector.keep()
