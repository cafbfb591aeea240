"""Every reason Portico's translation can write, asserted on the golden inputs.

The golden files pin the whole output; these tests say which condition each case is about,
so a regenerated golden cannot silently lose one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from portico.api import build_snapshot
from portico.manifests import load_manifests
from portico.translate import TranslateResult, translate

CASES = Path(__file__).parents[1] / "golden" / "translate"


@cache
def result_for(case: str) -> TranslateResult:
    return translate(build_snapshot([m.obj for m in load_manifests([CASES / f"{case}.in.yaml"])]))


def condition(conditions: list[dict[str, Any]], type_: str) -> tuple[str, str]:
    found = [c for c in conditions if c["type"] == type_]
    assert found, f"no {type_} condition in {conditions}"
    return found[0]["status"], found[0]["reason"]


def class_condition(case: str, name: str, type_: str) -> tuple[str, str]:
    return condition(result_for(case).statuses[("GatewayClass", "", name)]["conditions"], type_)


def gateway_condition(case: str, ns: str, name: str, type_: str) -> tuple[str, str]:
    return condition(result_for(case).statuses[("Gateway", ns, name)]["conditions"], type_)


def listener_status(case: str, ns: str, gw: str, listener: str) -> dict[str, Any]:
    listeners = result_for(case).statuses[("Gateway", ns, gw)]["listeners"]
    return next(entry for entry in listeners if entry["name"] == listener)


def route_condition(case: str, kind: str, ns: str, name: str, type_: str, parent: int = 0) -> tuple[str, str]:
    parents = result_for(case).statuses[(kind, ns, name)]["parents"]
    return condition(parents[parent]["conditions"], type_)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("with-params", ("True", "Accepted")),
        ("missing-params", ("False", "InvalidParameters")),
        ("wrong-kind", ("False", "InvalidParameters")),
        ("no-namespace", ("False", "InvalidParameters")),
    ],
)
def test_gatewayclass_accepted(name: str, expected: tuple[str, str]) -> None:
    assert class_condition("gatewayclass/parameters", name, "Accepted") == expected


def test_foreign_classes_get_no_status() -> None:
    assert ("GatewayClass", "", "someone-else") not in result_for("gatewayclass/accepted").statuses


def test_supported_features_sorted() -> None:
    features = [
        f["name"]
        for f in result_for("gatewayclass/accepted").statuses[("GatewayClass", "", "portico")]["supportedFeatures"]
    ]
    assert features == sorted(features)
    assert "HTTPRoute" in features


def test_gateway_parameters_merge_and_errors() -> None:
    result = result_for("gatewayclass/parameters")
    ir = result.ir_by_gateway[("apps", "gw")]
    assert ir.infrastructure.parameters == {"proxy": {"serviceType": "NodePort", "replicas": 3}}
    assert ir.infrastructure.labels == {"team": "payments"}
    assert gateway_condition("gatewayclass/parameters", "apps", "gw-bad-params", "Accepted") == (
        "False",
        "InvalidParameters",
    )
    assert gateway_condition("gatewayclass/parameters", "apps", "gw-of-bad-class", "Accepted") == ("False", "Invalid")
    assert ("apps", "gw-bad-params") not in result.ir_by_gateway


@pytest.mark.parametrize(
    ("listener", "accepted", "conflicted"),
    [
        ("http", ("True", "Accepted"), ("False", "NoConflicts")),
        ("tcp", ("True", "Accepted"), ("False", "NoConflicts")),
        ("udp", ("True", "Accepted"), ("False", "NoConflicts")),
        ("custom", ("False", "UnsupportedProtocol"), ("False", "NoConflicts")),
        ("mixed-a", ("False", "ProtocolConflict"), ("True", "ProtocolConflict")),
        ("mixed-b", ("False", "ProtocolConflict"), ("True", "ProtocolConflict")),
        ("dup-a", ("False", "HostnameConflict"), ("True", "HostnameConflict")),
        ("other-host", ("True", "Accepted"), ("False", "NoConflicts")),
    ],
)
def test_listener_protocols_and_conflicts(
    listener: str, accepted: tuple[str, str], conflicted: tuple[str, str]
) -> None:
    status = listener_status("listeners/protocols-and-conflicts", "default", "gw", listener)
    assert condition(status["conditions"], "Accepted") == accepted
    assert condition(status["conditions"], "Conflicted") == conflicted
    if accepted[0] == "False":
        assert condition(status["conditions"], "Programmed") == ("False", "Invalid")


def test_unsupported_protocol_has_no_supported_kinds() -> None:
    assert listener_status("listeners/protocols-and-conflicts", "default", "gw", "custom")["supportedKinds"] == []


def test_gateway_listeners_not_valid() -> None:
    case = "listeners/protocols-and-conflicts"
    assert gateway_condition(case, "default", "gw", "Accepted") == ("True", "ListenersNotValid")
    assert gateway_condition(case, "default", "all-invalid", "Accepted") == ("False", "ListenersNotValid")
    assert gateway_condition(case, "default", "all-invalid", "Programmed") == ("False", "Invalid")


def test_invalid_route_kinds() -> None:
    case = "listeners/route-kinds"
    only = listener_status(case, "default", "only-invalid-kind", "http")
    assert only["supportedKinds"] == []
    assert condition(only["conditions"], "ResolvedRefs") == ("False", "InvalidRouteKinds")
    mixed = listener_status(case, "default", "supported-and-invalid-kind", "http")
    assert [k["kind"] for k in mixed["supportedKinds"]] == ["HTTPRoute"]
    assert condition(mixed["conditions"], "ResolvedRefs") == ("False", "InvalidRouteKinds")
    assert mixed["attachedRoutes"] == 1
    assert route_condition(case, "GRPCRoute", "default", "grpc", "Accepted") == ("False", "NotAllowedByListeners")


@pytest.mark.parametrize(
    ("listener", "resolved", "programmed"),
    [
        ("good", ("True", "ResolvedRefs"), ("True", "Programmed")),
        ("missing-secret", ("False", "InvalidCertificateRef"), ("False", "Invalid")),
        ("malformed", ("False", "InvalidCertificateRef"), ("False", "Invalid")),
        ("wrong-type", ("False", "InvalidCertificateRef"), ("False", "Invalid")),
        ("wrong-kind", ("False", "InvalidCertificateRef"), ("False", "Invalid")),
        ("cross-ns-no-grant", ("False", "RefNotPermitted"), ("False", "Invalid")),
        ("no-tls", ("False", "InvalidCertificateRef"), ("False", "Invalid")),
    ],
)
def test_listener_certificates(listener: str, resolved: tuple[str, str], programmed: tuple[str, str]) -> None:
    status = listener_status("listeners/tls", "web", "gw", listener)
    assert condition(status["conditions"], "ResolvedRefs") == resolved
    assert condition(status["conditions"], "Programmed") == programmed
    assert condition(status["conditions"], "Accepted") == ("True", "Accepted")


def test_tls_grant_overlap_and_attached_routes_without_cert() -> None:
    case = "listeners/tls"
    granted = listener_status(case, "edge", "granted", "cross-ns-granted")
    assert condition(granted["conditions"], "ResolvedRefs") == ("True", "ResolvedRefs")
    for name in ("good", "wildcard-overlaps"):
        conds = listener_status(case, "web", "gw", name)["conditions"]
        assert condition(conds, "OverlappingTLSConfig") == ("True", "OverlappingHostnames")
    assert not [
        c for c in listener_status(case, "web", "gw", "separate")["conditions"] if c["type"] == "OverlappingTLSConfig"
    ]
    assert listener_status(case, "web", "gw", "missing-secret")["attachedRoutes"] == 1
    assert gateway_condition(case, "web", "gw", "ResolvedRefs") == ("False", "ListenersNotResolved")
    names = [listener.name for listener in result_for(case).ir_by_gateway[("web", "gw")].listeners]
    assert "missing-secret" not in names
    assert "good" in names


@pytest.mark.parametrize(
    ("route", "parent", "expected"),
    [
        ("same-ns", 0, ("True", "Accepted")),
        ("from-team-a", 0, ("True", "Accepted")),
        ("from-team-a", 1, ("True", "Accepted")),
        ("from-team-a", 2, ("False", "NotAllowedByListeners")),
        ("from-team-a", 3, ("False", "NotAllowedByListeners")),
        ("from-team-b", 0, ("False", "NotAllowedByListeners")),
        ("by-port", 0, ("True", "Accepted")),
        ("by-port", 1, ("False", "NoMatchingParent")),
        ("section-and-port-disagree", 0, ("False", "NoMatchingParent")),
        ("no-such-section", 0, ("False", "NoMatchingParent")),
    ],
)
def test_route_attachment(route: str, parent: int, expected: tuple[str, str]) -> None:
    namespace = {"from-team-a": "team-a", "from-team-b": "team-b"}.get(route, "infra")
    got = route_condition("attachment/sections-ports-namespaces", "HTTPRoute", namespace, route, "Accepted", parent)
    assert got == expected


def test_unknown_parents_get_no_entry() -> None:
    assert ("HTTPRoute", "infra", "unknown-parent") not in result_for("attachment/sections-ports-namespaces").statuses


def test_attached_routes_count_only_accepted() -> None:
    case = "attachment/sections-ports-namespaces"
    assert listener_status(case, "infra", "gw", "selector")["attachedRoutes"] == 1
    assert listener_status(case, "infra", "gw", "selector-empty")["attachedRoutes"] == 0
    assert listener_status(case, "infra", "gw", "all")["attachedRoutes"] == 2


def test_hostname_intersection() -> None:
    case = "attachment/hostnames"
    assert route_condition(case, "HTTPRoute", "infra", "apex-only", "Accepted") == (
        "False",
        "NoMatchingListenerHostname",
    )
    ir = result_for(case).ir_by_gateway[("infra", "gw")]
    by_listener = {lst.name: {r.route.name: r.hostnames for r in lst.rules} for lst in ir.listeners}
    assert by_listener["exact"]["mixed-hosts"] == ("a.example.com",)
    assert by_listener["wildcard"]["mixed-hosts"] == ("a.example.com", "*.example.com")
    assert by_listener["wide"]["nested-wildcard"] == ("*.example.com", "x.y.example.com")
    assert by_listener["exact"]["no-hostnames"] == ("a.example.com",)
    assert listener_status(case, "infra", "gw", "wildcard")["attachedRoutes"] == 2


def test_backend_resolution() -> None:
    case = "backends/resolution"
    assert route_condition(case, "HTTPRoute", "apps", "refs", "Accepted") == ("True", "Accepted")
    assert route_condition(case, "HTTPRoute", "apps", "refs", "ResolvedRefs")[0] == "False"
    rules = {
        r.match.path.value: r for r in result_for(case).ir_by_gateway[("apps", "gw")].listeners[0].rules if r.match.path
    }
    reasons = {path: [b.invalid_reason for b in rule.backends] for path, rule in rules.items()}
    assert reasons["/ok"] == [None, None]
    assert reasons["/missing"] == ["BackendNotFound"]
    assert reasons["/kind"] == ["InvalidKind"]
    assert reasons["/cross-denied"] == ["RefNotPermitted"]
    assert reasons["/cross-granted"] == [None]
    assert reasons["/no-port"] == ["BackendNotFound"]
    assert reasons["/external"] == ["InvalidKind"]
    assert rules["/no-backends"].backends == ()
    ok = rules["/ok"].backends
    assert [b.weight for b in ok] == [3, 0]
    assert [(e.address, e.port) for e in ok[0].endpoints] == [
        ("10.1.0.1", 8080),
        ("10.1.0.2", 8080),
        ("10.1.0.4", 8080),
    ]
    assert [(e.address, e.port) for e in ok[1].endpoints] == [("10.1.0.1", 9090), ("10.1.0.2", 9090)]
    assert rules["/cross-granted"].backends[0].node_port == 30080
    assert rules["/h2c"].backends[0].protocol == "h2c"


def test_grpc_backend_protocol_and_invalid_match() -> None:
    case = "grpc/matching"
    assert route_condition(case, "GRPCRoute", "default", "echo", "ResolvedRefs") == ("False", "UnsupportedProtocol")
    assert route_condition(case, "GRPCRoute", "default", "bad-method", "Accepted") == ("False", "UnsupportedValue")


def test_partially_invalid_and_unreadable() -> None:
    case = "invalid/unreadable"
    parents = result_for(case).statuses[("HTTPRoute", "default", "partially-invalid")]["parents"]
    partially = next(c for c in parents[0]["conditions"] if c["type"] == "PartiallyInvalid")
    assert partially["status"] == "True"
    assert partially["reason"] == "UnsupportedValue"
    assert partially["message"].startswith("Dropped Rule")
    for index in range(1, 8):
        assert f"spec.rules[{index}]" in partially["message"]
    assert all(c["observedGeneration"] == 2 for c in parents[0]["conditions"])
    assert route_condition(case, "HTTPRoute", "default", "all-rules-invalid", "Accepted") == (
        "False",
        "UnsupportedValue",
    )
    unreadable = result_for(case).statuses[("HTTPRoute", "default", "unreadable-spec")]["parents"][0]
    assert unreadable["conditions"][0]["reason"] == "UnsupportedValue"
    assert "spec.hostnames[0]" in unreadable["conditions"][0]["message"]
    gw = result_for(case).statuses[("Gateway", "default", "unreadable-gateway")]["conditions"]
    assert condition(gw, "Accepted") == ("False", "Invalid")
    assert gw[0]["observedGeneration"] == 7
    bad = listener_status(case, "default", "bad-listener", "Bad_Name")
    assert condition(bad["conditions"], "Accepted") == ("False", "UnsupportedValue")
    assert gateway_condition(case, "default", "static-address", "Accepted") == ("False", "UnsupportedAddress")


def test_filters_in_ir() -> None:
    ir = result_for("filters/all-filters").ir_by_gateway[("default", "gw")]
    rules = {r.match.path.value: r for r in ir.listeners[0].rules if r.match.path}
    headers = rules["/headers"]
    assert [f.type for f in headers.filters] == ["RequestHeaderModifier", "ResponseHeaderModifier"]
    assert headers.filters[0].modifier.remove == ("x-debug",)  # type: ignore[union-attr]
    assert headers.backends[0].filters[0].type == "RequestHeaderModifier"
    redirect = rules["/old"].filters[0]
    assert redirect.type == "RequestRedirect"
    assert (redirect.scheme, redirect.port, redirect.status_code) == ("https", 8443, 301)
    assert redirect.path is not None and redirect.path.matched_prefix == "/old"
    mirrors = [f for f in rules["/mirror"].filters if f.type == "RequestMirror"]
    assert [(m.numerator, m.denominator) for m in mirrors] == [(25, 100), (1, 3)]
    assert rules["/slow"].timeouts.request_ms == 90_000
    assert rules["/slow"].timeouts.backend_request_ms == 500
    ext = rules["/ext"].backends
    assert len(ext) == 1 and ext[0].invalid_reason == "InvalidKind"


def test_conflicted_listener_admits_no_route() -> None:
    case = "listeners/protocols-and-conflicts"
    assert route_condition(case, "HTTPRoute", "default", "to-conflicted", "Accepted", 0) == (
        "False",
        "NotAllowedByListeners",
    )
    assert route_condition(case, "HTTPRoute", "default", "to-conflicted", "Accepted", 1) == ("True", "Accepted")
    assert listener_status(case, "default", "gw", "other-host")["attachedRoutes"] == 1
    assert listener_status(case, "default", "gw", "dup-a")["attachedRoutes"] == 0
