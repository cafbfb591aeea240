"""A small chaos run: 10 Gateways x 5 routes churned for ~15 s under API faults, cut watches, an
expired history, a kill -9 and a SIGTERM restart of `portico run`; the final statuses and configs must
equal what `portico status` / `portico translate` compute offline from a dump of the final objects."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import random
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from portico.cli.common import load_and_translate
from portico.cli.status import status_list
from portico.devcluster.faults import FaultRule
from portico.kube.resources import MANAGED_BY, MANAGED_BY_LABEL
from tests.e2e.conftest import Cluster
from tests.e2e.process import OperatorProcess

Start = Callable[..., Awaitable[OperatorProcess]]
GATEWAYS, ROUTES = 10, 5
OPERATOR = ""  # `portico run --server` sends no Authorization header: faults hit it, not the test
WRITES = frozenset({"create", "patch", "update", "delete"})
DUMPED = ("Namespace", "GatewayClass", "Gateway", "HTTPRoute", "Service", "EndpointSlice")


def gateway(index: int, variant: int) -> dict[str, Any]:
    listeners = [{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}]
    if variant % 3 == 1:
        listeners.append({"name": "shop", "port": 8080, "protocol": "HTTP", "hostname": "*.example.com"})
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": f"gw-{index}", "namespace": "default"},
        "spec": {"gatewayClassName": "portico", "listeners": listeners},
    }


def route(gateway_index: int, index: int, variant: int, parent: str | None = None) -> dict[str, Any]:
    backend = "no-such-service" if variant % 5 == 4 else "app"
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": f"r-{gateway_index}-{index}", "namespace": "shop"},
        "spec": {
            "parentRefs": [{"name": parent or f"gw-{gateway_index}", "namespace": "default"}],
            "hostnames": [f"h{variant % 2}.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": f"/r{index}/v{variant}"}}],
                    "backendRefs": [{"name": backend, "port": 8080}],
                }
            ],
        },
    }


async def churn(cluster: Cluster, rng: random.Random, stop: asyncio.Event) -> int:
    """Random creates, updates, re-points and deletes until `stop` is set; returns how many."""
    done = 0
    while not stop.is_set():
        g, r, variant = rng.randrange(GATEWAYS), rng.randrange(ROUTES), rng.randrange(100)
        action = rng.choice(["edit", "edit", "edit", "repoint", "delete-route", "gateway", "delete-gateway"])
        name = f"r-{g}-{r}"
        if action == "edit":
            await _upsert(cluster, route(g, r, variant))
        elif action == "repoint":
            parent = rng.choice([f"gw-{rng.randrange(GATEWAYS)}", "gw-missing"])
            await _upsert(cluster, route(g, r, variant, parent))
        elif action == "delete-route":
            await cluster.delete("HTTPRoute", "shop", name)
        elif action == "gateway":
            await _upsert(cluster, gateway(g, variant))
        else:
            await cluster.delete("Gateway", "default", f"gw-{g}")
        done += 1
        await asyncio.sleep(0.02)  # pacing: about 40 changes a second
    return done


async def _upsert(cluster: Cluster, obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    current = await cluster.get(obj["kind"], meta["namespace"], meta["name"])
    if current is None:
        await cluster.create(obj)
    elif not current["metadata"].get("deletionTimestamp"):
        await cluster.patch(obj["kind"], meta["namespace"], meta["name"], {"spec": obj["spec"]})


def dump(cluster: Cluster) -> list[dict[str, Any]]:
    """The final objects as a user would export them, without status and resourceVersions."""
    out = []
    for obj in cluster.emulator.objects.values():
        if obj.get("kind") in DUMPED:
            meta = {
                k: v
                for k, v in obj["metadata"].items()
                if k in ("name", "namespace", "labels", "uid", "generation", "creationTimestamp")
            }
            out.append({**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta})
    return sorted(
        out, key=lambda o: (DUMPED.index(o["kind"]), o["metadata"].get("namespace", ""), o["metadata"]["name"])
    )


def conditions(status: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    return sorted((c["type"], c["status"], c["reason"]) for c in (status or {}).get("conditions") or ())


def essence(items: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What must agree: Gateway conditions and attached routes, Portico's route parent entries."""
    out: dict[tuple[str, str], Any] = {}
    for obj in items:
        status = obj.get("status") or {}
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind == "Gateway":
            listeners = [
                (x["name"], x.get("attachedRoutes"), tuple(conditions(x))) for x in status.get("listeners") or ()
            ]
            out[(kind, name)] = (conditions(status), listeners)
        elif kind == "HTTPRoute":
            parents = {
                p["parentRef"]["name"]: conditions(p)
                for p in status.get("parents") or ()
                if str(p.get("controllerName", "")).startswith("portico.dev/")
            }
            if parents:
                out[(kind, name)] = parents
    return out


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON documents first differ, for a readable failure."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next(
            (f for i, (x, y) in enumerate(zip(a, b, strict=True)) if (f := first_difference(x, y, f"{path}[{i}]"))),
            None,
        )
    return None if a == b else f"{path}: {json.dumps(a)[:300]} != {json.dumps(b)[:300]}"


