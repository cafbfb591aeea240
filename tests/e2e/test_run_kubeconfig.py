"""`portico run` outside a cluster with a kubeconfig whose user authenticates through an exec plugin
(as EKS, GKE and AKS kubeconfigs do): the installed command runs the plugin and the operator works,
and keeps working when the token expires or the API server stops accepting it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from portico.devcluster.faults import FaultRule
from tests.e2e.conftest import Cluster

PORTICO = str(Path(sys.executable).with_name("portico"))
TOKEN = "token-from-exec-plugin"
PLUGIN = f"""\
import json, pathlib, sys
pathlib.Path(sys.argv[1]).write_text("ran")
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {{"token": {TOKEN!r}}}}}))
"""


# A new token on every run (exec-token-1, -2, ...), valid for argv[2] seconds or without an expiry ("-").
ROTATING_PLUGIN = """\
import json, pathlib, sys, time
counter = pathlib.Path(sys.argv[1])
issued = int(counter.read_text() or 0) + 1 if counter.exists() else 1
counter.write_text(str(issued))
status = {"token": f"exec-token-{issued}"}
if sys.argv[2] != "-":
    expiry = time.gmtime(time.time() + float(sys.argv[2]))
    status["expirationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", expiry)
    pathlib.Path(sys.argv[1] + ".expiry").write_text(status["expirationTimestamp"])
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": status}))
"""
# The kubernetes client runs the plugin again 5 minutes before the token's expiry: 302 s is 1-2 s for it.
CLIENT_EXPIRY_LEAD_SECONDS = 300


def exec_kubeconfig(server: str, plugin: Path, *args: str | Path) -> dict[str, object]:
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
                        "args": [str(plugin), *map(str, args)],
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


def gateway_class(name: str) -> dict[str, object]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": name},
        "spec": {"controllerName": "portico.dev/proxy"},
    }


async def wait_accepted(cluster: Cluster, name: str) -> None:
    async def accepted() -> bool:
        gc = await cluster.get("GatewayClass", "", name)
        conditions = ((gc or {}).get("status") or {}).get("conditions") or []
        return any(c["type"] == "Accepted" and c["status"] == "True" for c in conditions)

    await cluster.wait_for(f"GatewayClass {name} accepted by `portico run`", accepted, timeout=60)


def status_writers(cluster: Cluster) -> set[str]:
    """The Authorization headers GatewayClass status writes came with."""
    return {entry[3] for entry in cluster.emulator.access_log if entry[2] == "gatewayclasses/status"}


@pytest.mark.parametrize("lifetime", ["-", str(CLIENT_EXPIRY_LEAD_SECONDS + 2)], ids=["refused", "expiring"])
async def test_run_refreshes_the_exec_plugin_token(cluster: Cluster, tmp_path: Path, lifetime: str) -> None:
    """The API server refuses the first token after a while: the operator fetches a new one from the
    plugin (on the 401, or before, because the token expired) and goes on programming."""
    plugin, counter, kubeconfig = tmp_path / "plugin.py", tmp_path / "issued", tmp_path / "kubeconfig"
    plugin.write_text(ROTATING_PLUGIN)
    kubeconfig.write_text(yaml.safe_dump(exec_kubeconfig(cluster.connection.server, plugin, counter, lifetime)))
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    process = await asyncio.create_subprocess_exec(
        PORTICO, "run", "--standalone", "--liveness", "", "--log-level", "WARNING", env=env, cwd=tmp_path
    )
    try:
        await cluster.create(gateway_class("before"))
        await wait_accepted(cluster, "before")
        issued = int(counter.read_text())
        if lifetime != "-":
            # Past the point where the client counts every token issued so far as expired (a clock, not a guess).
            expiry = datetime.strptime(Path(f"{counter}.expiry").read_text(), "%Y-%m-%dT%H:%M:%S%z")
            while time.time() < expiry.timestamp() - CLIENT_EXPIRY_LEAD_SECONDS + 0.5:
                await asyncio.sleep(0.1)
        else:
            assert issued == 1 and status_writers(cluster) == {"Bearer exec-token-1"}
        refused = {f"Bearer exec-token-{n}" for n in range(1, issued + 1)}
        refusals = [cluster.emulator.faults.add(FaultRule(401, authorization=header)) for header in refused]
        if lifetime == "-":
            cluster.emulator.faults.cut_watches()  # the watches reconnect with the refused token too
        await cluster.create(gateway_class("after"))
        await wait_accepted(cluster, "after")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    newer = status_writers(cluster) - refused
    assert newer and all(header.startswith("Bearer exec-token-") for header in newer), sorted(newer)
    assert int(counter.read_text()) > issued
    injected = sum(rule.injected for rule in refusals)
    if lifetime == "-":
        assert injected >= 1  # refreshed because the server said 401
    else:
        assert injected == 0  # refreshed because it expired, before the server had to refuse it
