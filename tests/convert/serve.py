"""Run `portico serve` (a real process, real sockets) on converted objects, with echo backends.

The converter's Gateway listens on 80/443; the harness moves those to free ports and adds, for
every backendRef, a Service and an EndpointSlice that point at the echo backend of that name.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico.convert import Options, Result, convert
from portico.manifests import load_manifests
from portico.translate import DEFAULT_CAPABILITIES
from tests.irs import free_port
from tests.proxy.proxy_process import wait_ready

INPUTS = Path(__file__).parent / "behaviour"


def convert_file(name: str) -> Result:
    objects = [m.obj for m in load_manifests([INPUTS / name])]
    caps = DEFAULT_CAPABILITIES
    return convert(objects, Options(features=caps.features, listener_protocols=caps.listener_protocols))


def _backend_refs(node: Any) -> list[Mapping[str, Any]]:
    if isinstance(node, dict):
        found = list(node.get("backendRefs") or [])
        return found + [r for v in node.values() for r in _backend_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _backend_refs(v)]
    return []


def _with_backends(objects: list[dict[str, Any]], ports: Mapping[str, int], backends: Mapping[str, int]) -> list[Any]:
    out = copy.deepcopy(objects)
    services: dict[tuple[str, str], set[int]] = {}
    for obj in out:
        if obj["kind"] == "Gateway":
            for listener in obj["spec"]["listeners"]:
                listener["port"] = ports[str(listener["port"])]
        if obj["kind"] in ("HTTPRoute", "GRPCRoute"):
            for ref in _backend_refs(obj["spec"]["rules"]):
                services.setdefault((obj["metadata"]["namespace"], ref["name"]), set()).add(ref["port"])
    for (namespace, name), service_ports in sorted(services.items()):
        target = backends[name]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"ports": [{"name": f"p{p}", "port": p, "targetPort": target} for p in sorted(service_ports)]},
            }
        )
        out.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-1",
                    "namespace": namespace,
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "ports": [{"name": f"p{p}", "port": target} for p in sorted(service_ports)],
                "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
            }
        )
    return out


@dataclass
class Served:
    client: httpx.AsyncClient
    port: int

    async def get(self, host: str, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return await self.client.get(f"http://127.0.0.1:{self.port}{path}", headers={"host": host, **(headers or {})})

    async def reaches(self, host: str, path: str, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(backend, path the backend saw) for a request that must reach a backend."""
        response = await self.get(host, path, headers)
        assert response.status_code == 200, f"{host}{path}: {response.status_code} {response.text[:200]}"
        body = response.json()
        return str(body["backend"]), str(body["path"])


@contextlib.asynccontextmanager
async def serve(objects: list[dict[str, Any]], backends: Mapping[str, int], tmp_path: Path) -> AsyncIterator[Served]:
    http, https, admin = free_port(), free_port(), free_port()
    manifest = tmp_path / "converted.yaml"
    manifest.write_text(yaml.safe_dump_all(_with_backends(objects, {"80": http, "443": https}, backends)))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from portico.cli import main; sys.exit(main())",
        "serve",
        "-f",
        str(manifest),
        "--admin-port",
        str(admin),
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
            await wait_ready(admin, process, what="portico serve")
            yield Served(client, http)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 15)
