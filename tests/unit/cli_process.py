"""Running the installed `portico` command as a subprocess, the way a user or a CI job does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PORTICO = str(Path(sys.executable).with_name("portico"))
ROOT = Path(__file__).resolve().parents[2]


def portico(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PORTICO, *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )
