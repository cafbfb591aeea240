"""The quick starts: every command is marked, and the ones that can run offline do what the docs say."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portico.api.snapshot import build_snapshot
from portico.manifests import load_manifests
from portico.provider import load_provider
from portico.translate import translate
from portico_providers.proxy.objects import object_name
from tests.install.chart import NAMESPACE, RELEASE, ROOT, of_kind, only, render
from tests.install.docs import CHECKED, REAL_CLUSTER, helm_set_values, option, shell_blocks

ONPREM = ROOT / "docs" / "quickstart-onprem.md"
AWS = ROOT / "docs" / "quickstart-aws.md"
GCP = ROOT / "docs" / "quickstart-gcp.md"
GUIDES = [
    ONPREM,
    AWS,
    GCP,
    ROOT / "examples" / "aws-irsa" / "README.md",
    ROOT / "examples" / "gcp-workload-identity" / "README.md",
]


@pytest.mark.parametrize("guide", GUIDES, ids=[p.name for p in GUIDES])
def test_every_command_block_says_what_it_needs(guide: Path) -> None:
    for block in shell_blocks(guide):
        assert block.marker in (REAL_CLUSTER, CHECKED), block.text


def _commands(guide: Path, program: str, marker: str = CHECKED) -> list[list[str]]:
    return [c for b in shell_blocks(guide) if b.marker == marker for c in b.commands if c[0] == program]


def _install_values(guide: Path, files: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    (install,) = [c for b in shell_blocks(guide) for c in b.commands if c[:2] == ["helm", "install"]]
    assert install[2:4] == [RELEASE, "charts/portico"] or install[2] == RELEASE
    assert option(install, "--namespace", "-n") == NAMESPACE
    values: dict[str, Any] = {}
    for name in [install[i + 1] for i, word in enumerate(install) if word in ("-f", "--values")]:
        values.update((files or {})[name])
    return _merge(values, helm_set_values(install))


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _statuses(objects: list[dict[str, Any]], provider: str = "proxy") -> dict[tuple[str, str, str], dict[str, Any]]:
    """What Portico would write, with the named provider's real capabilities (offline: no SDK call)."""
    capabilities = {f"portico.dev/{provider}": load_provider(provider).capabilities()}
    return translate(build_snapshot(objects), capabilities).statuses


