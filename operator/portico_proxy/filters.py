"""Gateway API filters compiled once from the IR and applied per request.

Everything here works on bytes with lower-case header names, the form both HTTP/1.1 and
HTTP/2 requests take inside the proxy.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from portico.ir import (
    HeaderModifier,
    HeaderValue,
    PathModifier,
    PathModifierType,
    RequestRedirectFilter,
)

Headers = list[tuple[bytes, bytes]]

WELL_KNOWN_PORTS = {b"http": 80, b"https": 443}


def header_safe(value: bytes, what: str) -> bytes:
    """A configured value that reaches a header or the request line, checked once when the IR is compiled.

    CR, LF or NUL would end the line early (header injection); translation refuses such values, and this
    keeps a hand-written or stale IR from ever putting one on the wire. Per request there is no cost.
    """
    if b"\r" in value or b"\n" in value or b"\0" in value:
        raise ValueError(f"{what} {value!r} contains CR, LF or NUL: it would split a header")
    return value


def _pairs(headers: Sequence[HeaderValue], what: str) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (
            header_safe(h.name.lower().encode("latin-1"), f"{what} header name"),
            header_safe(h.value.encode("latin-1"), f"{what} value of {h.name}"),
        )
        for h in headers
    )


class CompiledHeaderModifier:
    """set/add/remove with case-insensitive names; add appends to an existing value with a comma."""

    __slots__ = ("add", "remove", "set")

    def __init__(self, modifier: HeaderModifier) -> None:
        self.set = _pairs(modifier.set, "set")
        self.add = _pairs(modifier.add, "add")
        self.remove = frozenset(n.lower().encode("latin-1") for n in modifier.remove)

    def apply(self, headers: Headers) -> Headers:
        dropped = self.remove.union(name for name, _ in self.set)
        out = [(n, v) for n, v in headers if n not in dropped] if dropped else list(headers)
        out.extend(self.set)
        for name, value in self.add:
            for index, (existing, old) in enumerate(out):
                if existing == name:
                    out[index] = (existing, old + b"," + value)
                    break
            else:
                out.append((name, value))
        return out


def replace_prefix(path: bytes, matched_prefix: bytes, replacement: bytes) -> bytes:
    """ReplacePrefixMatch: swap the element-wise matched prefix, following the spec's slash table."""
    prefix = matched_prefix.rstrip(b"/")
    rest = path[len(prefix) :]
    result = replacement.rstrip(b"/") + rest
    if not result.startswith(b"/"):
        result = b"/" + result
    return result


class CompiledPathModifier:
    __slots__ = ("full", "prefix", "value")

    def __init__(self, modifier: PathModifier) -> None:
        self.full = modifier.type is PathModifierType.REPLACE_FULL_PATH
        self.value = header_safe(modifier.value.encode(), "path modifier")
        self.prefix = (modifier.matched_prefix or "/").encode()

    def apply(self, path: bytes) -> bytes:
        if self.full:
            return self.value or b"/"
        return replace_prefix(path, self.prefix, self.value)


class CompiledRedirect:
    __slots__ = ("hostname", "path", "port", "scheme", "status")

    def __init__(self, redirect: RequestRedirectFilter) -> None:
        self.scheme = header_safe(redirect.scheme.encode(), "redirect scheme") if redirect.scheme else None
        self.hostname = header_safe(redirect.hostname.encode(), "redirect hostname") if redirect.hostname else None
        self.port = redirect.port
        self.path = CompiledPathModifier(redirect.path) if redirect.path else None
        self.status = redirect.status_code

    def location(self, scheme: bytes, host: bytes, listener_port: int, path: bytes, query: bytes) -> bytes:
        """The Location header: the port comes from the filter, the scheme, or the listener."""
        new_scheme = self.scheme or scheme
        if self.port is not None:
            port = self.port
        elif self.scheme is not None:
            port = WELL_KNOWN_PORTS.get(self.scheme, listener_port)
        else:
            port = listener_port
        authority = self.hostname or host
        if WELL_KNOWN_PORTS.get(new_scheme) != port:
            authority += b":%d" % port
        new_path = self.path.apply(path) if self.path else path
        if query:
            new_path += b"?" + query
        return new_scheme + b"://" + authority + new_path


@dataclass(frozen=True, slots=True)
class MirrorSpec:
    """Send numerator/denominator of requests to `backend` (a compiled backend)."""

    backend: object
    numerator: int
    denominator: int

    def chosen(self) -> bool:
        if self.numerator >= self.denominator:
            return True
        return random.random() * self.denominator < self.numerator


def apply_all(modifiers: Sequence[CompiledHeaderModifier], headers: Headers) -> Headers:
    for modifier in modifiers:
        headers = modifier.apply(headers)
    return headers
