"""The direct node -> data reader gives what PyYAML's safe constructor gives, and leaves it the rest."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.manifests import ManifestError, read_text

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.sampled_from(["yes", "on", "0x1f", "1e3", "~", "2024-01-01", "2024-01-01T00:00:00Z", ".inf", "<<"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=15,
)
styles = st.sampled_from([{"default_flow_style": False}, {"default_flow_style": True}, {"default_style": '"'}])


def document(spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": spec}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, styles)
def test_plain_documents_read_as_pyyaml_reads_them(spec: Any, style: dict[str, Any]) -> None:
    text = yaml.safe_dump(document(spec), **style)
    (manifest,) = read_text(text, "in.yaml")
    assert manifest.obj == yaml.load(text, Loader=yaml.CSafeLoader)


def test_aliases_are_the_anchored_object_and_merges_still_merge() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: x, labels: &labels {app: a, tier: web}}
data:
  copy: *labels
  merged: {<<: *labels, tier: db}
  when: 2024-01-01T00:00:00Z
  bytes: !!binary aGk=
"""
    (manifest,) = read_text(text, "in.yaml")
    data = manifest.obj["data"]
    assert data["copy"] is manifest.obj["metadata"]["labels"]
    assert data["merged"] == {"app": "a", "tier": "db"}
    assert data["when"] == datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    assert data["bytes"] == b"hi"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nkind: Secret\n", "in.yaml:4: duplicate key 'kind'"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: !custom {a: 1}\n", "in.yaml:4:"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {[a]: 1}\n", "in.yaml:4:"),
    ],
    ids=["duplicate-key", "unknown-tag", "unhashable-key"],
)
def test_what_pyyaml_refuses_is_still_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as error:
        read_text(text, "in.yaml")
    assert str(error.value).startswith(message), str(error.value)
