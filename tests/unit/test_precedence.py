"""Precedence is a total, deterministic order that does not depend on input order."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from portico.api import build_snapshot
from portico.translate import translate

PATHS = st.sampled_from(["/", "/a", "/a/b", "/a/bc", "/abc", "/x"])
PATH_TYPES = st.sampled_from(["Exact", "PathPrefix"])
METHODS = st.one_of(st.none(), st.sampled_from(["GET", "POST"]))
HEADERS = st.lists(st.sampled_from(["h1", "h2", "h3"]), unique=True, max_size=3)
QUERY = st.lists(st.sampled_from(["q1", "q2"]), unique=True, max_size=2)


@st.composite
def matches(draw: st.DrawFn) -> dict[str, object]:
    match: dict[str, object] = {"path": {"type": draw(PATH_TYPES), "value": draw(PATHS)}}
    if (method := draw(METHODS)) is not None:
        match["method"] = method
    if headers := draw(HEADERS):
        match["headers"] = [{"name": h, "value": "v"} for h in headers]
    if query := draw(QUERY):
        match["queryParams"] = [{"name": q, "value": "v"} for q in query]
    return match


@st.composite
def routes(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(min_value=1, max_value=5))
    out = []
    for index in range(count):
        stamp = draw(st.sampled_from(["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"]))
        rules = [
            {"matches": draw(st.lists(matches(), min_size=1, max_size=3))}
            for _ in range(draw(st.integers(min_value=1, max_value=3)))
        ]
        out.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {
                    "name": f"r{index}",
                    "namespace": draw(st.sampled_from(["a", "b"])),
                    "creationTimestamp": stamp,
                },
                "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}], "rules": rules},
            }
        )
    return out


def base_objects() -> list[dict[str, object]]:
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "p"},
            "spec": {"controllerName": "portico.dev/proxy"},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "infra"},
            "spec": {
                "gatewayClassName": "p",
                "listeners": [
                    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
                ],
            },
        },
    ]


def ordered_ids(objects: list[dict[str, object]]) -> list[str]:
    ir = translate(build_snapshot(objects)).ir_by_gateway[("infra", "gw")]
    return [r.id for r in ir.listeners[0].rules]


@settings(max_examples=60, deadline=None)
@given(routes(), st.randoms(use_true_random=False))
def test_order_is_stable_under_shuffling(route_objects: list[dict[str, object]], rnd: random.Random) -> None:
    expected = ordered_ids(base_objects() + route_objects)
    shuffled = base_objects() + route_objects
    rnd.shuffle(shuffled)
    assert ordered_ids(shuffled) == expected


@settings(max_examples=60, deadline=None)
@given(routes())
def test_order_respects_each_criterion(route_objects: list[dict[str, object]]) -> None:
    ir = translate(build_snapshot(base_objects() + route_objects)).ir_by_gateway[("infra", "gw")]
    created = {
        f"{o['metadata']['namespace']}/{o['metadata']['name']}": o["metadata"]["creationTimestamp"]  # type: ignore[index]
        for o in route_objects
    }

    def key(rule_index: int) -> tuple[object, ...]:
        r = ir.listeners[0].rules[rule_index]
        assert r.match.path is not None
        return (
            r.match.path.type != "Exact",
            -len(r.match.path.value),
            r.match.method is None,
            -len(r.match.headers),
            -len(r.match.query_params),
            created[str(r.route)],
            str(r.route),
            r.rule_index,
            r.match_index,
        )

    keys = [key(i) for i in range(len(ir.listeners[0].rules))]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys), "the order must be total: no two rules tie"
