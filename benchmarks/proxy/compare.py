"""Two source trees of the proxy, same run: wrk against `portico serve` from each, next to nginx.

For finding which change moved a figure: the "old" tree (a `git worktree` of an earlier commit) and
this one serve the same manifests as run.py (100 header routes in front) with the same number of
workers, from the same virtualenv (`PYTHONPATH` puts the old tree's sources first). Each round runs
every target once, the order reversed every other round so that no target always follows the same
one. Besides req/s and latency it reports, per Portico target, how the client connections were spread
over the workers (sampled mid-run from /proc), the CPU each worker spent, and with `--gc` the
garbage collector's pauses in the workers (gc.callbacks, installed before the proxy is imported).

    .venv/bin/python -m benchmarks.proxy.compare --old ../old-tree [--old ../older-tree] --workers 2 --rounds 6
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.proxy.run import free_port, load_average, manifests, nginx_conf, wait_port, wrk

# Installed in each worker before the proxy is imported: the pauses of every collection, by
# generation, written to <folder>/gc-<pid>.json at most every 0.2 s (a forked worker writes its own).
GC_HOOK = """
import gc, json, os, time
_gc = {"pid": 0, "start": 0.0, "stats": {}, "written": 0.0}
def _gc_watch(phase, info, _gc=_gc, _clock=time.perf_counter):
    if phase == "start":
        _gc["start"] = _clock()
        return
    pause = (_clock() - _gc["start"]) * 1000.0
    if _gc["pid"] != os.getpid():
        _gc["pid"], _gc["stats"] = os.getpid(), {}
    each = _gc["stats"].setdefault(str(info["generation"]), [0, 0.0, 0.0, 0])
    each[0] += 1
    each[1] += pause
    each[2] = max(each[2], pause)
    each[3] += pause >= 1.0
    now = time.monotonic()
    if now - _gc["written"] >= 0.2:
        _gc["written"] = now
        with open(os.path.join(FOLDER, "gc-%d.json" % os.getpid()), "w") as out:
            json.dump(_gc["stats"], out)
gc.callbacks.append(_gc_watch)
"""


@dataclass
class Target:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    runs: list[dict[str, float]] = field(default_factory=list)
    spread: list[list[int]] = field(default_factory=list)  # client connections per worker, per run
    worker_cpu: list[list[float]] = field(default_factory=list)  # CPU seconds per worker, per run
    gc: list[dict[str, list[float]]] = field(default_factory=list)  # per run, by generation, summed
    switches: list[tuple[float, float]] = field(default_factory=list)  # per run: (voluntary, not) per request


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(p) for p in path.read_text().split()] if path.exists() else []
    return found or [pid]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid: int) -> tuple[int, int]:
    """(voluntary, involuntary): waits for I/O, and preemptions (the CPU taken by another task)."""
    values = dict(line.split(":\t") for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    return int(values["voluntary_ctxt_switches"]), int(values["nonvoluntary_ctxt_switches"])


def connections_per_worker(workers: list[int], port: int) -> list[int]:
    """Established TCP connections on `port` (the client side) held by each worker."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if int(cols[1].split(":")[1], 16) == port and cols[3] == "01":
            inodes.add(cols[9])
    counts = []
    for pid in workers:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            held += link.startswith("socket:[") and link[8:-1] in inodes
        counts.append(held)
    return counts


def gc_totals(folder: Path, workers: list[int]) -> dict[str, list[float]]:
    totals: dict[str, list[float]] = {}
    for pid in workers:
        path = folder / f"gc-{pid}.json"
        if not path.exists():
            continue
        for generation, (count, total, largest, over_1ms) in json.loads(path.read_text()).items():
            mine = totals.setdefault(generation, [0, 0.0, 0.0, 0])
            mine[0] += count
            mine[1] += total
            mine[2] = max(mine[2], largest)
            mine[3] += over_1ms
    return totals


def gc_delta(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, list[float]]:
    out = {}
    for generation, (count, total, largest, over_1ms) in after.items():
        was = before.get(generation, [0, 0.0, 0.0, 0])
        out[generation] = [count - was[0], total - was[1], largest, over_1ms - was[3]]
    return out


def start_portico(
    tree: Path, folder: Path, upstream: int, workers: int, watch_gc: bool
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    hook = f"FOLDER = {str(folder)!r}\n{GC_HOOK}" if watch_gc else ""
    code = f"{hook}\nimport sys\nfrom portico.cli import main\nsys.exit(main())"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "operator"), str(tree / "providers")]))
    command = [sys.executable, "-c", code, "serve", "-f", str(manifests(folder, port, upstream))]
    command += ["--workers", str(workers), "--access-log-sample", "0"]
    return port, subprocess.Popen(command, env=env)


