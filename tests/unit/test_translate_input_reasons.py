"""Reasons for the input-correctness golden cases: nulls, header values, key/certificate pairs,
the Gateway's backend client certificate, and the listeners of a Gateway that is not Accepted."""

from __future__ import annotations

import pytest

from tests.unit.test_translate_reasons import (
    gateway_condition,
    listener_status,
    result_for,
    route_condition,
)


def listener_condition(case: str, ns: str, gw: str, listener: str, type_: str) -> tuple[str, str]:
    found = [c for c in listener_status(case, ns, gw, listener)["conditions"] if c["type"] == type_]
    return found[0]["status"], found[0]["reason"]


def test_nulls_are_absent_and_defaults_apply() -> None:
    case = "nulls/null-is-absent"
    assert gateway_condition(case, "web", "gw", "Accepted") == ("True", "Accepted")
    http = listener_status(case, "web", "gw", "http")
    assert [k["kind"] for k in http["supportedKinds"]] == ["HTTPRoute", "GRPCRoute"]
    assert http["attachedRoutes"] == 2
    assert route_condition(case, "HTTPRoute", "web", "headers", "Accepted") == ("True", "Accepted")
    parents = result_for(case).statuses[("HTTPRoute", "web", "headers")]["parents"]
    assert all(c["type"] != "PartiallyInvalid" for p in parents for c in p["conditions"])
    assert route_condition(case, "GRPCRoute", "web", "grpc", "Accepted") == ("True", "Accepted")
    ir = result_for(case).ir_by_gateway[("web", "gw")]
    rule = next(r for r in ir.listeners[0].rules if r.route.name == "headers" and r.rule_index == 0)
    backend = rule.backends[0]
    assert (backend.kind, backend.weight, backend.namespace) == ("Service", 1, "web")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (1, "spec.rules[1].filters[0].requestHeaderModifier.set[0].value: String should have at least 1 character"),
        (2, "spec.rules[2].filters[0].responseHeaderModifier.add[0].value: must not contain CR, LF or NUL"),
        (3, "spec.rules[3].matches[0].headers[0].value: must not contain CR, LF or NUL"),
        (4, "spec.rules[4].matches[0].headers[0].value: String should have at least 1 character"),
        (5, "spec.rules[5].backendRefs[0].filters[0].requestHeaderModifier.set[0].value: must not contain CR"),
        (6, "spec.rules[6].filters[0].requestRedirect.path.replaceFullPath: must not contain CR, LF or NUL"),
        (7, "spec.rules[7].filters[0].cors.allowHeaders[1]: String should match pattern"),
        (8, "spec.rules[8].filters[0].cors.allowOrigins[0]: String should match pattern"),
    ],
)
def test_bad_header_values_drop_their_rule_naming_the_field(rule: int, field: str) -> None:
    case = "filters/header-values"
    assert route_condition(case, "HTTPRoute", "web", "values", "Accepted") == ("True", "Accepted")
    assert route_condition(case, "HTTPRoute", "web", "values", "PartiallyInvalid") == ("True", "UnsupportedValue")
    parents = result_for(case).statuses[("HTTPRoute", "web", "values")]["parents"]
    message = next(c["message"] for c in parents[0]["conditions"] if c["type"] == "PartiallyInvalid")
    assert field in message
    served = {r.rule_index for r in result_for(case).ir_by_gateway[("web", "gw")].listeners[0].rules}
    assert rule not in served
    assert 0 in served


def test_grpc_route_with_only_an_empty_header_value_is_not_accepted() -> None:
    status = route_condition("filters/header-values", "GRPCRoute", "web", "grpc-values", "Accepted")
    assert status == ("False", "UnsupportedValue")


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_matching_keypairs_of_every_key_type_are_programmed(kind: str) -> None:
    case = "listeners/keypairs"
    assert listener_condition(case, "web", "gw", f"{kind}-ok", "ResolvedRefs") == ("True", "ResolvedRefs")
    assert listener_condition(case, "web", "gw", f"{kind}-ok", "Programmed") == ("True", "Programmed")


@pytest.mark.parametrize("listener", ["rsa-mismatch", "ecdsa-mismatch", "ed25519-mismatch", "key-of-other-type"])
def test_a_key_that_does_not_match_is_an_invalid_certificate_ref(listener: str) -> None:
    case = "listeners/keypairs"
    assert listener_condition(case, "web", "gw", listener, "ResolvedRefs") == ("False", "InvalidCertificateRef")
    assert listener_condition(case, "web", "gw", listener, "Programmed") == ("False", "Invalid")
    message = next(
        c["message"] for c in listener_status(case, "web", "gw", listener)["conditions"] if c["type"] == "ResolvedRefs"
    )
    assert "tls.key does not match the public key" in message
    programmed = {lsn.name for lsn in result_for(case).ir_by_gateway[("web", "gw")].listeners}
    assert listener not in programmed


