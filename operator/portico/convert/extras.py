"""What is added once every main Ingress is converted: canaries, default backends, the HTTP->HTTPS
and www redirects, TLS passthrough, and the report lines for annotations nothing converted."""

from __future__ import annotations

import re
from typing import Any

from portico.convert import annotations as ann
from portico.convert.canary import canary_rules
from portico.convert.filters import code_note, fit_redirect
from portico.convert.hosts import HTTP_LISTENER, Host
from portico.convert.model import Ingress
from portico.convert.objects import GATEWAY_API, meta, object_name, slug
from portico.convert.paths import NotConvertible, convert_path
from portico.convert.report import Outcome
from portico.convert.routes import Claim, redirect_rules, resolve_backend, sections_for
from portico.convert.state import State

_CONVERTED_NOTE = {
    "canary": "its rules joined the main Ingress's rules for the same host and path",
    "use-regex": "the paths of its hosts are case-insensitive regexes anchored at the start",
    "ssl-redirect": "no redirect to HTTPS (routes served on HTTP and HTTPS)",
    "force-ssl-redirect": "no forced redirect",
    "ssl-passthrough": "off",
    "enable-cors": "off",
}


def merge_canary(state: State, canary: Ingress) -> None:
    """ingress-nginx merges a canary into the backend of the same host, path and path type."""
    for rule in canary.rules:
        for path in rule.paths:
            claim = state.routes.claims.get((rule.host, path.path, path.path_type))
            subject = f"host {rule.host or '*'} path {path.path} ({path.path_type})"
            if claim is None:
                state.note(
                    canary,
                    path.where,
                    Outcome.IGNORED,
                    f"{subject}: no main Ingress serves it, so ingress-nginx serves nothing from this canary either",
                )
                continue
            if claim.rule.get("_canary"):
                state.note(
                    canary, path.where, Outcome.IGNORED, f"{subject} already has the canary {claim.rule['_canary']}"
                )
                continue
            backend, problem = resolve_backend(canary, path.backend, state.inputs)
            if backend is None:
                state.note(canary, path.where, Outcome.NOT_CONVERTIBLE, f"left out: {problem}")
                continue
            if (
                backend["name"] != claim.rule.get("backendRefs", [{}])[0].get("name")
                and canary.namespace != claim.route.namespace
            ):
                state.note(
                    canary,
                    path.where,
                    Outcome.NOT_CONVERTIBLE,
                    "the canary is in another namespace than the main Ingress",
                )
                continue
            before, weighted, findings = canary_rules(canary, claim.rule, backend, subject)
            state.findings.extend(findings)
            rules = claim.route.rules
            index = next(i for i, r in enumerate(rules) if r is claim.rule)
            weighted["_canary"] = canary.key
            rules[index : index + 1] = [*before, weighted]
            claim.rule = weighted


def default_backends(state: State, ingresses: list[Ingress]) -> None:
    """`spec.defaultBackend`: with rules, the fallback of that Ingress's hosts; without, the catch-all."""
    for ing in ingresses:
        if ing.default_backend is None:
            continue
        backend, problem = resolve_backend(ing, ing.default_backend, state.inputs)
        if backend is None:
            state.note(ing, "spec.defaultBackend", Outcome.NOT_CONVERTIBLE, f"left out: {problem}")
            continue
        hosts = sorted({r.host for r in ing.rules}) if ing.rules else [""]
        for name in hosts:
            host = state.hosts.setdefault(name, Host(name))
            if ing.key not in host.ingresses:
                host.ingresses.append(ing.key)
            # The first (oldest) Ingress naming a host creates its nginx server, and with it the root fallback.
            if host.ingresses and host.ingresses[0] != ing.key:
                state.note(
                    ing,
                    "spec.defaultBackend",
                    Outcome.IGNORED,
                    f"host {name or '*'} belongs to the older "
                    f"Ingress {host.ingresses[0]}, whose default backend ingress-nginx uses there",
                )
                continue
            claimed = any(state.routes.claims.get((name, "/", t)) for t in ("Prefix", "ImplementationSpecific"))
            if claimed:
                state.note(ing, "spec.defaultBackend", Outcome.IGNORED, f"host {name or '*'} has a / path already")
                continue
            result = convert_path("/", "Prefix", regex_host=host.regex, rewrite_target=None)
            assert not isinstance(result, NotConvertible)
            draft = state.routes.route("HTTPRoute", ing, host, sections_for(host, False), "default")
            draft.rules.append({"matches": list(result.matches), "backendRefs": [backend]})
            state.routes.claims[(name, "/", "Prefix")] = Claim(ing.key, draft, draft.rules[-1])
            how = "the catch-all for every host no Ingress names" if not ing.rules else f"the fallback of host {name}"
            message = f"{how} (PathPrefix /)"
            if problem:
                message += f"; {problem}"
            state.note(ing, "spec.defaultBackend", Outcome.DIFFERENCE if problem else Outcome.EXACT, message)


