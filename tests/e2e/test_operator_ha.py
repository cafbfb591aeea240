"""Two and three `portico run` processes electing one leader through a coordination.k8s.io/v1 Lease."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable

from portico.devcluster.faults import FaultRule
from tests.e2e.conftest import Cluster
from tests.e2e.process import OperatorProcess
from tests.e2e.test_operator_e2e import programmed

Start = Callable[..., Awaitable[OperatorProcess]]
LEASE_SECONDS = 6.0
LEASE = ("--lease-duration", str(LEASE_SECONDS), "--renew-deadline", "4", "--retry-period", "0.5")


async def holder(cluster: Cluster) -> str | None:
    lease = await cluster.get("Lease", "default", "portico")
    return ((lease or {}).get("spec") or {}).get("holderIdentity")


async def routed(cluster: Cluster, path: str) -> bool:
    config = await cluster.get("ConfigMap", "default", "portico-web")
    return f'"{path}"' in json.dumps(json.loads(((config or {}).get("data") or {}).get("ir.json") or "{}"))


async def route_path(cluster: Cluster, path: str) -> None:
    rules = [
        {"matches": [{"path": {"type": "PathPrefix", "value": path}}], "backendRefs": [{"name": "app", "port": 8080}]}
    ]
    await cluster.patch("HTTPRoute", "shop", "shop", {"spec": {"rules": rules}})


async def test_a_standby_takes_over_after_a_kill_and_at_once_after_a_clean_stop(
    cluster: Cluster, operator_processes: Start
) -> None:
    first = await operator_processes(*LEASE)
    await first.wait_log("leading:")
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster))
    leader = await holder(cluster)
    assert leader

    second = await operator_processes(*LEASE)
    await second.wait_log("started:")  # listed everything and watches: a warm standby
    status_writes = len(cluster.writes("gateways", "status")) + len(cluster.writes("httproutes", "status"))
    await route_path(cluster, "/while-standing-by")
    await cluster.wait_for("the leader programs the edit", lambda: routed(cluster, "/while-standing-by"))
    assert await holder(cluster) == leader
    assert "leading:" not in second.output()

    # kill -9: nothing is released; the standby waits for the lease to expire, then leads.
    first.signal(signal.SIGKILL)
    await route_path(cluster, "/after-kill")
    await cluster.wait_for(
        "the standby programs a change", lambda: routed(cluster, "/after-kill"), timeout=LEASE_SECONDS + 8
    )
    taken_over = await holder(cluster)
    assert taken_over and taken_over != leader
    assert len(cluster.writes("gateways", "status")) + len(cluster.writes("httproutes", "status")) >= status_writes

    # SIGTERM: the leader releases the Lease, so the next standby leads well within one lease duration.
    third = await operator_processes(*LEASE)
    await third.wait_log("started:")
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    second.signal(signal.SIGTERM)
    await cluster.wait_for(
        "the third replica to hold the Lease",
        lambda: _held_by_another(cluster, taken_over),
        timeout=LEASE_SECONDS - 1.5,  # without a release it could not take over before the lease expires
    )
    handover = loop.time() - stopped_at
    await route_path(cluster, "/after-term")
    await cluster.wait_for("the new leader programs a change", lambda: routed(cluster, "/after-term"))
    assert await second.exited() == 0
    assert "released the lease" in second.output()
    assert handover < LEASE_SECONDS - 1.5


async def _held_by_another(cluster: Cluster, previous: str) -> bool:
    current = await holder(cluster)
    return bool(current) and current != previous


async def test_a_leader_that_cannot_renew_stops_leading_and_exits(cluster: Cluster, operator_processes: Start) -> None:
    leader = await operator_processes("--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5")
    await leader.wait_log("leading:")
    refused = cluster.emulator.faults.add(FaultRule(500, resources=frozenset({"leases"}), authorization=""))
    # Unable to renew for the renew deadline, it stops leading and exits 1 (the Deployment restarts it).
    assert await leader.exited(timeout=15) == 1
    assert refused.injected >= 2
    assert "lost the lease" in leader.output()