def test_an_expired_certificate_is_valid_input() -> None:
    assert listener_condition("listeners/keypairs", "web", "gw", "expired", "Programmed") == ("True", "Programmed")


@pytest.mark.parametrize(
    ("gateway", "namespace", "expected"),
    [
        ("ok", "web", ("True", "ResolvedRefs")),
        ("defaults-from-null", "web", ("True", "ResolvedRefs")),
        ("cross-ns-granted", "edge", ("True", "ResolvedRefs")),
        ("missing", "web", ("False", "InvalidClientCertificateRef")),
        ("wrong-type", "web", ("False", "InvalidClientCertificateRef")),
        ("bad-keypair", "web", ("False", "InvalidClientCertificateRef")),
        ("wrong-kind", "web", ("False", "InvalidClientCertificateRef")),
        ("cross-ns-no-grant", "web", ("False", "RefNotPermitted")),
    ],
)
def test_backend_client_certificate_ref(gateway: str, namespace: str, expected: tuple[str, str]) -> None:
    case = "gateway/client-certificate"
    assert gateway_condition(case, namespace, gateway, "ResolvedRefs") == expected
    # A bad client certificate changes neither Accepted nor Programmed.
    assert gateway_condition(case, namespace, gateway, "Accepted") == ("True", "Accepted")
    assert gateway_condition(case, namespace, gateway, "Programmed") == ("True", "Programmed")
    ir = result_for(case).ir_by_gateway[(namespace, gateway)]
    assert (ir.client_certificate is not None) == (expected[0] == "True")


def test_client_certificate_travels_in_the_ir_and_its_key_is_redacted() -> None:
    ir = result_for("gateway/client-certificate").ir_by_gateway[("edge", "cross-ns-granted")]
    assert ir.client_certificate is not None
    assert str(ir.client_certificate.secret) == "certs/shared"
    assert ir.client_certificate.key_pem and "PRIVATE KEY" in ir.client_certificate.key_pem
    redacted = ir.redacted()
    assert redacted.client_certificate is not None
    assert redacted.client_certificate.key_pem is None
    assert "PRIVATE KEY" not in redacted.to_json()


def test_a_rejected_gateway_still_lists_every_listener() -> None:
    case = "gateway/rejected-listeners"
    assert gateway_condition(case, "web", "bad-address", "Accepted") == ("False", "UnsupportedAddress")
    listeners = result_for(case).statuses[("Gateway", "web", "bad-address")]["listeners"]
    assert [entry["name"] for entry in listeners] == ["http", "https-no-cert", "custom"]
    assert all(entry["attachedRoutes"] == 0 for entry in listeners)
    for entry in listeners:
        programmed = next(c for c in entry["conditions"] if c["type"] == "Programmed")
        assert (programmed["status"], programmed["reason"]) == ("False", "Invalid")
        assert programmed["message"].startswith("Gateway is not accepted: spec.addresses[0]")
    assert [k["kind"] for k in listeners[0]["supportedKinds"]] == ["HTTPRoute", "GRPCRoute"]
    assert listener_condition(case, "web", "bad-address", "custom", "Accepted") == ("False", "UnsupportedProtocol")
    assert listener_condition(case, "web", "bad-address", "https-no-cert", "ResolvedRefs") == (
        "False",
        "InvalidCertificateRef",
    )
    assert route_condition(case, "HTTPRoute", "web", "web", "Accepted") == ("False", "NotAllowedByListeners")
    assert ("web", "bad-address") not in result_for(case).ir_by_gateway


def test_an_unreadable_gateway_still_lists_its_listeners() -> None:
    case = "gateway/rejected-listeners"
    assert gateway_condition(case, "web", "unreadable", "Accepted") == ("False", "Invalid")
    listeners = result_for(case).statuses[("Gateway", "web", "unreadable")]["listeners"]
    assert [entry["name"] for entry in listeners] == ["http", "Bad_Name"]
    assert [k["kind"] for k in listeners[0]["supportedKinds"]] == ["HTTPRoute"]
    assert listener_condition(case, "web", "unreadable", "http", "Programmed") == ("False", "Invalid")
    assert listener_condition(case, "web", "unreadable", "Bad_Name", "Accepted") == ("False", "UnsupportedValue")


def test_an_unreadable_gateway_with_a_non_string_class_name_does_not_crash() -> None:
    from portico.api import build_snapshot
    from portico.translate import translate

    objects = [
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "portico"},
         "spec": {"controllerName": "portico.dev/proxy"}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw"},
         "spec": {"gatewayClassName": ["portico"], "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}},
    ]  # fmt: skip
    result = translate(build_snapshot(objects))
    assert ("Gateway", "default", "gw") not in result.statuses
