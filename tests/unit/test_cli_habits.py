"""`portico --version`, the `-o wide` table (the default on a terminal) and `status --strict`."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import yaml

from tests.unit.cli_process import PORTICO, ROOT, portico

QUICKSTART = ROOT / "examples" / "quickstart"
GOLDEN = ROOT / "tests" / "golden" / "translate"


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = portico("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"portico {version('portico-gateway')}")


def test_status_on_a_terminal_prints_the_wide_table() -> None:
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [PORTICO, "status", "-f", str(QUICKSTART)], stdout=terminal, stderr=subprocess.PIPE, timeout=60, check=False
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in b"".join(chunks).decode().splitlines()]
    assert rows[0] == ["KIND", "NAME", "ACCEPTED", "PROGRAMMED", "ROUTES", "REASON", "MESSAGE"]
    assert rows[1] == ["GatewayClass", "portico", "True", "-", "-"]
    assert rows[2] == ["Gateway", "default/quickstart", "True", "True", "3"]
    assert [row[:3] for row in rows[3:]] == [
        ["HTTPRoute", f"default/{n}", "True"] for n in ("store", "canary", "split")
    ]


def test_status_into_a_pipe_stays_yaml() -> None:
    done = portico("status", "-f", str(QUICKSTART))
    assert yaml.safe_load(done.stdout)["kind"] == "List"


def test_wide_table_shows_the_first_problem() -> None:
    done = portico("status", "-f", str(GOLDEN / "backends" / "resolution.in.yaml"), "-o", "wide")
    route = next(line for line in done.stdout.splitlines() if line.startswith("HTTPRoute"))
    assert route.split()[:6] == ["HTTPRoute", "apps/refs", "True", "-", "-", "BackendNotFound"]
    assert "parent apps/gw: backendRef apps/ghost: Service not found" in route


def test_strict_exits_1_on_a_false_condition_and_0_when_all_is_well(tmp_path: Path) -> None:
    clean = portico("status", "--strict", "-f", str(QUICKSTART))
    assert (clean.returncode, clean.stderr) == (0, "")
    broken = portico("status", "--strict", "-f", str(GOLDEN / "backends" / "resolution.in.yaml"))
    assert broken.returncode == 1
    strict_lines = [line for line in broken.stderr.splitlines() if line.startswith("strict: ")]
    assert strict_lines and all("=False " in line for line in strict_lines), broken.stderr
    assert yaml.safe_load(broken.stdout)["kind"] == "List"


def test_strict_counts_a_conflicted_listener(tmp_path: Path) -> None:
    """Conflicted is negative polarity: True is the failure."""
    manifest = tmp_path / "gw.yaml"
    manifest.write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: p}\n"
        "spec: {controllerName: portico.dev/proxy}\n---\n"
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  gatewayClassName: p\n  listeners:\n"
        "  - {name: a, port: 80, protocol: HTTP, hostname: x.example.com}\n"
        "  - {name: b, port: 80, protocol: HTTPS, hostname: x.example.com,"
        " tls: {certificateRefs: [{name: missing}]}}\n"
    )
    done = portico("status", "--strict", "-f", str(manifest))
    assert done.returncode == 1
    assert any("Conflicted=True" in line for line in done.stderr.splitlines()), done.stderr
