"""The emulator layer (versions, generations, conflicts) and the status writer's conflict path."""

from __future__ import annotations

from typing import Any

import pytest

from portico.handlers.store import Store
from portico.handlers.writer import StatusWriter
from portico.kube import ApiError, KubeClient, resource_for
from portico.kube.resources import ResourceType
from portico.manifests import load_manifests
from tests.e2e.conftest import MANIFESTS, Cluster


async def test_writes_stamp_versions_and_generations(cluster: Cluster) -> None:
    await cluster.apply("unavailable-class.yaml")
    created = await cluster.get("GatewayClass", "", "missing-provider")
    assert created is not None
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    first = int(meta["resourceVersion"])

    await cluster.patch("GatewayClass", "", "missing-provider", {"metadata": {"labels": {"a": "b"}}})
    labelled = await cluster.get("GatewayClass", "", "missing-provider")
    assert int(labelled["metadata"]["resourceVersion"]) > first  # type: ignore[index]
    assert labelled["metadata"]["generation"] == 1  # type: ignore[index]

    await cluster.patch("GatewayClass", "", "missing-provider", {"spec": {"description": "new"}})
    changed = await cluster.get("GatewayClass", "", "missing-provider")
    assert changed["metadata"]["generation"] == 2  # type: ignore[index]


async def test_a_stale_resource_version_is_a_conflict(cluster: Cluster) -> None:
    await cluster.apply("unavailable-class.yaml")
    stale = (await cluster.get("GatewayClass", "", "missing-provider"))["metadata"]["resourceVersion"]  # type: ignore[index]
    await cluster.patch("GatewayClass", "", "missing-provider", {"metadata": {"labels": {"x": "1"}}})
    with pytest.raises(ApiError) as caught:
        await cluster.patch(
            "GatewayClass", "", "missing-provider", {"metadata": {"resourceVersion": stale, "labels": {"x": "2"}}}
        )
    assert caught.value.status == 409
    assert cluster.emulator.conflicts == 1


class InterleavingClient(KubeClient):
    """Another controller writes the route's status between the writer's GET and its PATCH, once."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster.connection)
        self.cluster = cluster
        self.interleaved = False

    async def get(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        current = await super().get(resource, namespace, name)
        if not self.interleaved:
            self.interleaved = True
            foreign = {
                "parentRef": {"name": "other", "namespace": "default"},
                "controllerName": "example.com/x",
                "conditions": [],
            }
            await self.cluster.patch(resource.kind, namespace or "", name, {"status": {"parents": [foreign]}})
        return current


async def test_the_writer_retries_a_conflict_and_keeps_the_concurrent_change(cluster: Cluster) -> None:
    route = next(m.obj for m in load_manifests([MANIFESTS / "base.yaml"]) if m.obj["kind"] == "HTTPRoute")
    await cluster.create(route)
    client = InterleavingClient(cluster)
    writer = StatusWriter(client, Store(), "portico.dev/")
    writer.start()
    ours = {
        "parentRef": {"name": "web", "namespace": "default"},
        "controllerName": "portico.dev/proxy",
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "lastTransitionTime": "t"}],
    }
    writer.submit(("HTTPRoute", "shop", "shop"), {"parents": [ours]}, "default/web")
    await writer.flushed()
    await writer.close()
    await client.close()

    written = await cluster.get("HTTPRoute", "shop", "shop")
    assert [p["parentRef"]["name"] for p in written["status"]["parents"]] == ["other", "web"]  # type: ignore[index]
    assert cluster.emulator.conflicts == 1
    assert writer.stats.conflicts == 1 and writer.stats.writes == 1


async def test_the_writer_does_not_write_what_did_not_change(cluster: Cluster) -> None:
    await cluster.apply("unavailable-class.yaml")
    client = KubeClient(cluster.connection)
    writer = StatusWriter(client, Store(), "portico.dev/")
    writer.start()
    status = {"conditions": [{"type": "Accepted", "status": "False", "reason": "R", "lastTransitionTime": "t1"}]}
    for _ in range(3):
        writer.submit(("GatewayClass", "", "missing-provider"), status, "class")
        await writer.flushed()
    await writer.close()
    await client.close()
    assert writer.stats.writes == 1 and writer.stats.unchanged == 2
    assert resource_for("GatewayClass").plural == "gatewayclasses"
    assert len(cluster.writes("gatewayclasses", "status")) == 1