def offline(path: Path, command: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "portico.cli", command, "-f", str(path), "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(result.stdout))


def live(cluster: Cluster) -> list[dict[str, Any]]:
    return [o for o in cluster.emulator.objects.values() if o.get("kind") in ("Gateway", "HTTPRoute")]


def config_irs(cluster: Cluster) -> dict[str, Any]:
    out = {}
    for obj in cluster.emulator.objects.values():
        if obj.get("kind") != "ConfigMap" or (obj["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY:
            continue
        packed = (obj.get("binaryData") or {}).get("ir.json")
        text = gzip.decompress(base64.b64decode(packed)).decode() if packed else obj["data"]["ir.json"]
        ir = json.loads(text)
        out[ir["gateway"]["name"]] = ir
    return out


async def chaos(cluster: Cluster, operator_processes: Start) -> tuple[int, dict[int, int], list[FaultRule]]:
    """About 15 s of churn under faults while operators run, die and restart (each restart waits
    until the new process has listed everything); returns the changes made and the faults injected."""
    running = await operator_processes("--standalone")
    await running.wait_log("started:", timeout=60)

    faults = cluster.emulator.faults
    faults.reseed(1818)
    rules = [
        # The first few of each for certain (however slow the machine), then at the chaos rates.
        *(faults.add(FaultRule(code, times=2, verbs=WRITES, authorization=OPERATOR)) for code in (500, 429, 409)),
        faults.add(FaultRule(500, rate=0.05, authorization=OPERATOR)),
        faults.add(FaultRule(429, rate=0.05, authorization=OPERATOR)),
        faults.add(FaultRule(409, rate=0.03, verbs=WRITES, authorization=OPERATOR)),
    ]
    stop = asyncio.Event()
    churning = asyncio.create_task(churn(cluster, random.Random(18), stop))
    # About 15 s of churn while an operator runs (restarts wait until the new process has listed).
    await asyncio.sleep(3)
    faults.cut_watches()
    await asyncio.sleep(2)
    running.signal(signal.SIGKILL)  # no clean-up at all
    running = await operator_processes("--standalone")
    await running.wait_log("started:", timeout=60)
    await asyncio.sleep(3)
    faults.expire(int(cluster.emulator.store.resource_version))
    faults.cut_watches()
    await asyncio.sleep(2)
    await running.stop()  # SIGTERM
    running = await operator_processes("--standalone")
    await running.wait_log("started:", timeout=60)
    await asyncio.sleep(5)
    stop.set()
    changes = await churning
    injected = dict(faults.injected)
    faults.clear()
    return changes, injected, rules


async def test_churn_with_faults_and_restarts_ends_where_offline_translation_says(
    cluster: Cluster, operator_processes: Start, tmp_path: Path
) -> None:
    await cluster.apply("base.yaml")
    for g in range(GATEWAYS):
        await cluster.create(gateway(g, 0))
        for r in range(ROUTES):
            await cluster.create(route(g, r, 0))
    changes, injected, rules = await chaos(cluster, operator_processes)

    dump_path = tmp_path / "final.yaml"
    differences: list[str | None] = []

    async def converged() -> bool:
        objects = dump(cluster)
        dump_path.write_text(yaml.safe_dump_all(objects))
        loaded = load_and_translate([str(dump_path)])
        assert loaded is not None
        expected = essence(status_list(*loaded)["items"])
        irs = {name: ir.to_dict() for (_, name), ir in loaded[1].ir_by_gateway.items()}
        differences[:] = [
            first_difference(essence(live(cluster)), expected),
            first_difference(config_irs(cluster), irs),
        ]
        return not any(differences)

    try:
        await cluster.wait_for("the final state offline translation computes", converged, timeout=60)
    except AssertionError as error:
        raise AssertionError(f"{error}: {differences}") from None

    # The same comparison through the commands a user runs, on the dump.
    status = offline(dump_path, "status")
    assert essence(live(cluster)) == essence(status["items"])
    translated = {ir["gateway"]["name"]: ir for ir in offline(dump_path, "translate")["gateways"]}
    assert config_irs(cluster) == translated, first_difference(config_irs(cluster), translated)
    # Nothing orphaned: every object Portico made belongs to a Gateway that exists.
    gateways = {o["metadata"]["name"] for o in cluster.emulator.objects.values() if o.get("kind") == "Gateway"}
    for obj in cluster.emulator.objects.values():
        if (obj["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY:
            assert obj["metadata"]["name"].removeprefix("portico-") in gateways, obj["metadata"]["name"]
    requests = sum(cluster.emulator.reads.values()) + sum(cluster.emulator.writes.values())
    diagnosis = (changes, injected, [r.injected for r in rules], requests)
    assert changes > 100 and injected.get(500) and injected.get(429) and injected.get(409), diagnosis
