"""The streaming YAML writer prints exactly what PyYAML's C safe dumper prints for the whole document."""

from __future__ import annotations

import io
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.cli.yamlout import dump_document

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)  # NaN is written as PyYAML writes it, but is not equal to itself
    | st.dates()
    | st.text(max_size=12)
    | st.sampled_from(["true", "on", "8080", "1.5", "~", "null", "- x", "a: b", "#x", "multi\nline", "2024-01-01"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
documents = st.dictionaries(st.sampled_from(["apiVersion", "kind", "items", "gateways"]), values, max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_streamed_yaml_equals_safe_dump(document: dict[str, Any]) -> None:
    out = io.StringIO()
    dump_document(document, out)
    assert out.getvalue() == (yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False) if document else "")
    assert (yaml.safe_load(out.getvalue()) or {}) == document
