"""The chart's ClusterRole and Role allow every request the operator made in the e2e tests, and nothing else but
the few listed below with the reason the e2e tests cannot show them.

The requests are recorded by the e2e `cluster` fixture (tests/kube_requests.py) into a per-session log;
pytest runs tests/e2e before tests/install, so `make test` always checks them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.install.chart import CHART, only, render, values_of
from tests.kube_requests import SESSION_LOG, ApiRequest

GW = "gateway.networking.k8s.io"
_GRPC = "GRPCRoute statuses take the same path as HTTPRoute ones; the e2e tests have no GRPCRoute"
_L4 = "TCPRoute and UDPRoute statuses take the TLSRoute path (tests/e2e/test_tls_route_operator.py)"
_COPIES = "opt-in copies of cross-namespace TLS Secrets (providers.proxy.copyCertificatesAcrossNamespaces)"
NEEDED_BEYOND_E2E: dict[ApiRequest, str] = {
    ApiRequest("get", GW, "grpcroutes"): _GRPC,
    ApiRequest("patch", GW, "grpcroutes/status"): _GRPC,
    ApiRequest("get", GW, "tcproutes"): _L4,
    ApiRequest("patch", GW, "tcproutes/status"): _L4,
    ApiRequest("get", GW, "udproutes"): _L4,
    ApiRequest("patch", GW, "udproutes/status"): _L4,
    ApiRequest("create", "", "secrets"): _COPIES,
    ApiRequest("patch", "", "secrets"): _COPIES,
    ApiRequest("delete", "", "secrets"): _COPIES,
}


def all_granted(objects: list[dict[str, Any]]) -> set[ApiRequest]:
    """What the ClusterRole and the Role (leader election's Lease, in the release namespace) grant."""
    return granted(only(objects, "ClusterRole")) | granted(only(objects, "Role"))


def granted(role: dict[str, Any]) -> set[ApiRequest]:
    return {
        ApiRequest(verb, group, resource)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _recorded() -> set[ApiRequest]:
    if not SESSION_LOG:
        why = "no e2e test ran in this session: run tests/e2e and tests/install together (make test does)"
        if os.environ.get("CI"):
            pytest.fail(why)  # in CI an empty recording is a broken recorder, never a reason to skip
        pytest.skip(why)
    return set(SESSION_LOG)


def test_granted_expands_rules() -> None:
    role = {"rules": [{"apiGroups": [""], "resources": ["a", "b"], "verbs": ["get", "list"]}]}
    assert granted(role) == {ApiRequest(v, "", r) for v in ("get", "list") for r in ("a", "b")}


def test_default_role_allows_every_request_the_operator_made() -> None:
    recorded = _recorded()
    denied = recorded - all_granted(render())
    assert not denied, "the ClusterRole denies: " + ", ".join(map(str, sorted(denied)))


def test_role_grants_nothing_beyond_what_is_needed() -> None:
    recorded = _recorded()
    everything = render(values_of(CHART / "ci" / "everything-values.yaml"))
    extra = all_granted(everything) - recorded - set(NEEDED_BEYOND_E2E)
    assert not extra, "the ClusterRole grants what the operator never asked for: " + ", ".join(map(str, sorted(extra)))


def test_needed_list_only_holds_what_the_e2e_tests_do_not_show() -> None:
    shown = set(NEEDED_BEYOND_E2E) & _recorded()
    assert not shown, "now recorded by the e2e tests, drop from NEEDED_BEYOND_E2E: " + ", ".join(map(str, shown))
