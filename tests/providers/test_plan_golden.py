"""Golden plans from (IR, observed state): updates, replacements and delete order, not only creates.

The observed state is what the `before` IR would have made (its desired resources with every
reference resolved to a stand-in cloud id, carrying this Gateway's marks), so these goldens need
no fake: they pin the pure `plan` alone. Regenerate with `pytest --update-golden`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portico.ir import Endpoint, GatewayIR
from portico.provider import ProviderContext, load_provider
from portico_providers.aws_alb.lookups import Inventory, Subnet
from portico_providers.aws_lattice.observe import Networks
from portico_providers.gcp_alb.build import Facts
from portico_providers.kit.flow import CloudProvider, ObservedState
from portico_providers.kit.references import resolved
from portico_providers.kit.resources import Observed
from tests.golden.golden import check_golden

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
ROLE = {"kubernetes.io/role/elb": "1"}
INVENTORY = Inventory(
    subnets=(Subnet("subnet-a", "vpc-1", "eu-west-1a", ROLE), Subnet("subnet-b", "vpc-1", "eu-west-1b", ROLE)),
    cluster_security_groups={"vpc-1": ("sg-nodes",)},
)
SUBNETS = ["subnet-a", "subnet-b"]
GCP_FACTS = Facts(project="golden-project", proxy_only_subnets=frozenset({("europe-west1", "default")}))
FACTS: dict[str, Any] = {"aws-alb": INVENTORY, "aws-lattice": Networks(), "gcp-alb": GCP_FACTS}


def cloud_id(resource_id: str) -> str:
    return f"arn:observed:{resource_id}"


def observed_after(provider: CloudProvider[Any], ir: GatewayIR) -> ObservedState:
    """What applying `ir` to an empty account would leave: its resources, resolved and marked."""
    ownership = provider.ownership(ir.gateway)
    empty = ObservedState(ownership, facts=FACTS[provider.name])
    plan = provider.plan(ir, empty)
    assert not plan.problems, plan.problems
    ids = {d.id: cloud_id(d.id) for d in plan.desired}
    resources = []
    for desired in plan.desired:
        document, missing = resolved(desired.spec, ids)
        assert not missing
        spec = type(desired.spec).model_validate(document)
        resources.append(Observed(desired.kind, desired.id, ids[desired.id], spec, marks=ownership.mark(desired.id)))
    return ObservedState(ownership, tuple(resources), facts=FACTS[provider.name])


def moved(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    return tuple(e.model_copy(update={"address": "10.9.9.9"}) for e in endpoints)


def drop_first_rule_and_move_endpoints(ir: GatewayIR) -> GatewayIR:
    listeners = []
    for listener in ir.listeners:
        rules = []
        for rule in listener.rules[1:] if listener.rules else ():
            backends = tuple(
                b.model_copy(
                    update={"endpoints": tuple(e.model_copy(update={"address": "10.9.9.9"}) for e in b.endpoints)}
                )
                for b in rule.backends
            )
            rules.append(rule.model_copy(update={"backends": backends}))
        listeners.append(listener.model_copy(update={"rules": tuple(rules)}))
    return ir.model_copy(update={"listeners": tuple(listeners)})


def with_parameters(section: str, **fields: Any) -> Callable[[GatewayIR], GatewayIR]:
    def change(ir: GatewayIR) -> GatewayIR:
        params = dict(ir.infrastructure.parameters)
        params[section] = {**params.get(section, {}), **fields}
        return ir.model_copy(update={"infrastructure": ir.infrastructure.model_copy(update={"parameters": params})})

    return change


# (provider, input case, change name, change); a change of None plans the deletion.
CASES: list[tuple[str, str, str, Callable[[GatewayIR], GatewayIR] | None]] = [
    ("aws-alb", "aws_alb/basic-http", "update", drop_first_rule_and_move_endpoints),
    (
        "aws-alb",
        "aws_alb/basic-http",
        "replace",
        with_parameters("aws", scheme="internal", subnets=["subnet-a", "subnet-b"]),
    ),
    ("aws-alb", "aws_alb/https-grpc-certificates", "delete", None),
    ("aws-lattice", "aws_lattice/basic", "update", drop_first_rule_and_move_endpoints),
    ("aws-lattice", "aws_lattice/basic", "replace", with_parameters("awsLattice", vpcId="vpc-0fedcba9876543210")),
    ("aws-lattice", "aws_lattice/basic", "delete", None),
    ("gcp-alb", "gcp_alb/global-http", "update", drop_first_rule_and_move_endpoints),
    # Global to regional: every resource moves scope (new ids); the old ones go after the new are in use.
    (
        "gcp-alb",
        "gcp_alb/global-http",
        "replace",
        with_parameters("gcp", scheme="RegionalExternal", region="europe-west1"),
    ),
    ("gcp-alb", "gcp_alb/global-http", "delete", None),
]


@pytest.mark.parametrize(("name", "case", "change_name", "change"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_plan_from_observed_state(
    name: str, case: str, change_name: str, change: Callable[[GatewayIR], GatewayIR] | None, update_golden: bool
) -> None:
    provider = load_provider(name, ProviderContext(cluster_id="golden"))
    assert isinstance(provider, CloudProvider)
    before = GatewayIR.from_yaml((GOLDEN / f"{case}.in.yaml").read_text())
    observed = observed_after(provider, before)
    assert provider.plan(before, observed).is_empty, "the observed state must be exactly what `before` makes"
    plan = provider.plan(change(before) if change else None, observed)
    assert not plan.problems, plan.problems
    out = GOLDEN / "plans" / f"{case.replace('/', '.')}.{change_name}.out.yaml"
    check_golden(out, plan.to_document(), update_golden)
