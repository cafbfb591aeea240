"""`portico serve` (the installed command) fails fast and says why, logs why things are not served,
refuses a reload that would take every listener down, and merges Gateways that share a port."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.irs import free_port
from tests.proxy.proxy_process import wait_ready
from tests.proxy.test_commands import MANIFESTS, _status

PORTICO = str(Path(sys.executable).with_name("portico"))
GATEWAY = """\
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: default}}
spec:
  gatewayClassName: portico
  listeners: [{{name: http, port: {port}, protocol: HTTP{hostname}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}-route, namespace: default}}
spec:
  parentRefs: [{{name: {name}}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]
    backendRefs: [{{name: echo, port: 80}}]
"""


def serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PORTICO, "serve", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--workers", "0", "argument --workers: 0 is not a positive whole number"),
        ("--workers", "-3", "argument --workers: -3 is not a positive whole number"),
        ("--access-log-sample", "2", "argument --access-log-sample: 2 is not a fraction between 0 and 1"),
        ("--drain-seconds", "-5", "argument --drain-seconds: -5 is not a number of seconds"),
        ("--admin-port", "70000", "argument --admin-port: 70000 is not a port number"),
    ],
)
def test_bad_flags_are_usage_errors(tmp_path: Path, flag: str, value: str, message: str) -> None:
    done = serve("-f", str(tmp_path), f"{flag}={value}")
    assert done.returncode == 2
    assert message in done.stderr


def test_a_config_that_does_not_load_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "gw.yaml"
    bad.write_text("kind: [unclosed\n")
    done = serve("-f", str(bad))
    assert done.returncode == 2
    assert f"configuration does not load, nothing to serve: {bad}:1:" in done.stderr
    assert "keeps serving" not in done.stderr


def test_nothing_to_serve_exits_2_saying_why(tmp_path: Path) -> None:
    manifest = tmp_path / "gw.yaml"
    manifest.write_text(MANIFESTS.format(port=free_port(), backend=1, path="/").replace("portico.dev/proxy", "x.io/y"))
    done = serve("-f", str(manifest))
    assert done.returncode == 2
    assert "WARNING" in done.stderr and "GatewayClass 'portico' belongs to controller 'x.io/y'" in done.stderr
    assert "nothing to serve: no accepted Gateway has a listener" in done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_listener_port_in_use_exits_1(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "gw.yaml").write_text(MANIFESTS.format(port=port, backend=1, path="/"))
        done = serve("-f", str(tmp_path), "--workers", workers)
    assert done.returncode == 1, done.stderr
    assert "cannot bind a listener" in done.stderr and str(port) in done.stderr


def test_an_address_that_cannot_be_bound_exits_1(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(MANIFESTS.format(port=free_port(), backend=1, path="/"))
    done = serve("-f", str(tmp_path), "--address", "192.0.2.1")  # TEST-NET-1: on no interface here
    assert done.returncode == 1, done.stderr
    assert "cannot bind a listener" in done.stderr and "192.0.2.1" in done.stderr


def test_an_admin_port_in_use_exits_1(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(MANIFESTS.format(port=free_port(), backend=1, path="/"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        admin = taken.getsockname()[1]
        done = serve("-f", str(tmp_path), "--admin-port", str(admin))
    assert done.returncode == 1, done.stderr
    assert f"cannot serve the admin endpoints on 127.0.0.1 port {admin}" in done.stderr


async def _start(*args: str, log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PORTICO, "serve", *args, stdout=asyncio.subprocess.DEVNULL, stderr=log.open("wb")
    )


async def _log_says(log: Path, text: str) -> None:
    for _ in range(300):
        if text in log.read_text():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged {text!r}:\n{log.read_text()}")


async def test_an_edit_that_takes_every_listener_down_is_refused_but_a_delete_applies(  # type: ignore[no-untyped-def]
    echo, tmp_path: Path
) -> None:
    a = await echo("a")
    port, admin = free_port(), free_port()
    config = tmp_path / "config"
    config.mkdir()
    (config / "base.yaml").write_text(MANIFESTS.format(port=port, backend=a.port, path="/one"))
    log = tmp_path / "serve.log"
    process = await _start("-f", str(config), "--admin-port", str(admin), log=log)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(admin, process)
            await _status(client, f"http://127.0.0.1:{port}/one", 200)
            typo = "protocol: HTPP"  # no such protocol: the only listener is not accepted
            broken = MANIFESTS.format(port=port, backend=a.port, path="/one").replace("protocol: HTTP", typo)
            (config / "base.yaml").write_text(broken)
            await _log_says(log, "the edit would stop every listener, but Gateway default/gw is still in the input")
            assert "WARNING Gateway default/gw: listener http:" in log.read_text()
            assert (await client.get(f"http://127.0.0.1:{port}/one")).status_code == 200
            gateway_removed = "---".join(d for d in broken.split("---") if "kind: Gateway\n" not in d)
            (config / "base.yaml").write_text(gateway_removed)
            await _log_says(log, "WARNING configuration applied: no listener to serve; every port is closed")
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/one")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_gateways_sharing_a_port_are_merged_and_a_conflict_is_said(  # type: ignore[no-untyped-def]
    echo, tmp_path: Path
) -> None:
    a = await echo("a")
    port, admin = free_port(), free_port()
    base = MANIFESTS.format(port=port, backend=a.port, path="/one")
    (tmp_path / "base.yaml").write_text(base)
    (tmp_path / "more.yaml").write_text(
        GATEWAY.format(name="b-host", port=port, hostname=", hostname: b.example.com")
        + GATEWAY.format(name="z-clash", port=port, hostname="")
    )
    log = tmp_path / "serve.log"
    process = await _start(
        "-f", str(tmp_path / "base.yaml"), "-f", str(tmp_path / "more.yaml"), "--admin-port", str(admin), log=log
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(admin, process)
            await _status(client, f"http://127.0.0.1:{port}/one", 200)
            merged = await client.get(f"http://127.0.0.1:{port}/b-host", headers={"host": "b.example.com"})
            assert merged.status_code == 200
            text = log.read_text()
            assert (
                "WARNING Gateway default/z-clash listener http: not served: HostnameConflict: port "
                f"{port}, any hostname, is served by Gateway default/gw listener http" in text
            )
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
