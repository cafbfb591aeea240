"""A provider's capabilities drop exactly the rules it cannot express; the rest still programs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from portico.api import build_snapshot
from portico.ir import Listener
from portico.manifests import load_manifests
from portico.provider import (
    Capabilities,
    ProviderUnavailable,
    available_providers,
    load_capabilities,
    load_provider,
    load_provider_spec,
)
from portico.translate import translate
from portico.translate.features import ALL_FEATURES

FILTERS_CASE = Path(__file__).parents[1] / "golden" / "translate" / "filters" / "all-filters.in.yaml"


def _objects() -> list[dict[str, object]]:
    return [m.obj for m in load_manifests([FILTERS_CASE])]


def _parent_conditions(result: object, name: str = "filters") -> dict[str, dict[str, object]]:
    statuses = result.statuses  # type: ignore[attr-defined]
    return {c["type"]: c for c in statuses[("HTTPRoute", "default", name)]["parents"][0]["conditions"]}


def test_missing_feature_drops_only_that_rule() -> None:
    caps = Capabilities(features=ALL_FEATURES - {"HTTPRoutePathRewrite", "HTTPRouteRequestMirror"})
    result = translate(build_snapshot(_objects()), {"portico.dev/proxy": caps})
    conditions = _parent_conditions(result)
    assert conditions["Accepted"]["status"] == "True"
    partially = conditions["PartiallyInvalid"]
    assert partially["reason"] == "UnsupportedValue"
    assert "spec.rules[3] needs HTTPRoutePathRewrite" in str(partially["message"])
    assert "spec.rules[4] needs HTTPRouteRequestMirror" in str(partially["message"])
    served = {r.rule_index for r in result.ir_by_gateway[("default", "gw")].listeners[0].rules}
    assert served == {0, 1, 2, 5, 6}


def test_gateway_wide_limit_rejects_rules_in_precedence_order() -> None:
    def at_most_three(listeners: Sequence[Listener]) -> Mapping[str, str]:
        rules = [r for listener in listeners for r in listener.rules]
        return {r.id: "exceeds 3 rules per load balancer" for r in rules[3:]}

    caps = Capabilities(features=ALL_FEATURES, check_rules=at_most_three)
    result = translate(build_snapshot(_objects()), {"portico.dev/proxy": caps})
    rules = result.ir_by_gateway[("default", "gw")].listeners[0].rules
    assert len(rules) == 3
    message = str(_parent_conditions(result)["PartiallyInvalid"]["message"])
    assert "exceeds 3 rules per load balancer" in message


def test_the_rules_check_can_depend_on_the_gateways_parameters() -> None:
    """A provider whose limits depend on the load balancer a Gateway becomes (gcp-alb's scheme) picks
    the check from the Gateway's merged GatewayParameters; it replaces `check_rules`."""
    seen: list[dict[str, object]] = []

    def check_for(parameters: Mapping[str, object]) -> Callable[[Sequence[Listener]], Mapping[str, str]]:
        seen.append(dict(parameters))
        replicas = dict(parameters.get("proxy") or {}).get("replicas")

        def first_rule_refused(listeners: Sequence[Listener]) -> Mapping[str, str]:
            return {r.id: f"not with {replicas} replicas" for lst in listeners for r in lst.rules if r.rule_index == 0}

        return first_rule_refused

    objects = _objects()
    gateway_class = next(o for o in objects if o["kind"] == "GatewayClass")
    gateway_class["spec"]["parametersRef"] = {
        "group": "portico.dev",
        "kind": "GatewayParameters",
        "name": "params",
        "namespace": "default",
    }
    params = {"name": "params", "namespace": "default"}
    spec = {"proxy": {"replicas": 2}}
    objects.append(
        {"apiVersion": "portico.dev/v1alpha1", "kind": "GatewayParameters", "metadata": params, "spec": spec}
    )
    caps = Capabilities(features=ALL_FEATURES, check_rules=lambda _: {}, check_rules_for=check_for)
    result = translate(build_snapshot(objects), {"portico.dev/proxy": caps})
    assert seen == [{"proxy": {"replicas": 2}}]
    assert "spec.rules[0]: not with 2 replicas" in str(_parent_conditions(result)["PartiallyInvalid"]["message"])
    assert 0 not in {r.rule_index for r in result.ir_by_gateway[("default", "gw")].listeners[0].rules}


def test_unavailable_provider_is_reported_on_the_class() -> None:
    result = translate(
        build_snapshot(_objects()),
        {},
        unavailable={"portico.dev/proxy": "provider 'proxy' needs boto3; install portico-gateway[aws]"},
    )
    cls = result.statuses[("GatewayClass", "", "portico")]["conditions"][0]
    assert (cls["status"], cls["reason"]) == ("False", "InvalidParameters")
    assert "portico-gateway[aws]" in cls["message"]
    gateway = result.statuses[("Gateway", "default", "gw")]["conditions"][0]
    assert (gateway["status"], gateway["reason"]) == ("False", "Invalid")
    assert result.ir_by_gateway == {}


def test_unknown_portico_controller_is_unsupported() -> None:
    result = translate(build_snapshot(_objects()), {"portico.dev/aws-alb": Capabilities(features=ALL_FEATURES)})
    cls = result.statuses[("GatewayClass", "", "portico")]["conditions"][0]
    assert (cls["status"], cls["reason"]) == ("False", "Unsupported")


def test_capabilities_a_provider_declares_in_its_spec_are_the_built_providers() -> None:
    """The offline commands read the spec's declaration; the operator asks the built provider."""
    for name in available_providers():
        spec = load_provider_spec(name, check_requirements=False)
        if spec.capabilities is None:
            continue
        try:
            built = load_provider(name).capabilities()
        except ProviderUnavailable:
            continue
        assert spec.capabilities() == built == load_capabilities(name), name
    assert load_provider_spec("proxy").capabilities is not None  # the one that must not import a client
