"""Every ingress-nginx annotation and what becomes of it.

`CONVERTED` are turned into Gateway API fields by the converter (each finding says how exactly);
`NOT_CONVERTED` have no Gateway API form: the report says what Portico or the cloud offers instead.
docs/migrate-from-ingress-nginx.md has one table row per name (a test keeps them in step).
"""

from __future__ import annotations

CONVERTED: frozenset[str] = frozenset(
    {
        "app-root",
        "backend-protocol",
        "canary",
        "canary-by-cookie",
        "canary-by-header",
        "canary-by-header-pattern",
        "canary-by-header-value",
        "canary-weight",
        "canary-weight-total",
        "configuration-snippet",
        "cors-allow-credentials",
        "cors-allow-headers",
        "cors-allow-methods",
        "cors-allow-origin",
        "cors-expose-headers",
        "cors-max-age",
        "custom-headers",
        "enable-cors",
        "force-ssl-redirect",
        "from-to-www-redirect",
        "permanent-redirect",
        "permanent-redirect-code",
        "preserve-trailing-slash",
        "proxy-read-timeout",
        "proxy-send-timeout",
        "proxy-ssl-name",
        "proxy-ssl-secret",
        "proxy-ssl-server-name",
        "proxy-ssl-verify",
        "rewrite-target",
        "server-alias",
        "ssl-passthrough",
        "ssl-redirect",
        "temporal-redirect",
        "temporal-redirect-code",
        "upstream-vhost",
        "use-regex",
        "x-forwarded-prefix",
    }
)

_AUTH = "no Gateway API field; put authentication in the application or an auth proxy in front of the Service"
_AFFINITY = (
    "session affinity is not in the standard Gateway API channel (sessionPersistence is experimental); "
    "Portico balances without affinity: keep sessions in a shared store"
)
_LIMIT = "no Gateway API field; on AWS use AWS WAF rate-based rules, elsewhere rate-limit in the application"
_BUFFER = "nginx buffering/size tuning with no Gateway API field; Portico streams bodies and has its own limits"
_SNIPPET = "raw nginx configuration cannot be converted; rewrite what it does with Gateway API filters"
_TLS = "per-host TLS parameters are not in the Gateway API; the provider's TLS policy applies"
_MODSEC = "no WAF in the Gateway API; on AWS attach AWS WAF to the load balancer"
_OTEL = "observability of nginx itself; Portico exports Prometheus metrics and access logs instead"
_SOURCE = (
    "no Gateway API field; restrict sources with NetworkPolicy, the load balancer's security group (AWS) or "
    "the cloud firewall"
)

