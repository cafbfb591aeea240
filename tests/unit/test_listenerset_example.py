"""examples/listenerset as `portico status` sees it with the chart's portico-proxy class: the
ListenerSet is attached, its route accepted, and the Gateway counts it."""

from __future__ import annotations

from pathlib import Path

from portico.api import build_snapshot
from portico.manifests import load_manifests
from portico.provider import load_capabilities
from portico.translate import translate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "listenerset"
CHART_CLASS = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "GatewayClass",
    "metadata": {"name": "portico-proxy"},
    "spec": {"controllerName": "portico.dev/proxy"},
}


def _reasons(status: dict[str, object]) -> dict[str, tuple[str, str]]:
    conditions = status["conditions"]
    assert isinstance(conditions, list)
    return {c["type"]: (c["status"], c["reason"]) for c in conditions}


def test_the_example_attaches_its_listenerset_and_route() -> None:
    objects = [CHART_CLASS, *(m.obj for m in load_manifests([EXAMPLE]))]
    result = translate(build_snapshot(objects), {"portico.dev/proxy": load_capabilities("proxy")})
    assert _reasons(result.statuses[("ListenerSet", "team-a", "team-a")])["Accepted"] == ("True", "Accepted")
    (parent,) = result.statuses[("HTTPRoute", "team-a", "echo")]["parents"]
    assert _reasons(parent)["Accepted"] == ("True", "Accepted")
    assert result.statuses[("Gateway", "infra", "shared")]["attachedListenerSets"] == 1
    names = [listener.name for listener in result.ir_by_gateway[("infra", "shared")].listeners]
    assert names == ["http", "team-a/team-a/http"]
