"""Names that must not collide, and the Gateway API's limit of 64 listeners per Gateway."""

from __future__ import annotations

from typing import Any

from portico.convert import Outcome, convert


def _ingress(name: str, hosts: list[str]) -> dict[str, Any]:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": hosts, "secretName": "tls"}],
            "rules": [
                {"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}} for h in hosts
            ],
        },
    }


def test_hosts_that_differ_by_dot_or_dash_get_distinct_names() -> None:
    result = convert([_ingress("web", ["a-b.example.com", "a.b.example.com"])])
    gateway = next(o for o in result.objects if o["kind"] == "Gateway")
    names = [listener["name"] for listener in gateway["spec"]["listeners"]]
    assert len(names) == len(set(names)) == 3
    routes = [o["metadata"]["name"] for o in result.objects if o["kind"] == "HTTPRoute"]
    assert len(routes) == len(set(routes)) == 4  # two hosts, each with its HTTPS redirect route


def test_more_than_64_listeners_is_reported() -> None:
    hosts = [f"h{i}.example.com" for i in range(64)]
    result = convert([_ingress("many", hosts)])
    limit = [f for f in result.findings if f.subject == "Gateway"]
    assert [(f.outcome, f.message.split(",")[0]) for f in limit] == [(Outcome.NOT_CONVERTIBLE, "65 listeners")]
    assert not [f for f in convert([_ingress("few", hosts[:63])]).findings if f.subject == "Gateway"]
