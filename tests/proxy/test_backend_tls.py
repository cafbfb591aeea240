"""TLS from the proxy to backends (BackendTLSPolicy) against real TLS servers: the certificate is
verified against the policy's CA or the system's, SNI is validation.hostname, subjectAltNames replace
the hostname check; a refused certificate is a 502 and a log line that says why."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx

from portico.api import build_snapshot
from portico.ir import Backend, BackendProtocol, BackendTLS, Certificate, ObjectKey, SubjectAltName
from portico.manifests import load_manifests
from portico.translate import translate
from portico_proxy.context import Limits
from portico_proxy.linear_regex import PROXY_CAPABILITIES
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import certificate_authority, issued, self_signed

SPIFFE = "spiffe://cluster.local/ns/shop/sa/app"
POLICY = ObjectKey(namespace="shop", name="app-tls")


def _verified(name: str, port: int, tls: BackendTLS | None) -> Backend:
    return local_backend(name, port, protocol=BackendProtocol.HTTPS, tls=tls)


def _policy(ca: str = "", hostname: str = "backend.example.com", *sans: tuple[str, str]) -> BackendTLS:
    alt = tuple(SubjectAltName(type=kind, value=value) for kind, value in sans)  # type: ignore[arg-type]
    return BackendTLS(hostname=hostname, ca_pem=ca, subject_alt_names=alt, policy=POLICY)


async def _serve(proxy, backends: dict[str, Backend], limits: Limits | None = None) -> int:  # type: ignore[no-untyped-def]
    port = free_port()
    rules = tuple(rule(path, match=prefix(f"/{path}"), backends=(b,)) for path, b in backends.items())
    await proxy([gateway(listener(port=port, rules=rules))], limits)
    return port


async def test_policy_verification_sni_and_subject_alt_names(proxy, tls_backend, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, logger="portico.proxy")
    ca, other_ca = certificate_authority("Portico Test CA"), certificate_authority("Someone Else")
    good = await tls_backend(*issued(ca, ("backend.example.com",), (SPIFFE,)))
    port = await _serve(
        proxy,
        {
            "good": _verified("good", good, _policy(ca[0])),
            "wrong-ca": _verified("wrong-ca", good, _policy(other_ca[0])),
            "wrong-name": _verified("wrong-name", good, _policy(ca[0], "other.example.com")),
            # subjectAltNames replace the hostname check: SNI other.example.com, names from the list.
            "san-dns": _verified(
                "san-dns", good, _policy(ca[0], "other.example.com", ("Hostname", "backend.example.com"))
            ),
            "san-uri": _verified("san-uri", good, _policy(ca[0], "other.example.com", ("URI", SPIFFE))),
            "san-wrong": _verified("san-wrong", good, _policy(ca[0], "backend.example.com", ("URI", SPIFFE + "x"))),
            "system": _verified("system", good, _policy("")),  # a private CA is not among the system's
        },
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(2):  # the second request reuses the verified connection
            r = await client.get("/good")
            assert r.status_code == 200 and r.json() == {"sni": "backend.example.com"}
        for path, sni in (("san-dns", "other.example.com"), ("san-uri", "other.example.com")):
            r = await client.get(f"/{path}")
            assert r.status_code == 200 and r.json() == {"sni": sni}, path
        for path in ("wrong-ca", "wrong-name", "san-wrong", "system"):
            r = await client.get(f"/{path}")
            assert r.status_code == 502, path
            assert "TLS certificate refused" in r.text or "CERTIFICATE_VERIFY_FAILED" in r.text, r.text
    refusals = {
        record.getMessage().split(" endpoint ")[0]: record.getMessage()
        for record in caplog.records
        if "TLS certificate refused" in record.getMessage()
    }
    assert "certificate verify failed" in refusals["backend shop/wrong-ca:80 (BackendTLSPolicy shop/app-tls)"]
    assert "Hostname mismatch" in refusals["backend shop/wrong-name:80 (BackendTLSPolicy shop/app-tls)"]
    assert "match none of " + SPIFFE + "x" in refusals["backend shop/san-wrong:80 (BackendTLSPolicy shop/app-tls)"]
    assert "certificate verify failed" in refusals["backend shop/system:80 (BackendTLSPolicy shop/app-tls)"]
    assert not [k for k in refusals if "good" in k or "san-dns" in k or "san-uri" in k]


async def test_https_without_policy_is_verified_unless_the_user_opts_out(proxy, tls_backend) -> None:  # type: ignore[no-untyped-def]
    self_signed_port = await tls_backend(*self_signed("app.shop.svc"))
    default = BackendTLS(hostname="app.shop.svc")  # what translation sets for appProtocol https
    strict = await _serve(proxy, {"app": _verified("app", self_signed_port, default)})
    opted_out = await _serve(
        proxy,
        {
            "app": _verified("app", self_signed_port, default),
            # The opt-out covers backends without a policy only: a policy is still enforced.
            "policy": _verified("policy", self_signed_port, _policy(certificate_authority("x")[0], "app.shop.svc")),
        },
        Limits(insecure_backend_tls=True),
    )
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{strict}/app")).status_code == 502
        assert (await client.get(f"http://127.0.0.1:{opted_out}/app")).status_code == 200
        assert (await client.get(f"http://127.0.0.1:{opted_out}/policy")).status_code == 502


async def test_the_gateway_client_certificate_on_verified_connections(proxy, tls_backend) -> None:  # type: ignore[no-untyped-def]
    """GatewayBackendClientCertificate with BackendTLSPolicy: both sides authenticated."""
    ca = certificate_authority("Portico Test CA")
    client_cert, client_key = self_signed("portico-client.example")
    backend = await tls_backend(*issued(ca, ("backend.example.com",)), client_ca=client_cert)
    upstream = _verified("app", backend, _policy(ca[0]))
    with_cert, without_cert = free_port(), free_port()
    identity = Certificate(secret=ObjectKey(namespace="shop", name="client"), cert_pem=client_cert, key_pem=client_key)
    presenting = gateway(listener(port=with_cert, rules=(rule("r", backends=(upstream,)),)), name="presenting")
    anonymous = gateway(listener(port=without_cert, rules=(rule("r", backends=(upstream,)),)), name="anonymous")
    await proxy([presenting.model_copy(update={"client_certificate": identity}), anonymous])
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            r = await client.get(f"http://127.0.0.1:{with_cert}/")
            assert r.status_code == 200
            assert r.json() == {"sni": "backend.example.com", "client": "portico-client.example"}
        assert (await client.get(f"http://127.0.0.1:{without_cert}/")).status_code == 502


MANIFESTS = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: proxy}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: shop}}
spec:
  gatewayClassName: proxy
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: app, namespace: shop}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /trusted}}}}]
    backendRefs: [{{name: trusted, port: 443}}]
  - matches: [{{path: {{type: PathPrefix, value: /missing-ca}}}}]
    backendRefs: [{{name: missing-ca, port: 443}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: trusted, namespace: shop}}
spec:
  targetRefs: [{{group: "", kind: Service, name: trusted}}]
  validation:
    caCertificateRefs: [{{group: "", kind: ConfigMap, name: ca}}]
    hostname: backend.example.com
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: missing-ca, namespace: shop}}
spec:
  targetRefs: [{{group: "", kind: Service, name: missing-ca}}]
  validation:
    caCertificateRefs: [{{group: "", kind: ConfigMap, name: nowhere}}]
    hostname: backend.example.com
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: ca, namespace: shop}}
data:
  ca.crt: {ca}
"""


