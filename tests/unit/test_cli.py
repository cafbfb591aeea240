"""The CLI contract used by acceptance tests: `portico status`, `portico translate`, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portico.cli import main
from portico.ir import GatewayIR

GOLDEN = Path(__file__).parents[1] / "golden" / "translate"


def test_status_prints_a_list_for_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "case.yaml").write_text((GOLDEN / "backends" / "resolution.in.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert main(["status", "-f", str(tmp_path)]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    kinds = [item["kind"] for item in doc["items"]]
    assert kinds == ["GatewayClass", "Gateway", "HTTPRoute"]
    assert all("status" in item for item in doc["items"])
    assert doc["items"][1]["metadata"]["namespace"] == "apps"


def test_status_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["status", "-f", str(GOLDEN / "precedence" / "path-match-order.in.yaml"), "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "List"


def test_translate_prints_ir(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "-f", str(GOLDEN / "backends" / "resolution.in.yaml")]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    irs = [GatewayIR.from_dict(g) for g in doc["gateways"]]
    assert [str(ir.gateway) for ir in irs] == ["apps/gw"]


def test_unreadable_input_exits_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: [unclosed\n")
    assert main(["status", "-f", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:")
    line = int(err.split(":")[1])
    assert line >= 5


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "-f", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_object_without_kind_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("---\nfoo: bar\n")
    assert main(["status", "-f", str(bad)]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err
