"""`portico demo --once` end to end: emulator, operator, local proxy, requests through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_once_passes_its_checks() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from portico.cli import main; raise SystemExit(main())", "demo", "--once"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok] weighted 50/50 split reaches both" in done.stdout
    assert "FAIL" not in done.stdout
