"""The kit's execute and flow against a small in-memory cloud: a refused step blocks only what needs it.

The cloud validates like a real one: it refuses a value it does not accept (invalid input), a
reference to a resource it does not have, and the deletion of a resource something still uses
(a conflict). Everything else about it is a dictionary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyState, Capabilities, ProviderContext
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import ErrorKind, InProgress, KindHandler, execute
from portico_providers.kit.flow import Built, CloudProvider, ObservedState
from portico_providers.kit.ownership import Marks, TagKeys, TagOwnership
from portico_providers.kit.references import Reference, ref
from portico_providers.kit.resources import Desired, KindRules, Observed, Spec

GATEWAY = ObjectKey(namespace="shop", name="web")
KINDS = (KindRules("balancer"), KindRules("pool"), KindRules("rule", immutable=frozenset({"value"})))


class Balancer(Spec):
    name: str


class Pool(Spec):
    balancer: Reference
    port: int


class Rule(Spec):
    balancer: Reference
    pool: Reference
    value: str


SPECS: dict[str, type[Spec]] = {"balancer": Balancer, "pool": Pool, "rule": Rule}


class Invalid(Exception):
    """The cloud's "ValidationError"."""


class InUse(Exception):
    """The cloud's "ResourceInUse"."""


class NotFound(Exception):
    pass


class Errors:
    def classify(self, error: BaseException) -> ErrorKind | None:
        kinds = {Invalid: ErrorKind.INVALID_INPUT, InUse: ErrorKind.CONFLICT, NotFound: ErrorKind.GONE}
        return kinds.get(type(error))

    def describe(self, error: BaseException) -> str:
        return f"{type(error).__name__}: {error}"


@dataclass
class Cloud:
    """id -> (kind, spec document, tags). Refuses rule values starting with `bad` and pool port 0."""

    items: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=dict)
    refuse_deletes: set[str] = field(default_factory=set)  # cloud ids refused as invalid on delete
    slow: bool = False  # new pools are CREATE_IN_PROGRESS until `settle`
    states: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def settle(self) -> None:
        self.states.clear()

    def create(self, kind: str, spec: dict[str, Any], tags: dict[str, str]) -> str:
        self.calls += 1
        for key in ("balancer", "pool"):
            if key in spec and spec[key] not in self.items:
                raise Invalid(f"{key} {spec[key]} does not exist")
        if str(spec.get("value", "")).startswith("bad"):
            raise Invalid(f"value {spec['value']!r} is not a valid condition value")
        if spec.get("port") == 0:
            raise Invalid("port must be within 1-65535")
        cloud_id = f"{kind}-{len(self.items) + 1}-{self.calls}"
        self.items[cloud_id] = (kind, spec, tags)
        if self.slow and kind == "pool":
            self.states[cloud_id] = "CREATE_IN_PROGRESS"
        return cloud_id

    def delete(self, cloud_id: str) -> None:
        self.calls += 1
        if cloud_id not in self.items:
            raise NotFound(cloud_id)
        if cloud_id in self.refuse_deletes:
            raise Invalid(f"{cloud_id} cannot be deleted with these arguments")
        if any(cloud_id in spec.values() for _, spec, _ in self.items.values()):
            raise InUse(f"{cloud_id} is in use")
        del self.items[cloud_id]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [spec for k, spec, _ in self.items.values() if k == kind]


@dataclass
class Handler:
    cloud: Cloud

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        cloud_id = self.cloud.create(desired.kind, spec, dict(marks.tags))
        state = self.cloud.states.get(cloud_id)
        return InProgress(cloud_id, state) if state else cloud_id

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        for step, spec in zip(steps, specs, strict=True):
            assert step.observed is not None
            kind, _, tags = self.cloud.items[step.observed.cloud_id]
            self.cloud.items[step.observed.cloud_id] = (kind, spec, tags)

    def delete(self, observed: Observed) -> None:
        self.cloud.delete(observed.cloud_id)


def ownership() -> TagOwnership:
    return TagOwnership("test", GATEWAY, TagKeys("cluster", "gateway", "resource"))


