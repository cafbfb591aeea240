"""What ingress-nginx decides per host (its nginx `server`), and the Gateway that serves them.

Per host, from the Ingresses in creationTimestamp order (controller `createServers`):
- regex mode when any Ingress of the host sets `use-regex` or `rewrite-target` (`enforceRegex`);
- the certificate of the first Ingress with a rule for the host and a `tls` entry covering it;
- the `server-alias` of the first Ingress that sets one (aliases that are hosts of their own
  are dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.convert.model import Ingress
from portico.convert.objects import GATEWAY_API, meta, reference_grant, slug

HTTP_LISTENER = "http"


@dataclass
class Host:
    name: str
    regex: bool = False
    tls: tuple[str, str] | None = None  # (namespace, secret name); secret "" = ingress-nginx's default cert
    aliases: tuple[str, ...] = ()
    alias_from: str = ""
    passthrough: Any = None  # the TLSRoute backend when ssl-passthrough applies
    ingresses: list[str] = field(default_factory=list)

    @property
    def https_listeners(self) -> list[str]:
        if self.tls is None or not self.tls[1]:
            return []
        return [https_listener(h) for h in (self.name, *self.aliases)]


def https_listener(host: str) -> str:
    return f"https-{slug(host)}"


def covers(tls_host: str, host: str) -> bool:
    if tls_host == host:
        return True
    # A wildcard certificate name covers exactly one more label.
    return tls_host.startswith("*.") and host.count(".") == tls_host.count(".") and host.endswith(tls_host[1:])


def collect_hosts(ingresses: Sequence[Ingress]) -> dict[str, Host]:
    hosts: dict[str, Host] = {}
    for ing in ingresses:
        regex = ing.flag("use-regex") or bool(ing.nginx("rewrite-target"))
        aliases = tuple(a.strip().lower() for a in (ing.nginx("server-alias") or "").split(",") if a.strip())
        for rule in ing.rules:
            host = hosts.setdefault(rule.host, Host(rule.host))
            host.regex = host.regex or regex
            if ing.key not in host.ingresses:
                host.ingresses.append(ing.key)
            if aliases and not host.aliases and rule.host:
                host.aliases, host.alias_from = aliases, ing.key
            if host.tls is None and rule.host:
                for tls in ing.tls:
                    if any(covers(h, rule.host) for h in tls.hosts):
                        host.tls = (ing.namespace, tls.secret_name)
                        break
    taken: set[str] = set()  # nginx serves a name from the first server that declares it
    for host in hosts.values():
        host.aliases = tuple(a for a in dict.fromkeys(host.aliases) if a not in hosts and a not in taken)
        taken.update(host.aliases)
    return hosts


def gateway(
    name: str, namespace: str, class_name: str, hosts: Sequence[Host], tls_protocol: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Gateway (HTTP on 80 for every host, HTTPS on 443 per TLS host) and its ReferenceGrants."""
    listeners: list[dict[str, Any]] = [
        {"name": HTTP_LISTENER, "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
    ]
    grants: dict[str, list[str]] = {}
    for host in sorted(hosts, key=lambda h: h.name):
        if host.tls is not None and host.tls[1]:
            secret_ns, secret = host.tls
            ref: dict[str, Any] = {"kind": "Secret", "name": secret}
            if secret_ns != namespace:
                ref["namespace"] = secret_ns
                grants.setdefault(secret_ns, []).append(secret)
            for hostname in (host.name, *host.aliases):
                listeners.append(
                    {
                        "name": https_listener(hostname),
                        "hostname": hostname,
                        "port": 443,
                        "protocol": "HTTPS",
                        "tls": {"mode": "Terminate", "certificateRefs": [ref]},
                        "allowedRoutes": {"namespaces": {"from": "All"}},
                    }
                )
        if host.passthrough is not None and tls_protocol:
            listeners.append(
                {
                    "name": f"tls-{slug(host.name)}",
                    "hostname": host.name,
                    "port": 443,
                    "protocol": "TLS",
                    "tls": {"mode": "Passthrough"},
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            )
    obj = {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": meta(name, namespace),
        "spec": {"gatewayClassName": class_name, "listeners": listeners},
    }
    return obj, [reference_grant(ns, namespace, secrets) for ns, secrets in sorted(grants.items())]
