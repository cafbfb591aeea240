"""In a pod the operator authenticates with its projected service-account token. The kubelet rotates
the token file before the token expires; the API server then refuses the old token. Portico's own
client and kopf's (through the login handler) both go on with the new token."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from portico.devcluster.faults import FaultRule
from portico.kube.service_account import ServiceAccountToken, service_account_connection
from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_run_kubeconfig import gateway_class, status_writers, wait_accepted
from tests.service_account import project_token

CRD_WATCH = ("watch", "apiextensions.k8s.io", "customresourcedefinitions")
OLD, NEW = "Bearer sa-token-1", "Bearer sa-token-2"


async def test_the_operator_follows_a_rotated_service_account_token(cluster: Cluster, tmp_path: Path) -> None:
    project_token(tmp_path, 1, "sa-token-1")
    in_cluster = service_account_connection(tmp_path)
    assert in_cluster is not None and isinstance(in_cluster.credentials, ServiceAccountToken)
    cluster.connection = replace(in_cluster, server=cluster.connection.server, ca_path=None)
    running = RunningOperator(cluster)
    await running.start()
    try:
        await cluster.create(gateway_class("before"))
        await wait_accepted(cluster, "before")
        assert status_writers(cluster) == {OLD}
        assert (*CRD_WATCH, OLD) in cluster.emulator.access_log  # kopf logged in with it

        # The kubelet rotates the file: Portico's client sends the new token from its next request on,
        # before the server has to refuse the old one.
        project_token(tmp_path, 2, "sa-token-2")
        writes_refused = cluster.emulator.faults.add(
            FaultRule(401, resources=frozenset({"gatewayclasses/status"}), authorization=OLD)
        )
        await cluster.create(gateway_class("after"))
        await wait_accepted(cluster, "after")
        assert writes_refused.injected == 0

        # The old token expires: kopf's watch reconnects with the token it holds, is refused, and its
        # login handler reads the new file.
        refused = cluster.emulator.faults.add(FaultRule(401, authorization=OLD))
        cluster.emulator.faults.cut_watches()

        async def kopf_logged_in_again() -> bool:
            return (*CRD_WATCH, NEW) in cluster.emulator.access_log

        await cluster.wait_for("kopf's watch with the rotated token", kopf_logged_in_again, timeout=60)
        await cluster.create(gateway_class("last"))
        await wait_accepted(cluster, "last")
    finally:
        await running.stop()
    assert refused.injected >= 1
    assert status_writers(cluster) == {OLD, NEW}
    assert {entry[3] for entry in cluster.emulator.access_log} - {"Bearer e2e-test-client"} == {OLD, NEW}