class MemoryProvider(CloudProvider[TagOwnership]):
    """A kit provider whose build ignores the IR and returns `self.desired` (the test sets it)."""

    name = "memory"
    kinds = KINDS
    address_required = False

    def __init__(self, cloud: Cloud) -> None:
        super().__init__(ProviderContext())
        self.cloud = cloud
        self.desired: list[Desired] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(features=frozenset())

    def ownership(self, gateway: ObjectKey) -> TagOwnership:
        return ownership()

    @property
    def classifier(self) -> Errors:
        return Errors()

    def read(self, gateway: ObjectKey) -> ObservedState:
        own = ownership()
        found = []
        for cloud_id, (kind, spec, tags) in sorted(self.cloud.items.items()):
            resource_id = own.claim(Marks(tags=tags))
            if resource_id is not None:
                state = self.cloud.states.get(cloud_id, "")
                failed, busy = (state, "") if state.endswith("_FAILED") else ("", state)
                marks = Marks(tags=tags)
                found.append(
                    Observed(kind, resource_id, cloud_id, SPECS[kind](**spec), marks=marks, busy=busy, failed=failed)
                )
        return ObservedState(own, tuple(found))

    def build(self, ir: GatewayIR, ownership: TagOwnership, seen: ObservedState | None) -> Built:
        return Built(desired=list(self.desired))

    def handlers(self, ownership: TagOwnership) -> Mapping[str, KindHandler]:
        handler = Handler(self.cloud)
        return {kind.kind: handler for kind in KINDS}


def world(bad_pool: bool = False, bad_rule: bool = False, bad_balancer: bool = False) -> list[Desired]:
    """A balancer, two pools and three rules: rule `a` uses pool `a`, rules `b` and `c` pool `b`."""
    return [
        Desired("balancer", "lb", Balancer(name="bad name" if bad_balancer else "web")),
        Desired("pool", "pool-a", Pool(balancer=ref("lb"), port=0 if bad_pool else 80), rules=("a",)),
        Desired("pool", "pool-b", Pool(balancer=ref("lb"), port=8080), rules=("b", "c")),
        Desired(
            "rule",
            "rule-a",
            Rule(balancer=ref("lb"), pool=ref("pool-a"), value="bad*" if bad_rule else "/a"),
            rules=("a",),
        ),
        Desired("rule", "rule-b", Rule(balancer=ref("lb"), pool=ref("pool-b"), value="/b"), rules=("b",)),
        Desired("rule", "rule-c", Rule(balancer=ref("lb"), pool=ref("pool-b"), value="/c"), rules=("c",)),
    ]


def gateway_ir() -> GatewayIR:
    return GatewayIR(gateway=GATEWAY, gateway_class="memory", controller_name="portico.dev/memory")


def test_a_refused_rule_is_reported_and_the_later_independent_rules_are_still_created() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world(bad_rule=True)
    result = provider.reconcile(gateway_ir())
    assert result.state is ApplyState.PROGRAMMED
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/b", "/c"]
    assert list(result.refused_rules) == ["a"]
    assert "Invalid: value 'bad*' is not a valid condition value" in result.refused_rules["a"]
    assert "create rule rule-a" in result.refused_rules["a"]


def test_the_steps_that_need_a_refused_resource_are_skipped_and_reported_with_its_reason() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world(bad_pool=True)
    plan = provider.plan(gateway_ir(), provider.observe(GATEWAY))
    run = execute(plan, provider.handlers(ownership()), Errors())
    assert list(run.refused) == ["pool-a"]
    assert run.skipped == {"rule-a": "pool-a"}  # never sent to the cloud
    assert cloud.calls == 5  # lb, pool-a (refused), pool-b, rule-b, rule-c
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/b", "/c"]
    assert run.rules_not_programmed(plan.desired) == {"a": run.refused["pool-a"]}
    assert "port must be within 1-65535" in run.refused["pool-a"]


def test_a_refused_resource_the_whole_gateway_needs_fails_the_gateway() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = [
        Desired("balancer", "lb", Balancer(name="web")),
        Desired("pool", "shared", Pool(balancer=ref("lb"), port=0)),  # serves no particular rule
        Desired("rule", "rule-b", Rule(balancer=ref("lb"), pool=ref("shared"), value="/b"), rules=("b",)),
    ]
    result = provider.reconcile(gateway_ir())
    assert result.state is ApplyState.FAILED
    assert "create pool shared: Invalid: port must be within 1-65535" in result.message
    assert result.refused_rules == {"b": "create pool shared: Invalid: port must be within 1-65535"}


