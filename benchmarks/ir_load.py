"""Size, write and load time of one Gateway's IR document, v2 (shared rule table) next to v1 (rules inline).

The operator writes GatewayIR.to_json (v1: pydantic's dump of the inline document, as written before v2); the
proxy's reload path is GatewayIR.from_json on the mounted document, which still reads v1. The baseline
measured in the same run is json.loads of the v1 text (parsing alone, no validation).
Run from the repository root:
    .venv/bin/python -m benchmarks.ir_load [--listeners N] [--routes N] [--rules N] [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.translate import make_objects
from portico.api import build_snapshot
from portico.gcpause import cyclic_gc_paused
from portico.ir import IR_VERSION_V1, GatewayIR
from portico.translate import translate


def gateway_ir(listeners: int, routes: int, rules: int) -> GatewayIR:
    objects = make_objects(routes, rules)
    gateway = next(o for o in objects if o["kind"] == "Gateway")
    template = gateway["spec"]["listeners"][0]
    gateway["spec"]["listeners"] = [{**template, "name": f"l{i}", "port": 8000 + i} for i in range(listeners)]
    (ir,) = translate(build_snapshot(objects)).ir_by_gateway.values()
    return ir


def median_time(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listeners", type=int, default=64)
    parser.add_argument("--routes", type=int, default=100)
    parser.add_argument("--rules", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ir = gateway_ir(args.listeners, args.routes, args.rules)

    def write_v1() -> str:
        document = {**ir.model_dump(mode="json"), "version": IR_VERSION_V1}
        return json.dumps(document, sort_keys=True, separators=(",", ":"))

    v1, v2 = write_v1(), ir.to_json()
    assert GatewayIR.from_json(v2) == ir == GatewayIR.from_json(v1)
    matches = sum(len(listener.rules) for listener in ir.listeners)
    print(f"{args.listeners} listeners x {args.routes} routes x {args.rules} rules: {matches} IR rules")
    for name, text, write in (("v1", v1, write_v1), ("v2", v2, ir.to_json)):
        packed = len(gzip.compress(text.encode()))
        print(f"  {name}: {len(text) / 1024:10.1f} KiB, gzip {packed / 1024:8.1f} KiB", end="")
        print(f", write {median_time(args.repeat, write) * 1000:8.1f} ms", end="")
        load = median_time(args.repeat, lambda t=text: GatewayIR.from_json(t))  # type: ignore[misc]
        print(f", load {load * 1000:8.1f} ms")
    parse = cyclic_gc_paused(lambda: json.loads(v1))  # as the loaders run
    print(f"  baseline json.loads(v1): {median_time(args.repeat, parse) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
