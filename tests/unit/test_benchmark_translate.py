"""The translate benchmark's workload stays valid (its timing is reported by the benchmark, not asserted)."""

from __future__ import annotations

from benchmarks.translate import make_objects

from portico.api import build_snapshot
from portico.translate import translate


def test_benchmark_workload_translates_fully() -> None:
    result = translate(build_snapshot(make_objects(routes=20, rules=10)))
    ir = result.ir_by_gateway[("infra", "gw")]
    assert [len(listener.rules) for listener in ir.listeners] == [200, 200]
    assert all(b.invalid_reason is None and b.endpoints for lst in ir.listeners for r in lst.rules for b in r.backends)
    routes = [v for k, v in result.statuses.items() if k[0] == "HTTPRoute"]
    assert all(c["status"] == "True" for s in routes for c in s["parents"][0]["conditions"])
