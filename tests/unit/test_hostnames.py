from __future__ import annotations

import pytest

from portico.hostnames import effective_hostnames, intersect, overlaps


@pytest.mark.parametrize(
    ("listener", "route", "expected"),
    [
        ("a.example.com", "a.example.com", "a.example.com"),
        ("a.example.com", "*.example.com", "a.example.com"),
        ("*.example.com", "a.example.com", "a.example.com"),
        ("*.example.com", "x.y.example.com", "x.y.example.com"),
        ("*.example.com", "example.com", None),
        ("*.example.com", "*.example.com", "*.example.com"),
        ("*.com", "*.example.com", "*.example.com"),
        ("*.example.com", "*.com", "*.example.com"),
        ("a.example.com", "b.example.com", None),
        (None, "b.example.com", "b.example.com"),
        ("*.example.com", "aexample.com", None),
    ],
)
def test_intersect_follows_the_spec_table(listener: str | None, route: str, expected: str | None) -> None:
    assert intersect(listener, route) == expected


def test_effective_hostnames() -> None:
    assert effective_hostnames(None, []) == ()
    assert effective_hostnames("a.example.com", []) == ("a.example.com",)
    assert effective_hostnames("*.example.com", ["a.example.com", "a.example.net"]) == ("a.example.com",)
    assert effective_hostnames("*.example.com", ["a.example.net"]) is None


def test_overlaps() -> None:
    assert overlaps("foo.example.com", "*.example.com")
    assert not overlaps("foo.example.com", "foo.example.org")
    assert overlaps(None, "foo.example.org")
