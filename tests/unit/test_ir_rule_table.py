"""The v2 IR document keeps one copy of a rule shared by many listeners, reads back to the same objects,
and still reads v1 documents (a new proxy during a rolling upgrade)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from portico.api import build_snapshot
from portico.cli import main
from portico.ir import IR_VERSION, IR_VERSION_V1, GatewayIR, IRBundle
from portico.translate import translate
from portico_proxy.cli_proxy import load_config

ROUTES = 8
PATHS = 6


def gateway_ir(listeners: int) -> GatewayIR:
    """`listeners` HTTP listeners on their own ports, each with the same ROUTES x PATHS rules attached."""
    (ir,) = translate(build_snapshot(gateway_objects(listeners))).ir_by_gateway.values()
    return ir


def gateway_objects(listeners: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "portico", "generation": 1},
            "spec": {"controllerName": "portico.dev/proxy"},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "web", "generation": 1},
            "spec": {
                "gatewayClassName": "portico",
                "listeners": [{"name": f"l{i}", "port": 8000 + i, "protocol": "HTTP"} for i in range(listeners)],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "app", "namespace": "web"},
            "spec": {"ports": [{"port": 80}]},
        },
    ]
    for r in range(ROUTES):
        objects.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": f"r{r}", "namespace": "web", "generation": 1},
                "spec": {
                    "parentRefs": [{"name": "gw"}],
                    "hostnames": [f"r{r}.example.com"],
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": f"/route-{r}/path-{p}"}}],
                            "filters": [
                                {
                                    "type": "RequestHeaderModifier",
                                    "requestHeaderModifier": {"set": [{"name": "x-route", "value": f"r{r}"}]},
                                }
                            ],
                            "backendRefs": [{"name": "app", "port": 80}],
                        }
                        for p in range(PATHS)
                    ],
                },
            }
        )
    return objects


def v1_document(ir: GatewayIR) -> dict[str, Any]:
    """What a v1 operator wrote: every listener's rules inline."""
    return {**ir.model_dump(mode="json"), "version": IR_VERSION_V1}


def test_64_listeners_sharing_routes_cost_about_one_listeners_rules() -> None:
    one, many = gateway_ir(1), gateway_ir(64)
    assert sum(len(listener.rules) for listener in many.listeners) == 64 * ROUTES * PATHS
    one_size, many_size = len(one.to_json()), len(many.to_json())
    v1_size = len(json.dumps(v1_document(many), sort_keys=True, separators=(",", ":")))
    # 64 listeners each add their name, port and one small index per rule; the rule bodies appear once.
    assert many_size < 2 * one_size, (one_size, many_size)
    assert v1_size > 40 * one_size, (one_size, v1_size)
    assert len(many.to_dict()["rules"]) == ROUTES * PATHS


def test_the_document_reads_back_to_the_same_objects_and_is_sound() -> None:
    ir = gateway_ir(3)
    for loaded in (GatewayIR.from_json(ir.to_json()), GatewayIR.from_yaml(ir.to_yaml())):
        assert loaded == ir
        assert [rule.id for rule in loaded.listeners[2].rules] == [rule.id for rule in ir.listeners[2].rules]
        assert loaded.validate_ir() == []
    bundle = IRBundle(gateways=(ir, ir.redacted()))
    assert json.loads(bundle.to_json())["version"] == IR_VERSION
    assert IRBundle.from_json(bundle.to_json()) == bundle


def test_an_id_that_does_not_name_its_listener_is_kept_whole() -> None:
    ir = gateway_ir(2)
    renamed = ir.listeners[1].rules[0].model_copy(update={"id": "custom"})
    listener = ir.listeners[1].model_copy(update={"rules": (renamed, *ir.listeners[1].rules[1:])})
    odd = ir.model_copy(update={"listeners": (ir.listeners[0], listener)})
    assert {"id": "custom"}.items() <= odd.to_dict()["rules"][-1].items()
    assert GatewayIR.from_json(odd.to_json()) == odd


def test_a_v1_document_is_still_read() -> None:
    ir = gateway_ir(2)
    document = v1_document(ir)
    assert GatewayIR.from_json(json.dumps(document)) == ir
    bundle = {"version": IR_VERSION_V1, "gateways": [document]}
    assert IRBundle.from_json(json.dumps(bundle)).gateways == (ir,)


def test_the_proxy_loads_v1_and_v2_files_and_portico_translate_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ir = gateway_ir(3)
    v1 = tmp_path / "v1.json"
    v1.write_bytes(gzip.compress(json.dumps(v1_document(ir)).encode()))  # as a large ConfigMap is mounted
    v2 = tmp_path / "v2.json"
    v2.write_text(ir.to_json())
    assert load_config(str(v1)) == load_config(str(v2)) == [ir]

    manifests = tmp_path / "routes.yaml"
    manifests.write_text(yaml.safe_dump_all(gateway_objects(3)))
    assert main(["translate", "-f", str(manifests), "-o", "json"]) == 0
    printed = tmp_path / "translated.json"
    printed.write_text(capsys.readouterr().out)
    assert load_config(str(printed)) == [ir]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["listeners"][0].update(rules=[999]), "listeners[0].rules: 999 is not an index into rules"),
        (
            lambda d: d["listeners"][0].update(rules=["0"]),
            "ir/v2`.listeners.0.rules.0\n  Input should be a valid integer",
        ),
        (
            lambda d: d["rules"][0].pop("id_suffix"),
            "rules[0]: expected exactly one of id_suffix or id",
        ),
        (
            lambda d: d["rules"][0].update(id="x"),
            "rules[0]: expected exactly one of id_suffix or id",
        ),
        (lambda d: d.update(rules={}), "ir/v2`.rules\n  Input should be a valid array"),
        (
            lambda d: d["rules"][0].update(rule_index="x"),
            "ir/v2`.rules.0.rule_index\n  Input should be a valid integer",
        ),
        (lambda d: d.update(version="portico.dev/ir/v9"), "does not match any of the expected tags"),
    ],
)
def test_a_broken_document_is_refused_naming_the_field(change: Any, expected: str) -> None:
    document = gateway_ir(1).to_dict()
    change(document)
    with pytest.raises(ValidationError) as refused:
        GatewayIR.from_json(json.dumps(document))
    assert expected in str(refused.value)
