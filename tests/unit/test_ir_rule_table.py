"""The v2 IR document keeps one copy of a rule shared by many listeners, reads back to the same objects,
and still reads v1 documents (a new proxy during a rolling upgrade)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from portico.api import build_snapshot
from portico.ir import IR_VERSION, IR_VERSION_V1, GatewayIR, IRBundle
from portico.translate import translate

ROUTES = 8
PATHS = 6


def gateway_ir(listeners: int) -> GatewayIR:
    """`listeners` HTTP listeners on their own ports, each with the same ROUTES x PATHS rules attached."""
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
    (ir,) = translate(build_snapshot(objects)).ir_by_gateway.values()
    return ir


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
