"""`portico run` outside a cluster with a kubeconfig whose user authenticates through an exec plugin
(as EKS, GKE and AKS kubeconfigs do): the installed command runs the plugin and the operator works."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import yaml

from tests.e2e.conftest import Cluster

PORTICO = str(Path(sys.executable).with_name("portico"))
TOKEN = "token-from-exec-plugin"
PLUGIN = f"""\
import json, pathlib, sys
pathlib.Path(sys.argv[1]).write_text("ran")
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {{"token": {TOKEN!r}}}}}))
"""


def exec_kubeconfig(server: str, plugin: Path, marker: Path) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulated", "cluster": {"server": server}}],
        "users": [
            {
                "name": "exec-user",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": sys.executable,
                        "args": [str(plugin), str(marker)],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "emulated", "context": {"cluster": "emulated", "user": "exec-user"}}],
        "current-context": "emulated",
    }


async def test_run_authenticates_through_an_exec_plugin(cluster: Cluster, tmp_path: Path) -> None:
    plugin, marker, kubeconfig = tmp_path / "plugin.py", tmp_path / "ran", tmp_path / "kubeconfig"
    plugin.write_text(PLUGIN)
    kubeconfig.write_text(yaml.safe_dump(exec_kubeconfig(cluster.connection.server, plugin, marker)))
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    process = await asyncio.create_subprocess_exec(
        PORTICO, "run", "--standalone", "--liveness", "", "--log-level", "WARNING", env=env, cwd=tmp_path
    )
    try:
        await cluster.create(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "GatewayClass",
                "metadata": {"name": "via-exec"},
                "spec": {"controllerName": "portico.dev/proxy"},
            }
        )

        async def accepted() -> bool:
            gc = await cluster.get("GatewayClass", "", "via-exec")
            conditions = ((gc or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Accepted" and c["status"] == "True" for c in conditions)

        await cluster.wait_for("the GatewayClass accepted by `portico run`", accepted, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert marker.read_text() == "ran"
    authorizations = {entry[3] for entry in cluster.emulator.access_log}
    assert f"Bearer {TOKEN}" in authorizations, json.dumps(sorted(authorizations))
