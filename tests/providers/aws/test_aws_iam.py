"""iam-actions.txt of each AWS provider lists exactly the API operations its scenarios call.

The scenarios are the end-to-end and update tests, run again here in fresh accounts while
every call is recorded; `pytest --update-golden` rewrites the files from the recording.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from portico_providers.aws_common.clients import iam_action
from tests.providers.aws import test_aws_alb_e2e, test_aws_lattice_e2e, test_aws_updates
from tests.providers.aws.conftest import REGION, fresh_account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.state import RECORDER

PROVIDERS = Path(__file__).resolve().parents[3] / "providers" / "portico_providers"
HEADER = "# IAM actions the provider calls, one per line (checked by tests/providers/aws/test_aws_iam.py).\n"


def scenarios(module: ModuleType, lattice: bool) -> list[Callable[..., Any]]:
    found = []
    for name, function in sorted(vars(module).items()):
        if not name.startswith("test_") or not callable(function) or hasattr(function, "pytestmark"):
            continue
        if ("fake" in inspect.signature(function).parameters or "lattice" in name) == lattice:
            found.append(function)
    return found


def record(functions: list[Callable[..., Any]]) -> set[str]:
    RECORDER.calls.clear()
    for function in functions:
        with fresh_account() as account:
            wants_fake = "fake" in inspect.signature(function).parameters
            function(account, LatticeFake(REGION)) if wants_fake else function(account)
    return {iam_action(service, operation) for service, operation in RECORDER.calls}


@pytest.mark.parametrize(
    ("provider", "modules", "lattice"),
    [
        ("aws_alb", (test_aws_alb_e2e, test_aws_updates), False),
        ("aws_lattice", (test_aws_lattice_e2e, test_aws_updates), True),
    ],
)
def test_iam_actions_file_equals_the_recorded_calls(
    provider: str, modules: tuple[ModuleType, ...], lattice: bool, update_golden: bool
) -> None:
    functions = [f for module in modules for f in scenarios(module, lattice)]
    assert len(functions) >= 5
    recorded = record(functions)
    assert any(action.endswith(":DeleteRule") for action in recorded)
    path = PROVIDERS / provider / "iam-actions.txt"
    if update_golden:
        path.write_text(HEADER + "".join(f"{action}\n" for action in sorted(recorded)))
    listed = {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert listed == recorded, f"missing: {sorted(recorded - listed)}; not called: {sorted(listed - recorded)}"


SOURCE_CALL = re.compile(r"\b(elbv2|lattice|acm|ec2)\.([a-z_]+)\b")
SERVICES = {"elbv2": "elbv2", "lattice": "vpc-lattice", "acm": "acm", "ec2": "ec2"}


@pytest.mark.parametrize("provider", ["aws_alb", "aws_lattice"])
def test_every_sdk_call_in_the_source_is_listed(provider: str) -> None:
    """Guards code paths no scenario reaches: each client method the code names needs its action."""
    import boto3

    sources = [*(PROVIDERS / provider).glob("*.py"), PROVIDERS / "aws_common" / "acm.py"]
    listed = (PROVIDERS / provider / "iam-actions.txt").read_text()
    for path in sources:
        for variable, method in SOURCE_CALL.findall(path.read_text()):
            client = boto3.client(SERVICES[variable], region_name=REGION)
            operation = client.meta.method_to_api_mapping.get(method)
            if operation is None:
                continue  # not an API method (e.g. a paginator helper)
            action = iam_action(client.meta.service_model.service_id, operation)
            assert f"{action}\n" in listed, f"{path.name} calls {method} but {action} is not listed"


def test_the_aws_doc_lists_the_same_actions() -> None:
    doc = (PROVIDERS.parents[1] / "docs" / "providers" / "aws.md").read_text()
    for provider in ("aws_alb", "aws_lattice"):
        listed = [
            line
            for line in (PROVIDERS / provider / "iam-actions.txt").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        section = doc.split(f"{provider.replace('_', '-')}:\n\n", 1)[1].split("\n\n", 1)[0]
        assert [line.strip() for line in section.splitlines()] == listed


def dependent_actions(provider: str) -> list[tuple[str, str]]:
    """(dependent action, the action that needs it) from iam-dependent-actions.txt."""
    text = (PROVIDERS / provider / "iam-dependent-actions.txt").read_text()
    return [(line.split()[0], line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")]


# What the AWS Service Authorization Reference lists as dependent actions of the calls the providers
# make (tag-on-create needs the tagging action, EC2 security groups and their rules included; the Lattice
# VPC association reads the VPC and its security groups). A call listed here that a provider makes must
# bring its dependents along.
AWS_DEPENDENTS = {
    "acm:ImportCertificate": ("acm:AddTagsToCertificate",),
    "ec2:AuthorizeSecurityGroupIngress": ("ec2:CreateTags",),
    "ec2:CreateSecurityGroup": ("ec2:CreateTags",),
    "elasticloadbalancing:CreateListener": ("elasticloadbalancing:AddTags",),
    "elasticloadbalancing:CreateLoadBalancer": ("elasticloadbalancing:AddTags",),
    "elasticloadbalancing:CreateRule": ("elasticloadbalancing:AddTags",),
    "elasticloadbalancing:CreateTargetGroup": ("elasticloadbalancing:AddTags",),
    "vpc-lattice:CreateServiceNetworkVpcAssociation": ("ec2:DescribeVpcs", "ec2:DescribeSecurityGroups"),
    "vpc-lattice:UpdateServiceNetworkVpcAssociation": ("ec2:DescribeSecurityGroups",),
}


@pytest.mark.parametrize("provider", ["aws_alb", "aws_lattice"])
def test_dependent_actions_are_listed_for_every_call_that_needs_them(provider: str) -> None:
    called = {line for line in (PROVIDERS / provider / "iam-actions.txt").read_text().splitlines() if ":" in line}
    listed = dependent_actions(provider)
    expected = {(dep, action) for action in called for dep in AWS_DEPENDENTS.get(action, ())}
    assert set(listed) == expected
    assert all(action in called for _, action in listed)


def test_the_aws_doc_explains_the_dependent_actions() -> None:
    doc = (PROVIDERS.parents[1] / "docs" / "providers" / "aws.md").read_text()
    section = doc.split("## Dependent IAM actions", 1)[1].split("\n## ", 1)[0]
    for provider in ("aws_alb", "aws_lattice"):
        for dependent, action in dependent_actions(provider):
            assert f"`{dependent}`" in section and f"`{action}`" in section, (dependent, action)
