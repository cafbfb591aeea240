"""The kit's membership sets, ignored fields, name-reusing replacements and waves of running operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from portico.ir import ObjectKey
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.diff import Step, diff
from portico_providers.kit.execute import ErrorKind, StillRunning, execute
from portico_providers.kit.ownership import Marks, NameMarkerOwnership
from portico_providers.kit.resources import Desired, KindRules, Observed, Spec

GATEWAY = ObjectKey(namespace="shop", name="web")
OWNERSHIP = NameMarkerOwnership("c1", GATEWAY)


class Group(Spec):
    network: str
    address: str = ""
    members: tuple[str, ...] = ()


RULES = (
    KindRules(
        "group", immutable=frozenset({"network"}), members=frozenset({"members"}), ignored=frozenset({"address"})
    ),
)


def _observed(spec: Group, rid: str = "g") -> Observed:
    return Observed("group", rid, f"cloud/{rid}", spec, marks=OWNERSHIP.mark(rid))


def test_members_compare_as_a_set_and_ignored_fields_not_at_all() -> None:
    have = _observed(Group(network="n", address="10.0.0.1", members=("b", "a", "a")))
    same = Desired("group", "g", Group(network="n", address="projects/p/addresses/ip", members=("a", "b")))
    assert diff([same], [have], RULES).steps == ()
    moved = Desired("group", "g", Group(network="n", members=("a", "c")))
    (step,) = diff([moved], [have], RULES).steps
    assert (step.action, step.fields) == ("update", ("members",))


def test_a_name_reusing_replacement_deletes_before_it_creates() -> None:
    have = _observed(Group(network="old"))
    wanted = Desired("group", "g", Group(network="new"))
    late = diff([wanted], [have], RULES).steps
    assert [s.action for s in late] == ["create", "delete"]
    reusing = (KindRules("group", immutable=frozenset({"network"}), reuses_name=True),)
    first = diff([wanted], [have], reusing).steps
    assert [(s.action, s.reason) for s in first] == [
        ("delete", "replace: network cannot change in place"),
        ("create", "replace: network cannot change in place"),
    ]


class Recorder:
    """Creates whose operations keep running (a wave), and records every call."""

    def __init__(self, kind: str, calls: list[str], running: bool) -> None:
        self.kind, self.calls, self.running = kind, calls, running

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        self.calls.append(f"create {desired.id}")
        if self.running:
            raise StillRunning(f"operation for {desired.id} is running", 5.0, wave=True)
        return f"cloud/{desired.id}"

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        self.calls += [f"update {s.id}" for s in steps]

    def delete(self, observed: Observed) -> None:
        self.calls.append(f"delete {observed.id}")


class NoErrors:
    def classify(self, error: BaseException) -> ErrorKind | None:
        return None

    def describe(self, error: BaseException) -> str:
        return str(error)


def test_a_wave_starts_every_step_of_its_kind_and_action_then_stops() -> None:
    kinds = (KindRules("group"), KindRules("front"))
    desired = [Desired("group", f"g{i}", Group(network="n")) for i in range(3)] + [
        Desired("front", "f", Group(network="n"))
    ]
    planned = diff(desired, [], kinds)
    plan = CloudPlan("test", OWNERSHIP, steps=planned.steps)
    calls: list[str] = []
    handlers = {"group": Recorder("group", calls, running=True), "front": Recorder("front", calls, running=False)}
    run = execute(plan, handlers, NoErrors())
    assert calls == ["create g0", "create g1", "create g2"]  # the front waits for the wave
    assert run.running == "create group g0: operation for g0 is running (and 2 more running)"
    assert run.recheck_after == 5.0 and run.done == 0 and not run.error
