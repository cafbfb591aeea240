"""50 reconciles with throttling and 5xx injected on random calls: always converges, nothing leaks or doubles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from portico.ir import GatewayIR
from portico.provider import load_provider
from portico_providers.aws_common.clients import CallCounter
from portico_providers.aws_common.provider import AwsProvider
from portico_providers.aws_common.tags import RESOURCE_TAG
from tests.irs import GATEWAY, self_signed
from tests.providers.aws import test_aws_alb_e2e as alb_cases
from tests.providers.aws import test_aws_lattice_e2e as lattice_cases
from tests.providers.aws.conftest import Account
from tests.providers.aws.faults import Faults
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.state import alb_state, context

RECONCILES = 50
RATE = 0.12


def drive(provider: AwsProvider, faults: Faults, versions: list[GatewayIR]) -> None:
    """50 faulty reconciles walking through the versions, then clean ones until converged."""
    for index in range(RECONCILES):
        provider.reconcile(versions[index * len(versions) // RECONCILES])
    faults.rate = 0.0
    final = versions[-1]
    for _ in range(3):
        if provider.reconcile(final).mutations == 0:
            break
    assert provider.plan(final, provider.observe(GATEWAY)).is_empty
    assert len(faults.injected) > 50, "the run must actually have been disturbed"
    assert any(where == "after" for where, _ in faults.injected), "lost answers must have happened"


def delete_under_faults(provider: AwsProvider, faults: Faults) -> None:
    faults.rate = RATE
    for _ in range(10):
        provider.delete(GATEWAY)
    faults.rate = 0.0
    for _ in range(3):
        if provider.delete(GATEWAY).mutations == 0:
            break
    assert provider.plan(None, provider.observe(GATEWAY)).is_empty


def versions(make: Callable[..., GatewayIR]) -> list[GatewayIR]:
    rotated = self_signed(serial=11)
    return [
        make(),
        make(extra_rule=True),
        make(extra_rule=True, web_ips=("10.0.1.12",)),
        make(web_ips=("10.0.1.12", "10.0.1.13"), cert=rotated),
        make(cert=rotated),
    ]


def test_alb_converges_under_faults(account: Account) -> None:
    # A seed whose run loses answers (the precondition `drive` checks); the call sequence decides.
    faults = Faults(seed=7, rate=RATE)
    provider = load_provider("aws-alb", context(account.session, CallCounter(), *faults.hooks()))
    assert isinstance(provider, AwsProvider)
    steps = versions(alb_cases.shop)
    drive(provider, faults, steps)
    state = alb_state(account.session)
    owned = Counter(state.tags[arn][RESOURCE_TAG] for arn in state.tagged(str(GATEWAY)))
    assert set(owned.values()) == {1}, f"duplicated: {[k for k, v in owned.items() if v > 1]}"
    assert len(state.balancers) == 1 and len(state.certificates) == 1  # no untagged leftovers either
    assert len(state.target_groups) == 2
    delete_under_faults(provider, faults)
    state = alb_state(account.session)
    assert (state.balancers, state.target_groups, state.certificates) == ([], [], [])


def test_lattice_converges_under_faults(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    faults = Faults(seed=9, rate=RATE)
    provider = lattice_cases.make_lattice(account, fake, CallCounter(), hooks_extra=faults.hooks())
    drive(provider, faults, versions(lattice_cases.shop))
    tables: list[dict[str, dict[str, Any]]] = [
        fake.networks,
        fake.vpc_associations,
        fake.services,
        fake.service_associations,
        fake.listeners,
        fake.rules,
        fake.target_groups,
    ]
    live = [item["arn"] for table in tables for item in table.values()]
    owned = Counter(fake.tags[arn][RESOURCE_TAG] for arn in live)
    assert set(owned.values()) == {1}, f"duplicated: {[k for k, v in owned.items() if v > 1]}"
    assert (len(fake.networks), len(fake.services), len(fake.target_groups)) == (1, 2, 2)
    delete_under_faults(provider, faults)
    assert all(table == {} for table in tables)
    assert account.client("acm").list_certificates()["CertificateSummaryList"] == []
