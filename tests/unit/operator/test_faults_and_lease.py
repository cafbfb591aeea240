"""The emulator's fault rules (deterministic, narrowed, counted) and the Lease's expiry by the
candidate's own clock."""

from __future__ import annotations

import pytest

from portico.devcluster.faults import FaultRule, Faults
from portico.devcluster.store import StatusError
from portico.handlers.leader import LeaderElector, LeaseConfig
from portico.kube import KubeClient
from portico.kube.client import Connection


def draws(seed: int) -> list[bool]:
    faults = Faults(seed=seed)
    faults.add(FaultRule(500, rate=0.3))
    out = []
    for _ in range(50):
        try:
            faults.check("get", "gateways", "")
            out.append(False)
        except StatusError:
            out.append(True)
    return out


def test_the_same_seed_gives_the_same_faults() -> None:
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 5 < sum(draws(7)) < 25


def test_rules_narrow_by_verb_resource_client_and_count() -> None:
    faults = Faults()
    rule = faults.add(
        FaultRule(429, verbs=frozenset({"patch"}), resources=frozenset({"gateways/status"}), times=2, authorization="")
    )
    faults.check("get", "gateways/status", "")  # another verb
    faults.check("patch", "gateways", "")  # another resource
    faults.check("patch", "gateways/status", "Bearer test")  # another client
    for _ in range(2):
        with pytest.raises(StatusError) as caught:
            faults.check("patch", "gateways/status", "")
        assert caught.value.code == 429
    faults.check("patch", "gateways/status", "")  # used up
    assert rule.injected == 2 and faults.injected == {429: 2}


def test_bad_rules_are_refused_with_the_field() -> None:
    with pytest.raises(ValueError, match="code"):
        FaultRule(404)
    with pytest.raises(ValueError, match="verbs"):
        FaultRule(500, verbs=frozenset({"fetch"}))


def test_expired_histories_answer_only_older_resumes() -> None:
    faults = Faults()
    assert not faults.expired("5")
    faults.expire(10)
    assert faults.expired("9") and not faults.expired("10") and not faults.expired(None)


def test_a_lease_expires_only_after_it_stayed_unchanged_for_its_duration_on_our_clock() -> None:
    now = [100.0]
    elector = LeaderElector(
        KubeClient(Connection(server="http://127.0.0.1:1")),
        LeaseConfig(
            name="portico", namespace="default", identity="b", lease_duration=15, renew_deadline=10, retry_period=2
        ),
        clock=lambda: now[0],
    )
    held = {"holderIdentity": "a", "renewTime": "t1", "leaseDurationSeconds": 15}
    assert not elector.expired(held)
    now[0] += 14
    assert not elector.expired(held)
    assert not elector.expired({**held, "renewTime": "t2"})  # renewed: the wait starts again
    now[0] += 14.9
    assert not elector.expired({**held, "renewTime": "t2"})
    now[0] += 0.2
    assert elector.expired({**held, "renewTime": "t2"})


def test_lease_timings_must_nest() -> None:
    with pytest.raises(ValueError, match="--lease-duration"):
        LeaseConfig(name="p", namespace="d", identity="i", lease_duration=10, renew_deadline=10, retry_period=2)