def https_redirects(state: State, mains: list[Ingress]) -> None:
    """ingress-nginx answers HTTP with a redirect to HTTPS on hosts with TLS (ssl-redirect)."""
    for ing in mains:
        for rule in ing.rules:
            host = state.hosts[rule.host]
            if not state.redirects(ing, host) or not host.https_listeners:
                continue
            main = state.routes.drafts.get(("HTTPRoute", ing.namespace, object_name(ing.name, slug(host.name))))
            main = main or state.routes.drafts.get(("GRPCRoute", ing.namespace, object_name(ing.name, slug(host.name))))
            if main is None or not main.rules:
                continue
            draft = state.routes.route("HTTPRoute", ing, host, [HTTP_LISTENER], "https-redirect")
            if draft.rules:
                continue
            code = fit_redirect(state.redirect_code, state.options.features)
            draft.rules = redirect_rules(main.rules, code)
            subject = (
                "force-ssl-redirect" if ing.flag("force-ssl-redirect", state.force_redirect_default) else "ssl-redirect"
            )
            state.note(
                ing,
                subject,
                Outcome.EXACT if code == state.redirect_code else Outcome.DIFFERENCE,
                f"host {host.name}: HTTP answers {code} to https{code_note(state.redirect_code, code)}",
            )
            if not ing.flag("preserve-trailing-slash"):
                state.note(
                    ing,
                    "preserve-trailing-slash",
                    Outcome.DIFFERENCE,
                    "the HTTPS redirect keeps a trailing "
                    "slash (ingress-nginx drops it unless preserve-trailing-slash is true)",
                )
            else:
                state.note(ing, "preserve-trailing-slash", Outcome.EXACT, "the HTTPS redirect keeps the trailing slash")


def www_redirects(state: State, mains: list[Ingress]) -> None:
    for ing in mains:
        if not ing.flag("from-to-www-redirect"):
            continue
        for rule in ing.rules:
            if not rule.host or rule.host.startswith("*"):
                continue
            other = rule.host.removeprefix("www.") if rule.host.startswith("www.") else f"www.{rule.host}"
            if other in state.hosts:
                state.note(
                    ing, "from-to-www-redirect", Outcome.IGNORED, f"{other} is a host of its own, as in ingress-nginx"
                )
                continue
            source = Host(other, tls=state.hosts[rule.host].tls if other in _tls_names(ing) else None)
            draft = state.routes.route("HTTPRoute", ing, source, [HTTP_LISTENER], "www-redirect")
            draft.hostnames = [other]
            code = fit_redirect(308, state.options.features)
            redirect = {"hostname": rule.host, "statusCode": code}
            draft.rules = [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "filters": [{"type": "RequestRedirect", "requestRedirect": redirect}],
                }
            ]
            state.note(
                ing,
                "from-to-www-redirect",
                Outcome.EXACT if source.tls is None and code == 308 else Outcome.DIFFERENCE,
                f"{other} answers {code} to {rule.host}{code_note(308, code)}"
                + (
                    ""
                    if source.tls is None
                    else f" on HTTP only (add an HTTPS listener for {other} to redirect HTTPS too)"
                ),
            )