NOT_CONVERTED: dict[str, str] = {
    "affinity": _AFFINITY,
    "affinity-canary-behavior": _AFFINITY,
    "affinity-mode": _AFFINITY,
    "allowlist-source-range": _SOURCE,
    "auth-always-set-cookie": _AUTH,
    "auth-cache-duration": _AUTH,
    "auth-cache-key": _AUTH,
    "auth-keepalive": _AUTH,
    "auth-keepalive-requests": _AUTH,
    "auth-keepalive-share-vars": _AUTH,
    "auth-keepalive-timeout": _AUTH,
    "auth-method": _AUTH,
    "auth-proxy-set-headers": _AUTH,
    "auth-realm": _AUTH,
    "auth-request-redirect": _AUTH,
    "auth-response-headers": _AUTH,
    "auth-secret": _AUTH,
    "auth-secret-type": _AUTH,
    "auth-signin": _AUTH,
    "auth-signin-redirect-param": _AUTH,
    "auth-snippet": _SNIPPET,
    "auth-tls-error-page": "client certificates are per Gateway in the Gateway API (spec.tls.frontend), not per path",
    "auth-tls-match-cn": "client certificates are per Gateway in the Gateway API (spec.tls.frontend), not per path",
    "auth-tls-pass-certificate-to-upstream": "no Gateway API field for passing the client certificate upstream",
    "auth-tls-secret": "set spec.tls.frontend.default.validation.caCertificateRefs on the Gateway (per Gateway)",
    "auth-tls-verify-client": "set spec.tls.frontend on the Gateway (per Gateway, not per path)",
    "auth-tls-verify-depth": "no Gateway API field",
    "auth-type": _AUTH,
    "auth-url": _AUTH + " (ExternalAuth is experimental in the Gateway API)",
    "client-body-buffer-size": _BUFFER,
    "connection-proxy-header": "Portico manages upstream connections itself",
    "custom-http-errors": "no Gateway API field; serve error pages from the application",
    "default-backend": "no Gateway API field for a fallback when a Service has no endpoints (Gateway API answers 503)",
    "denylist-source-range": _SOURCE,
    "disable-proxy-intercept-errors": "no Gateway API field; Portico passes backend error responses through",
    "enable-access-log": "Portico's access log is configured per proxy (--access-log-sample), not per path",
    "enable-global-auth": _AUTH,
    "enable-modsecurity": _MODSEC,
    "enable-opentelemetry": _OTEL,
    "enable-owasp-core-rules": _MODSEC,
    "enable-rewrite-log": _OTEL,
    "fastcgi-index": "FastCGI backends are not in the Gateway API",
    "fastcgi-params-configmap": "FastCGI backends are not in the Gateway API",
    "global-rate-limit": _LIMIT,
    "global-rate-limit-ignored-cidrs": _LIMIT,
    "global-rate-limit-key": _LIMIT,
    "global-rate-limit-window": _LIMIT,
    "http2-push-preload": "HTTP/2 server push is obsolete (browsers dropped it); nothing to convert",
    "limit-allowlist": _LIMIT,
    "limit-burst-multiplier": _LIMIT,
    "limit-connections": _LIMIT,
    "limit-rate": _LIMIT,
    "limit-rate-after": _LIMIT,
    "limit-rpm": _LIMIT,
    "limit-rps": _LIMIT,
    "limit-whitelist": _LIMIT,
    "load-balance": "Portico balances round-robin over ready endpoints; the algorithm is not selectable",
    "mirror-host": "RequestMirror mirrors to a Service: add a RequestMirror filter with a backendRef by hand",
    "mirror-request-body": "RequestMirror mirrors to a Service: add a RequestMirror filter with a backendRef by hand",
    "mirror-target": "RequestMirror mirrors to a Service, not a URL: add a RequestMirror filter by hand",
    "modsecurity-snippet": _MODSEC,
    "modsecurity-transaction-id": _MODSEC,
    "opentelemetry-operation-name": _OTEL,
    "opentelemetry-trust-incoming-span": _OTEL,
    "proxy-body-size": _BUFFER,
    "proxy-buffer-size": _BUFFER,
    "proxy-buffering": _BUFFER,
    "proxy-buffers-number": _BUFFER,
    "proxy-connect-timeout": "no Gateway API field for the connect timeout; the provider's default applies",
    "proxy-cookie-domain": "no Gateway API field; set cookie domains in the application",
    "proxy-cookie-path": "no Gateway API field; set cookie paths in the application",
    "proxy-http-version": "Portico picks HTTP/1.1 or h2c from the Service port's appProtocol",
    "proxy-max-temp-file-size": _BUFFER,
    "proxy-next-upstream": "retries are experimental in the Gateway API (HTTPRoute retry); Portico does not retry",
    "proxy-next-upstream-timeout": "retries are experimental in the Gateway API; Portico does not retry",
    "proxy-next-upstream-tries": "retries are experimental in the Gateway API; Portico does not retry",
    "proxy-redirect-from": "no Gateway API field for rewriting Location headers; fix them in the application",
    "proxy-redirect-to": "no Gateway API field for rewriting Location headers; fix them in the application",
    "proxy-request-buffering": _BUFFER,
    "proxy-ssl-ciphers": "BackendTLSPolicy has no cipher list",
    "proxy-ssl-protocols": "BackendTLSPolicy has no protocol list",
    "proxy-ssl-verify-depth": "BackendTLSPolicy has no verify depth",
    "satisfy": _AUTH,
    "server-snippet": _SNIPPET,
    "server-tokens": "Portico's proxy does not announce itself in a Server header",
    "service-upstream": "Portico always balances over the endpoints, never the ClusterIP",
    "session-cookie-change-on-failure": _AFFINITY,
    "session-cookie-conditional-samesite-none": _AFFINITY,
    "session-cookie-domain": _AFFINITY,
    "session-cookie-expires": _AFFINITY,
    "session-cookie-max-age": _AFFINITY,
    "session-cookie-name": _AFFINITY,
    "session-cookie-path": _AFFINITY,
    "session-cookie-samesite": _AFFINITY,
    "session-cookie-secure": _AFFINITY,
    "ssl-ciphers": _TLS,
    "ssl-prefer-server-ciphers": _TLS,
    "stream-snippet": _SNIPPET,
    "upstream-hash-by": "consistent hashing is not in the Gateway API; Portico balances round-robin",
    "upstream-hash-by-subset": "consistent hashing is not in the Gateway API; Portico balances round-robin",
    "upstream-hash-by-subset-size": "consistent hashing is not in the Gateway API; Portico balances round-robin",
    "whitelist-source-range": _SOURCE,
}

SNIPPETS = frozenset(
    {"auth-snippet", "configuration-snippet", "modsecurity-snippet", "server-snippet", "stream-snippet"}
)
# Kept by ingress-nginx on a canary Ingress; every other annotation there is ignored (inherited from the main one).
CANARY_OWN = frozenset(
    {"load-balance", "upstream-hash-by", "upstream-hash-by-subset", "upstream-hash-by-subset-size"}
    | {n for n in NOT_CONVERTED if n.startswith(("affinity", "session-cookie"))}
    | {n for n in CONVERTED if n.startswith("canary")}
)
