"""The kit's pure parts: typed references, the one ownership rule in each scheme, names, limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.ir import ObjectKey
from portico_providers.kit.diff import diff
from portico_providers.kit.limits import scale_weights
from portico_providers.kit.naming import bounded_name
from portico_providers.kit.ownership import (
    LabelOwnership,
    Marks,
    NameMarkerOwnership,
    Ownership,
    TagKeys,
    TagOwnership,
    claimed_id,
    label_value,
)
from portico_providers.kit.references import Reference, dependencies, dump, ref, resolved
from portico_providers.kit.resources import Desired, KindRules, Observed, Spec

GATEWAY = ObjectKey(namespace="shop", name="web")


class Rule(Spec):
    listener: Reference
    header_value: str


def test_only_typed_references_resolve_user_strings_that_look_like_tokens_stay_data() -> None:
    spec = Rule(listener=ref("listener"), header_value="${listener}")
    document, missing = resolved(spec, {"listener": "arn:listener"})
    assert document == {"listener": "arn:listener", "header_value": "${listener}"}
    assert missing == []
    assert dependencies(spec) == {"listener"}
    assert dependencies(Rule(listener="arn:x", header_value="${nothing}")) == frozenset()


def test_an_unknown_reference_is_reported_missing_and_reads_as_its_token() -> None:
    document, missing = resolved(Rule(listener=ref("gone"), header_value="x"), {})
    assert missing == ["gone"]
    assert document["listener"] == "${gone}"
    assert dump(Rule(listener=ref("gone"), header_value="x"))["listener"] == "${gone}"


def test_user_data_equal_to_a_token_compares_equal_to_itself_not_to_the_resource() -> None:
    kinds = (KindRules("listener"), KindRules("rule"))
    desired = [Desired("rule", "r", Rule(listener=ref("listener"), header_value="${listener}"))]
    observed = [
        Observed("listener", "listener", "arn:l", Rule(listener="x", header_value="")),
        Observed("rule", "r", "arn:r", Rule(listener="arn:l", header_value="${listener}")),
    ]
    steps = diff([Desired("listener", "listener", observed[0].spec), *desired], observed, kinds).steps
    assert steps == ()


AWS_KEYS = TagKeys("portico.dev/cluster", "portico.dev/gateway", "portico.dev/resource")
AZURE_KEYS = TagKeys("portico-cluster", "portico-gateway", "portico-resource")
SCHEMES: dict[str, Callable[[str, ObjectKey], Ownership]] = {
    "aws-tags": lambda cluster, gw: TagOwnership(cluster, gw, AWS_KEYS),
    "azure-tags": lambda cluster, gw: TagOwnership(cluster, gw, AZURE_KEYS),
    "gcp-labels": LabelOwnership,
    "name-marker": NameMarkerOwnership,
}


@pytest.mark.parametrize("scheme_name", sorted(SCHEMES))
def test_ownership_claims_its_own_marks_and_nothing_else(scheme_name: str) -> None:
    make = SCHEMES[scheme_name]
    scheme = make("c1", GATEWAY)
    mine = scheme.mark("listener:80")
    assert claimed_id(scheme, mine) == "listener:80"
    assert claimed_id(scheme, Marks()) is None
    assert claimed_id(scheme, make("c2", GATEWAY).mark("listener:80")) is None
    assert claimed_id(scheme, make("c1", ObjectKey(namespace="shop", name="api")).mark("listener:80")) is None
    # A name that collides with ours but carries no marker is not ours.
    assert claimed_id(scheme, Marks(name=mine.name)) is None


def test_azure_and_gcp_marks_use_only_allowed_characters() -> None:
    azure = SCHEMES["azure-tags"]("c1", GATEWAY).mark("tg:shop/web:80")
    assert all("/" not in key for key in azure.tags)
    gcp = LabelOwnership("Cluster.One", ObjectKey(namespace="Shop", name="Web_1")).mark("rule:HTTPRoute/shop/x/0")
    for key, value in gcp.tags.items():
        assert set(key + value) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-"), (key, value)
        assert len(value) <= 63


def test_a_marker_copied_onto_another_name_is_not_ours() -> None:
    scheme = NameMarkerOwnership("c1", GATEWAY)
    copied = Marks(name="someone-elses", description=scheme.mark("backend").description)
    assert claimed_id(scheme, copied) is None


@given(st.text(min_size=0, max_size=300))
def test_label_values_are_always_valid_and_distinct_inputs_stay_distinct(text: str) -> None:
    value = label_value(text)
    assert 0 < len(value) <= 63
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")
    assert label_value(text + "x") != value


@given(st.text(max_size=200), st.integers(min_value=12, max_value=80))
def test_bounded_names_respect_their_length(readable: str, limit: int) -> None:
    name = bounded_name(readable, readable, max_length=limit)
    assert len(name) <= limit
    assert "--" not in name


def test_scale_weights_takes_the_maximum_as_a_parameter() -> None:
    assert scale_weights([1_000_000, 1], 999) == (999, 1)
    assert scale_weights([1_000_000, 1], 100) == (100, 1)
    assert scale_weights([20, 0], 100) == (20, 0)