def _service(name: str, port: int) -> list[dict[str, object]]:
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"},
         "spec": {"ports": [{"port": 443, "targetPort": port}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": name, "namespace": "shop", "labels": {"kubernetes.io/service-name": name}},
         "endpoints": [{"addresses": ["127.0.0.1"]}], "ports": [{"port": port}]},
    ]  # fmt: skip


async def test_translated_policy_end_to_end(proxy, tls_backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ca = certificate_authority("Portico Test CA")
    backend = await tls_backend(*issued(ca, ("backend.example.com",)))
    port = free_port()
    source = tmp_path / "input.yaml"
    source.write_text(MANIFESTS.format(port=port, ca=json.dumps(ca[0])))
    objects = [m.obj for m in load_manifests([source])] + _service("trusted", backend) + _service("missing-ca", backend)
    result = translate(build_snapshot(objects), {"portico.dev/proxy": PROXY_CAPABILITIES})
    trusted = result.statuses[("BackendTLSPolicy", "shop", "trusted")]["ancestors"][0]
    assert [(c["type"], c["reason"]) for c in trusted["conditions"]] == [
        ("Accepted", "Accepted"),
        ("ResolvedRefs", "ResolvedRefs"),
    ]
    missing = result.statuses[("BackendTLSPolicy", "shop", "missing-ca")]["ancestors"][0]
    assert [(c["type"], c["reason"]) for c in missing["conditions"]] == [
        ("Accepted", "NoValidCACertificate"),
        ("ResolvedRefs", "InvalidCACertificateRef"),
    ]
    await proxy(list(result.ir_by_gateway.values()))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        r = await client.get("/trusted")
        assert r.status_code == 200 and r.json() == {"sni": "backend.example.com"}
        assert (await client.get("/missing-ca")).status_code == 500


async def test_reloads_of_distinct_policies_keep_the_tls_caches_bounded(proxy, tls_backend) -> None:  # type: ignore[no-untyped-def]
    """Each reload brings a policy with another CA bundle and name (a rotated CA, say): the contexts,
    settings and pools the new tables no longer use are dropped, and requests still verify."""
    ca = certificate_authority("Portico Test CA")
    backend = await tls_backend(*issued(ca, ("backend.example.com",)))
    port = free_port()
    runtime = None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for generation in range(12):
            # The same CA plus one more certificate: a distinct bundle, so a distinct SSLContext.
            bundle = ca[0] + certificate_authority(f"Retired CA {generation}")[0]
            policy = _policy(bundle).model_copy(update={"policy": ObjectKey(namespace="shop", name=f"p{generation}")})
            config = [
                gateway(
                    listener(
                        port=port,
                        rules=(rule("app", match=prefix("/"), backends=(_verified("app", backend, policy),)),),
                    )
                )
            ]
            if runtime is None:
                runtime = await proxy(config)
            else:
                await runtime.update(config)
            response = await client.get("/")
            assert response.status_code == 200 and response.json() == {"sni": "backend.example.com"}
            registry = runtime.upstream_tls
            assert (len(registry._contexts), len(registry._settings)) == (1, 1), generation
            assert len(runtime.ctx.pools._h1) == 1, generation
