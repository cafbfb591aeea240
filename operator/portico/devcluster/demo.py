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
import signal
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
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


QUICKSTART = ("default", "quickstart")


def _is_gateway(obj: Mapping[str, Any]) -> bool:
    return obj["kind"] == "Gateway" and str(obj["apiVersion"]).startswith("gateway.networking.k8s.io/")


def _is_programmed(gateway: Mapping[str, Any]) -> bool:
    conditions = (gateway.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Programmed" and c.get("status") == "True" for c in conditions)


async def wait_programmed(
    client: KubeClient, keys: Sequence[tuple[str, str]], timeout: float
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every Gateway in `keys`, once all are Programmed."""
    deadline = time.monotonic() + timeout
    while True:
        found = {key: await client.get(resource_for("Gateway"), *key) for key in keys}
        if all(_is_programmed(g) for g in found.values()):
            return found
        if time.monotonic() > deadline:
            late = {f"{k[0]}/{k[1]}": g.get("status") for k, g in found.items() if not _is_programmed(g)}
            raise TimeoutError(f"Gateway not Programmed after {timeout:.0f}s; status: {late}")
        await asyncio.sleep(0.1)


def write_kubeconfig(path: Path, server: str) -> None:
    """A kubeconfig for the embedded API server (no credentials: it accepts everyone)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "portico-demo", "cluster": {"server": server}}],
        "users": [{"name": "portico-demo", "user": {}}],
        "contexts": [
            {
                "name": "portico-demo",
                "context": {"cluster": "portico-demo", "user": "portico-demo", "namespace": "default"},
            }
        ],
        "current-context": "portico-demo",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _interrupt_on_signals(task: asyncio.Task[Any]) -> None:
    """Ctrl-C and SIGTERM cancel the demo, whose cleanup then stops everything. Installed again once
    the operator is up: kopf replaces the handlers with its own, which a second signal breaks."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: None if task.cancelling() else task.cancel())


@dataclass(frozen=True)
class DemoOptions:
    manifests: Path
    once: bool = False
    timeout: float = 30.0
    address: str = "127.0.0.1"
    port_map: Mapping[int, int] = field(default_factory=dict)
    kubeconfig: Path | None = None


async def demo(options: DemoOptions) -> int:
    started = time.monotonic()
    task = asyncio.current_task()
    assert task is not None
    _interrupt_on_signals(task)
    objects = [m.obj for m in load_manifests([options.manifests])]
    keys = [(o["metadata"].get("namespace") or "default", o["metadata"]["name"]) for o in objects if _is_gateway(o)]
    if not keys:
        raise ValueError(f"no Gateway in {options.manifests}")
    runtime_module = importlib.import_module("portico_proxy.runtime")
    runtime = runtime_module.ProxyRuntime(
        address=options.address, admin_port=None, secrets_dir=None, port_map=dict(options.port_map)
    )
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
            await asyncio.wait_for(ready.wait(), options.timeout)
            _interrupt_on_signals(task)
            async with KubeClient(connection) as client:
                ports = {name: b.port for name, b in backends.items()}
                for obj in objects:
                    try:
                        resource = resource_for(obj["kind"])
                    except KeyError as error:
                        print(f"skipped {obj['kind']} {obj['metadata']['name']}: {error}")
                        continue
                    await client.create(resource, point_at_backends(obj, ports))
                gateways = await wait_programmed(client, keys, options.timeout)
            failed = [c for c in await _report(gateways, runtime.bound_ports(), options, started) if not c.ok]
            if not options.once:
                _print_kubeconfig(options.kubeconfig, str(server.url).rstrip("/"))
                print("Ctrl-C to stop", flush=True)
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
            if options.kubeconfig is not None:
                options.kubeconfig.unlink(missing_ok=True)


async def _report(
    gateways: Mapping[tuple[str, str], Mapping[str, Any]],
    bound: Mapping[int, int],
    options: DemoOptions,
    started: float,
) -> list[Check]:
    """Print every Gateway's status and local URLs; for the quickstart, send requests and check them."""
    elapsed = time.monotonic() - started
    for (namespace, name), gateway in gateways.items():
        print(f"Gateway {namespace}/{name} is Programmed ({elapsed:.1f}s after start):")
        print(json.dumps(gateway["status"], indent=2))
        for listener in gateway["spec"]["listeners"]:
            scheme = "https" if listener["protocol"] == "HTTPS" else "http"
            url = f"{scheme}://{options.address}:{bound.get(int(listener['port']))}"
            print(f"  listener {listener['name']} (port {listener['port']}): {url}")
    if QUICKSTART not in gateways:
        return []
    base = f"http://{options.address}:{bound[int(gateways[QUICKSTART]['spec']['listeners'][0]['port'])]}"
    checks = await run_checks(base)
    print(f"\nRequests through the Gateway at {base}:")
    for check in checks:
        print(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return checks


def _print_kubeconfig(path: Path | None, server: str) -> None:
    if path is None:
        return
    write_kubeconfig(path, server)
    print(f"\nThe embedded API server is at {server}; drive it with kubectl:")
    print(f"  export KUBECONFIG={path}")
    print("  kubectl get gateways,httproutes -A")
    print("  kubectl apply -f my-route.yaml    # the operator programs it into the proxy above")
