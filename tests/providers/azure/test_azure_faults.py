"""50 reconciles with Azure misbehaving (429, 5xx, lost answers, answers past the read timeout,
failed operations, someone else editing the gateway), before and after changes take effect: always
converged afterwards, nothing leaked, no concurrent edit lost, and a clean delete."""

from __future__ import annotations

import random
from collections.abc import Iterator
from unittest import mock

import pytest

from portico_providers.azure_appgw.compare import differences
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.arm_state import Fault
from tests.providers.azure.scenario import converge, example_ir, gateway, provider, with_endpoints

RECONCILES = 50
# The provider's read timeout here (1 s: a loaded test machine answers well within it); a late answer
# comes after LATE_S.
READ_TIMEOUT_S = 1.0
LATE_S = 1.5
FAULTS = [
    Fault("GET", "/applicationGateways/", 429, retry_after=2),
    Fault("GET", "/publicIPAddresses/", 503),
    Fault("PUT", "/applicationGateways/", 429),
    Fault("PUT", "/applicationGateways/", 500),
    Fault("PUT", "/applicationGateways/", lost=True),
    Fault("PUT", "/publicIPAddresses/", lost=True),
    Fault("GET", "/operations/", 500),
    Fault("PUT", "/applicationGateways/", late=LATE_S),
]


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    with mock.patch("portico_providers.azure_appgw.arm.sleep"):
        yield


@pytest.mark.parametrize("seed", [1, 2])
def test_fifty_faulty_reconciles_converge_without_leaks_or_lost_edits(arm: ArmFake, seed: int) -> None:
    rng = random.Random(seed)
    p = provider(arm, read_timeout_s=READ_TIMEOUT_S)
    ir = example_ir(arm)
    edits: dict[str, str] = {}
    for index in range(RECONCILES):
        for _ in range(rng.randint(0, 2)):
            fault = rng.choice(FAULTS)
            arm.state.faults.append(
                Fault(fault.method, fault.path_part, fault.status, fault.retry_after, fault.lost, late=fault.late)
            )
        if rng.random() < 0.15:
            arm.state.fail_operations += 1
        if rng.random() < 0.2:
            ir = with_endpoints(ir, "web", [f"10.244.{index}.{n}" for n in range(1, rng.randint(2, 4))])
        found = arm.state.owned_by_type("applicationGateways")
        if found and rng.random() < 0.2:
            key = f"edit-{index}"
            arm.state.edit(found[0]["id"], lambda b, k=key: b.setdefault("tags", {}).update({k: "kept"}))
            edits[key] = "kept"
        p.reconcile(ir)  # whatever it says, it must not raise
        if rng.random() < 0.6:
            arm.state.settle()
    served = {(f.method, f.path_part, f.status, f.lost, f.late) for f in arm.state.faults_served}
    assert len(served) >= 5 and any(f.lost for f in arm.state.faults_served), served
    assert any(f.late for f in arm.state.faults_served), served
    assert arm.state.failed_operations >= 3 and len(edits) >= 3
    arm.state.faults.clear()
    arm.state.fail_operations = 0
    arm.state.settle()
    result, _ = converge(p, arm, ir)
    assert result.programmed
    plan = p.plan(ir, p.observe(ir.gateway))
    assert plan.is_empty, plan.to_document()
    body = gateway(arm)
    (spec,) = [d.spec.model_dump() for d in plan.desired if d.kind == "application-gateway"]
    assert differences(spec["body"], body) == []
    assert all(body["tags"].get(k) == v for k, v in edits.items()), "a concurrent edit was lost"
    assert len(arm.state.owned_by_type("publicIPAddresses")) == 1

    for _ in range(12):
        if rng.random() < 0.5:
            arm.state.faults.append(Fault("WRITE", "/", rng.choice([429, 500])))
        done = p.delete(ir.gateway)
        if done.finished:
            break
        arm.state.settle()
    assert done.finished, (done.remaining, done.message)
    assert arm.state.owned_by_type("applicationGateways") == []
    assert arm.state.owned_by_type("publicIPAddresses") == []


def test_an_answer_past_the_read_timeout_is_retried_and_the_change_kept(arm: ArmFake) -> None:
    p = provider(arm, read_timeout_s=READ_TIMEOUT_S)
    ir = example_ir(arm)
    converge(p, arm, ir)
    changed = with_endpoints(ir, "web", ["10.244.7.7"])
    arm.state.faults.append(Fault("PUT", "/applicationGateways/", late=LATE_S))
    before = arm.state.mutating_requests
    p.reconcile(changed)  # the PUT takes effect, the client stops waiting and tries again
    assert [f.late for f in arm.state.faults_served] == [LATE_S]
    assert arm.state.mutating_requests - before >= 2  # without a read timeout the late answer would be awaited
    converge(p, arm, changed)
    assert len(arm.state.owned_by_type("applicationGateways")) == 1
    pools = [p["properties"]["backendAddresses"] for p in gateway(arm)["properties"]["backendAddressPools"]]
    assert [{"ipAddress": "10.244.7.7"}] in pools