def _tls_names(ing: Ingress) -> set[str]:
    return {h for t in ing.tls for h in t.hosts}


def passthrough(state: State, mains: list[Ingress]) -> list[dict[str, Any]]:
    """ssl-passthrough: a TLSRoute per host to the backend of its / path (the only one ingress-nginx uses)."""
    out: list[dict[str, Any]] = []
    for ing in mains:
        if not ing.flag("ssl-passthrough"):
            continue
        if "TLS" not in state.options.listener_protocols:
            state.note(
                ing,
                "ssl-passthrough",
                Outcome.TARGET,
                "the target provider has no TLS listeners: TLSRoute "
                "passthrough cannot be served there (Portico's proxy provider can)",
            )
            continue
        mixed = "TLSRouteModeMixed" in state.options.features
        if not mixed and any(host.https_listeners for host in state.hosts.values()):
            # HTTPS keeps 443; a TLS Passthrough listener next to it needs a target that reads the
            # SNI before terminating (TLSRouteModeMixed), else both would be ProtocolConflict.
            state.note(
                ing,
                "ssl-passthrough",
                Outcome.TARGET,
                "the Gateway serves HTTPS on 443, and the target provider cannot share a port between HTTPS and "
                "TLS passthrough listeners (TLSRouteModeMixed): convert the ssl-passthrough Ingresses with a "
                "--gateway of their own",
            )
            continue
        for rule in ing.rules:
            root = next((p for p in rule.paths if p.path == "/"), None)
            backend = resolve_backend(ing, root.backend, state.inputs)[0] if root else None
            if backend is None or not rule.host:
                state.note(
                    ing,
                    "ssl-passthrough",
                    Outcome.NOT_CONVERTIBLE,
                    f"host {rule.host or '*'}: needs a host and a / path",
                )
                continue
            if state.hosts[rule.host].https_listeners:
                # ingress-nginx passes this host's TLS through and never uses its certificate; on the
                # Gateway, an HTTPS and a TLS listener with one hostname would be HostnameConflict.
                state.note(
                    ing,
                    "ssl-passthrough",
                    Outcome.NOT_CONVERTIBLE,
                    f"host {rule.host} also has a certificate (spec.tls), so it has an HTTPS listener on 443: "
                    "remove its tls entry to pass its TLS through",
                )
                continue
            state.hosts[rule.host].passthrough = backend
            parent = {
                "name": state.options.gateway,
                "namespace": state.options.gateway_namespace,
                "sectionName": f"tls-{slug(rule.host)}",
            }
            out.append(
                {
                    "apiVersion": GATEWAY_API,
                    "kind": "TLSRoute",
                    "metadata": meta(object_name(ing.name, slug(rule.host)), ing.namespace, ing.key),
                    "spec": {"parentRefs": [parent], "hostnames": [rule.host], "rules": [{"backendRefs": [backend]}]},
                }
            )
            state.note(ing, "ssl-passthrough", Outcome.EXACT, f"TLSRoute for {rule.host} on a Passthrough listener")
    return out


