"""Property: any valid ingress-nginx Ingress set converts without an exception into objects that
`portico status` accepts (every Gateway, listener and route parent Accepted, every backend resolved)."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.api import build_snapshot
from portico.convert import Options, convert
from portico.translate import DEFAULT_CAPABILITIES, translate
from tests.proxy.certs import self_signed

HOSTS = st.sampled_from(["", "a.example.com", "b.example.com", "*.example.com", "www.c.example.com"])
SEGMENT = st.text("abcxyz019-_.~", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))
PLAIN_PATH = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash and parts else ""),
    st.lists(SEGMENT, max_size=3),
    st.booleans(),
)
REGEX_PATH = st.sampled_from(["/x(/|$)(.*)", "/y/(.*)", "/z/[0-9]+", "/(api|v1)/.*", "/w/?(.*)", "/q$"])
SERVICES = st.sampled_from(["svc-a", "svc-b", "svc-c"])

ANNOTATIONS: dict[str, st.SearchStrategy[str]] = {
    "rewrite-target": st.sampled_from(["/", "/$2", "/$1", "/new/$1", "/$2/$1"]),
    "use-regex": st.sampled_from(["true", "false"]),
    "ssl-redirect": st.sampled_from(["true", "false"]),
    "force-ssl-redirect": st.sampled_from(["true", "false"]),
    "permanent-redirect": st.sampled_from(["https://x.example.com/", "http://y.example.com:8080/p?q=1", "nonsense"]),
    "temporal-redirect": st.sampled_from(["https://t.example.com/t"]),
    "app-root": st.sampled_from(["/app", "/index.html"]),
    "upstream-vhost": st.sampled_from(["internal.svc", "backend.example.com"]),
    "x-forwarded-prefix": st.sampled_from(["/prefix"]),
    "enable-cors": st.sampled_from(["true", "false"]),
    "proxy-read-timeout": st.sampled_from(["5", "600", "x"]),
    "backend-protocol": st.sampled_from(["HTTP", "HTTPS", "GRPC", "AUTO_HTTP"]),
    "from-to-www-redirect": st.sampled_from(["true"]),
    "server-alias": st.sampled_from(["alias.example.com", "a.example.com, z.example.com"]),
    "configuration-snippet": st.sampled_from(['more_set_headers "X-A: b";', "proxy_set_header X-B $host;"]),
    "limit-rps": st.sampled_from(["5"]),
    "canary": st.sampled_from(["true"]),
    "canary-by-header": st.sampled_from(["X-Canary", "bad header"]),
    "canary-by-header-value": st.sampled_from(["yes", "always"]),
    "canary-by-header-pattern": st.sampled_from(["^v[0-9]$", "(?=x)"]),
    "canary-by-cookie": st.sampled_from(["canary"]),
    "canary-weight": st.sampled_from(["0", "10", "100", "x"]),
}


@st.composite
def ingress(draw: st.DrawFn, index: int) -> dict[str, Any]:
    annotations = draw(st.dictionaries(st.sampled_from(sorted(ANNOTATIONS)), st.just(""), max_size=5))
    annotations = {f"nginx.ingress.kubernetes.io/{k}": draw(ANNOTATIONS[k]) for k in sorted(annotations)}
    rules = []
    for host in draw(st.lists(HOSTS, min_size=1, max_size=2, unique=True)):
        paths = []
        for _ in range(draw(st.integers(1, 3))):
            path_type = draw(st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"]))
            path = draw(REGEX_PATH if path_type == "ImplementationSpecific" and draw(st.booleans()) else PLAIN_PATH)
            backend = {"service": {"name": draw(SERVICES), "port": {"number": 80}}}
            paths.append({"path": path, "pathType": path_type, "backend": backend})
        rules.append({"host": host, "http": {"paths": paths}} if host else {"http": {"paths": paths}})
    spec: dict[str, Any] = {"ingressClassName": "nginx", "rules": rules}
    named = [r["host"] for r in rules if r.get("host")]
    if named and draw(st.booleans()):
        spec["tls"] = [{"hosts": named, "secretName": "tls"}]
    if draw(st.booleans()):
        spec["defaultBackend"] = {"service": {"name": draw(SERVICES), "port": {"number": 80}}}
    metadata = {"name": f"ing-{index}", "namespace": "default", "creationTimestamp": f"2024-01-0{index + 1}T00:00:00Z"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {**metadata, "annotations": annotations},
        "spec": spec,
    }


@st.composite
def ingress_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [draw(ingress(i)) for i in range(draw(st.integers(1, 3)))]


SERVICE_OBJECTS = [
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": n, "namespace": "default"},
        "spec": {"ports": [{"port": 80}]},
    }
    for n in ("svc-a", "svc-b", "svc-c")
]


_CERT, _KEY = self_signed("*.example.com", "a.example.com", "b.example.com", "www.c.example.com")
TLS_SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "type": "kubernetes.io/tls",
    "metadata": {"name": "tls", "namespace": "default"},
    "data": {"tls.crt": base64.b64encode(_CERT.encode()).decode(), "tls.key": base64.b64encode(_KEY.encode()).decode()},
}
CONTEXT = [*SERVICE_OBJECTS, TLS_SECRET]


def _accepted_everywhere(status: dict[str, Any], where: str) -> None:
    conditions = list(status.get("conditions") or [])
    conditions += [c for listener in status.get("listeners") or [] for c in listener.get("conditions") or []]
    conditions += [c for parent in status.get("parents") or [] for c in parent.get("conditions") or []]
    for condition in conditions:
        if condition["type"] in ("Accepted", "ResolvedRefs", "Programmed"):
            assert condition["status"] == "True", f"{where}: {condition}"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ingress_sets())
def test_any_valid_ingress_set_converts_into_accepted_objects(ingresses: list[dict[str, Any]]) -> None:
    options = Options(
        features=DEFAULT_CAPABILITIES.features, listener_protocols=DEFAULT_CAPABILITIES.listener_protocols
    )
    result = convert([*ingresses, *CONTEXT], options)
    assert len({(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in result.objects}) == len(
        result.objects
    ), "two objects share a kind and name"
    statuses = translate(build_snapshot([*result.objects, *CONTEXT]), now="2026-01-01T00:00:00Z").statuses
    for key, status in statuses.items():
        _accepted_everywhere(status, str(key))
    for ing in ingresses:
        subjects = {f.subject for f in result.findings if f.ingress == f"default/{ing['metadata']['name']}"}
        for annotation in ing["metadata"]["annotations"]:
            assert annotation.removeprefix("nginx.ingress.kubernetes.io/") in subjects, f"{annotation} not reported"
