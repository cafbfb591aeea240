"""Per-Ingress annotations that become HTTPRoute filters and timeouts (the same for every path)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from portico.convert.model import Ingress, Inputs
from portico.convert.report import Finding, Outcome

# ingress-nginx's CORS defaults (docs: annotations, "Enable CORS").
CORS_DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
CORS_DEFAULT_HEADERS = (
    "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
)
CORS_DEFAULT_MAX_AGE = 1728000
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,256}$")
_SNIPPET_HEADER = re.compile(
    r"""^(?P<directive>more_set_headers|add_header|proxy_set_header)\s+"""
    r"""(?:"(?P<q1>[^"]*)"|'(?P<q2>[^']*)'|(?P<bare>\S+))(?:\s+(?P<rest>.*?))?\s*;\s*$"""
)
_REDIRECT_CODES = {
    "permanent-redirect": (301, "permanent-redirect-code"),
    "temporal-redirect": (302, "temporal-redirect-code"),
}
_GATEWAY_REDIRECT_CODES = (301, 302, 303, 307, 308)


def fit_redirect(code: int, features: frozenset[str]) -> int:
    """The redirect code the target can send: 303/307/308 are Extended features; without them the
    nearest core code (301 for permanent, 302 for temporary)."""
    if code in (303, 307, 308) and f"HTTPRoute{code}RedirectStatusCode" not in features:
        return 301 if code == 308 else 302
    return code


def code_note(code: int, sent: int) -> str:
    return (
        ""
        if code == sent
        else f" ({code} on ingress-nginx; the target sends {sent}, which lets clients turn POST into GET)"
    )