def measure(target: Target, folder: Path, path: str, connections: int, duration: float, proxy: bool) -> None:
    workers = children(target.process.pid) if proxy else []
    cpu_before = [cpu_seconds(pid) for pid in workers]
    gc_before = gc_totals(folder, workers)
    switches_before = [context_switches(pid) for pid in workers]
    spread: list[int] = []

    def sample() -> None:
        spread.extend(connections_per_worker(workers, target.port))

    timer = threading.Timer(duration / 2, sample) if proxy else None
    if timer is not None:
        timer.start()
    result = wrk(target.port, path, connections, duration)
    if timer is not None:
        timer.join()
        target.spread.append(spread)
        target.worker_cpu.append([cpu_seconds(pid) - was for pid, was in zip(workers, cpu_before, strict=True)])
        time.sleep(0.3)  # the workers' last gc figures
        target.gc.append(gc_delta(gc_before, gc_totals(folder, workers)))
        result["cpu_us"] = sum(target.worker_cpu[-1]) * 1e6 / max(1, result["requests"])
        after = [context_switches(pid) for pid in workers]
        requests = max(1, result["requests"])
        voluntary = sum(a[0] - b[0] for a, b in zip(after, switches_before, strict=True)) / requests
        involuntary = sum(a[1] - b[1] for a, b in zip(after, switches_before, strict=True)) / requests
        target.switches.append((voluntary, involuntary))
    target.runs.append(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--old", type=Path, action="append", required=True, help="another source tree (a git worktree); repeatable"
    )
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[2], help="default: this tree")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--path", default="/small", choices=["/small", "/big"])
    parser.add_argument("--gc", action="store_true", help="record the workers' gc pauses")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install -y nginx wrk", file=sys.stderr)
            return 2
    folder = Path(tempfile.mkdtemp(prefix="portico-compare-"))
    folder.chmod(0o755)
    payload = folder / "www"
    payload.mkdir()
    (payload / "small").write_text("hello world\n")
    (payload / "big").write_bytes(os.urandom(1 << 20))
    upstream_port = free_port()
    serve_files = f"server {{ listen 127.0.0.1:{upstream_port}; root {payload}; location / {{ }} }}"
    conf = nginx_conf(folder, "upstream", serve_files)
    processes = [subprocess.Popen(["nginx", "-c", str(conf)])]
    targets: list[Target] = []
    for nginx_workers in sorted({1, args.workers}):
        port = free_port()
        name = f"nginx-{nginx_workers}w"
        body = (
            f"upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}\n"
            f"    server {{ listen 127.0.0.1:{port} reuseport; location / {{ proxy_pass http://up; "
            'proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host; '
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; "
            "proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $http_host; } }"
        )
        conf = nginx_conf(folder, name, body)
        conf.write_text(conf.read_text().replace("worker_processes 1;", f"worker_processes {nginx_workers};"))
        targets.append(Target(name, port, subprocess.Popen(["nginx", "-c", str(conf)])))
    trees = [("old" if len(args.old) == 1 else f"old{index + 1}", tree) for index, tree in enumerate(args.old)]
    for label, tree in [*trees, ("new", args.new)]:
        port, process = start_portico(tree.resolve(), folder, upstream_port, args.workers, args.gc)
        targets.append(Target(f"portico-{label}", port, process))
        print(f"portico-{label}: {tree.resolve()}", flush=True)
    print(f"load average before: {load_average()}", flush=True)
    try:
        for target in targets:
            wait_port(target.port)
        time.sleep(2.0)
        for target in targets:  # warm-up: connections, pools, caches
            wrk(target.port, args.path, args.connections, 1.0)
        for round_index in range(args.rounds):
            order = targets if round_index % 2 == 0 else targets[::-1]
            for target in order:
                measure(target, folder, args.path, args.connections, args.duration, target.name.startswith("portico"))
                run = target.runs[-1]
                spread = f" conns/worker {target.spread[-1]}" if target.spread else ""
                print(
                    f"round {round_index + 1} {target.name:12} {run['rps']:8.0f} req/s p50 {run['p50']:5.2f}"
                    f" p99 {run['p99']:6.2f} ms{spread} load {load_average()}",
                    flush=True,
                )
        print(f"load average after: {load_average()}", flush=True)
        report(targets, args.workers)
    finally:
        for process in [t.process for t in targets] + processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(targets: list[Target], workers: int) -> None:
    reference = {t.name: t for t in targets}
    nginx_1w = reference["nginx-1w"]
    nginx_nw = reference[f"nginx-{workers}w"]
    columns = f"{'req/s':>8} {'p50':>6} {'p99':>6} {'cpu us':>7} {'x n1w':>6} {'p99/n1w':>8}"
    print(f"\n{'target':12} {columns} {f'p99/n{workers}w':>8}")
    for target in targets:
        runs = target.runs
        med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in ("rps", "p50", "p99", "cpu_us")}
        rps_ratio = statistics.median(r["rps"] / n["rps"] for r, n in zip(runs, nginx_1w.runs, strict=True))
        p99_1w = statistics.median(r["p99"] / n["p99"] for r, n in zip(runs, nginx_1w.runs, strict=True))
        p99_nw = statistics.median(r["p99"] / n["p99"] for r, n in zip(runs, nginx_nw.runs, strict=True))
        print(
            f"{target.name:12} {med['rps']:8.0f} {med['p50']:6.2f} {med['p99']:6.2f} {med['cpu_us']:7.1f}"
            f" {rps_ratio:6.2f} {p99_1w:8.2f} {p99_nw:8.2f}"
        )
    for target in targets:
        if not target.spread:
            continue
        print(f"\n{target.name}: client connections per worker (mid-run) {target.spread}")
        shares = [" / ".join(f"{c / max(sum(cpu), 1e-9):.2f}" for c in cpu) for cpu in target.worker_cpu]
        print(f"{target.name}: CPU share per worker {shares}")
        print(
            f"{target.name}: context switches per request, voluntary / involuntary (preempted): "
            f"{[f'{v:.3f} / {i:.3f}' for v, i in target.switches]}"
        )
        if any(target.gc):
            for generation in sorted({g for run in target.gc for g in run}):
                counts = [run.get(generation, [0, 0.0, 0.0, 0]) for run in target.gc]
                per_run = [f"{int(c[0])}x {c[1]:.0f}ms max {c[2]:.1f} >=1ms {int(c[3])}" for c in counts]
                print(f"{target.name}: gc gen{generation} per run: {per_run}")


if __name__ == "__main__":
    raise SystemExit(main())
