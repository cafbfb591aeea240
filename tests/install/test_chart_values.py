"""What the values change in the rendered chart, and that values.schema.json rejects mistakes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import helm_python as helm
import pytest

from portico.cli import build_parser
from portico_providers.proxy.objects import DEFAULT_IMAGE
from tests.install.chart import CHART, ROOT, notes, of_kind, only, render, values_of


def _operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return dict(container)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"replicaCont": 3}, "replicaCont"),
        ({"serviceAccount": {"awsRoleArm": "arn:aws:iam::123456789012:role/x"}}, "awsRoleArm"),
        ({"providers": {"proxy": {"parameters": {"serviceTyp": "NodePort"}}}}, "serviceTyp"),
        ({"providers": {"proxy": {"parameters": {"serviceType": "Ingress"}}}}, "serviceType"),
        ({"providers": {"awsAlb": {"enabled": True, "parameters": {"scheme": "public"}}}}, "scheme"),
        ({"serviceAccount": {"awsRoleArn": "my-role"}}, "awsRoleArn"),
        ({"replicaCount": 0}, "replicaCount"),
    ],
)
def test_schema_rejects_mistakes_naming_the_key(values: dict[str, Any], field: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError, match=field):
        chart.validate_schema(values)


def test_schema_accepts_every_shipped_values_file() -> None:
    with helm.Chart.load(CHART) as chart:
        for path in sorted((CHART / "ci").glob("*-values.yaml")):
            chart.validate_schema(values_of(path))


def test_container_is_locked_down_by_default() -> None:
    objects = render()
    container = _operator_container(objects)
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }
    assert container["resources"]["requests"]


def test_liveness_probe_and_operator_agree_on_the_port() -> None:
    container = _operator_container(render({"operator": {"healthPort": 9808}}))
    probe = container["livenessProbe"]["httpGet"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert probe["path"] == "/healthz"
    assert ports[probe["port"]] == 9808
    assert "--liveness=http://0.0.0.0:9808/healthz" in container["args"]


def test_no_cloud_identity_by_default() -> None:
    objects = render()
    account = only(objects, "ServiceAccount")
    assert "annotations" not in account["metadata"]
    labels = only(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert "azure.workload.identity/use" not in labels


def test_cloud_identities_from_values() -> None:
    objects = render(values_of(CHART / "ci" / "everything-values.yaml"))
    annotations = only(objects, "ServiceAccount")["metadata"]["annotations"]
    assert annotations == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/portico-lab",
        "azure.workload.identity/client-id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "iam.gke.io/gcp-service-account": "portico@lab-project.iam.gserviceaccount.com",
        "example.com/owner": "platform",
    }
    labels = only(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"


def test_an_aws_provider_needs_a_cluster_id() -> None:
    with pytest.raises(helm.HelmError, match="clusterId is required"):
        render({"providers": {"awsAlb": {"enabled": True}}})
    args = _operator_container(render({"clusterId": "prod", "providers": {"awsAlb": {"enabled": True}}}))["args"]
    assert "--cluster-id=prod" in args


def _secret_verbs(objects: list[dict[str, Any]]) -> set[str]:
    role = only(objects, "ClusterRole")
    return {verb for rule in role["rules"] if "secrets" in rule["resources"] for verb in rule["verbs"]}


def test_secrets_are_read_only_unless_cross_namespace_copies_are_enabled() -> None:
    assert _secret_verbs(render()) == {"list", "watch"}
    copies = {"providers": {"proxy": {"copyCertificatesAcrossNamespaces": True}}}
    assert _secret_verbs(render(copies)) == {"list", "watch", "create", "patch", "delete"}


def test_proxy_rules_only_with_the_proxy_provider() -> None:
    values = {"clusterId": "c", "providers": {"proxy": {"enabled": False}, "awsAlb": {"enabled": True}}}
    role = only(render(values), "ClusterRole")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert not resources & {"deployments"}
    # ConfigMaps are read for BackendTLSPolicy CA certificates; only the proxy provider writes them.
    assert {v for rule in role["rules"] if "configmaps" in rule["resources"] for v in rule["verbs"]} == {
        "list",
        "watch",
    }
    # Nodes are the operator's own (node addresses for every provider), not the proxy's.
    assert {v for rule in role["rules"] if "nodes" in rule["resources"] for v in rule["verbs"]} == {"list", "watch"}


def test_optional_objects_follow_their_switches() -> None:
    defaults = render()
    assert not of_kind(defaults, "ServiceMonitor")
    assert not of_kind(defaults, "NetworkPolicy")
    assert of_kind(defaults, "PodDisruptionBudget")
    assert not of_kind(render({"replicaCount": 1}), "PodDisruptionBudget")
    assert not of_kind(render({"metrics": {"enabled": False}}), "Service")
    assert not of_kind(render({"rbac": {"create": False}}), "ClusterRole")
    everything = render(values_of(CHART / "ci" / "everything-values.yaml"))
    monitor = only(everything, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert only(everything, "NetworkPolicy")["spec"]["policyTypes"] == ["Ingress"]


def test_notes_name_the_gateway_api_release_and_the_classes() -> None:
    text = notes(values_of(CHART / "ci" / "everything-values.yaml"))
    assert "gateway-api/releases/download/v1.6.1/standard-install.yaml" in text
    for name in ("portico-proxy", "portico-aws-alb", "portico-aws-lattice"):
        assert name in text
    assert "awsRoleArn is empty" in notes({"clusterId": "c", "providers": {"awsAlb": {"enabled": True}}})


def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_operator_args_parse_with_portico_run() -> None:
    values = values_of(CHART / "ci" / "everything-values.yaml")
    container = _operator_container(render(values))
    args = build_parser(container["args"]).parse_args(container["args"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert args.command == "run"
    assert args.cluster_id == "lab"
    assert args.lease_name == only(render(values), "Role")["metadata"]["name"]
    assert args.lease_duration > args.renew_deadline > args.retry_period > 0
    assert args.liveness == f"http://0.0.0.0:{ports['health']}/healthz"
    assert args.metrics_port == ports["metrics"]
    assert args.proxy_image == container["image"]
    assert args.gcp_project == "lab-project-1"
    assert not args.standalone


def test_proxy_provider_defaults_to_the_chart_image() -> None:
    assert _operator_container(render())["image"] == DEFAULT_IMAGE
