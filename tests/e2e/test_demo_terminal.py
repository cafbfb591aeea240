"""`portico demo` in a real terminal: any manifests, ports chosen by flag, a kubeconfig for the embedded
API server that a client can use to add routes, and Ctrl-C / SIGTERM that stop it."""

from __future__ import annotations

import os
import pty
import signal
import sys
import time
from pathlib import Path

import httpx
import yaml

from tests.proxy.builders import free_port

ROOT = Path(__file__).resolve().parents[2]
PORTICO = str(Path(sys.executable).with_name("portico"))
GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: mine}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: edge, namespace: default}}
spec:
  gatewayClassName: mine
  listeners: [{{name: web, port: {port}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: first, namespace: default}}
spec:
  parentRefs: [{{name: edge}}]
  rules: [{{matches: [{{path: {{type: PathPrefix, value: /first}}}}], backendRefs: [{{name: echo-v1, port: 80}}]}}]
"""
ADDED_ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "added", "namespace": "default"},
    "spec": {
        "parentRefs": [{"name": "edge"}],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/added"}}],
                "backendRefs": [{"name": "echo-v2", "port": 80}],
            }
        ],
    },
}


class _Forked:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd, self.output = pid, fd, b""

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def _read(self, wait: float) -> bool:
        import select

        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def read_until(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            assert time.monotonic() < deadline, f"never printed {text!r}:\n{self.text}"
            if not self._read(0.2):
                raise AssertionError(f"exited before printing {text!r}:\n{self.text}")
        return self.text

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                while self._read(0):
                    pass
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError(f"still running after {timeout}s:\n{self.text}")
            self._read(0.1)


def _spawn(tmp_path: Path, *args: str) -> _Forked:
    """`portico demo` in a new session whose controlling terminal is a pty (so ^C is SIGINT)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.chdir(tmp_path)  # not the repository: the quickstart is found anyway
            os.execv(PORTICO, [PORTICO, "demo", *args])
        finally:
            os._exit(127)
    return _Forked(pid, fd)


def test_demo_with_other_manifests_ports_and_kubeconfig_stops_on_ctrl_c(tmp_path: Path) -> None:
    manifests = tmp_path / "mine"
    manifests.mkdir()
    (manifests / "gateway.yaml").write_text(GATEWAY.format(port=9443))
    (manifests / "backends.yaml").write_text((ROOT / "examples" / "quickstart" / "10-backends.yaml").read_text())
    local, kubeconfig = free_port(), tmp_path / "kubeconfig"
    terminal = _spawn(
        tmp_path, "--manifests", str(manifests), "--port", f"9443:{local}", "--kubeconfig", str(kubeconfig)
    )
    out = terminal.read_until("Ctrl-C to stop", 90)
    assert f"listener web (port 9443): http://127.0.0.1:{local}" in out
    assert f"export KUBECONFIG={kubeconfig}" in out
    assert httpx.get(f"http://127.0.0.1:{local}/first", timeout=5).json()["backend"] == "echo-v1"
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    routes = f"{server}/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes"
    assert httpx.post(routes, json=ADDED_ROUTE, timeout=5).status_code in (200, 201)
    deadline = time.monotonic() + 30
    while httpx.get(f"http://127.0.0.1:{local}/added", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the route added through the API server was never served"
        time.sleep(0.1)
    os.write(terminal.fd, b"\x03")  # Ctrl-C typed in the terminal
    assert terminal.wait(30) == 0, terminal.text
    assert "Traceback" not in terminal.text
    assert not kubeconfig.exists()


def test_demo_stops_on_sigterm(tmp_path: Path) -> None:
    terminal = _spawn(tmp_path, "--port", "0")
    terminal.read_until("Ctrl-C to stop", 90)
    os.kill(terminal.pid, signal.SIGTERM)
    os.kill(terminal.pid, signal.SIGTERM)  # a second one used to raise InvalidStateError inside kopf
    assert terminal.wait(30) == 0, terminal.text
    assert "Traceback" not in terminal.text and "InvalidStateError" not in terminal.text
