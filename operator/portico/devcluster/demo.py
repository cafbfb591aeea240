"""`portico demo`: an embedded API server, two backends, the operator, and the proxy in-process.

The proxy provider runs in `local` mode: instead of a Deployment, the Gateways' IR goes to an
in-process `portico_proxy.runtime.ProxyRuntime`. The demo then sends requests through it and
checks which backend answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from kmock._internal.apps import Server

from portico.devcluster.backends import EchoBackend
from portico.devcluster.emulator import ClusterEmulator, declare_resources
from portico.handlers import Operator, OperatorConfig
from portico.kube import KubeClient, resource_for
from portico.kube.client import Connection
from portico.manifests import load_manifests


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def point_at_backends(obj: dict[str, Any], ports: Mapping[str, int]) -> dict[str, Any]:
    """The quickstart's Services and EndpointSlices, aimed at the ports the demo's backends bound."""
    name = obj["metadata"]["name"]
    if name not in ports:
        return obj
    if obj["kind"] == "EndpointSlice":
        return {**obj, "ports": [{**p, "port": ports[name]} for p in obj.get("ports") or []]}
    if obj["kind"] == "Service":
        spec = obj["spec"]
        return {**obj, "spec": {**spec, "ports": [{**p, "targetPort": ports[name]} for p in spec["ports"]]}}
    return obj


async def _get(session: aiohttp.ClientSession, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    async with session.get(url, headers=headers) as response:
        text = await response.text()
        try:
            body: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            body = {"backend": None, "error": text[:200]}
        body["status"] = response.status
        return body


async def run_checks(base: str) -> list[Check]:
    async with aiohttp.ClientSession() as session:
        store = await _get(session, f"{base}/store/cart")
        canary = await _get(session, f"{base}/anything", {"X-Canary": "true"})
        split = Counter([(await _get(session, f"{base}/")).get("backend") for _ in range(40)])
    added = {k.lower(): v for k, v in (store.get("headers") or {}).items()}.get("x-portico-demo")
    return [
        Check("path /store -> echo-v1", store.get("backend") == "echo-v1", f"answered by {store.get('backend')}"),
        Check("header modifier adds X-Portico-Demo", added == "quickstart", f"backend saw X-Portico-Demo={added}"),
        Check(
            "header X-Canary: true -> echo-v2",
            canary.get("backend") == "echo-v2",
            f"answered by {canary.get('backend')}",
        ),
        Check(
            "weighted 50/50 split reaches both",
            set(split) == {"echo-v1", "echo-v2"},
            ", ".join(f"{k}: {v}" for k, v in sorted(split.items(), key=str)),
        ),
    ]


async def wait_programmed(client: KubeClient, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        gateway = await client.get(resource_for("Gateway"), "default", "quickstart")
        conditions = (gateway.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Programmed" and c.get("status") == "True" for c in conditions):
            return gateway
        if time.monotonic() > deadline:
            raise TimeoutError(f"Gateway not Programmed after {timeout:.0f}s; status: {gateway.get('status')}")
        await asyncio.sleep(0.1)


async def demo(manifests: Path, once: bool, timeout: float = 30.0) -> int:
    started = time.monotonic()
    runtime_module = importlib.import_module("portico_proxy.runtime")
    runtime = runtime_module.ProxyRuntime(address="127.0.0.1", admin_port=None, secrets_dir=None)
    backends = {name: EchoBackend(name) for name in ("echo-v1", "echo-v2")}
    async with ClusterEmulator() as emulator, Server(emulator) as server:
        declare_resources(emulator)
        for backend in backends.values():
            await backend.start()
        await runtime.start()
        connection = Connection(server=str(server.url).rstrip("/"))
        config = OperatorConfig(
            connection=connection,
            standalone=True,
            quiet_seconds=0.05,
            max_delay_seconds=0.5,
            provider_options={"proxy": {"mode": "local", "runtime": runtime}},
        )
        stop, ready = asyncio.Event(), asyncio.Event()
        operator = asyncio.create_task(Operator(config).run(stop_flag=stop, ready_flag=ready))
        try:
            await asyncio.wait_for(ready.wait(), timeout)
            async with KubeClient(connection) as client:
                ports = {name: b.port for name, b in backends.items()}
                for manifest in load_manifests([manifests]):
                    await client.create(resource_for(manifest.obj["kind"]), point_at_backends(manifest.obj, ports))
                gateway = await wait_programmed(client, timeout)
            port = runtime.bound_ports()[8080]
            print(f"Gateway default/quickstart is Programmed ({time.monotonic() - started:.1f}s after start):")
            print(json.dumps(gateway["status"], indent=2))
            checks = await run_checks(f"http://127.0.0.1:{port}")
            print(f"\nRequests through the Gateway at http://127.0.0.1:{port}:")
            for check in checks:
                print(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
            failed = [c for c in checks if not c.ok]
            if not once:
                print(f"\nServing on http://127.0.0.1:{port} — try: curl http://127.0.0.1:{port}/store; Ctrl-C to stop")
                await asyncio.Event().wait()
            return 1 if failed else 0
        finally:
            # The data plane first: kopf waits up to 5 s for every task started while it ran,
            # which includes the proxy's and the backends' connection handlers.
            await runtime.stop(drain_seconds=0.5)
            for backend in backends.values():
                await backend.stop()
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(operator, 15)
