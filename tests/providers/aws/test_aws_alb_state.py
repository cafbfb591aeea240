"""Programmed follows the load balancer's State: pending while `provisioning`, failed when `failed`."""

from __future__ import annotations

from portico.provider import ApplyState
from portico_providers.aws_common.clients import CallCounter, is_mutating
from tests.providers.aws.conftest import Account, fresh_account
from tests.providers.aws.settle import delete_until_finished
from tests.providers.aws.test_aws_alb_e2e import make_alb, shop


def test_a_provisioning_load_balancer_is_pending_until_it_is_active() -> None:
    with fresh_account(provisioning=3) as account:  # a reconcile describes it twice
        counter = CallCounter()
        alb = make_alb(account, counter)
        first = alb.reconcile(shop())
        assert first.state is ApplyState.PENDING, first.message
        assert "load balancer provisioning" in first.message
        assert first.recheck_after and first.addresses  # the DNS name is known already
        mark = len(counter.calls)
        second = alb.reconcile(shop())  # observe sees it provisioning too; nothing to change
        assert not second.programmed and "provisioning" in second.message
        assert [op for _, op in counter.calls[mark:] if is_mutating(op)] == []
        third = alb.reconcile(shop())
        assert third.programmed, third.message
        assert third.addresses == first.addresses


def test_a_failed_load_balancer_is_reported(account: Account) -> None:
    from moto.elbv2.models import elbv2_backends

    alb = make_alb(account, CallCounter())
    assert alb.reconcile(shop()).programmed
    [balancer] = elbv2_backends[account.session.client("sts").get_caller_identity()["Account"]][
        account.session.region_name
    ].load_balancers.values()
    balancer.state = "failed"
    result = alb.reconcile(shop())
    assert result.state is ApplyState.FAILED and "load balancer State failed" in result.message
    delete_until_finished(alb)


def test_an_alb_rule_aws_refuses_is_reported_on_its_route_and_the_rest_is_programmed(account: Account) -> None:
    from portico.provider import load_provider
    from tests.providers.aws.state import context
    from tests.providers.aws.test_aws_refused_steps import RefuseOneRule, two_routes

    hook = ("provide-client-params.elastic-load-balancing-v2.CreateRule", RefuseOneRule())
    alb = load_provider("aws-alb", context(account.session, CallCounter(), hook))
    ir = two_routes()
    result = alb.reconcile(ir)
    assert result.programmed, result.message
    assert list(result.refused_rules) == [ir.listeners[0].rules[0].id]
    assert "ValidationError" in result.refused_rules[ir.listeners[0].rules[0].id]
