"""Differential properties: for literal paths, on a host with or without regex mode, the request reaches the same
backend through the converted routes (Portico's translation and the proxy's own rule matching) as through
ingress-nginx's nginx locations, or the report names the reordering.

The reference model is nginx's location choice as ingress-nginx configures it: Exact is `location = p`;
Prefix `p` is `location p/` plus `location = p` (no extra exact when an Exact p exists); ImplementationSpecific
`p` is `location p`; an exact match wins, else the longest prefix; a prefix location ending in `/` answers the
same path without the slash with a 301 unless a location of that very path exists; nothing else is a 404.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portico.api import build_snapshot
from portico.convert import Outcome, convert
from portico.ir import RequestRedirectFilter
from portico.translate import translate
from portico_proxy.rules import CompiledRule, HeaderMap

HOST = "h.example.com"
SEGMENTS = st.sampled_from(["a", "ab", "b"])
PATHS = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash and parts else ""),
    st.lists(SEGMENTS, max_size=3),
    st.booleans(),
)
TYPES = st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"])


def location(path: str, kind: str) -> str:
    return path + "/" if kind == "Prefix" and not path.endswith("/") else path


def nginx_choice(paths: list[tuple[str, str, str]], uri: str) -> tuple[str, str]:
    exact: dict[str, str] = {}
    prefix: dict[str, str] = {}
    unique: dict[tuple[str, str], str] = {}
    for path, kind, backend in paths:
        unique.setdefault((path, kind), backend)  # the same path and type twice: the first one wins
    for (path, kind), backend in unique.items():
        if kind == "Exact":
            exact.setdefault(path, backend)
    for (path, kind), backend in unique.items():
        if kind == "Prefix" and path != "/":
            prefix.setdefault(location(path, kind), backend)
            exact.setdefault(path, backend)  # only where no Exact path claims it
        elif kind != "Exact":
            prefix.setdefault(path, backend)
    if uri in exact:
        return ("backend", exact[uri])
    if uri + "/" in prefix and uri not in prefix:
        return ("redirect", uri + "/")
    matching = [p for p in prefix if uri.startswith(p)]
    return ("backend", prefix[max(matching, key=len)]) if matching else ("none", "")


def portico_choice(objects: list[dict[str, Any]], uri: str) -> tuple[str, str]:
    result = translate(build_snapshot(objects), now="2026-01-01T00:00:00Z")
    (ir,) = result.ir_by_gateway.values()
    listener = next(listener for listener in ir.listeners if listener.name == "http")
    for rule in listener.rules:
        if CompiledRule(rule).matches(b"GET", uri.encode(), b"", HeaderMap([]), False):
            redirect = next((f for f in rule.filters if isinstance(f, RequestRedirectFilter)), None)
            if redirect is not None and redirect.path is not None:
                return ("redirect", redirect.path.value)
            return ("backend", rule.backends[0].name)
    return ("none", "")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PATHS, TYPES), min_size=1, max_size=6), st.lists(PATHS, min_size=1, max_size=4))
def test_literal_paths_reach_the_same_backend(declared: list[tuple[str, str]], requests: list[str]) -> None:
    # Two paths that become the same nginx prefix location (Prefix /p and /p/, ImplementationSpecific /p/)
    # are a duplicate `location`, which nginx refuses: ingress-nginx has no routing to compare with there.
    locations = [location(p, t) for p, t in dict.fromkeys(declared) if t != "Exact"]
    assume(len(locations) == len(set(locations)))
    paths = [(path, kind, f"svc-{i}") for i, (path, kind) in enumerate(declared)]
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "site", "namespace": "default"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": HOST,
                    "http": {
                        "paths": [
                            {"path": p, "pathType": t, "backend": {"service": {"name": b, "port": {"number": 80}}}}
                            for p, t, b in paths
                        ]
                    },
                }
            ],
        },
    }
    converted = convert([ingress])
    reordered = any(f.outcome is Outcome.DIFFERENCE and "is tried before" in f.message for f in converted.findings)
    probes = (
        requests + [p for p, _, _ in paths] + [p.rstrip("/") + suffix for p, _, _ in paths for suffix in ("x", "/x")]
    )
    for uri in dict.fromkeys(u for u in probes if u.startswith("/")):
        expected, got = nginx_choice(paths, uri), portico_choice(converted.objects, uri)
        assert expected == got or reordered, f"{uri}: ingress-nginx {expected}, Portico {got}"


def nginx_regex_choice(paths: list[tuple[str, str, str]], uri: str) -> tuple[str, str]:
    """Regex mode (use-regex on the Ingress): every location is `~* "^<path>"`, longest path first, equal
    lengths by path in reverse order (ingress-nginx sorts by path, then stably by length)."""
    unique: dict[tuple[str, str], str] = {}
    for path, kind, backend in paths:
        unique.setdefault((path, kind), backend)
    locations = sorted(unique.items(), key=lambda item: item[0][0], reverse=True)
    locations.sort(key=lambda item: len(item[0][0]), reverse=True)
    for (path, _), backend in locations:
        if uri.lower().startswith(path.lower()):
            return ("backend", backend)
    return ("none", "")


CASED_PATHS = st.builds(lambda path, upper: path.upper() if upper else path, PATHS, st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PATHS, TYPES), min_size=1, max_size=6), st.lists(CASED_PATHS, min_size=1, max_size=4))
def test_regex_mode_paths_reach_the_same_backend(declared: list[tuple[str, str]], requests: list[str]) -> None:
    paths = [(path, kind, f"svc-{i}") for i, (path, kind) in enumerate(declared)]
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "site",
            "namespace": "default",
            "annotations": {"nginx.ingress.kubernetes.io/use-regex": "true"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": HOST,
                    "http": {
                        "paths": [
                            {"path": p, "pathType": t, "backend": {"service": {"name": b, "port": {"number": 80}}}}
                            for p, t, b in paths
                        ]
                    },
                }
            ],
        },
    }
    converted = convert([ingress])
    probes = requests + [p for p, _, _ in paths] + [p.upper() + "x" for p, _, _ in paths]
    for uri in dict.fromkeys(u for u in probes if u.startswith("/")):
        expected, got = nginx_regex_choice(paths, uri), portico_choice(converted.objects, uri)
        assert expected == got, f"{uri}: ingress-nginx {expected}, Portico {got}"
