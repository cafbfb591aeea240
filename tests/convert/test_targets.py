"""What the converter emits depends on what the target can express: a target with TLS listeners gets
TLSRoutes for ssl-passthrough, one with HTTPRouteCORS gets the CORS filter, and without them both are
reported instead of emitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portico.convert import Options, Outcome, convert
from portico.manifests import load_manifests
from portico.translate import DEFAULT_CAPABILITIES

CORPUS = Path(__file__).parent / "corpus"


def _objects(name: str) -> list[dict[str, Any]]:
    return [m.obj for m in load_manifests([CORPUS / name])]


def test_passthrough_becomes_a_tls_listener_and_a_tlsroute_where_the_target_has_tls() -> None:
    options = Options(listener_protocols=frozenset({"HTTP", "HTTPS", "TLS"}))
    result = convert(_objects("protocols.in.yaml"), options)
    (route,) = [o for o in result.objects if o["kind"] == "TLSRoute"]
    assert route["spec"]["hostnames"] == ["tls.example.com"]
    assert route["spec"]["rules"] == [{"backendRefs": [{"name": "tls-app", "port": 443}]}]
    gateway = next(o for o in result.objects if o["kind"] == "Gateway")
    (listener,) = [item for item in gateway["spec"]["listeners"] if item["protocol"] == "TLS"]
    assert (listener["name"], listener["port"], listener["tls"]) == (
        "tls-tls-example-com",
        443,
        {"mode": "Passthrough"},
    )
    assert route["spec"]["parentRefs"][0]["sectionName"] == listener["name"]


def test_without_tls_listeners_passthrough_is_reported_not_emitted() -> None:
    result = convert(_objects("protocols.in.yaml"), Options(listener_protocols=frozenset({"HTTP", "HTTPS"})))
    assert not [o for o in result.objects if o["kind"] == "TLSRoute"]
    assert [f.outcome for f in result.findings if f.subject == "ssl-passthrough"] == [Outcome.TARGET]


def test_cors_filter_with_ingress_nginx_defaults_where_the_target_supports_it() -> None:
    options = Options(features=DEFAULT_CAPABILITIES.features | {"HTTPRouteCORS"})
    result = convert(_objects("annotations.in.yaml"), options)
    route = next(o for o in result.objects if o["metadata"]["name"] == "app-app-example-com")
    filters = route["spec"]["rules"][1]["filters"]
    (cors,) = [f["cors"] for f in filters if f["type"] == "CORS"]
    assert cors["allowOrigins"] == ["https://example.com", "https://*.example.com"]
    assert cors["allowMethods"] == ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
    assert (cors["allowCredentials"], cors["maxAge"]) == (True, 1728000)


def _https_ingress() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "apps", "creationTimestamp": "2024-08-01T00:00:00Z"},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["www.example.com"], "secretName": "www-tls"}],
            "rules": [
                {
                    "host": "www.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def test_passthrough_next_to_https_on_443_where_the_target_reads_the_sni_first() -> None:
    """ingress-nginx's ssl-passthrough next to HTTPS on 443: a TLS listener beside the HTTPS ones
    (TLSRouteModeMixed: the proxy picks the listener by SNI before terminating)."""
    options = Options(
        listener_protocols=frozenset({"HTTP", "HTTPS", "TLS"}),
        features=DEFAULT_CAPABILITIES.features | {"TLSRouteModeMixed"},
    )
    result = convert([*_objects("protocols.in.yaml"), _https_ingress()], options)
    (route,) = [o for o in result.objects if o["kind"] == "TLSRoute"]
    gateway = next(o for o in result.objects if o["kind"] == "Gateway")
    on_443 = {item["name"]: item["protocol"] for item in gateway["spec"]["listeners"] if item["port"] == 443}
    assert on_443 == {"https-www-example-com": "HTTPS", "tls-tls-example-com": "TLS"}
    assert route["spec"]["parentRefs"][0]["sectionName"] == "tls-tls-example-com"
    assert [f.outcome for f in result.findings if f.subject == "ssl-passthrough"] == [Outcome.EXACT]


def test_passthrough_next_to_https_on_443_is_reported_where_the_target_cannot_mix() -> None:
    options = Options(listener_protocols=frozenset({"HTTP", "HTTPS", "TLS"}))
    result = convert([*_objects("protocols.in.yaml"), _https_ingress()], options)
    assert not [o for o in result.objects if o["kind"] == "TLSRoute"]
    gateway = next(o for o in result.objects if o["kind"] == "Gateway")
    assert {item["protocol"] for item in gateway["spec"]["listeners"] if item["port"] == 443} == {"HTTPS"}
    (finding,) = [f for f in result.findings if f.subject == "ssl-passthrough"]
    assert finding.outcome == Outcome.TARGET and "--gateway of their own" in finding.message


def test_passthrough_of_a_host_that_also_has_a_certificate_is_reported() -> None:
    """One hostname cannot be both an HTTPS and a TLS listener on 443 (HostnameConflict)."""
    both = _https_ingress()
    both["metadata"] = {
        **both["metadata"],
        "name": "both",
        "annotations": {"nginx.ingress.kubernetes.io/ssl-passthrough": "true"},
    }
    options = Options(
        listener_protocols=frozenset({"HTTP", "HTTPS", "TLS"}),
        features=DEFAULT_CAPABILITIES.features | {"TLSRouteModeMixed"},
    )
    result = convert([both], options)
    assert not [o for o in result.objects if o["kind"] == "TLSRoute"]
    (finding,) = [f for f in result.findings if f.subject == "ssl-passthrough"]
    assert finding.outcome == Outcome.NOT_CONVERTIBLE and "www.example.com" in finding.message
