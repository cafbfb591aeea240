"""The emulated API server's store: what the e2e tests and the benchmark rely on, without HTTP."""

from __future__ import annotations

import pytest

from portico.devcluster.store import Kind, ObjectStore, StatusError, matches_labels

ROUTE = Kind("gateway.networking.k8s.io/v1/httproutes", "gateway.networking.k8s.io/v1", "HTTPRoute", True)


def route(name: str = "r", **extra: object) -> dict[str, object]:
    return {"metadata": {"name": name, **extra}, "spec": {"parentRefs": [{"name": "gw"}]}}


async def test_a_status_write_changes_only_status_and_not_generation() -> None:
    store = ObjectStore()
    created = store.create(ROUTE, "shop", route())
    body = {"spec": {"parentRefs": []}, "status": {"parents": []}}
    written = store.patch(ROUTE, "shop", "r", body, subresource="status")
    assert written["spec"] == created["spec"] and written["status"] == {"parents": []}
    assert written["metadata"]["generation"] == 1
    assert int(written["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


async def test_a_finalizer_holds_deletion_until_it_is_removed() -> None:
    store = ObjectStore()
    store.create(ROUTE, "shop", route(finalizers=["x"]))
    held = store.delete(ROUTE, "shop", "r")
    assert held["metadata"]["deletionTimestamp"]
    store.patch(ROUTE, "shop", "r", {"metadata": {"finalizers": None}})
    with pytest.raises(StatusError) as caught:
        store.get(ROUTE, "shop", "r")
    assert caught.value.code == 404


async def test_a_watch_resumes_after_a_version_and_an_expired_one_is_gone() -> None:
    store = ObjectStore(log_size=2)
    first = store.create(ROUTE, "shop", route("a"))
    store.create(ROUTE, "shop", route("b"))
    replay, _ = store.subscribe(ROUTE, first["metadata"]["resourceVersion"])
    assert [e["object"]["metadata"]["name"] for e in replay] == ["b"]
    store.create(ROUTE, "shop", route("c"))
    store.create(ROUTE, "shop", route("d"))  # the log keeps c and d: b's creation is lost
    with pytest.raises(StatusError) as caught:
        store.subscribe(ROUTE, first["metadata"]["resourceVersion"])
    assert caught.value.code == 410
    everything, _ = store.subscribe(ROUTE, None)
    assert sorted(e["object"]["metadata"]["name"] for e in everything) == ["a", "b", "c", "d"]


def test_label_selectors() -> None:
    obj = {"metadata": {"labels": {"app": "portico", "tier": "edge"}}}
    assert matches_labels(obj, "app=portico,tier==edge")
    assert matches_labels(obj, "app,!missing,tier!=core")
    assert not matches_labels(obj, "app=other")
    assert not matches_labels(obj, "!app")
