"""`convert()`: ingress-nginx Ingresses -> Gateway API objects plus a report. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portico.convert import extras
from portico.convert.filters import IngressFilters, ingress_filters
from portico.convert.hosts import Host, collect_hosts, gateway
from portico.convert.model import Ingress, IngressPath, read_inputs
from portico.convert.objects import backend_tls_policy, gateway_class
from portico.convert.paths import NotConvertible, convert_path
from portico.convert.report import Finding, Outcome
from portico.convert.routes import Claim, resolve_backend, sections_for
from portico.convert.selection import select
from portico.convert.state import Options, State

# gRPC paths are /<package.Service>/<Method>, with the Gateway API's name rules for both parts.
_GRPC_SERVICE = re.compile(
    r"^/(?P<service>[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*)/?(?P<method>(?:[A-Za-z_][A-Za-z_0-9]*)?)$"
)
MAX_LISTENERS = 64  # Gateway spec.listeners maxItems
_CONFIG_HANDLED = frozenset({"ssl-redirect", "force-ssl-redirect", "http-redirect-code", "allow-snippet-annotations"})


@dataclass
class Result:
    objects: list[dict[str, Any]]
    findings: list[Finding]
    converted: int = 0  # Ingresses with at least one rule in the output


def _controller_config(state: State) -> None:
    config = state.inputs.controller_config
    state.ssl_redirect_default = config.get("ssl-redirect", "true").lower() == "true"
    state.force_redirect_default = config.get("force-ssl-redirect", "false").lower() == "true"
    state.snippets_allowed = config.get("allow-snippet-annotations", "false").lower() == "true"
    code = config.get("http-redirect-code", "308")
    state.redirect_code = int(code) if code in ("301", "302", "307", "308") else 308
    for key in sorted(set(config) - _CONFIG_HANDLED):
        state.note("", f"ConfigMap {key}", Outcome.NOT_CONVERTIBLE, "a global nginx setting with no Gateway API field")


def _default_certificate(state: State) -> None:
    """Hosts listed in spec.tls without a secretName get ingress-nginx's default certificate, if named."""
    default = state.options.default_certificate
    for host in state.hosts.values():
        if default is not None and host.tls is not None and not host.tls[1]:
            host.tls = default
            state.note(
                host.ingresses[0],
                f"host {host.name}",
                Outcome.EXACT,
                f"spec.tls names no Secret: the "
                f"default certificate {default[0]}/{default[1]}, as ingress-nginx's --default-ssl-certificate",
            )


def _grpc_rule(path: IngressPath, host: Host) -> dict[str, Any] | NotConvertible:
    if path.path == "/" and path.path_type != "Exact":
        return {}
    m = _GRPC_SERVICE.match(path.path)
    if host.regex or m is None or (path.path_type == "Exact") != bool(m["method"]):
        return NotConvertible(f"path {path.path!r} ({path.path_type}) is not a gRPC service or method path")
    method: dict[str, Any] = {"type": "Exact", "service": m["service"]}
    if m["method"]:
        method["method"] = m["method"]
    return {"matches": [{"method": method}]}


def _backend_tls(state: State, ing: Ingress, service: str, protocol: str) -> None:
    name = ing.nginx("proxy-ssl-name") or f"{service}.{ing.namespace}.svc"
    secret = ing.nginx("proxy-ssl-secret")
    ca = secret.rpartition("/")[2] if secret else None
    state.policies[(ing.namespace, service)] = backend_tls_policy(ing.namespace, service, name, ca)
    verify = (ing.nginx("proxy-ssl-verify") or "off").lower() in ("on", "true")
    state.note(
        ing,
        "backend-protocol",
        Outcome.DIFFERENCE,
        f"{protocol}: BackendTLSPolicy for Service {service} (hostname {name}); the Gateway API always verifies the "
        + ("backend certificate" if verify else "backend certificate (ingress-nginx did not: proxy-ssl-verify is off)")
        + "; Portico's proxy reaches a backend over TLS when the Service port's appProtocol is `https`",
    )
    if secret:
        state.note(
            ing,
            "proxy-ssl-secret",
            Outcome.DIFFERENCE,
            f"caCertificateRefs ConfigMap {ca}: copy ca.crt of "
            f"Secret {secret} into a ConfigMap of that name (BackendTLSPolicy reads CA bundles from ConfigMaps)",
        )
    for name_ in ("proxy-ssl-name", "proxy-ssl-server-name", "proxy-ssl-verify"):
        if ing.nginx(name_) is not None:
            state.note(ing, name_, Outcome.EXACT, "BackendTLSPolicy validation (SNI and verified name)")


