"""terraform/aws: the IRSA role grants exactly the providers' recorded actions, scoped to this cluster."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from tests.install.chart import CHART, ROOT

MODULE = ROOT / "terraform" / "aws"
EXAMPLE = ROOT / "examples" / "aws-irsa"
RECORDED = {
    "alb": ROOT / "providers" / "portico_providers" / "aws_alb" / "iam-actions.txt",
    "lattice": ROOT / "providers" / "portico_providers" / "aws_lattice" / "iam-actions.txt",
}
READ_PREFIXES = ("Describe", "List", "Get")


def unquote(value: Any) -> Any:
    """python-hcl2 keeps string literals quoted: '"x"' -> 'x'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not k.startswith("__")}
    return value


def parse(directory: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in hcl2.load(handle).items():
                merged.setdefault(key, []).extend(unquote(blocks))
    return merged


def module_locals() -> dict[str, Any]:
    return {k: v for block in parse(MODULE)["locals"] for k, v in block.items()}


def named_blocks(kind: str, directory: Path = MODULE) -> dict[str, dict[str, Any]]:
    return {name: body for block in parse(directory).get(kind, []) for name, body in block.items()}


def policy_documents() -> dict[str, dict[str, Any]]:
    """data "aws_iam_policy_document" NAME {...} blocks by NAME."""
    return {
        name: body for block in parse(MODULE)["data"] for name, body in block.get("aws_iam_policy_document", {}).items()
    }


def recorded(provider: str) -> set[str]:
    """The recorded actions plus the dependent ones AWS checks inside them (iam-dependent-actions.txt)."""
    lines = RECORDED[provider].read_text().splitlines()
    lines += RECORDED[provider].with_name("iam-dependent-actions.txt").read_text().splitlines()
    return {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}


def _statements() -> dict[str, dict[str, Any]]:
    return {s["sid"]: s for s in policy_documents()["operator"]["statement"]}


def granted() -> dict[str, set[str]]:
    return {sid: set(statement["actions"]) for sid, statement in _statements().items()}


def test_policy_grants_exactly_the_recorded_actions() -> None:
    missing = [path.relative_to(ROOT) for path in RECORDED.values() if not path.exists()]
    if missing:
        pytest.skip(f"not recorded yet: {missing}")
    assert set().union(*granted().values()) == recorded("alb") | recorded("lattice")


def test_only_reads_are_unconditional() -> None:
    statements = granted()
    assert set(statements) == {
        "Read",
        "ReadInThisAccount",
        "CreateTaggedForThisCluster",
        "ChangeOnlyThisClustersResources",
        "CreateSecurityGroupsInVpcs",
        "BackendRulesInClusterSecurityGroups",
    }
    reads = statements["Read"] | statements["ReadInThisAccount"]
    writes = set().union(*(actions for sid, actions in statements.items() if not sid.startswith("Read")))
    for action in reads:
        assert action.split(":")[1].startswith(READ_PREFIXES), f"{action} is not a read"
    for action in writes:
        assert not action.split(":")[1].startswith(READ_PREFIXES), f"{action} is a read"
    assert not statements["Read"] & statements["ReadInThisAccount"]


def test_writes_are_tag_scoped_to_the_cluster() -> None:
    statements = _statements()
    create = statements["CreateTaggedForThisCluster"]
    owned = statements["ChangeOnlyThisClustersResources"]
    for statement, key in ((create, "aws:RequestTag"), (owned, "aws:ResourceTag")):
        (condition,) = statement["condition"]
        assert condition["test"] == "StringEquals"
        assert condition["variable"] == f"{key}/${{local.cluster_tag}}"
        assert condition["values"] == ["${var.cluster_id}"]
        assert statement["resources"] == "${local.resource_arns}"
    assert module_locals()["cluster_tag"] == "portico.dev/cluster"
    assert statements["Read"]["resources"] == ["*"]
    assert statements["ReadInThisAccount"]["resources"] == "${local.resource_arns}"


def test_security_group_statements_are_narrow() -> None:
    """Creating a group also names its VPC (no tags there); rules in groups Portico does not own only
    in the groups tagged as this Kubernetes cluster's (the targets' groups)."""
    statements = _statements()
    in_vpcs = statements["CreateSecurityGroupsInVpcs"]
    assert in_vpcs["actions"] == ["ec2:CreateSecurityGroup"]
    assert in_vpcs["resources"] == ["${local.arn_prefix}:ec2:*:${local.account}:vpc/*"]
    backend = statements["BackendRulesInClusterSecurityGroups"]
    assert set(backend["actions"]) == {"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"}
    assert backend["resources"] == ["${local.arn_prefix}:ec2:*:${local.account}:security-group/*"]
    (condition,) = backend["condition"]
    assert (condition["test"], condition["values"]) == ("Null", ["false"])
    assert condition["variable"] == "aws:ResourceTag/kubernetes.io/cluster/${var.cluster_id}"


def test_trust_policy_is_bound_to_the_service_account() -> None:
    (statement,) = policy_documents()["trust"]["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"][0] == {"type": "Federated", "identifiers": ["${var.oidc_provider_arn}"]}
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["${local.oidc_issuer}:sub"]["values"] == [
        "system:serviceaccount:${var.namespace}:${var.service_account}"
    ]
    assert conditions["${local.oidc_issuer}:aud"]["values"] == ["sts.amazonaws.com"]
    assert all(c["test"] == "StringEquals" for c in conditions.values())


def test_defaults_match_the_chart_installed_as_in_the_docs() -> None:
    variables = named_blocks("variable")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    # `helm install portico ... --namespace portico-system` names the ServiceAccount `portico`.
    assert variables["namespace"]["default"] == "portico-system"
    assert variables["service_account"]["default"] == "portico"
    assert values["serviceAccount"]["name"] == ""
    outputs = named_blocks("output")
    assert outputs["helm_values"]["value"]["serviceAccount"] == {"awsRoleArn": "${aws_iam_role.operator.arn}"}


@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_every_variable_and_output_is_described(directory: Path) -> None:
    for kind in ("variable", "output"):
        for name, body in named_blocks(kind, directory).items():
            assert str(body.get("description", "")).strip(), f"{directory.name}: {kind} {name} has no description"


def test_example_uses_the_module_and_passes_its_outputs_to_helm() -> None:
    modules = named_blocks("module", EXAMPLE)
    assert modules["portico_irsa"]["source"] == "../../terraform/aws"
    required = {name for name, body in named_blocks("variable").items() if "default" not in body}
    assert required <= set(modules["portico_irsa"])
    readme = (EXAMPLE / "README.md").read_text()
    assert "terraform apply" in readme
    assert "helm install" in readme


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_terraform_fmt(directory: Path) -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "-recursive", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
