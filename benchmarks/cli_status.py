"""`portico status` / `translate` on a ~13 MB file of 35,000 HTTPRoutes (target: status < 10 s, < 600 MB).

The verdict uses CPU seconds (user + system): on a shared machine wall time measures the neighbours.

The file is generated here (never committed), then the installed `portico` runs on it as a user
would run it, output to /dev/null. Baselines from the same run: reading the file with the C YAML
loader alone (the floor a YAML CLI pays), and the pure-Python loader's speed on a slice of it
(what `status` parsed with before), scaled to the whole file.
Run: .venv/bin/python benchmarks/cli_status.py [--routes N] [--rules N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.translate import make_objects

PORTICO = str(Path(sys.executable).with_name("portico"))
TARGET_S = 10.0
TARGET_MB = 600.0
PURE_SLICE_BYTES = 500_000


def write_file(path: Path, routes: int, rules: int) -> int:
    """The translate benchmark's objects, routes without filters or timestamps (~360 bytes each)."""
    objects = make_objects(routes, rules)
    for obj in objects:
        if obj["kind"] == "HTTPRoute":
            obj["metadata"].pop("creationTimestamp")
            for rule in obj["spec"]["rules"]:
                rule.pop("filters", None)
    with path.open("w") as out:
        yaml.dump_all(objects, out, Dumper=yaml.CSafeDumper, sort_keys=False)
    return path.stat().st_size


def run_command(*args: str) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and the exit status of one `portico` run."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen([PORTICO, *args], stdout=sink, stderr=subprocess.PIPE)
        assert process.stderr is not None
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status:
        sys.stderr.write(stderr.decode(errors="replace"))
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss * 1024 / 1e6, os.waitstatus_to_exitcode(status)


def parse_seconds(text: str, loader: Any) -> float:
    """CPU seconds (wall time on a shared machine measures the neighbours)."""
    started = time.process_time()
    for _ in yaml.load_all(text, Loader=loader):
        pass
    return time.process_time() - started


def reader_seconds(path: Path) -> float:
    """CPU seconds of Portico's own reader (the C parser, then plain documents built directly)."""
    from portico.manifests import load_manifests

    started = time.process_time()
    load_manifests([path])
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", type=int, default=35_000)
    parser.add_argument("--rules", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "routes.yaml"
        size = write_file(path, args.routes, args.rules)
        text = path.read_text()
        c_loader = parse_seconds(text, yaml.CSafeLoader)
        reader = reader_seconds(path)
        cut = text.find("\n---\n", PURE_SLICE_BYTES)
        pure = parse_seconds(text[:cut], yaml.SafeLoader) * len(text) / cut
        status = run_command("status", "-f", str(path), "-o", "yaml")
        translated = run_command("translate", "-f", str(path))
    print(f"input: {args.routes} HTTPRoutes x {args.rules} rules, {size / 1e6:.1f} MB of YAML")
    print(f"baseline C-loader parse only       : {c_loader:7.2f} s CPU")
    print(f"baseline pure-Python parse (scaled): {pure:7.2f} s CPU")
    print(f"Portico's reader (load_manifests)  : {reader:7.2f} s CPU")
    for name, (wall, cpu, mb, code) in (("status", status), ("translate", translated)):
        verdict = "met" if cpu < TARGET_S and mb < TARGET_MB else "NOT met"
        print(
            f"portico {name:<9}: {cpu:6.2f} s CPU ({wall:.1f} s wall), peak RSS {mb:5.0f} MB, exit {code}"
            f"  (target < {TARGET_S:.0f} s and < {TARGET_MB:.0f} MB: {verdict})"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