def test_once_the_input_is_fixed_the_refused_rule_is_created_and_nothing_is_reported() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world(bad_rule=True)
    provider.reconcile(gateway_ir())
    provider.desired = world()
    result = provider.reconcile(gateway_ir())
    assert result.programmed and not result.refused_rules
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/a", "/b", "/c"]


def test_a_refused_replacement_keeps_the_old_resource_serving() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world()
    provider.reconcile(gateway_ir())
    provider.desired = world(bad_rule=True)  # `value` is immutable: a replace whose create is refused
    result = provider.reconcile(gateway_ir())
    assert list(result.refused_rules) == ["a"]
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/a", "/b", "/c"]


def test_a_conflict_still_stops_the_run_and_reports_pending_work() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world()
    provider.reconcile(gateway_ir())
    pool_b = next(cid for cid, (kind, spec, _) in cloud.items.items() if kind == "pool" and spec["port"] == 8080)
    cloud.items["foreign"] = ("rule", {"pool": pool_b, "value": "/theirs"}, {})  # someone else's rule uses it
    provider.desired = [d for d in world() if d.id not in ("rule-b", "pool-b", "rule-c")]
    result = provider.reconcile(gateway_ir())
    assert result.state is ApplyState.PENDING
    assert f"delete pool pool-b: InUse: {pool_b} is in use" in result.message
    assert not result.refused_rules
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/a", "/theirs"]


def test_a_refused_delete_does_not_stop_the_others_and_the_delete_is_not_finished() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world()
    provider.reconcile(gateway_ir())
    stuck = next(cid for cid, (kind, spec, _) in cloud.items.items() if kind == "rule" and spec["value"] == "/b")
    cloud.refuse_deletes.add(stuck)
    result = provider.delete(GATEWAY)
    assert not result.finished
    assert f"delete rule rule-b: Invalid: {stuck} cannot be deleted with these arguments" in result.message
    assert "is in use" in result.message  # pool b, which the stuck rule still uses
    # Rules a and c and pool a went; rule b, its pool and the balancer stay.
    assert sorted((kind, spec.get("value", spec.get("port"))) for kind, spec, _ in cloud.items.values()) == [
        ("balancer", None),
        ("pool", 8080),
        ("rule", "/b"),
    ]
    cloud.refuse_deletes.clear()
    assert provider.delete(GATEWAY).finished
    assert cloud.items == {}


def test_the_gateway_is_programmed_only_once_the_cloud_has_finished_creating() -> None:
    cloud = Cloud(slow=True)
    provider = MemoryProvider(cloud)
    provider.desired = world()
    first = provider.reconcile(gateway_ir())
    assert first.state is ApplyState.PENDING
    assert "CREATE_IN_PROGRESS" in first.message and first.recheck_after is not None
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/a", "/b", "/c"]  # later steps still ran
    again = provider.reconcile(gateway_ir())  # still creating: nothing to do, still pending
    assert again.state is ApplyState.PENDING and again.mutations == 0
    cloud.settle()
    done = provider.reconcile(gateway_ir())
    assert done.programmed and done.mutations == 0


def test_a_resource_the_cloud_failed_to_create_is_replaced_not_adopted() -> None:
    cloud = Cloud()
    provider = MemoryProvider(cloud)
    provider.desired = world()
    provider.reconcile(gateway_ir())
    broken = next(cid for cid, (kind, spec, _) in cloud.items.items() if kind == "rule" and spec["value"] == "/b")
    cloud.states[broken] = "CREATE_FAILED"
    plan = provider.plan(gateway_ir(), provider.observe(GATEWAY))
    assert [(s.action, s.id, s.reason) for s in plan.steps] == [
        ("delete", "rule-b", "replace: the cloud reports CREATE_FAILED"),
        ("create", "rule-b", ""),
    ]
    assert provider.apply(plan).programmed
    assert broken not in cloud.items
    assert sorted(r["value"] for r in cloud.of_kind("rule")) == ["/a", "/b", "/c"]
