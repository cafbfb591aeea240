"""50 reconciles under injected refusals (429, 5xx, failed operations) while the Gateway changes.

Afterwards: converged (a further reconcile changes nothing), nothing leaked, nothing duplicated,
and a delete leaves nothing of Portico's.
"""

from __future__ import annotations

import random

from portico.ir import GatewayIR
from portico.provider import reconcile_once
from portico_providers.gcp_alb.naming import ComputeOwnership, scope_of
from tests.providers.gcp.conftest import Compute, converge, delete_all, provider_for
from tests.providers.gcp.fake_server import mutating_calls
from tests.providers.gcp.irs import backend, gateway, rule

ROUNDS = 50


def _versions() -> list[GatewayIR]:
    first = gateway([rule("r-api", "/api", backend("api", "10.0.1.20"))], cert="serial-1")
    routes = gateway(
        [rule("r-api", "/api", backend("api", "10.0.1.20")), rule("r-web", "/", backend("web", "10.0.2.5"))],
        cert="serial-1",
    )
    moved = gateway(
        [
            rule("r-api", "/api", backend("api", "10.0.1.21", zone="europe-west1-c")),
            rule("r-web", "/", backend("web", "10.0.2.5", "10.0.2.6")),
        ],
        cert="serial-2",
    )
    return [first, routes, moved]


def _inject(compute: Compute, rng: random.Random) -> None:
    faults = compute.state.faults
    choice = rng.random()
    if choice < 0.3:
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "*"])
        faults.requests.setdefault((method, "*"), []).extend(rng.choice([[429], [503], [500, 502], [429] * 6]))
    elif choice < 0.5:
        faults.failed_operations.append(("RESOURCE_OPERATION_RATE_EXCEEDED", "Operation rate exceeded"))


def test_fifty_reconciles_under_faults_converge_without_leaks(compute: Compute) -> None:
    rng = random.Random(13)
    provider = provider_for(compute)
    versions = _versions()
    for round_number in range(ROUNDS):
        ir = versions[min(round_number // 17, 2)]
        _inject(compute, rng)
        reconcile_once(provider, ir)
    compute.state.faults.requests.clear()
    compute.state.faults.failed_operations.clear()
    final = versions[-1]
    converge(provider, final)
    since = len(compute.state.calls)
    assert reconcile_once(provider, final).programmed
    assert mutating_calls(compute.state, since) == []

    desired = provider.plan(final, None).desired
    expected = {(scope_of(d.id), d.spec.model_dump()["name"]) for d in desired}
    owned = {(scope, name) for (scope, _, name), body in compute.state.resources.items() if name.startswith("portico-")}
    assert owned == expected  # nothing leaked (old certificate, NEG of the old zone), nothing missing
    members = sorted(m["ipAddress"] for ms in compute.state.endpoints.values() for m in ms)
    assert members == ["10.0.1.21", "10.0.2.5", "10.0.2.6"]  # each endpoint attached once

    delete_all(provider, final.gateway)
    assert not [
        k
        for k, b in compute.state.resources.items()
        if b["name"].startswith(ComputeOwnership("test", final.gateway).name_prefix)
    ]
