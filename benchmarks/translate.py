"""Time to translate 2,000 HTTPRoutes x 10 rules attached to one Gateway (target: under 2 s on 2 cores).

Prints the parse (snapshot) and translate times separately, next to a baseline measured in the
same run: a JSON round-trip of the same objects, the floor cost of touching every field once.
Run: .venv/bin/python benchmarks/translate.py [--routes N] [--rules N] [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import time
from typing import Any

from portico.api import build_snapshot
from portico.gcpause import cyclic_gc_paused
from portico.translate import translate


def make_objects(routes: int, rules: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "portico"},
            "spec": {"controllerName": "portico.dev/proxy"},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "infra"},
            "spec": {
                "gatewayClassName": "portico",
                "listeners": [
                    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
                    {
                        "name": "alt",
                        "port": 8080,
                        "protocol": "HTTP",
                        "hostname": "*.example.com",
                        "allowedRoutes": {"namespaces": {"from": "All"}},
                    },
                ],
            },
        },
    ]
    for svc in range(50):
        ns = f"team-{svc % 10}"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"svc-{svc}", "namespace": ns},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
            }
        )
        objects.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"svc-{svc}-x",
                    "namespace": ns,
                    "labels": {"kubernetes.io/service-name": f"svc-{svc}"},
                },
                "ports": [{"name": "http", "port": 8080}],
                "endpoints": [{"addresses": [f"10.{svc}.0.{i}"]} for i in range(1, 4)],
            }
        )
    for index in range(routes):
        ns = f"team-{index % 10}"
        route_rules = []
        for r in range(rules):
            match: dict[str, Any] = {"path": {"type": "PathPrefix" if r % 3 else "Exact", "value": f"/r{index}/p{r}"}}
            if r % 2:
                match["headers"] = [{"name": "x-tenant", "value": f"t{r}"}]
            if r % 4 == 0:
                match["method"] = "GET"
            service = index % 10 + 10 * (r % 5)  # a Service in the route's own namespace
            rule: dict[str, Any] = {
                "matches": [match],
                "backendRefs": [{"name": f"svc-{service}", "port": 80, "weight": 1 + r % 3}],
            }
            if r % 5 == 0:
                rule["filters"] = [
                    {
                        "type": "RequestHeaderModifier",
                        "requestHeaderModifier": {"set": [{"name": "x-route", "value": str(index)}]},
                    }
                ]
            route_rules.append(rule)
        objects.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {
                    "name": f"route-{index}",
                    "namespace": ns,
                    "creationTimestamp": f"2024-01-{1 + index % 28:02d}T00:00:00Z",
                },
                "spec": {
                    "parentRefs": [{"name": "gw", "namespace": "infra"}],
                    "hostnames": [f"app{index % 100}.example.com"],
                    "rules": route_rules,
                },
            }
        )
    return objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    objects = make_objects(args.routes, args.rules)
    baseline, parse, trans = [], [], []
    rules_out = 0
    round_trip = cyclic_gc_paused(lambda: json.loads(json.dumps(objects)))
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        round_trip()
        t1 = time.perf_counter()
        snapshot = build_snapshot(objects)
        t2 = time.perf_counter()
        result = translate(snapshot)
        t3 = time.perf_counter()
        del snapshot
        baseline.append(t1 - t0)
        parse.append(t2 - t1)
        trans.append(t3 - t2)
        rules_out = sum(len(lst.rules) for ir in result.ir_by_gateway.values() for lst in ir.listeners)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median
    total = med(parse) + med(trans)
    print(f"input: {args.routes} HTTPRoutes x {args.rules} rules -> {rules_out} IR rules on 2 listeners")
    print(f"baseline JSON round-trip : {med(baseline):7.3f} s")
    print(f"parse (build_snapshot)   : {med(parse):7.3f} s  ({med(parse) / med(baseline):.1f}x baseline)")
    print(f"translate                : {med(trans):7.3f} s  ({med(trans) / med(baseline):.1f}x baseline)")
    print(f"total                    : {total:7.3f} s  (target < 2.000 s: {'met' if total < 2 else 'NOT met'})")
    print(f"peak RSS                 : {rss:7.0f} MiB")


if __name__ == "__main__":
    main()
