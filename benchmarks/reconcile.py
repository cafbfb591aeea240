"""The operator against the emulated API server: G Gateways x R HTTPRoutes created at once.

Reports the time until every Gateway is Programmed, the operator's peak RSS, and the number of
status writes next to the number of objects that needed one (target: one write per object).
A baseline with a tenth of the Gateways runs first in the same invocation, so the scaling shows
on whatever machine runs it. The operator is the real `portico run --server`, in its own process.
Run: .venv/bin/python benchmarks/reconcile.py [--gateways 200] [--routes 20] [--timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kmock._internal.apps import Server

from portico.devcluster import ClusterEmulator, declare_resources
from portico.kube import KubeClient, resource_for
from portico.kube.client import Connection
from portico.kube.resources import GATEWAY

GROUP = "gateway.networking.k8s.io/v1"


def objects(gateways: int, routes: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "apiVersion": GROUP,
            "kind": "GatewayClass",
            "metadata": {"name": "portico"},
            "spec": {"controllerName": "portico.dev/proxy"},
        },
    ]
    for g in range(gateways):
        ns = f"team-{g}"
        out.append(
            {
                "apiVersion": GROUP,
                "kind": "Gateway",
                "metadata": {"name": "gw", "namespace": ns},
                "spec": {
                    "gatewayClassName": "portico",
                    "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
                },
            }
        )
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "app", "namespace": ns},
                "spec": {"ports": [{"port": 8080}]},
            }
        )
        out.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": "app-1", "namespace": ns, "labels": {"kubernetes.io/service-name": "app"}},
                "ports": [{"port": 8080}],
                "endpoints": [{"addresses": [f"10.{g // 250}.{g % 250}.1"]}],
            }
        )
        for r in range(routes):
            out.append(
                {
                    "apiVersion": GROUP,
                    "kind": "HTTPRoute",
                    "metadata": {"name": f"r{r}", "namespace": ns},
                    "spec": {
                        "parentRefs": [{"name": "gw"}],
                        "rules": [
                            {
                                "matches": [{"path": {"type": "PathPrefix", "value": f"/r{r}"}}],
                                "backendRefs": [{"name": "app", "port": 8080}],
                            }
                        ],
                    },
                }
            )
    return out


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def programmed(client: KubeClient) -> int:
    count = 0
    for gw in await client.list(GATEWAY):
        conds = (gw.get("status") or {}).get("conditions") or []
        count += any(c.get("type") == "Programmed" and c.get("status") == "True" for c in conds)
    return count


async def measure(gateways: int, routes: int, timeout: float) -> dict[str, Any]:
    async with ClusterEmulator() as emulator, Server(emulator) as server:
        declare_resources(emulator)
        url = str(server.url).rstrip("/")
        operator = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from portico.cli import main; raise SystemExit(main())",
                "run",
                "--server",
                url,
                "--standalone",
                "--liveness",
                "",
                "--log-level",
                "WARNING",
            ],
        )
        try:
            async with KubeClient(Connection(server=url)) as client:
                await asyncio.sleep(2.0)  # let the operator list and start watching
                started = time.monotonic()
                limit = asyncio.Semaphore(32)

                async def create(obj: dict[str, Any]) -> None:
                    async with limit:
                        await client.create(resource_for(obj["kind"]), obj)

                await asyncio.gather(*(create(obj) for obj in objects(gateways, routes)))
                created = time.monotonic() - started
                done = 0
                while done < gateways and time.monotonic() - started < timeout and operator.poll() is None:
                    await asyncio.sleep(1.0)
                    done = await programmed(client)
                elapsed = time.monotonic() - started
                await asyncio.sleep(3.0)  # let trailing status writes land before counting
                writes = {
                    plural: n
                    for (plural, sub, method), n in emulator.writes.items()
                    if sub == "status" and method == "PATCH"
                }
                rss = peak_rss_mib(operator.pid)
        finally:
            operator.terminate()
            operator.wait(30)
    return {
        "gateways": gateways,
        "routes": gateways * routes,
        "programmed": done,
        "create_s": created,
        "all_programmed_s": elapsed,
        "peak_rss_mib": rss,
        "status_writes": dict(writes),
        "objects_with_status": 1 + gateways + gateways * routes,
        "conflicts": emulator.conflicts,
    }


def report(result: dict[str, Any]) -> None:
    writes = sum(result["status_writes"].values())
    print(
        f"{result['gateways']:>4} gateways x {result['routes'] // max(result['gateways'], 1)} routes: "
        f"{result['programmed']}/{result['gateways']} programmed in {result['all_programmed_s']:.1f}s "
        f"(objects created in {result['create_s']:.1f}s); peak RSS {result['peak_rss_mib']:.0f} MiB; "
        f"{writes} status writes for {result['objects_with_status']} objects "
        f"({writes / result['objects_with_status']:.2f} per object; by resource {result['status_writes']}); "
        f"{result['conflicts']} conflicts"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=200)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    print("baseline:")
    report(asyncio.run(measure(max(args.gateways // 10, 1), args.routes, args.timeout)))
    print("measured:")
    result = asyncio.run(measure(args.gateways, args.routes, args.timeout))
    report(result)
    return 0 if result["programmed"] == args.gateways else 1


if __name__ == "__main__":
    raise SystemExit(main())
