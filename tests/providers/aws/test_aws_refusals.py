"""aws-alb against moto made as strict as AWS (`strict_moto`): deletes refused while AWS lets go
of a resource, certificates in use, draining targets. Every run ends with nothing left."""

from __future__ import annotations

from portico.ir import GatewayIR, ListenerProtocol
from portico.provider import ApplyState
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY, backend, certificate, gateway, listener, rule, self_signed
from tests.providers.aws.conftest import fresh_account
from tests.providers.aws.state import alb_state
from tests.providers.aws.test_aws_alb_e2e import make_alb, shop

MAX_DELETES = 10


def delete_until_finished(alb: AlbProvider) -> None:
    """What the finalizer does: delete again (after a backoff) until nothing owned remains."""
    for _ in range(MAX_DELETES):
        if alb.delete(GATEWAY).finished:
            return
    raise AssertionError("the refusals never passed")


def test_delete_is_not_finished_while_aws_refuses_and_ends_with_nothing_left() -> None:
    with fresh_account(release_lag=2) as account:
        alb = make_alb(account, CallCounter())
        assert alb.reconcile(shop()).programmed
        first = alb.delete(GATEWAY)
        assert not first.finished
        assert "ResourceInUse" in first.message and first.remaining
        delete_until_finished(alb)
        assert any(":targetgroup/" in arn for arn in account.release.refused)
        assert account.release.refused, "AWS's refusals must actually have happened"
        state = alb_state(account.session)
        assert (state.balancers, state.target_groups, state.certificates) == ([], [], [])


def _https(secret: str) -> GatewayIR:
    web = backend("web", ips=("10.0.1.10",))
    cert = certificate(*self_signed(serial=3 if secret == "new-tls" else 2), name=secret)
    routes = (rule("shop", hostnames=("shop.example.com",), backends=(web,)),)
    return gateway(listener("https", 443, protocol=ListenerProtocol.HTTPS, certificates=(cert,), rules=routes))


def test_a_certificate_still_in_use_is_pending_not_failed() -> None:
    """The listener moves to the new certificate; ACM refuses to delete the old one for a while."""
    with fresh_account(release_lag=1) as account:
        alb = make_alb(account, CallCounter())
        assert alb.reconcile(_https("old-tls")).programmed
        moved = alb.reconcile(_https("new-tls"))
        assert moved.state is ApplyState.PENDING, moved.message
        assert "ResourceInUseException" in moved.message
        assert alb.reconcile(_https("new-tls")).programmed
        assert len(alb_state(account.session).certificates) == 1
        delete_until_finished(alb)
        assert alb_state(account.session).certificates == []


def test_a_draining_target_that_comes_back_is_registered_again() -> None:
    with fresh_account() as account:
        alb = make_alb(account, CallCounter())
        both, one = ("10.0.1.10", "10.0.1.11"), ("10.0.1.10",)
        assert alb.reconcile(shop(web_ips=both)).programmed
        assert alb.reconcile(shop(web_ips=one)).programmed
        state = alb_state(account.session)
        [web] = [g["TargetGroupName"] for g in state.target_groups if g["TargetGroupName"] in state.draining]
        assert state.draining[web] == {("10.0.1.11", 8080)}
        # Still draining is not registered: the next reconcile with the same endpoints changes nothing.
        assert alb.reconcile(shop(web_ips=one)).mutations == 0
        assert alb.reconcile(shop(web_ips=both)).programmed
        state = alb_state(account.session)
        assert state.targets[web] == {("10.0.1.10", 8080), ("10.0.1.11", 8080)}
        assert web not in state.draining


def test_a_route_with_four_hostnames_becomes_two_alb_rules_of_at_most_three() -> None:
    hosts = ("a.example.com", "b.example.com", "c.example.com", "d.example.com")
    web = backend("web", ips=("10.0.1.10",))
    ir = gateway(listener(rules=(rule("wide", hostnames=hosts, path="/wide", backends=(web,)),)))
    with fresh_account() as account:
        alb = make_alb(account, CallCounter())
        result = alb.reconcile(ir)
        assert result.programmed, result.message
        rules = [r for r in alb_state(account.session).rules if not r["IsDefault"]]
        host_values = sorted(
            tuple(c["HostHeaderConfig"]["Values"])
            for r in rules
            for c in r["Conditions"]
            if c["Field"] == "host-header"
        )
        assert host_values == [hosts[:3], hosts[3:]]
        assert alb.reconcile(ir).mutations == 0
        delete_until_finished(alb)
