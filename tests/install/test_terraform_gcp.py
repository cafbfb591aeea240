"""terraform/gcp: a custom role with exactly the recorded permissions, bound only to the operator's ServiceAccount."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.install.chart import ROOT, render
from tests.install.test_terraform import named_blocks, parse

MODULE = ROOT / "terraform" / "gcp"
EXAMPLE = ROOT / "examples" / "gcp-workload-identity"
RECORDED = ROOT / "providers" / "portico_providers" / "gcp_alb" / "gcp-permissions.txt"


def _resources(kind: str) -> dict[str, Any]:
    return {name: body for block in parse(MODULE)["resource"] for name, body in block.get(kind, {}).items()}


def _locals() -> dict[str, Any]:
    return {k: v for block in parse(MODULE)["locals"] for k, v in block.items()}


def test_custom_role_is_exactly_the_recorded_permissions() -> None:
    recorded = {line for line in RECORDED.read_text().splitlines() if line and not line.startswith("#")}
    (role,) = _resources("google_project_iam_custom_role").values()
    assert role["permissions"] == "${local.permissions}"
    assert set(_locals()["permissions"]) == recorded
    assert len(_locals()["permissions"]) == len(recorded)


def test_only_the_operator_service_account_may_impersonate() -> None:
    kubernetes_subject = "system:serviceaccount:${var.namespace}:${var.service_account}"
    assert _locals()["kubernetes_subject"] == kubernetes_subject
    bindings = _resources("google_service_account_iam_member")
    assert {b["role"] for b in bindings.values()} == {"roles/iam.workloadIdentityUser"}
    assert (
        bindings["gke"]["member"]
        == "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${var.service_account}]"
    )
    assert bindings["pool"]["member"].endswith("/subject/${local.kubernetes_subject}")
    (provider,) = _resources("google_iam_workload_identity_pool_provider").values()
    assert provider["attribute_condition"] == "assertion.sub == '${local.kubernetes_subject}'"
    (member,) = _resources("google_project_iam_member").values()
    assert member["role"] == "${google_project_iam_custom_role.operator.name}"


def test_helm_values_output_installs_with_the_chart() -> None:
    outputs = named_blocks("output", MODULE)
    values = outputs["helm_values"]["value"]
    assert values["serviceAccount"]["gcpServiceAccount"] == "${google_service_account.operator.email}"
    rendered = {
        "clusterId": "prod-eu",
        "gcp": {"project": "shop-prod-1234"},
        "serviceAccount": {
            "name": "portico",
            "gcpServiceAccount": "portico-prod-eu@shop-prod-1234.iam.gserviceaccount.com",
        },
        "providers": {"gcpAlb": {"enabled": True}},
    }
    objects = render(rendered)
    (account,) = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert account["metadata"]["name"] == "portico"
    assert (
        account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        == rendered["serviceAccount"]["gcpServiceAccount"]
    )
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    assert "--gcp-project=shop-prod-1234" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("directory", [MODULE, EXAMPLE], ids=["module", "example"])
def test_every_variable_and_output_is_described(directory: Path) -> None:
    for kind in ("variable", "output"):
        for name, body in named_blocks(kind, directory).items():
            assert str(body.get("description", "")).strip(), f"{directory.name}: {kind} {name} has no description"


def test_example_uses_the_module() -> None:
    (module,) = named_blocks("module", EXAMPLE).values()
    assert module["source"] == "../../terraform/gcp"
    required = {name for name, body in named_blocks("variable", MODULE).items() if "default" not in body}
    assert required <= set(module)


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
