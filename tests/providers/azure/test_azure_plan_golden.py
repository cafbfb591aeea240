"""Golden plans from (IR, what Azure holds): the one PUT an update makes, and the delete order.

The observed state is what the `before` IR made in the ARM fake (read back through the SDK), so
these pin the pure `plan` against Azure's own answers (ids, etags, defaults it fills in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from portico.ir import GatewayIR
from tests.golden.golden import check_golden
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.scenario import GOLDEN, converge, example_ir, provider, with_endpoints


def drop_first_rule_and_move_endpoints(ir: GatewayIR) -> GatewayIR:
    listeners = [
        listener.model_copy(update={"rules": tuple(r for r in listener.rules if ":r0:" not in r.id)})
        for listener in ir.listeners
    ]
    return with_endpoints(ir.model_copy(update={"listeners": tuple(listeners)}), "web", ["10.9.9.9"])


CASES: dict[str, Callable[[GatewayIR], GatewayIR] | None] = {
    "update": drop_first_rule_and_move_endpoints,
    "delete": None,
}


@pytest.fixture(autouse=True)
def no_backoff_wait() -> Iterator[None]:
    with mock.patch("portico_providers.azure_appgw.arm.sleep"):
        yield


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_from_what_azure_holds(arm: ArmFake, name: str, update_golden: bool) -> None:
    p = provider(arm)
    before = example_ir(arm)
    converge(p, arm, before)
    observed = p.observe(before.gateway)
    assert p.plan(before, observed).is_empty, "what Azure holds must be exactly what `before` makes"
    change = CASES[name]
    plan = p.plan(change(before) if change else None, observed)
    assert not plan.problems, plan.problems
    document = plan.to_document()
    if name == "update":
        assert [(s["action"], s["kind"]) for s in document["steps"]] == [("update", "application-gateway")]
    check_golden(Path(GOLDEN) / "plans" / f"examples.{name}.out.yaml", document, update_golden)
