"""HTTPRouteCORS at the proxy: preflights answered here, Access-Control-* fields added to actual responses.

Compiled once per rule (or backendRef) from the IR; per request it costs one scan of the request
headers for Origin, and only on rules that carry the filter.
"""

from __future__ import annotations

from portico.ir import CORSFilter
from portico_proxy.filters import Headers, header_safe

DEFAULT_PORTS = {b"http": 80, b"https": 443}
ALLOW_ORIGIN = b"access-control-allow-origin"
ALLOW_CREDENTIALS = b"access-control-allow-credentials"
ALLOW_METHODS = b"access-control-allow-methods"
ALLOW_HEADERS = b"access-control-allow-headers"
EXPOSE_HEADERS = b"access-control-expose-headers"
MAX_AGE = b"access-control-max-age"
REQUEST_METHOD = b"access-control-request-method"
REQUEST_HEADERS = b"access-control-request-headers"
# The fields this filter owns on a response: a backend's own values for them are replaced.
OWNED = frozenset({ALLOW_ORIGIN, ALLOW_CREDENTIALS, EXPOSE_HEADERS})


def split_origin(origin: bytes) -> tuple[bytes, bytes, int] | None:
    """scheme, lower-case host and port (the scheme's default when absent) of `scheme://host[:port]`."""
    scheme, sep, rest = origin.lower().partition(b"://")
    if not sep or not rest or b"/" in rest:
        return None
    has_port = b":" in rest and not rest.endswith(b"]")  # an IPv6 literal ends with "]"
    host, colon, port = rest.rpartition(b":") if has_port else (rest, b"", b"")
    if colon:
        if not port.isdigit() or not host:
            return None
        return scheme, host, int(port)
    default = DEFAULT_PORTS.get(scheme)
    return (scheme, host, default) if default is not None else None


class OriginPattern:
    """One allowOrigins entry: `http(s)://host[:port]`, the host exact, `*.suffix` (one or more labels) or `*`."""

    __slots__ = ("any_host", "host", "port", "scheme", "suffix")

    def __init__(self, value: str) -> None:
        parts = split_origin(value.encode("latin-1"))
        if parts is None:
            raise ValueError(f"CORS allowOrigins {value!r} is not scheme://host[:port]")
        self.scheme, host, self.port = parts
        self.any_host = host == b"*"
        self.suffix = host[1:] if host.startswith(b"*.") else None  # ".example.com"
        self.host = host

    def matches(self, scheme: bytes, host: bytes, port: int) -> bool:
        if scheme != self.scheme or port != self.port:
            return False
        if self.any_host:
            return True
        if self.suffix is not None:
            return host.endswith(self.suffix) and len(host) > len(self.suffix)
        return host == self.host


def _joined(values: tuple[str, ...], what: str) -> bytes:
    return header_safe(", ".join(values).encode("latin-1"), f"CORS {what}")


class CompiledCORS:
    __slots__ = (
        "any_header",
        "any_method",
        "any_origin",
        "credentials",
        "expose",
        "expose_any",
        "headers",
        "max_age",
        "methods",
        "origins",
    )

    def __init__(self, spec: CORSFilter) -> None:
        self.any_origin = "*" in spec.allow_origins
        self.origins = tuple(OriginPattern(o) for o in spec.allow_origins if o != "*")
        self.credentials = spec.allow_credentials
        self.any_method = "*" in spec.allow_methods
        self.methods = _joined(spec.allow_methods, "allowMethods")
        self.any_header = "*" in spec.allow_headers
        self.headers = _joined(spec.allow_headers, "allowHeaders")
        self.expose_any = "*" in spec.expose_headers
        self.expose = _joined(spec.expose_headers, "exposeHeaders")
        self.max_age = b"%d" % spec.max_age

    def allows(self, origin: bytes) -> bool:
        if self.any_origin:
            return True
        parts = split_origin(origin)
        return parts is not None and any(p.matches(*parts) for p in self.origins)

    def origin_fields(self, origin: bytes) -> Headers:
        # `*` only where the browser accepts it: a credentialed response must name the origin.
        if self.any_origin and not self.credentials:
            return [(ALLOW_ORIGIN, b"*")]
        fields = [(ALLOW_ORIGIN, origin), (b"vary", b"Origin")]
        if self.credentials:
            fields.append((ALLOW_CREDENTIALS, b"true"))
        return fields

    def preflight(self, method: bytes, headers: Headers) -> Headers | None:
        """The headers of the proxy's own answer when this request is a CORS preflight, else None.

        A preflight from an origin that is not allowed gets the answer without any CORS field,
        so the browser refuses the actual request; the backend never sees preflights.
        """
        if method != b"OPTIONS":
            return None
        origin = requested_method = requested_headers = None
        for name, value in headers:
            if name == b"origin":
                origin = value if origin is None else origin
            elif name == REQUEST_METHOD:
                requested_method = value if requested_method is None else requested_method
            elif name == REQUEST_HEADERS:
                requested_headers = value if requested_headers is None else requested_headers + b", " + value
        if origin is None or requested_method is None:
            return None
        answer: Headers = [(b"content-length", b"0")]
        if not self.allows(origin):
            return answer
        answer += self.origin_fields(origin)
        # The spec lists the allowed methods; `*` echoes the one asked for (never `*`, which a
        # credentialed request cannot use).
        if self.any_method:
            answer.append((ALLOW_METHODS, requested_method))
        elif self.methods:
            answer.append((ALLOW_METHODS, self.methods))
        if self.any_header:
            if self.credentials:
                if requested_headers:
                    answer.append((ALLOW_HEADERS, requested_headers))
            else:
                answer.append((ALLOW_HEADERS, b"*"))
        elif self.headers:
            answer.append((ALLOW_HEADERS, self.headers))
        if self.expose and not (self.expose_any and self.credentials):
            answer.append((EXPOSE_HEADERS, self.expose))
        answer.append((MAX_AGE, self.max_age))
        return answer

    def response_fields(self, headers: Headers) -> CORSResponseFields | None:
        """What to add to the actual response of a request from an allowed origin, else None."""
        for name, value in headers:
            if name == b"origin":
                return CORSResponseFields(self, value) if self.allows(value) else None
        return None


class CORSResponseFields:
    """A response modifier for one request: the filter's fields replace any the backend sent."""

    __slots__ = ("cors", "origin")

    def __init__(self, cors: CompiledCORS, origin: bytes) -> None:
        self.cors = cors
        self.origin = origin

    def apply(self, headers: Headers) -> Headers:
        cors = self.cors
        out = [(n, v) for n, v in headers if n not in OWNED]
        added = cors.origin_fields(self.origin)
        if any(name == b"vary" for name, _ in added):
            # Caches must keep one answer per origin: join the backend's Vary instead of adding another.
            added = [field for field in added if field[0] != b"vary"]
            for index, (name, value) in enumerate(out):
                if name == b"vary":
                    out[index] = (name, value + b", Origin")
                    break
            else:
                out.append((b"vary", b"Origin"))
        out += added
        if cors.expose_any and cors.credentials:
            # `*` means nothing to a browser on a credentialed response: name this response's fields.
            names = sorted({n for n, _ in out if not n.startswith(b"access-control-")})
            if names:
                out.append((EXPOSE_HEADERS, b", ".join(names)))
        elif cors.expose:
            out.append((EXPOSE_HEADERS, cors.expose))
        return out
