"""Start-up time and memory of `portico proxy`, the in-cluster data plane: from exec to /readyz
answering 200, and its resident set size then, with a Gateway of 100 HTTPRoutes as its IR file.

Baselines measured in the same run, interleaved round by round: the bare interpreter (`python -c pass`),
and the same proxy start with the translator imported first (what the data plane loaded before it
stopped importing `portico.translate`). Figures are medians over the rounds.
Run from the repository root:
    .venv/bin/python -m benchmarks.proxy_startup [--rounds N] [--routes N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.translate import make_objects
from portico.api import build_snapshot
from portico.ir import IRBundle
from portico.translate import translate

MAIN = "import sys; from portico.cli import main; sys.exit(main())"
WITH_TRANSLATOR = "import portico.translate; " + MAIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_ir(directory: Path, routes: int) -> Path:
    objects = make_objects(routes, 2)
    gateway = next(o for o in objects if o["kind"] == "Gateway")
    for listener in gateway["spec"]["listeners"]:
        listener["port"] = free_port()
    (ir,) = translate(build_snapshot(objects)).ir_by_gateway.values()
    path = directory / "ir.json"
    path.write_text(IRBundle(gateways=(ir,)).to_json())
    return path


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def ready(admin: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_proxy(code: str, config: Path, timeout: float = 60.0) -> tuple[float, float]:
    """(seconds from exec to ready, RSS in MiB when ready)."""
    admin = free_port()
    argv = [sys.executable, "-c", code, "proxy", "--config", str(config), "--admin-port", str(admin)]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + timeout
        while not ready(admin):
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"the proxy did not become ready (exit status {process.returncode})")
            time.sleep(0.005)
        return time.perf_counter() - started, rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(30)


def bare_interpreter() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--routes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = write_ir(Path(tmp), args.routes)
        proxy, baseline, bare = [], [], []
        for _ in range(args.rounds):
            proxy.append(start_proxy(MAIN, config))
            baseline.append(start_proxy(WITH_TRANSLATOR, config))
            bare.append(bare_interpreter())
    print(f"{args.rounds} rounds, {args.routes} HTTPRoutes; medians")
    print(f"{'':34} {'start to ready':>15} {'RSS':>10}")
    for name, runs in (("portico proxy", proxy), ("  with the translator imported", baseline)):
        seconds = statistics.median(t for t, _ in runs)
        rss = statistics.median(r for _, r in runs)
        print(f"{name:34} {seconds * 1000:12.0f} ms {rss:6.1f} MiB")
    print(f"{'bare interpreter (python -c pass)':34} {statistics.median(bare) * 1000:12.0f} ms")


if __name__ == "__main__":
    main()
