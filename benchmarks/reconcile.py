"""The operator against the emulated API server: G Gateways x R HTTPRoutes created at once.

Two runs on the same emulator code, in one invocation:

- baseline: no operator. One client makes the same creates, then the API traffic the operator
  cannot avoid: for every Gateway its three proxy objects, for every object with a status one
  GET and one status PATCH. This is what the emulator alone costs, so the operator's own cost is
  the difference.
- measured: the real `portico run --server` in its own process. Reports the time from the first
  create until every Gateway is Programmed, the operator's peak RSS, and the status writes per
  kind next to the number of objects that have a status (target: one write per changed object).
  Then every Gateway gets a new label (a change that alters no status): each is reconciled
  again, and the status writes of that phase must be zero.

With `--churn SECONDS`, two churn phases follow on the same cluster and operator: random route
edits, deletes and re-creates (seeded) for that long, first without faults (the baseline), then with
the emulator injecting 5% 500, 5% 429 and 3% 409 into the operator's requests and cutting its watches
every 2 s. Each reports the changes made, the time from the last change until every Gateway's config
and attachedRoutes match the routes that exist (convergence), and the writes it took.

Run: .venv/bin/python benchmarks/reconcile.py [--gateways 200] [--routes 20] [--timeout 600] [--churn 0]
Figures from one machine are in docs/operator.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kmock._internal.apps import Server

from portico.devcluster import ClusterEmulator, declare_resources
from portico.devcluster.faults import FaultRule
from portico.kube import KubeClient, resource_for
from portico.kube.client import Connection
from portico.kube.resources import GATEWAY, HTTP_ROUTE

GROUP = "gateway.networking.k8s.io/v1"
CONCURRENCY = 32
STATUS_KINDS = ("GatewayClass", "Gateway", "HTTPRoute")
BENCHMARK_TOKEN = "benchmark"  # the benchmark's own requests carry it; injected faults only hit the operator
PATH = re.compile(r'"(/r[0-9]+(?:-[0-9]+)?)"')


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


async def gather_limited(calls: list[Any]) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Any) -> None:
        async with limit:
            await call()

    await asyncio.gather(*(one(call) for call in calls))


async def create_all(client: KubeClient, items: list[dict[str, Any]]) -> None:
    await gather_limited([lambda obj=obj: client.create(resource_for(obj["kind"]), obj) for obj in items])


async def baseline(gateways: int, routes: int) -> dict[str, Any]:
    """The emulator alone: the same creates, then the minimum traffic of a reconcile."""
    items = objects(gateways, routes)
    async with ClusterEmulator() as emulator, Server(emulator) as server:
        declare_resources(emulator)
        async with KubeClient(Connection(server=str(server.url).rstrip("/"))) as client:
            started = time.monotonic()
            await create_all(client, items)
            created = time.monotonic() - started
            proxy_objects = []
            for g in range(gateways):
                meta = {"name": "portico-gw", "namespace": f"team-{g}"}
                proxy_objects += [
                    {"kind": "ConfigMap", "metadata": meta, "data": {"ir.json": "{}"}},
                    {"kind": "Deployment", "metadata": meta, "spec": {"replicas": 1}},
                    {"kind": "Service", "metadata": meta, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
                ]
            await create_all(client, proxy_objects)

            async def write_status(obj: dict[str, Any]) -> None:
                resource = resource_for(obj["kind"])
                meta = obj["metadata"]
                current = await client.get(resource, meta.get("namespace"), meta["name"])
                body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}, "status": {"x": 1}}
                await client.patch(resource, meta.get("namespace"), meta["name"], body, subresource="status")

            with_status = [obj for obj in items if obj["kind"] in STATUS_KINDS]
            await gather_limited([lambda obj=obj: write_status(obj) for obj in with_status])
            elapsed = time.monotonic() - started
    requests = sum(emulator.writes.values()) + sum(emulator.reads.values())
    return {"create_s": created, "total_s": elapsed, "requests": requests}


def status_writes(emulator: ClusterEmulator, since: int = 0) -> Counter[str]:
    return Counter(r.plural for r in emulator.write_log[since:] if r.subresource == "status" and r.method == "PATCH")


def written_twice(emulator: ClusterEmulator) -> Counter[str]:
    per_object = Counter(
        (r.plural, r.namespace, r.name) for r in emulator.write_log if r.subresource == "status" and r.method == "PATCH"
    )
    return Counter(plural for (plural, _, _), n in per_object.items() if n > 1)


async def programmed(client: KubeClient) -> int:
    count = 0
    for gw in await client.list(GATEWAY):
        conds = (gw.get("status") or {}).get("conditions") or []
        count += any(c.get("type") == "Programmed" and c.get("status") == "True" for c in conds)
    return count


async def quiet(emulator: ClusterEmulator, seconds: float = 2.0) -> None:
    """Wait until no request reached the emulator for `seconds` (trailing writes have landed)."""
    last = -1
    while True:
        now = sum(emulator.writes.values()) + sum(emulator.reads.values())
        if now == last:
            return
        last = now
        await asyncio.sleep(seconds)


def start_operator(url: str) -> subprocess.Popen[bytes]:
    command = "from portico.cli import main; raise SystemExit(main())"
    flags = ["run", "--server", url, "--standalone", "--liveness", "", "--log-level", "WARNING"]
    return subprocess.Popen([sys.executable, "-c", command, *flags])


def route(g: int, r: int, path: str) -> dict[str, Any]:
    rule = {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "backendRefs": [{"name": "app", "port": 8080}],
    }
    return {
        "apiVersion": GROUP,
        "kind": "HTTPRoute",
        "metadata": {"name": f"r{r}", "namespace": f"team-{g}"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [rule]},
    }


def configured(emulator: ClusterEmulator, g: int) -> tuple[set[str], Any]:
    """The route paths in a Gateway's proxy config, and its first listener's attachedRoutes."""
    store = emulator.store.objects
    config = store.get(("v1/configmaps", f"team-{g}", "portico-gw")) or {}
    packed = (config.get("binaryData") or {}).get("ir.json")
    text = (
        gzip.decompress(base64.b64decode(packed)).decode() if packed else (config.get("data") or {}).get("ir.json", "")
    )
    gateway = store.get((f"{GROUP.rsplit('/', 1)[0]}/v1/gateways", f"team-{g}", "gw")) or {}
    listeners = (gateway.get("status") or {}).get("listeners") or [{}]
    return set(PATH.findall(text)), listeners[0].get("attachedRoutes")


async def churn(
    emulator: ClusterEmulator,
    client: KubeClient,
    paths: dict[tuple[int, int], str],
    shape: tuple[int, int],
    seconds: float,
    faults: bool,
) -> dict[str, Any]:
    """Seeded random route changes for `seconds` (with or without faults), then time to convergence.

    `paths` holds the path of every route that exists, by (gateway, route); it is kept up to date."""
    gateways, routes = shape
    rng = random.Random(18 + faults)
    mark, changes = len(emulator.write_log), 0
    if faults:
        emulator.faults.reseed(18)
        for code, rate, verbs in (
            (500, 0.05, frozenset()),
            (429, 0.05, frozenset()),
            (409, 0.03, frozenset({"patch"})),
        ):
            emulator.faults.add(FaultRule(code, rate=rate, verbs=verbs, authorization=""))
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_cut = started + 2
    while loop.time() - started < seconds:
        batch = []
        picked = {(rng.randrange(gateways), rng.randrange(routes)) for _ in range(CONCURRENCY)}  # one change each
        for g, r in sorted(picked):
            changes += 1
            if (g, r) in paths and rng.random() < 0.2:
                del paths[(g, r)]
                batch.append(lambda g=g, r=r: client.delete(HTTP_ROUTE, f"team-{g}", f"r{r}"))
            elif (g, r) in paths:
                paths[(g, r)] = f"/r{r}-{changes}"
                body = {"spec": route(g, r, paths[(g, r)])["spec"]}
                batch.append(lambda g=g, r=r, body=body: client.patch(HTTP_ROUTE, f"team-{g}", f"r{r}", body))
            else:
                paths[(g, r)] = f"/r{r}-{changes}"
                batch.append(lambda g=g, r=r: client.create(HTTP_ROUTE, route(g, r, paths[(g, r)])))
        await gather_limited(batch)
        if faults and loop.time() >= next_cut:
            emulator.faults.cut_watches()
            next_cut += 2
    injected = dict(emulator.faults.injected)
    emulator.faults.clear()
    emulator.faults.injected.clear()
    ended = loop.time()
    expected = {g: ({p for (gg, _), p in paths.items() if gg == g}) for g in range(gateways)}
    while any(configured(emulator, g) != (expected[g], len(expected[g])) for g in range(gateways)):
        if loop.time() - ended > 120:
            break
        await asyncio.sleep(0.1)
    converged = loop.time() - ended
    await quiet(emulator)
    log = emulator.write_log[mark:]
    return {
        "changes": changes,
        "converged_s": converged,
        "status_writes": sum(1 for r in log if r.subresource == "status" and r.method == "PATCH"),
        "config_writes": sum(1 for r in log if r.plural == "configmaps" and r.method in ("PATCH", "POST")),
        "injected": injected,
        "stale": sum(configured(emulator, g) != (expected[g], len(expected[g])) for g in range(gateways)),
    }


async def measure(gateways: int, routes: int, timeout: float, churn_seconds: float = 0.0) -> dict[str, Any]:
    async with ClusterEmulator() as emulator, Server(emulator) as server:
        declare_resources(emulator)
        url = str(server.url).rstrip("/")
        operator = start_operator(url)
        try:
            async with KubeClient(Connection(server=url, token=BENCHMARK_TOKEN)) as client:
                while not emulator.reads[("gatewayparameters", "", "watch")]:  # the operator is watching
                    if operator.poll() is not None:
                        raise SystemExit(f"the operator exited with {operator.returncode} before watching")
                    await asyncio.sleep(0.1)
                started = time.monotonic()
                await create_all(client, objects(gateways, routes))
                created = time.monotonic() - started
                done = 0
                while done < gateways and time.monotonic() - started < timeout and operator.poll() is None:
                    await asyncio.sleep(0.5)
                    done = await programmed(client)
                elapsed = time.monotonic() - started
                await quiet(emulator)
                first = status_writes(emulator)
                twice = written_twice(emulator)
                mark, observed = len(emulator.write_log), emulator.reads[("configmaps", "", "get")]
                label = {"metadata": {"labels": {"benchmark": "touched"}}}
                await gather_limited(
                    [lambda g=g: client.patch(GATEWAY, f"team-{g}", "gw", label) for g in range(gateways)]
                )
                await quiet(emulator)
                touched = {
                    "conflicts": emulator.conflicts,
                    "touch_reconciles": emulator.reads[("configmaps", "", "get")] - observed,
                    "touch_status_writes": sum(status_writes(emulator, mark).values()),
                }
                phases = {}
                paths = {(g, r): f"/r{r}" for g in range(gateways) for r in range(routes)}
                if churn_seconds:
                    for name, faults in (("baseline", False), ("faults", True)):
                        shape = (gateways, routes)
                        phases[name] = await churn(emulator, client, paths, shape, churn_seconds, faults)
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
        "status_writes": dict(first),
        "written_twice": dict(twice),
        "objects_with_status": 1 + gateways + gateways * routes,
        **touched,
        "churn": phases,
    }


def report(base: dict[str, Any], result: dict[str, Any], routes: int) -> None:
    writes = sum(result["status_writes"].values())
    print(
        f"baseline (emulator alone, {base['requests']} requests): creates {base['create_s']:.1f}s, "
        f"creates + minimal reconcile traffic {base['total_s']:.1f}s"
    )
    print(
        f"operator: {result['gateways']} gateways x {routes} routes: {result['programmed']}/{result['gateways']} "
        f"Programmed {result['all_programmed_s']:.1f}s after the first create "
        f"(creates took {result['create_s']:.1f}s); "
        f"peak RSS {result['peak_rss_mib']:.0f} MiB"
    )
    print(
        f"status writes: {writes} for {result['objects_with_status']} objects with a status "
        f"({writes / result['objects_with_status']:.2f} per object; by resource {result['status_writes']}; "
        f"objects written more than once {result['written_twice']}); {result['conflicts']} conflicts"
    )
    print(
        f"touching every Gateway's labels: {result['touch_reconciles']} reconciles, "
        f"{result['touch_status_writes']} status writes (target 0)"
    )
    for name, phase in result["churn"].items():
        print(
            f"churn ({name}): {phase['changes']} route changes; converged {phase['converged_s']:.1f}s after the last; "
            f"{phase['status_writes']} status writes, {phase['config_writes']} config writes; "
            f"faults injected {phase['injected'] or 'none'}; Gateways still stale {phase['stale']}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=200)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--churn", type=float, default=0.0, help="seconds of churn per phase (0: none)")
    args = parser.parse_args()
    base = asyncio.run(baseline(args.gateways, args.routes))
    result = asyncio.run(measure(args.gateways, args.routes, args.timeout, args.churn))
    report(base, result, args.routes)
    stale = sum(phase["stale"] for phase in result["churn"].values())
    return 0 if result["programmed"] == args.gateways and result["touch_status_writes"] == 0 and not stale else 1


if __name__ == "__main__":
    raise SystemExit(main())