def _http_rule(
    state: State, ing: Ingress, host: Host, path: IngressPath, filters: IngressFilters, backend: dict[str, Any]
) -> dict[str, Any] | None:
    result = convert_path(path.path, path.path_type, regex_host=host.regex, rewrite_target=ing.nginx("rewrite-target"))
    if isinstance(result, NotConvertible):
        subject = "rewrite-target" if ing.nginx("rewrite-target") else path.where
        state.note(ing, subject, Outcome.NOT_CONVERTIBLE, f"{path.where} left out: {result.reason}")
        return None
    rule: dict[str, Any] = {"matches": list(result.matches), "_nginx_path": path.path}
    if not host.regex and path.path_type == "Prefix" and path.path != "/" and not path.path.endswith("/"):
        # nginx serves it as `location /p/` plus `location = /p`: the exact half outranks plain prefixes.
        rule["_nginx_path"], rule["_exact_too"] = path.path + "/", path.path
    if filter_list := filters.as_filters(result.rewrite):
        rule["filters"] = filter_list
    if filters.redirect is None:
        rule["backendRefs"] = [backend]
    if filters.timeouts:
        rule["timeouts"] = dict(filters.timeouts)
    for outcome, message in result.notes:
        state.note(ing, path.where, outcome, message)
    if result.rewrite is not None:
        state.note(ing, "rewrite-target", Outcome.EXACT, f"{path.where}: URLRewrite {result.rewrite['type']}")
    if result.bare_redirect and not any(p.path == result.bare_redirect for p in _host_paths(state, host.name)):
        redirect = {"type": "ReplaceFullPath", "replaceFullPath": path.path}
        rule["_bare"] = {
            "matches": [{"path": {"type": "Exact", "value": result.bare_redirect}}],
            "filters": [{"type": "RequestRedirect", "requestRedirect": {"path": redirect, "statusCode": 301}}],
        }
    return rule


def _host_paths(state: State, host: str) -> list[IngressPath]:
    serving = set(state.hosts[host].ingresses)
    return [
        p for ing in state.inputs.ingresses if ing.key in serving for r in ing.rules if r.host == host for p in r.paths
    ]


def _add_rule(state: State, ing: Ingress, draft_rules: list[dict[str, Any]], rule: dict[str, Any]) -> None:
    bare = rule.pop("_bare", None)
    draft_rules.append(rule)
    if bare is not None:
        draft_rules.append(bare)
        state.note(
            ing,
            "path",
            Outcome.EXACT,
            f"{bare['matches'][0]['path']['value']}: 301 to the path with a slash, "
            "as nginx answers for a prefix location ending in /",
        )


