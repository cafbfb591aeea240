"""GatewayParameters problems drive the Gateway's conditions in `portico status`, as in `plan` and the
operator: a typo is InvalidParameters naming the field, and an unreadable object is not "not found"."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.unit.cli_process import ROOT, portico


def _statuses(tmp_path: Path) -> dict[str, dict[str, object]]:
    done = portico("status", "-f", str(tmp_path), "-o", "yaml")
    assert done.returncode == 0, done.stderr
    items = yaml.safe_load(done.stdout)["items"]
    return {
        f"{i['kind']} {i['metadata']['name']}": {c["type"]: c for c in i["status"].get("conditions", [])} for i in items
    }


def _copy_example(tmp_path: Path) -> Path:
    for manifest in (ROOT / "examples" / "aws").glob("*.yaml"):
        shutil.copy(manifest, tmp_path)
    return tmp_path / "parameters.yaml"


def test_a_typo_in_gateway_parameters_is_invalid_parameters_naming_the_field(tmp_path: Path) -> None:
    parameters = _copy_example(tmp_path)
    parameters.write_text(parameters.read_text().replace("    scheme: internet-facing", "    shceme: internet-facing"))
    accepted = _statuses(tmp_path)["Gateway web"]["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "InvalidParameters")
    assert accepted["message"] == "GatewayParameters: spec.aws.shceme: Extra inputs are not permitted"
    strict = portico("status", "--strict", "-f", str(tmp_path))
    assert strict.returncode == 1
    plan = portico("plan", "--provider", "aws-alb", "-f", str(tmp_path))
    assert "shop/web" not in plan.stdout  # not accepted: nothing is planned for it either


def test_unreadable_gateway_parameters_are_invalid_not_missing(tmp_path: Path) -> None:
    parameters = _copy_example(tmp_path)
    text = parameters.read_text()
    parameters.write_text(text[: text.index("spec:")] + "spec: 5\n")
    accepted = _statuses(tmp_path)["GatewayClass aws-alb"]["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "InvalidParameters")
    assert "GatewayParameters shop/aws-defaults is invalid: spec: " in str(accepted["message"])
    assert "not found" not in str(accepted["message"])