def host_notes(state: State) -> None:
    named = [h for h in state.hosts if h]
    for host in state.hosts.values():
        owner = host.ingresses[0] if host.ingresses else ""
        if host.name.startswith("*."):
            state.note(
                owner,
                f"host {host.name}",
                Outcome.DIFFERENCE,
                "a Gateway API wildcard covers any number of "
                "labels (a.b.example.com too); ingress-nginx's covers exactly one",
            )
        if not host.name and named:
            state.note(
                owner,
                "host *",
                Outcome.DIFFERENCE,
                "rules without a host now also serve unmatched paths of the "
                "named hosts (ingress-nginx answers those from its default backend, 404)",
            )
        if host.aliases:
            state.note(
                host.alias_from,
                "server-alias",
                Outcome.EXACT,
                f"{', '.join(host.aliases)} added to the hostnames of every route of {host.name}",
            )
        if host.regex:
            state.note(
                owner,
                f"host {host.name or '*'}",
                Outcome.EXACT,
                "use-regex/rewrite-target on an Ingress of this "
                "host: every path of the host is a case-insensitive regex anchored at the start, longest first",
            )
        if host.tls is not None and host.tls[1] and (host.tls[0], host.tls[1]) not in state.inputs.secrets:
            state.note(
                owner,
                f"host {host.name}",
                Outcome.DIFFERENCE,
                f"Secret {host.tls[0]}/{host.tls[1]} is not in "
                "the input: the HTTPS listener is not programmed until it exists (ingress-nginx served its "
                "default certificate)",
            )


def leftover_annotations(state: State, ing: Ingress, canary: bool) -> None:
    reported = {f.subject for f in state.findings if f.ingress == ing.key}
    for name in ing.nginx_annotations:
        if canary and name not in ann.CANARY_OWN:
            state.note(
                ing, name, Outcome.IGNORED, "ingress-nginx ignores it on a canary Ingress (the main one's applies)"
            )
        elif name in ann.NOT_CONVERTED:
            if name in ann.SNIPPETS and not state.snippets_allowed:
                state.note(
                    ing, name, Outcome.IGNORED, "snippets are off in the controller, so ingress-nginx drops it too"
                )
            else:
                state.note(ing, name, Outcome.NOT_CONVERTIBLE, ann.NOT_CONVERTED[name])
        elif name not in ann.CONVERTED:
            state.note(ing, name, Outcome.IGNORED, "not an ingress-nginx annotation: ingress-nginx ignores it too")
        elif name not in reported:
            state.note(
                ing, name, Outcome.EXACT, _CONVERTED_NOTE.get(name, f"{ing.nginx(name)!r}: same behaviour as set")
            )


def _probes(prefix: str) -> list[str]:
    return [prefix, prefix.rstrip("/") + "/x"]


def fix_precedence(state: State) -> None:
    """ingress-nginx tries exact locations, then the longest path (regex mode) or the longest prefix; the
    Gateway API tries Exact, then every RegularExpression before every PathPrefix. Give a Prefix path its
    exact half where a regex would take it, and report the reorderings that remain."""
    by_host: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
    for draft in state.routes.drafts.values():
        for rule in draft.rules:
            if "_nginx_path" in rule:
                by_host.setdefault(tuple(draft.hostnames), []).append((draft.source, rule))
    for rules in by_host.values():
        patterns = [
            re.compile(m["path"]["value"])
            for _, r in rules
            for m in r["matches"]
            if m.get("path", {}).get("type") == "RegularExpression"
        ]
        for _, rule in rules:
            exact = rule.get("_exact_too")
            if exact and any(p.fullmatch(exact) for p in patterns):
                rule["matches"] = [
                    *({**m, "path": {"type": "Exact", "value": exact}} for m in rule["matches"]),
                    *rule["matches"],
                ]
    for rules in by_host.values():
        for source, rule in rules:
            match = rule["matches"][0].get("path", {})
            if match.get("type") != "RegularExpression":
                continue
            pattern = re.compile(match["value"])
            for _, other in rules:
                other_match = other["matches"][-1].get("path", {})  # the exact half, if any, comes first
                longer = len(other["_nginx_path"]) > len(rule["_nginx_path"])
                if (
                    other_match.get("type") == "PathPrefix"
                    and longer
                    and any(pattern.fullmatch(p) for p in _probes(other_match["value"]))
                ):
                    state.note(
                        source,
                        f"path {rule['_nginx_path']}",
                        Outcome.DIFFERENCE,
                        f"its regex is tried "
                        f"before PathPrefix {other_match['value']} (ingress-nginx tries the longer "
                        f"{other['_nginx_path']} first): requests under {other_match['value']} reach "
                        "this rule's backend now",
                    )
