"""`portico serve` and `portico proxy` as real processes: readiness, reload on file change, SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from portico.ir import IRBundle
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.proxy_process import wait_ready

MANIFESTS = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portico}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: default}}
spec:
  gatewayClassName: portico
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: default}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: [{{name: echo, port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echo, namespace: default}}
spec: {{ports: [{{name: http, port: 80, targetPort: {backend}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: echo-1, namespace: default, labels: {{kubernetes.io/service-name: echo}}}}
addressType: IPv4
ports: [{{name: http, port: {backend}}}]
endpoints: [{{addresses: [127.0.0.1], conditions: {{ready: true}}}}]
"""


async def _status(client: httpx.AsyncClient, url: str, want: int) -> None:
    for _ in range(100):
        if (await client.get(url)).status_code == want:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered {want}")


async def _run(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from portico.cli import main; sys.exit(main())",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
    )


async def test_serve_reloads_on_file_change_and_stops_on_sigterm(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port, admin = free_port(), free_port()
    manifest = tmp_path / "gw.yaml"
    manifest.write_text(MANIFESTS.format(port=port, backend=a.port, path="/one"))
    process = await _run("serve", "-f", str(tmp_path), "--admin-port", str(admin), "--workers", "2")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(admin, process)
            await _status(client, f"http://127.0.0.1:{port}/one", 200)
            assert (await client.get(f"http://127.0.0.1:{port}/two")).status_code == 404
            manifest.write_text(MANIFESTS.format(port=port, backend=a.port, path="/two"))
            # Several connections so that both workers are seen to reload.
            for _ in range(10):
                await _status(client, f"http://127.0.0.1:{port}/two", 200)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 15)
    assert code == 0


async def test_proxy_reads_ir_bundle_and_reloads_on_sighup(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port, admin = free_port(), free_port()
    config = tmp_path / "ir.json"

    def write(path: str) -> None:
        ir = gateway(
            listener(port=port, rules=(rule("r", match=prefix(path), backends=(local_backend("a", a.port),)),))
        )
        config.write_text(IRBundle(gateways=(ir,)).to_json())

    write("/one")
    process = await _run("proxy", "--config", str(config), "--admin-port", str(admin), "--access-log-sample", "0")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(admin, process)
            await _status(client, f"http://127.0.0.1:{port}/one", 200)
            config.write_text("{not json")
            process.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.3)
            assert (await client.get(f"http://127.0.0.1:{port}/one")).status_code == 200
            write("/two")
            process.send_signal(signal.SIGHUP)
            await _status(client, f"http://127.0.0.1:{port}/two", 200)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 15)
    assert code == 0
