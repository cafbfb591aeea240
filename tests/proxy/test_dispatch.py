"""The dispatch indexes must pick exactly the rule a linear scan in IR order would pick."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portico.ir import HeaderMatch, Match, MatchType, PathMatch
from portico_proxy.dispatch import build_entries
from portico_proxy.rules import CompiledRule, HeaderMap
from tests.irs import rule

VALUES = ["a", "b", "c"]


@st.composite
def rules(draw: st.DrawFn) -> list[CompiledRule]:
    compiled = []
    for index in range(draw(st.integers(0, 14))):
        path_type = draw(st.sampled_from([MatchType.EXACT, MatchType.PATH_PREFIX]))
        path = PathMatch(type=path_type, value=draw(st.sampled_from(["/", "/x", "/x/y"])))
        headers = tuple(
            HeaderMatch(type=MatchType.EXACT, name=name, value=draw(st.sampled_from(VALUES)))
            for name in draw(st.lists(st.sampled_from(["h1", "h2"]), max_size=2, unique=True))
        )
        compiled.append(CompiledRule(rule(f"r{index}", match=Match(path=path, headers=headers))))
    return compiled


@settings(max_examples=300, deadline=None)
@given(
    candidates=rules(),
    path=st.sampled_from([b"/", b"/x", b"/x/y", b"/z"]),
    h1=st.sampled_from([None, b"a", b"b", b"c"]),
    h2=st.sampled_from([None, b"a", b"b"]),
)
def test_indexed_lookup_equals_linear_scan(
    candidates: list[CompiledRule], path: bytes, h1: bytes | None, h2: bytes | None
) -> None:
    raw = [(n, v) for n, v in ((b"h1", h1), (b"h2", h2)) if v is not None]
    headers = HeaderMap(raw)
    linear = next((r for r in candidates if r.matches(b"GET", path, b"", headers, False)), None)
    indexed = None
    for entry in build_entries(candidates):
        indexed = entry.find(b"GET", path, b"", headers, False)
        if indexed is not None:
            break
    assert indexed is linear
