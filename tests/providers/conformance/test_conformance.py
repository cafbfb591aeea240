"""The provider conformance suite: every provider, against its fake, through the operator's path.

Each scenario runs `reconcile_once` (observe -> plan -> apply, what the operator's worker runs)
and `provider.delete` (what the finalizer runs) in a worker thread, as the operator does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from portico.ir import GatewayIR
from portico.provider import ApplyResult, ApplyState, DeleteResult, reconcile_once
from tests.providers.conformance.harness import GATEWAY, Harness, invalid_backend_rule
from tests.providers.conformance.harness import unsupported_by_aws as regex_rule

CONVERGE = 4  # reconciles a provider may need to recover from one injected fault
# Deletes (the finalizer's retries) a provider may need while its fake refuses for a while, as
# clouds do after a resource's last user went away (every fake does so by default).
DELETE_BOUND = 10


async def in_thread(work: Callable[[], None]) -> None:
    await asyncio.to_thread(work)


def reconcile(h: Harness, ir: GatewayIR) -> ApplyResult:
    return reconcile_once(h.provider, ir)


def delete(h: Harness) -> DeleteResult:
    result: DeleteResult = h.provider.delete(GATEWAY)
    return result


def delete_until_finished(h: Harness) -> DeleteResult:
    """What the finalizer does: delete again until the provider says nothing owned remains."""
    result = delete(h)
    for _ in range(DELETE_BOUND - 1):
        if result.finished:
            return result
        assert result.message, "an unfinished delete says why"
        result = delete(h)
    assert result.finished, (h.name, result.remaining, result.message)
    return result


def converge(h: Harness, ir: GatewayIR) -> ApplyResult:
    result = reconcile(h, ir)
    for _ in range(CONVERGE):
        if result.programmed and result.mutations == 0:
            return result
        result = reconcile(h, ir)
    return result


async def test_second_reconcile_makes_zero_mutating_calls(harness: Harness) -> None:
    def scenario() -> None:
        first = reconcile(harness, harness.ir())
        assert first.state is not ApplyState.FAILED, first.message
        harness.finish_pending()
        mark = harness.mutations()
        second = reconcile(harness, harness.ir())
        assert second.programmed, second.message
        third = reconcile(harness, harness.ir())
        assert third.programmed and third.mutations == 0
        assert harness.mutations() - mark == second.mutations  # the count the result reports is the real one
        assert harness.provider.plan(harness.ir(), harness.provider.observe(GATEWAY)).is_empty

    await in_thread(scenario)


async def test_delete_leaves_nothing_owned(harness: Harness) -> None:
    def scenario() -> None:
        reconcile(harness, harness.ir())
        assert harness.owned()
        delete_until_finished(harness)
        assert harness.owned() == []
        assert delete(harness).finished and harness.mutations() >= 0

    await in_thread(scenario)


async def test_resources_that_are_not_ours_are_never_touched(harness: Harness) -> None:
    def scenario() -> None:
        ir = harness.ir()
        read = harness.plant_foreign(ir)
        before = read()
        for _ in range(2):
            result = reconcile(harness, ir)
            # The name Portico wants is taken: reported, never taken over.
            assert result.state is not ApplyState.PROGRAMMED or harness.name != "proxy", result.message
        assert read() == before
        delete_until_finished(harness)
        assert read() == before
        assert harness.owned() == []

    await in_thread(scenario)


async def test_token_shaped_user_input_stays_data(harness: Harness) -> None:
    def scenario() -> None:
        ir = harness.ir(harness.user_rules(harness.token_shaped))
        result = converge(harness, ir)
        harness.finish_pending()
        result = converge(harness, ir)
        assert result.programmed, result.message
        assert harness.token_shaped in harness.state_text()

    await in_thread(scenario)


async def test_a_lost_create_answer_does_not_duplicate(harness: Harness) -> None:
    def scenario() -> None:
        harness.lose_next_create_answer()
        reconcile(harness, harness.ir())
        harness.finish_pending()
        result = converge(harness, harness.ir())
        assert result.programmed, result.message
        duplicates = {rid: n for rid, n in Counter(harness.owned()).items() if n > 1}
        assert duplicates == {}

    await in_thread(scenario)


async def test_an_invalid_rule_is_rejected_alone_and_does_not_block_the_gateway(harness: Harness) -> None:
    def scenario() -> None:
        good = harness.user_rules("beta")
        bad = regex_rule()
        ir = harness.ir((*good, bad, invalid_backend_rule()))
        check = harness.provider.capabilities().check_rules
        rejected = dict(check(ir.listeners)) if check else {}
        # Each provider either programs the rule or rejects exactly it, naming the limit.
        assert set(rejected) <= {bad.id}
        assert all(message for message in rejected.values())
        reconcile(harness, ir)
        harness.finish_pending()
        result = converge(harness, ir)
        assert result.programmed, result.message

    await in_thread(scenario)


async def test_pending_work_is_reported_and_finishes_later(harness: Harness) -> None:
    def scenario() -> None:
        harness.start_pending()
        first = reconcile(harness, harness.ir())
        assert first.state is ApplyState.PENDING, first
        assert first.message
        harness.finish_pending()
        assert converge(harness, harness.ir()).programmed

    await in_thread(scenario)


async def test_a_refused_delete_is_not_finished_until_nothing_remains(harness: Harness) -> None:
    def scenario() -> None:
        reconcile(harness, harness.ir())
        harness.refuse_next_mutation()
        first = delete(harness)
        assert not first.finished
        assert first.message
        assert harness.owned()
        delete_until_finished(harness)
        assert harness.owned() == []

    await in_thread(scenario)


async def test_a_gateway_without_routes_is_programmed(harness: Harness) -> None:
    def scenario() -> None:
        reconcile(harness, harness.ir(()))
        harness.finish_pending()
        result = converge(harness, harness.ir(()))
        assert result.programmed, result.message
        assert result.message == ""

    await in_thread(scenario)