def _conditions(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def test_onprem_install_renders_what_the_guide_relies_on() -> None:
    objects = render(_install_values(ONPREM))
    params = only(objects, "GatewayParameters")
    assert params["spec"]["proxy"]["serviceType"] == "NodePort"
    deployment = only(objects, "Deployment")
    text = ONPREM.read_text()
    assert f"-n {NAMESPACE} rollout status deployment/{deployment['metadata']['name']}" in text
    assert deployment["spec"]["replicas"] == 1
    (gateway_class,) = of_kind(objects, "GatewayClass")
    assert f"kubectl get gatewayclass {gateway_class['metadata']['name']}" in text


def test_onprem_manifests_are_accepted_with_the_status_the_guide_shows() -> None:
    (apply,) = _commands(ONPREM, "kubectl")
    assert apply[:2] == ["kubectl", "apply"]
    directory = ROOT / str(option(apply, "-f"))
    objects = render(_install_values(ONPREM)) + [m.obj for m in load_manifests([directory])]
    statuses = _statuses(objects)
    assert _conditions(statuses[("GatewayClass", "", "portico-proxy")])["Accepted"][0] == "True"
    gateway = _conditions(statuses[("Gateway", "demo", "web")])
    assert gateway["Accepted"][:2] == ("True", "Accepted")
    assert f"service/{object_name('web')} 8080:80" in ONPREM.read_text()
    (parent,) = statuses[("HTTPRoute", "demo", "echo")]["parents"]
    shown = "\n".join(f"{t}={s} {r}: {m}" for t, (s, r, m) in _conditions(parent).items())
    assert shown in ONPREM.read_text()


def _irsa_values() -> dict[str, Any]:
    """What `terraform output -json helm_values` prints, for an example cluster."""
    return {"clusterId": "prod-eu", "serviceAccount": {"awsRoleArn": "arn:aws:iam::123456789012:role/portico-prod-eu"}}


def test_aws_install_renders_an_alb_class_with_the_role() -> None:
    objects = render(_install_values(AWS, {"irsa-values.json": _irsa_values()}))
    (gateway_class,) = of_kind(objects, "GatewayClass")
    assert gateway_class["spec"]["controllerName"] == "portico.dev/aws-alb"
    assert f"kubectl get gatewayclass {gateway_class['metadata']['name']}" in AWS.read_text()
    account = only(objects, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/portico-prod-eu")
    args = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--cluster-id=prod-eu" in args


def test_aws_manifests_are_accepted() -> None:
    (apply,) = _commands(AWS, "kubectl")
    directory = ROOT / str(option(apply, "-f"))
    objects = render(_install_values(AWS, {"irsa-values.json": _irsa_values()}))
    statuses = _statuses(objects + [m.obj for m in load_manifests([directory])], "aws-alb")
    assert _conditions(statuses[("Gateway", "demo", "web")])["Accepted"][:2] == ("True", "Accepted")
    (parent,) = statuses[("HTTPRoute", "demo", "echo")]["parents"]
    assert {t: s for t, (s, _, _) in _conditions(parent).items()} == {"Accepted": "True", "ResolvedRefs": "True"}


def _gcp_values() -> dict[str, Any]:
    """What terraform/gcp's `helm_values` output prints, for an example cluster."""
    return {
        "clusterId": "prod-eu",
        "gcp": {"project": "shop-prod-1234"},
        "serviceAccount": {
            "name": "portico",
            "gcpServiceAccount": "portico-prod-eu@shop-prod-1234.iam.gserviceaccount.com",
        },
    }


def test_gcp_install_renders_an_alb_class_with_the_service_account() -> None:
    objects = render(_install_values(GCP, {"gcp-values.json": _gcp_values()}))
    (gateway_class,) = of_kind(objects, "GatewayClass")
    assert gateway_class["spec"]["controllerName"] == "portico.dev/gcp-alb"
    assert f"kubectl get gatewayclass {gateway_class['metadata']['name']}" in GCP.read_text()
    account = only(objects, "ServiceAccount")
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].startswith("portico-prod-eu@")
    args = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--cluster-id=prod-eu" in args and "--gcp-project=shop-prod-1234" in args


def test_gcp_manifests_are_accepted() -> None:
    (apply,) = _commands(GCP, "kubectl")
    directory = ROOT / str(option(apply, "-f"))
    objects = render(_install_values(GCP, {"gcp-values.json": _gcp_values()}))
    statuses = _statuses(objects + [m.obj for m in load_manifests([directory])], "gcp-alb")
    assert _conditions(statuses[("Gateway", "demo", "web")])["Accepted"][:2] == ("True", "Accepted")
    (parent,) = statuses[("HTTPRoute", "demo", "echo")]["parents"]
    assert {t: s for t, (s, _, _) in _conditions(parent).items()} == {"Accepted": "True", "ResolvedRefs": "True"}


def _normalised(command: list[str]) -> str:
    return " ".join(command)


def test_kind_script_runs_every_command_of_the_onprem_guide_in_order() -> None:
    script = (ROOT / "tests" / "e2e" / "kind.sh").read_text().replace("\\\n", " ")
    lines = [
        " ".join(shlex.split(line.rstrip(" &")))
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    *steps, clean_up = shell_blocks(ONPREM)
    position = 0
    for block in steps:
        for command in block.commands:
            wanted = _normalised(command)
            assert wanted in lines[position:], f"tests/e2e/kind.sh lacks (or reorders) `{wanted}`"
            position = lines.index(wanted, position) + 1
    for command in clean_up.commands:  # the script cleans up in a trap, before its steps in the text
        assert any(_normalised(command) in line for line in lines), f"tests/e2e/kind.sh lacks `{command}`"


def test_kind_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(ROOT / "tests" / "e2e" / "kind.sh")], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