@dataclass
class IngressFilters:
    """What an Ingress's annotations add to each of its rules."""

    request_set: dict[str, str] = field(default_factory=dict)
    response_set: dict[str, str] = field(default_factory=dict)
    response_add: dict[str, str] = field(default_factory=dict)
    host_rewrite: str | None = None
    cors: dict[str, Any] | None = None
    redirect: dict[str, Any] | None = None  # replaces the backends (permanent/temporal redirect)
    timeouts: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def note(self, ing: Ingress, subject: str, outcome: Outcome, message: str) -> None:
        self.findings.append(Finding(ing.key, subject, outcome, message))

    def as_filters(self, rewrite: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The HTTPRoute filters, with the path rewrite of the rule (if any) merged in."""
        out: list[dict[str, Any]] = []
        if self.request_set:
            headers = [{"name": k, "value": v} for k, v in sorted(self.request_set.items())]
            out.append({"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": headers}})
        if self.response_set or self.response_add:
            modifier: dict[str, Any] = {}
            if self.response_set:
                modifier["set"] = [{"name": k, "value": v} for k, v in sorted(self.response_set.items())]
            if self.response_add:
                modifier["add"] = [{"name": k, "value": v} for k, v in sorted(self.response_add.items())]
            out.append({"type": "ResponseHeaderModifier", "responseHeaderModifier": modifier})
        if self.cors is not None:
            out.append({"type": "CORS", "cors": self.cors})
        if self.redirect is not None:
            out.append({"type": "RequestRedirect", "requestRedirect": self.redirect})
            return out
        url_rewrite: dict[str, Any] = {}
        if self.host_rewrite:
            url_rewrite["hostname"] = self.host_rewrite
        if rewrite is not None:
            url_rewrite["path"] = rewrite
        if url_rewrite:
            out.append({"type": "URLRewrite", "urlRewrite": url_rewrite})
        return out


def _seconds(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) > 0 else None


def _timeouts(ing: Ingress, out: IngressFilters, features: frozenset[str]) -> None:
    read, send = ing.nginx("proxy-read-timeout"), ing.nginx("proxy-send-timeout")
    values = {name: _seconds(v) for name, v in (("proxy-read-timeout", read), ("proxy-send-timeout", send)) if v}
    for name, seconds in values.items():
        if seconds is None:
            out.note(ing, name, Outcome.NOT_CONVERTIBLE, "not a whole number of seconds; ingress-nginx ignores it too")
    given = [s for s in values.values() if s is not None]
    if given and "HTTPRouteBackendTimeout" not in features:
        for name in values:
            out.note(ing, name, Outcome.TARGET, "the target provider has no backend timeout (HTTPRouteBackendTimeout)")
        return
    if given:
        out.timeouts["backendRequest"] = f"{max(given)}s"
        for name, seconds in values.items():
            if seconds is not None:
                out.note(
                    ing,
                    name,
                    Outcome.DIFFERENCE,
                    f"timeouts.backendRequest {max(given)}s: Gateway API bounds the whole backend response, "
                    "ingress-nginx only the wait between two reads/writes (long streams may now time out)",
                )


def _cors(ing: Ingress, out: IngressFilters, features: frozenset[str]) -> None:
    names = [n for n in ing.nginx_annotations if n.startswith("cors-") or n == "enable-cors"]
    if not ing.flag("enable-cors"):
        for name in names:
            out.note(ing, name, Outcome.IGNORED, "enable-cors is not true: ingress-nginx ignores the CORS annotations")
        return
    if "HTTPRouteCORS" not in features:
        for name in names:
            out.note(ing, name, Outcome.TARGET, "the target provider does not support the CORS filter (HTTPRouteCORS)")
        return

    def listed(name: str, default: str) -> list[str]:
        return [v.strip() for v in (ing.nginx(name) or default).split(",") if v.strip()]

    methods = [m.upper() for m in listed("cors-allow-methods", CORS_DEFAULT_METHODS)]
    cors: dict[str, Any] = {
        "allowOrigins": listed("cors-allow-origin", "*"),
        "allowMethods": methods,
        "allowHeaders": listed("cors-allow-headers", CORS_DEFAULT_HEADERS),
    }
    if expose := listed("cors-expose-headers", ""):
        cors["exposeHeaders"] = expose
    cors["allowCredentials"] = ing.flag("cors-allow-credentials", default=True)
    max_age = _seconds(ing.nginx("cors-max-age") or "") or CORS_DEFAULT_MAX_AGE
    cors["maxAge"] = max_age
    out.cors = cors
    for name in names:
        out.note(ing, name, Outcome.EXACT, "CORS filter (defaults of ingress-nginx filled in)")


def _snippet(ing: Ingress, out: IngressFilters, allowed: bool) -> None:
    snippet = ing.nginx("configuration-snippet")
    if snippet is None:
        return
    if not allowed:
        out.note(
            ing,
            "configuration-snippet",
            Outcome.IGNORED,
            "allow-snippet-annotations is off in the controller ConfigMap, so ingress-nginx drops it too",
        )
        return
    left: list[str] = []
    for line in (part.strip() for part in snippet.splitlines()):
        if not line or line.startswith("#"):
            continue
        m = _SNIPPET_HEADER.match(line)
        first = m and (m["q1"] if m["q1"] is not None else m["q2"] if m["q2"] is not None else m["bare"])
        if not m or first is None or "$" in line:
            left.append(line)
            continue
        if m["directive"] == "more_set_headers":
            name, _, value = first.partition(":")
            target = out.response_set
        else:
            name, value = first, (m["rest"] or "").removesuffix(" always").strip().strip("\"'")
            target = out.request_set if m["directive"] == "proxy_set_header" else out.response_add
        if not _HEADER_NAME.match(name.strip()) or not value.strip():
            left.append(line)
            continue
        target[name.strip()] = value.strip()
        if m["directive"] == "add_header" and not (m["rest"] or "").endswith("always"):
            out.note(
                ing,
                "configuration-snippet",
                Outcome.DIFFERENCE,
                f"add_header {name.strip()}: now on every response (nginx: only 2xx/3xx without `always`)",
            )
    if left:
        out.note(
            ing,
            "configuration-snippet",
            Outcome.NOT_CONVERTIBLE,
            f"only header directives without variables convert; left out: {'; '.join(left)}",
        )
    elif out.request_set or out.response_set or out.response_add:
        out.note(ing, "configuration-snippet", Outcome.EXACT, "header directives became header filters")


def _custom_headers(ing: Ingress, inputs: Inputs, out: IngressFilters) -> None:
    ref = ing.nginx("custom-headers")
    if ref is None:
        return
    namespace, _, name = ref.rpartition("/")
    data = inputs.configmaps.get((namespace or ing.namespace, name))
    if data is None:
        out.note(
            ing,
            "custom-headers",
            Outcome.NOT_CONVERTIBLE,
            f"ConfigMap {namespace or ing.namespace}/{name} is not in the input: pass it with -f",
        )
        return
    bad = sorted(k for k in data if not _HEADER_NAME.match(k))
    out.response_set.update({k: v for k, v in data.items() if k not in bad})
    if bad:
        out.note(ing, "custom-headers", Outcome.NOT_CONVERTIBLE, f"invalid header names left out: {', '.join(bad)}")
    else:
        out.note(ing, "custom-headers", Outcome.EXACT, f"ResponseHeaderModifier set from ConfigMap {name}")


def _redirect(ing: Ingress, out: IngressFilters, features: frozenset[str]) -> None:
    # ingress-nginx reads temporal-redirect first: when both are set, it wins.
    for name in ("temporal-redirect", "permanent-redirect"):
        url = ing.nginx(name)
        if not url:
            continue
        default, code_name = _REDIRECT_CODES[name]
        code_text = ing.nginx(code_name)
        code = int(code_text) if code_text and code_text.isdigit() else default
        parts = urlsplit(url)
        if code not in _GATEWAY_REDIRECT_CODES or parts.scheme not in ("http", "https") or not parts.hostname:
            out.note(
                ing,
                name,
                Outcome.NOT_CONVERTIBLE,
                f"{url!r} with code {code}: Gateway API redirects need an "
                "absolute http(s) URL and one of the codes 301, 302, 303, 307, 308",
            )
            return
        if out.redirect is not None:
            out.note(ing, name, Outcome.IGNORED, "temporal-redirect is also set and ingress-nginx uses it instead")
            continue
        sent = fit_redirect(code, features)
        redirect: dict[str, Any] = {"scheme": parts.scheme, "hostname": parts.hostname, "statusCode": sent}
        if parts.port:
            redirect["port"] = parts.port
        redirect["path"] = {"type": "ReplaceFullPath", "replaceFullPath": parts.path or "/"}
        out.redirect = redirect
        lost = f" and its query {parts.query!r} is lost" if parts.query else ""
        out.note(
            ing,
            name,
            Outcome.DIFFERENCE,
            f"RequestRedirect {code} to {url}: the request's query string is kept (nginx `return` drops it){lost}",
        )
        if code_text:
            out.note(
                ing,
                code_name,
                Outcome.EXACT if sent == code else Outcome.DIFFERENCE,
                f"statusCode {sent}{code_note(code, sent)}",
            )


def ingress_filters(ing: Ingress, inputs: Inputs, features: frozenset[str], snippets_allowed: bool) -> IngressFilters:
    out = IngressFilters()
    if (vhost := ing.nginx("upstream-vhost")) is not None:
        out.host_rewrite = vhost
        out.note(ing, "upstream-vhost", Outcome.EXACT, f"URLRewrite hostname {vhost}")
    if (prefix := ing.nginx("x-forwarded-prefix")) is not None:
        out.request_set["X-Forwarded-Prefix"] = prefix
        out.note(ing, "x-forwarded-prefix", Outcome.EXACT, "RequestHeaderModifier sets X-Forwarded-Prefix")
    _custom_headers(ing, inputs, out)
    _snippet(ing, out, snippets_allowed)
    _cors(ing, out, features)
    _timeouts(ing, out, features)
    _redirect(ing, out, features)
    return out
