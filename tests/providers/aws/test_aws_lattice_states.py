"""aws-lattice against Lattice's asynchronous states (see lattice_states.py): Programmed only once
everything is ACTIVE, a CREATE_FAILED association replaced rather than adopted, deletes that
Lattice finishes later (DELETE_IN_PROGRESS, ConflictException meanwhile) finished all the same."""

from __future__ import annotations

from portico.ir import GatewayIR
from portico.provider import ApplyState
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY, gateway, listener
from tests.providers.aws.conftest import Account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.lattice_states import ACTIVE
from tests.providers.aws.settle import reconcile_until_programmed
from tests.providers.aws.test_aws_lattice_e2e import PARAMS, make_lattice, shop

NEVER = 10**6  # create_calls: nothing finishes until the test says so
BOUND = 20  # reconciles or deletes a test allows before it calls the provider stuck


def nothing_left(fake: LatticeFake) -> bool:
    tables = (fake.networks, fake.vpc_associations, fake.services, fake.service_associations)
    return not any((*tables, fake.listeners, fake.rules, fake.target_groups))


def no_routes() -> GatewayIR:
    return gateway(listener(rules=()), params=PARAMS, controller="portico.dev/aws-lattice")


def test_programmed_only_once_lattice_has_made_everything_active(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.create_calls = NEVER
    lattice = make_lattice(account, fake, CallCounter())
    first = lattice.reconcile(shop())
    assert first.state is ApplyState.PENDING
    assert "CREATE_IN_PROGRESS" in first.message and first.recheck_after
    assert len(fake.rules) == 3  # everything was asked for; Lattice is still working
    again = lattice.reconcile(shop())
    assert again.state is ApplyState.PENDING and again.mutations == 0
    fake.settle()
    done = lattice.reconcile(shop())
    assert done.programmed and done.mutations == 0, done.message


def test_a_gateway_without_routes_is_programmed_once_its_network_is_associated(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.create_calls = NEVER
    lattice = make_lattice(account, fake, CallCounter())
    first = lattice.reconcile(no_routes())
    assert first.state is ApplyState.PENDING and "vpc-association" in first.message
    fake.settle()
    done = lattice.reconcile(no_routes())
    assert done.programmed and done.addresses == (), done.message
    assert len(fake.networks) == 1 and not fake.services


def test_a_failed_service_association_is_replaced_not_adopted(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.fail_creates["service_association"] = 1
    lattice = make_lattice(account, fake, CallCounter())
    first = lattice.reconcile(shop())
    assert first.state is ApplyState.PENDING and "CREATE_FAILED" in first.message
    [failed] = [a["id"] for a in fake.service_associations.values() if a["status"] == "CREATE_FAILED"]
    # Deleted first (Lattice takes a while), then created anew.
    reconcile_until_programmed(lattice, shop())
    assert failed not in fake.service_associations
    assert len(fake.service_associations) == 2
    assert {a["status"] for a in fake.service_associations.values()} == {ACTIVE}


def test_a_failed_vpc_association_is_replaced_and_the_gateway_then_programmed(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.create_calls = fake.delete_calls = 1
    fake.fail_creates["vpc_association"] = 1
    lattice = make_lattice(account, fake, CallCounter())
    assert lattice.reconcile(no_routes()).state is ApplyState.PENDING
    [failed] = fake.vpc_associations
    plan = lattice.plan(no_routes(), lattice.observe(GATEWAY))  # Lattice has failed it meanwhile
    assert [(s.action, s.kind, s.reason) for s in plan.steps] == [
        ("delete", "vpc-association", "replace: the cloud reports CREATE_FAILED"),
        ("create", "vpc-association", ""),
    ]
    for _ in range(BOUND):
        if lattice.reconcile(no_routes()).programmed:
            break
    else:
        raise AssertionError("never programmed")
    [association] = fake.vpc_associations.values()
    assert association["id"] != failed and association["status"] == ACTIVE


def test_deletes_lattice_finishes_later_are_waited_for_and_leave_nothing(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.create_calls = fake.delete_calls = 3
    lattice = make_lattice(account, fake, CallCounter())
    for _ in range(BOUND):
        if lattice.reconcile(shop()).programmed:
            break
    else:
        raise AssertionError("never programmed")
    messages = []
    for _ in range(BOUND):
        result = lattice.delete(GATEWAY)
        if result.finished:
            break
        messages.append(result.message)
    else:
        raise AssertionError(f"the delete never finished: {messages[-3:]}")
    assert messages, "the first delete cannot have finished: Lattice deletes asynchronously"
    assert any("ConflictException" in m or "in progress" in m for m in messages)
    assert nothing_left(fake)
