"""aws-lattice against a fake as strict as Lattice: at most 100 targets per call, the
`unsuccessful` part of an answer, DRAINING targets after a deregistration, clientToken idempotency."""

from __future__ import annotations

from typing import Any

from portico.provider import ApplyState
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY
from tests.providers.aws.conftest import Account
from tests.providers.aws.faults import client_error
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.test_aws_lattice_e2e import make_lattice, shop

MAX_DELETES = 10


def _web(fake: LatticeFake) -> dict[tuple[str, int], dict[str, object]]:
    [web] = [g for g in fake.target_groups.values() if "web" in g["name"]]
    return fake.targets[web["id"]]


def _delete_until_finished(provider: object) -> None:
    for _ in range(MAX_DELETES):
        if provider.delete(GATEWAY).finished:  # type: ignore[attr-defined]
            return
    raise AssertionError("the delete never finished")


def test_250_targets_register_and_deregister_in_calls_of_at_most_100(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.drain_lists = 1
    counter = CallCounter()
    lattice = make_lattice(account, fake, counter)
    many = tuple(f"10.0.{i // 200}.{i % 200 + 1}" for i in range(250))
    result = lattice.reconcile(shop(web_ips=many))
    assert result.programmed, result.message
    assert {k for k, t in _web(fake).items() if t["status"] == "HEALTHY"} == {(ip, 8080) for ip in many}
    assert [op for _, op in counter.calls].count("RegisterTargets") >= 3
    result = lattice.reconcile(shop(web_ips=many[:40]))
    assert result.programmed, result.message
    assert {k for k, t in _web(fake).items() if t["status"] == "HEALTHY"} == {(ip, 8080) for ip in many[:40]}
    _delete_until_finished(lattice)
    assert fake.target_groups == {}


def test_targets_lattice_refuses_are_reported_on_the_rules_that_use_them(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.drain_lists = 1
    lattice = make_lattice(account, fake, CallCounter())
    result = lattice.reconcile(shop(web_ips=("10.0.1.10", "fd00::1")))
    # The rules that forward to the group are reported (on their routes); the rest is programmed.
    assert result.state is ApplyState.PROGRAMMED
    assert result.refused_rules
    for reason in result.refused_rules.values():
        assert "fd00::1:8080" in reason and "InvalidParameter" in reason
    assert set(_web(fake)) == {("10.0.1.10", 8080)}  # the others are registered all the same
    _delete_until_finished(lattice)


def test_a_draining_target_that_comes_back_is_registered_again(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.drain_lists = 3
    lattice = make_lattice(account, fake, CallCounter())
    both, one = ("10.0.1.10", "10.0.1.11"), ("10.0.1.10",)
    assert lattice.reconcile(shop(web_ips=both)).programmed
    assert lattice.reconcile(shop(web_ips=one)).programmed
    assert _web(fake)[("10.0.1.11", 8080)]["status"] == "DRAINING"
    assert lattice.reconcile(shop(web_ips=both)).programmed
    assert {k: t["status"] for k, t in _web(fake).items()} == {
        ("10.0.1.10", 8080): "HEALTHY",
        ("10.0.1.11", 8080): "HEALTHY",
    }
    _delete_until_finished(lattice)
    assert fake.target_groups == {}


def test_a_create_whose_answer_is_lost_is_retried_with_the_same_client_token(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    lost: list[str] = []

    def lose_first_create_answers(model: Any, **_: Any) -> None:
        if model.name.startswith("Create") and model.name not in lost:
            lost.append(model.name)
            raise client_error("ServiceUnavailable", 503, model.name)

    lattice = make_lattice(account, fake, CallCounter(), hooks_extra=[("after-call", lose_first_create_answers)])
    result = lattice.reconcile(shop())
    assert result.programmed, result.message
    assert {"CreateServiceNetwork", "CreateService", "CreateTargetGroup", "CreateRule"} <= set(lost)
    assert (len(fake.networks), len(fake.services), len(fake.target_groups)) == (1, 2, 2)
    assert lattice.reconcile(shop()).mutations == 0
    _delete_until_finished(lattice)