def _convert_main(state: State, ing: Ingress) -> None:
    filters = ingress_filters(ing, state.inputs, state.options.features, state.snippets_allowed)
    state.findings.extend(filters.findings)
    protocol = (ing.nginx("backend-protocol") or "HTTP").upper()
    if protocol == "FCGI":
        state.note(ing, "backend-protocol", Outcome.NOT_CONVERTIBLE, "FastCGI backends are not in the Gateway API")
        return
    kind = "GRPCRoute" if protocol in ("GRPC", "GRPCS") else "HTTPRoute"
    for rule in ing.rules:
        host = state.hosts[rule.host]
        redirect = state.redirects(ing, host)
        draft = state.routes.route(kind, ing, host, sections_for(host, redirect))
        for path in rule.paths:
            claim_key = (rule.host, path.path, path.path_type)
            if (owner := state.routes.claims.get(claim_key)) is not None:
                state.note(
                    ing,
                    path.where,
                    Outcome.IGNORED,
                    f"host {rule.host or '*'} path {path.path} "
                    f"({path.path_type}) is already served by the older Ingress {owner.ingress}, as in ingress-nginx",
                )
                continue
            backend, problem = resolve_backend(ing, path.backend, state.inputs)
            if backend is None:
                state.note(ing, path.where, Outcome.NOT_CONVERTIBLE, f"left out: {problem}")
                continue
            if kind == "GRPCRoute":
                grpc = _grpc_rule(path, host)
                if isinstance(grpc, NotConvertible):
                    state.note(ing, path.where, Outcome.NOT_CONVERTIBLE, f"left out: {grpc.reason}")
                    continue
                built: dict[str, Any] | None = {**grpc, "backendRefs": [backend]}
            else:
                built = _http_rule(state, ing, host, path, filters, backend)
            if built is None:
                continue
            if problem:
                state.note(ing, path.where, Outcome.DIFFERENCE, problem)
            _add_rule(state, ing, draft.rules, built)
            state.routes.claims[claim_key] = Claim(ing.key, draft, built)
            if protocol in ("HTTPS", "GRPCS"):
                _backend_tls(state, ing, backend["name"], protocol)
        if (target := ing.nginx("app-root")) is not None and draft.rules:
            redirect_to = {"path": {"type": "ReplaceFullPath", "replaceFullPath": target}, "statusCode": 302}
            root = {"path": {"type": "Exact", "value": "/"}}
            if not any(r.get("matches") == [root] for r in draft.rules):
                draft.rules.insert(
                    0, {"matches": [root], "filters": [{"type": "RequestRedirect", "requestRedirect": redirect_to}]}
                )
        if redirect and not host.https_listeners:
            state.note(
                ing,
                "ssl-redirect",
                Outcome.NOT_CONVERTIBLE,
                f"host {rule.host or '*'} has no certificate on the "
                "Gateway (no tls secretName): served on HTTP without the redirect; add a Secret to spec.tls or "
                "pass --default-certificate",
            )
    if (target := ing.nginx("app-root")) is not None:
        state.note(
            ing,
            "app-root",
            Outcome.DIFFERENCE,
            f"Exact / answers 302 to {target}; the query string is kept (nginx `return` drops it)",
        )
    if kind == "GRPCRoute":
        state.note(ing, "backend-protocol", Outcome.EXACT, f"{protocol}: GRPCRoute (paths become service matches)")
    elif protocol not in ("HTTPS",) and ing.nginx("backend-protocol") is not None:
        state.note(ing, "backend-protocol", Outcome.EXACT, f"{protocol}: plain HTTP to the backend")


def _clean(node: Any) -> Any:
    """Drop the converter's private bookkeeping keys (`_canary`, `_bare`) from the output."""
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if not k.startswith("_")}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def convert(objects: Iterable[Mapping[str, Any]], options: Options | None = None) -> Result:
    """Gateway API objects that route like ingress-nginx did, and a finding per difference."""
    options = options or Options()
    inputs = read_inputs(objects)
    selected, selection_findings = select(inputs, options.ingress_classes)
    mains = [i for i in selected if not i.is_canary]
    canaries = [i for i in selected if i.is_canary]
    state = State(inputs, options, collect_hosts(mains))
    _default_certificate(state)
    state.findings.extend(selection_findings)
    _controller_config(state)
    for ing in selected:
        for problem in ing.problems:
            state.note(ing, problem.split(":")[0], Outcome.NOT_CONVERTIBLE, problem)
    for ing in mains:
        _convert_main(state, ing)
    for canary in canaries:
        extras.merge_canary(state, canary)
    extras.default_backends(state, mains)
    extras.fix_precedence(state)
    tls_routes = extras.passthrough(state, mains)
    extras.https_redirects(state, mains)
    extras.www_redirects(state, mains)
    extras.host_notes(state)
    for ing in selected:
        extras.leftover_annotations(state, ing, ing.is_canary)
    routes = state.routes.objects(options.gateway, options.gateway_namespace)
    if not routes and not tls_routes:
        return Result([], state.findings, 0)
    hosts = [h for h in state.hosts.values() if h.name]
    gw, grants = gateway(
        options.gateway, options.gateway_namespace, options.gateway_class, hosts, "TLS" in options.listener_protocols
    )
    if (count := len(gw["spec"]["listeners"])) > MAX_LISTENERS:
        state.note(
            "",
            "Gateway",
            Outcome.NOT_CONVERTIBLE,
            f"{count} listeners, the Gateway API allows "
            f"{MAX_LISTENERS}: convert the hosts in groups, each with its own --gateway",
        )
    policies = [p for _, p in sorted(state.policies.items())]
    out = [gateway_class(options.gateway_class, options.controller), gw, *grants, *routes, *tls_routes, *policies]
    sources = {r["metadata"]["annotations"]["portico.dev/converted-from"] for r in [*routes, *tls_routes]}
    return Result(_clean(out), state.findings, len(sources))
