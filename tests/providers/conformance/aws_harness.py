"""Conformance harnesses for aws-alb (moto) and aws-lattice (the stateful Lattice fake)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portico.ir import GatewayIR, Rule
from portico.provider import AnyProvider, ProviderContext, load_provider
from portico_providers.aws_common.clients import CallCounter, is_mutating
from portico_providers.aws_common.tags import CLUSTER_TAG, GATEWAY_TAG, RESOURCE_TAG
from tests.providers.aws.conftest import Account
from tests.providers.aws.faults import client_error
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.state import alb_state, context
from tests.providers.conformance.harness import GATEWAY, default_rules, gateway_ir

CLUSTER = "test-cluster"
LATTICE_ENDPOINT = "https://vpc-lattice.fake.test"
VPC = "vpc-0123456789abcdef0"


@dataclass
class Switches:
    """One-shot faults armed by a test: a refusal before a mutating call, a lost create answer."""

    refusal: str | None = None
    lose_create: bool = False
    fired: list[str] = field(default_factory=list)

    def before(self, model: Any, **_: Any) -> None:
        if self.refusal and is_mutating(model.name):
            code, self.refusal = self.refusal, None
            self.fired.append(f"refused {model.name}")
            raise client_error(code, 409 if code == "ConflictException" else 400, model.name)

    def after(self, model: Any, **_: Any) -> None:
        if self.lose_create and model.name.startswith("Create"):
            self.lose_create = False
            self.fired.append(f"lost {model.name}")
            raise client_error("ServiceUnavailable", 503, model.name)

    def hooks(self) -> list[tuple[str, Any]]:
        return [("before-call", self.before), ("after-call", self.after)]


def _ours(tags: dict[str, str]) -> bool:
    return tags.get(CLUSTER_TAG) == CLUSTER and tags.get(GATEWAY_TAG) == str(GATEWAY)


class AlbHarness:
    name = "aws-alb"
    token_shaped = "${load-balancer}"
    refusal_code = "ResourceInUse"

    def __init__(self, account: Account) -> None:
        self.account = account
        self.counter = CallCounter()
        self.switches = Switches()
        self.provider: AnyProvider = load_provider(
            "aws-alb", context(account.session, self.counter, *self.switches.hooks(), cluster_id=CLUSTER)
        )

    def user_rules(self, value: str) -> tuple[Rule, ...]:
        return default_rules(header_value=value)

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR:
        return gateway_ir("portico.dev/aws-alb", default_rules() if rules is None else rules)

    def mutations(self) -> int:
        return self.counter.mutations

    def owned(self) -> list[str]:
        state = alb_state(self.account.session)
        return sorted(tags[RESOURCE_TAG] for tags in state.tags.values() if _ours(tags))

    def _group_name(self, ir: GatewayIR) -> str:
        plan = self.provider.plan(ir, None)
        return next(d.spec.name for d in plan.desired if d.kind == "target-group")

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        elbv2 = self.account.client("elbv2")

        def group(name: str, port: int, tags: dict[str, str]) -> str:
            extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
            made = elbv2.create_target_group(
                Name=name, Protocol="HTTP", Port=port, VpcId=self.account.vpc_id, TargetType="ip", **extra
            )
            return str(made["TargetGroups"][0]["TargetGroupArn"])

        other = {CLUSTER_TAG: "other-cluster", GATEWAY_TAG: str(GATEWAY), RESOURCE_TAG: "tg:shop/web:80:HTTP1"}
        arns = [
            group("someone-elses", 80, {}),
            group("other-cluster-tg", 80, other),
            group(self._group_name(ir), 9999, {}),  # the name Portico would use, different settings
        ]

        def read() -> Any:
            groups = elbv2.describe_target_groups(TargetGroupArns=arns)["TargetGroups"]
            tags = elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
            targets = [elbv2.describe_target_health(TargetGroupArn=a)["TargetHealthDescriptions"] for a in arns]
            return json.dumps([groups, tags, targets], sort_keys=True, default=str)

        return read

    def lose_next_create_answer(self) -> None:
        self.switches.lose_create = True

    def refuse_next_mutation(self) -> None:
        self.switches.refusal = self.refusal_code

    def start_pending(self) -> None:
        self.refuse_next_mutation()

    def finish_pending(self) -> None:
        """A refusal passes on its own: nothing to do."""

    def state_text(self) -> str:
        return json.dumps(alb_state(self.account.session).rules, default=str)


class LatticeHarness(AlbHarness):
    name = "aws-lattice"
    token_shaped = "${service-network}"
    refusal_code = "ConflictException"

    def __init__(self, account: Account) -> None:
        self.account = account
        self.counter = CallCounter()
        self.switches = Switches()
        self.fake = LatticeFake(account.session.region_name)
        base = context(
            account.session,
            self.counter,
            ("before-send.vpc-lattice", self.fake),
            *self.switches.hooks(),
            cluster_id=CLUSTER,
        )
        options = {**base.options, "endpoint_urls": {"vpc-lattice": LATTICE_ENDPOINT}}
        self.provider = load_provider("aws-lattice", ProviderContext(cluster_id=CLUSTER, options=options))
        self.lattice = account.session.client(
            "vpc-lattice", region_name=account.session.region_name, endpoint_url=LATTICE_ENDPOINT
        )
        self.lattice.meta.events.register("before-send.vpc-lattice", self.fake)

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR:
        rules = default_rules() if rules is None else rules
        return gateway_ir("portico.dev/aws-lattice", rules, params={"awsLattice": {"vpcId": VPC}})

    def owned(self) -> list[str]:
        fake = self.fake
        tables = (fake.networks, fake.services, fake.listeners, fake.rules, fake.target_groups)
        tables += (fake.vpc_associations, fake.service_associations)
        live = {item["arn"] for table in tables for item in table.values()}
        return sorted(tags[RESOURCE_TAG] for arn, tags in fake.tags.items() if arn in live and _ours(tags))

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        plan = self.provider.plan(ir, None)
        network_name = next(d.spec.name for d in plan.desired if d.kind == "service-network")
        other = {CLUSTER_TAG: "other-cluster", GATEWAY_TAG: str(GATEWAY), RESOURCE_TAG: "service-network"}
        arns = [
            self.lattice.create_service_network(name="someone-elses")["arn"],
            self.lattice.create_service_network(name="other-cluster-network", tags=other)["arn"],
            self.lattice.create_service_network(name=network_name)["arn"],  # the name Portico would use
        ]

        def read() -> Any:
            found = [self.fake.networks.get(a.rsplit("/", 1)[-1]) for a in arns]
            return json.dumps([found, [self.fake.tags.get(a) for a in arns]], sort_keys=True, default=str)

        return read

    def state_text(self) -> str:
        return json.dumps(self.fake.rules, default=str)
