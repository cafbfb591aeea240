from __future__ import annotations

from pathlib import Path

from portico.api import build_snapshot
from portico.ir import GatewayIR, IRBundle
from portico.manifests import load_manifests, read_text
from portico.translate import translate

GOLDEN = Path(__file__).parents[1] / "golden" / "translate"


def test_ir_round_trips_json_and_yaml_and_validates() -> None:
    for case in GOLDEN.rglob("*.in.yaml"):
        result = translate(build_snapshot([m.obj for m in load_manifests([case])]))
        for ir in result.ir_by_gateway.values():
            assert GatewayIR.from_json(ir.to_json()) == ir
            assert GatewayIR.from_yaml(ir.to_yaml()) == ir
            assert ir.validate_ir() == []
            assert all(c.key_pem is None for lst in ir.redacted().listeners for c in lst.certificates)
        bundle = IRBundle(gateways=tuple(result.ir_by_gateway.values()))
        assert IRBundle.from_json(bundle.to_json()) == bundle


def test_validate_reports_structural_problems() -> None:
    ir = GatewayIR.from_dict(
        {
            "gateway": {"namespace": "a", "name": "b"},
            "gateway_class": "c",
            "controller_name": "portico.dev/proxy",
            "listeners": [
                {"name": "l", "port": 70000, "protocol": "HTTPS"},
                {"name": "l", "port": 80, "protocol": "HTTP"},
            ],
        }
    )
    problems = ir.validate_ir()
    assert any("duplicate listener name" in p for p in problems)
    assert any("outside 1-65535" in p for p in problems)
    assert any("needs a certificate" in p for p in problems)


def test_lists_and_json_and_defaults() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
    assert [m.obj["metadata"]["name"] for m in read_text(text, "x.yaml")] == ["a"]
    as_json = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}'
    assert read_text(as_json, "x.json")[0].obj["kind"] == "Service"
    snapshot = build_snapshot([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}])
    assert ("default", "s") in snapshot.services
