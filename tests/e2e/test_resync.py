"""The periodic resync: a Programmed Gateway is reconciled again, so a change made in the cloud
behind Portico's back (here an ALB rule deleted in moto) is repaired without any Kubernetes event."""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest import mock

from portico.handlers.reconcile import Timing
from tests.e2e.conftest import FAST_RETRIES, Cluster, RunningOperator
from tests.e2e.test_operator_e2e import programmed
from tests.providers.aws.conftest import CLUSTER, REGION, fresh_account

OBJECTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "aws"},
        "spec": {"controllerName": "portico.dev/aws-alb"},
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"gatewayClassName": "aws", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
    },
    {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "app-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "app"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080}],
        "endpoints": [{"addresses": ["10.0.0.10"], "conditions": {"ready": True}}],
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "shop", "namespace": "default"},
        "spec": {
            "parentRefs": [{"name": "web"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                    "backendRefs": [{"name": "app", "port": 8080}],
                },
                {"backendRefs": [{"name": "app", "port": 8080}]},
            ],
        },
    },
]


def owned_rules(elbv2: Any) -> list[str]:
    arns = []
    for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
            rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
            arns += [r["RuleArn"] for r in rules if not r["IsDefault"]]
    return sorted(arns)


async def test_a_rule_deleted_in_the_cloud_is_restored_by_the_resync(cluster: Cluster) -> None:
    with fresh_account() as account, mock.patch("portico_providers.kit.retry.sleep"):
        elbv2 = account.client("elbv2")
        options = {"aws-alb": {"session": account.session, "region": REGION}}
        timing = dataclasses.replace(FAST_RETRIES, resync_seconds=1.0)
        running = RunningOperator(cluster, timing, provider_options=options, cluster_id=CLUSTER)
        await running.start()
        try:
            for obj in OBJECTS:
                await cluster.create(obj)
            await cluster.wait_for("Gateway web Programmed", lambda: programmed(cluster), timeout=60)
            operator = running.operator
            assert operator is not None

            async def settled() -> bool:  # every event handled: only the resync wakes the Gateway now
                return operator.bus.pending == 0 and operator.bus.idle(("Gateway", "default", "web"))

            await cluster.wait_for("the operator idle", settled)
            before = owned_rules(elbv2)
            assert len(before) == 2
            elbv2.delete_rule(RuleArn=before[0])  # out of band: no Kubernetes object changes

            async def restored() -> bool:
                return len(owned_rules(elbv2)) == 2

            await cluster.wait_for("the deleted rule back", restored, timeout=30)
        finally:
            await running.stop()


def test_resync_is_jittered_and_can_be_turned_off() -> None:
    timing = Timing(resync_seconds=100.0, resync_jitter=0.1)
    delays = {timing.resync_after() for _ in range(50)}
    assert all(delay is not None and 90.0 <= delay <= 110.0 for delay in delays) and len(delays) > 1
    assert Timing(resync_seconds=0).resync_after() is None
