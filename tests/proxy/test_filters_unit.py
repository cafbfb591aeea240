"""Pure parts: the spec's ReplacePrefixMatch table, redirect port derivation, smooth weighted round robin."""

from __future__ import annotations

from collections import Counter

import pytest

from portico.ir import HeaderModifier, HeaderValue, PathModifier, PathModifierType, RequestRedirectFilter
from portico_proxy.balance import WeightedPicker
from portico_proxy.filters import CompiledHeaderModifier, CompiledRedirect, replace_prefix
from tests.replace_prefix_cases import SPEC_TABLE


@pytest.mark.parametrize(
    ("path", "prefix", "replacement", "expected"),
    [*SPEC_TABLE, ("/anything", "/", "/xyz", "/xyz/anything")],
)
def test_replace_prefix_table(path: str, prefix: str, replacement: str, expected: str) -> None:
    assert replace_prefix(path.encode(), prefix.encode(), replacement.encode()) == expected.encode()


@pytest.mark.parametrize(
    ("scheme_in", "listener_port", "scheme", "port", "expected"),
    [
        ("http", 80, None, None, "http://example.org/p"),
        ("http", 80, None, 80, "http://example.org/p"),
        ("http", 80, None, 8080, "http://example.org:8080/p"),
        ("http", 80, "https", None, "https://example.org/p"),
        ("http", 80, "https", 443, "https://example.org/p"),
        ("http", 80, "https", 8443, "https://example.org:8443/p"),
        ("http", 8080, None, None, "http://example.org:8080/p"),
        ("http", 8080, None, 80, "http://example.org/p"),
        ("http", 8080, "https", None, "https://example.org/p"),
        ("https", 443, None, None, "https://example.org/p"),
        ("https", 443, None, 443, "https://example.org/p"),
        ("https", 443, None, 8443, "https://example.org:8443/p"),
        ("https", 443, "http", None, "http://example.org/p"),
        ("https", 443, "http", 80, "http://example.org/p"),
        ("https", 443, "http", 8080, "http://example.org:8080/p"),
    ],
)
def test_redirect_port_and_scheme(
    scheme_in: str, listener_port: int, scheme: str | None, port: int | None, expected: str
) -> None:
    redirect = CompiledRedirect(RequestRedirectFilter(scheme=scheme, hostname="example.org", port=port))
    location = redirect.location(scheme_in.encode(), b"req.example.com", listener_port, b"/p", b"")
    assert location == expected.encode()


def test_redirect_path_and_query() -> None:
    modifier = PathModifier(type=PathModifierType.REPLACE_PREFIX_MATCH, value="/new", matched_prefix="/old")
    redirect = CompiledRedirect(RequestRedirectFilter(path=modifier, status_code=301))
    assert redirect.location(b"http", b"h.test", 80, b"/old/x", b"a=1") == b"http://h.test/new/x?a=1"


def test_header_modifier_set_add_remove_case_insensitive() -> None:
    modifier = CompiledHeaderModifier(
        HeaderModifier(
            set=(HeaderValue(name="X-Set", value="new"),),
            add=(HeaderValue(name="X-Add", value="two"),),
            remove=("x-gone",),
        )
    )
    headers = [(b"x-set", b"old"), (b"x-add", b"one"), (b"x-gone", b"bye"), (b"other", b"keep")]
    assert modifier.apply(headers) == [(b"x-add", b"one,two"), (b"other", b"keep"), (b"x-set", b"new")]


def test_smooth_weighted_round_robin_is_exact_and_interleaved() -> None:
    picker = WeightedPicker([(5, "a"), (1, "b"), (1, "c"), (0, "never")])
    picks = [picker.pick() for _ in range(70)]
    assert Counter(picks) == {"a": 50, "b": 10, "c": 10}
    assert picks[:7].count("a") == 5  # spread within each cycle, not a burst
    assert WeightedPicker([(0, "x")]).pick() is None
