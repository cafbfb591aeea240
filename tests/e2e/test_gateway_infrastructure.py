"""spec.infrastructure and spec.addresses on the proxy's objects: the operator against the emulator,
whose Service controller assigns a LoadBalancer its requested IP only from 192.0.2.0/24."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Cluster, RunningOperator
from tests.e2e.test_operator_e2e import condition


def gateway(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    listeners = [{"name": "http", "port": 80, "protocol": "HTTP"}]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"gatewayClassName": "portico", "listeners": listeners, **spec},
    }


async def programmed_condition(cluster: Cluster, name: str, status: str) -> dict[str, Any] | None:
    cond = condition(await cluster.get("Gateway", "default", name), "Programmed")
    return cond if cond and cond["status"] == status else None


async def test_infrastructure_labels_and_annotations_reach_every_object(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    infrastructure = {
        "labels": {"team": "payments", "app.kubernetes.io/part-of": "shop", "node.kubernetes.io/role": "x"},
        "annotations": {"linkerd.io/inject": "enabled", "kubectl.kubernetes.io/restartedAt": "now"},
    }
    await cluster.create(gateway("infra", {"infrastructure": infrastructure}))
    await cluster.wait_for("Gateway infra Programmed", lambda: programmed_condition(cluster, "infra", "True"))

    for kind in ("ConfigMap", "Deployment", "Service"):
        obj = await cluster.get(kind, "default", "portico-infra")
        assert obj is not None, kind
        labels, annotations = obj["metadata"]["labels"], obj["metadata"].get("annotations", {})
        assert labels["team"] == "payments" and labels["app.kubernetes.io/part-of"] == "shop", kind
        assert "node.kubernetes.io/role" not in labels, kind  # reserved by Kubernetes: not propagated
        assert annotations == {"linkerd.io/inject": "enabled"}, kind
    deployment = await cluster.get("Deployment", "default", "portico-infra")
    pod = deployment["spec"]["template"]["metadata"]  # type: ignore[index]
    assert pod["labels"]["team"] == "payments" and pod["annotations"] == {"linkerd.io/inject": "enabled"}
    assert deployment["spec"]["selector"]["matchLabels"].get("team") is None  # type: ignore[index]

    # Changed on the Gateway, changed on the objects.
    await cluster.patch("Gateway", "default", "infra", {"spec": {"infrastructure": {"labels": {"team": "search"}}}})

    async def relabelled() -> bool:
        service = await cluster.get("Service", "default", "portico-infra")
        return bool(service and service["metadata"]["labels"].get("team") == "search")

    await cluster.wait_for("the Service relabelled", relabelled)

    gw_class = await cluster.get("GatewayClass", "", "portico")
    names = [f["name"] for f in gw_class["status"]["supportedFeatures"]]  # type: ignore[index]
    assert "GatewayInfrastructurePropagation" in names and "GatewayStaticAddresses" in names


async def test_a_requested_load_balancer_ip_is_the_gateways_address(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(gateway("static", {"addresses": [{"type": "IPAddress", "value": "192.0.2.200"}]}))
    await cluster.wait_for("Gateway static Programmed", lambda: programmed_condition(cluster, "static", "True"))
    service = await cluster.get("Service", "default", "portico-static")
    assert service["spec"]["loadBalancerIP"] == "192.0.2.200"  # type: ignore[index]
    found = await cluster.get("Gateway", "default", "static")
    assert found["status"]["addresses"] == [{"type": "IPAddress", "value": "192.0.2.200"}]  # type: ignore[index]


async def test_an_ip_the_load_balancer_cannot_assign_is_not_assigned(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(gateway("outside", {"addresses": [{"type": "IPAddress", "value": "203.0.113.9"}]}))
    cond = await cluster.wait_for("Programmed=False", lambda: programmed_condition(cluster, "outside", "False"))
    assert cond["reason"] == "AddressNotAssigned"
    assert cond["message"].startswith("spec.addresses[0]:") and "203.0.113.9" in cond["message"]


async def test_a_load_balancer_that_keeps_another_ip_makes_the_address_not_usable(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    await cluster.wait_for("Gateway web Programmed", lambda: programmed_condition(cluster, "web", "True"))
    service = await cluster.get("Service", "default", "portico-web")
    assigned = service["status"]["loadBalancer"]["ingress"][0]["ip"]  # type: ignore[index]
    wanted = "192.0.2.251" if assigned != "192.0.2.251" else "192.0.2.252"
    await cluster.patch("Gateway", "default", "web", {"spec": {"addresses": [{"type": "IPAddress", "value": wanted}]}})
    cond = await cluster.wait_for("Programmed=False", lambda: programmed_condition(cluster, "web", "False"))
    assert cond["reason"] == "AddressNotUsable"
    expected = f"spec.addresses[0]: {wanted} was requested, the load balancer assigned {assigned} instead"
    assert cond["message"] == expected
    found = await cluster.get("Gateway", "default", "web")
    assert found["status"]["addresses"] == [{"type": "IPAddress", "value": assigned}]  # type: ignore[index]


async def test_cluster_ip_gateways_answer_on_requested_external_ips(
    cluster: Cluster, operator: RunningOperator
) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "GatewayParameters",
            "metadata": {"name": "internal", "namespace": "default"},
            "spec": {"proxy": {"serviceType": "ClusterIP"}},
        }
    )
    reference = {"group": "portico.dev", "kind": "GatewayParameters", "name": "internal"}
    addresses = [{"type": "IPAddress", "value": "10.20.0.5"}, {"type": "IPAddress", "value": "fd00::5"}]
    spec = {"addresses": addresses, "infrastructure": {"parametersRef": reference}}
    await cluster.create(gateway("internal", spec))
    await cluster.wait_for("Gateway internal Programmed", lambda: programmed_condition(cluster, "internal", "True"))
    service = await cluster.get("Service", "default", "portico-internal")
    assert service["spec"]["type"] == "ClusterIP"  # type: ignore[index]
    assert service["spec"]["externalIPs"] == ["10.20.0.5", "fd00::5"]  # type: ignore[index]
    found = await cluster.get("Gateway", "default", "internal")
    status_addresses = found["status"]["addresses"]  # type: ignore[index]
    assert status_addresses[:2] == addresses
    assert status_addresses[2:] == [{"type": "IPAddress", "value": service["spec"]["clusterIP"]}]  # type: ignore[index]


async def test_external_ips_the_api_server_forbids_are_not_usable(cluster: Cluster, operator: RunningOperator) -> None:
    """With the DenyServiceExternalIPs admission plugin (GKE's default) the Service is refused: the
    Gateway says why on Programmed (AddressNotUsable), and serves once the request changes."""
    cluster.emulator.deny_external_ips = True
    await cluster.apply("base.yaml")
    await cluster.create(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "GatewayParameters",
            "metadata": {"name": "internal", "namespace": "default"},
            "spec": {"proxy": {"serviceType": "ClusterIP"}},
        }
    )
    reference = {"group": "portico.dev", "kind": "GatewayParameters", "name": "internal"}
    spec = {"addresses": [{"type": "IPAddress", "value": "10.20.0.5"}], "infrastructure": {"parametersRef": reference}}
    await cluster.create(gateway("denied", spec))
    cond = await cluster.wait_for("Programmed=False", lambda: programmed_condition(cluster, "denied", "False"))
    assert cond["reason"] == "AddressNotUsable"
    assert cond["message"].startswith("spec.addresses[0] (10.20.0.5): the API server refused the Service's externalIPs")
    assert "Use of external IPs is denied by admission control" in cond["message"]
    assert await cluster.get("Service", "default", "portico-denied") is None
    await cluster.patch("Gateway", "default", "denied", {"spec": {"addresses": None}})
    await cluster.wait_for("Gateway denied Programmed", lambda: programmed_condition(cluster, "denied", "True"))


async def test_an_address_without_value_gets_the_services_own(cluster: Cluster, operator: RunningOperator) -> None:
    """GatewayAddressEmpty: an IPAddress with no value asks for an address of that type, any one."""
    await cluster.apply("base.yaml")
    await cluster.create(gateway("any-ip", {"addresses": [{"type": "IPAddress"}]}))
    await cluster.wait_for("Gateway any-ip Programmed", lambda: programmed_condition(cluster, "any-ip", "True"))
    service = await cluster.get("Service", "default", "portico-any-ip")
    assert "loadBalancerIP" not in service["spec"] and "externalIPs" not in service["spec"]  # type: ignore[index]
    assigned = service["status"]["loadBalancer"]["ingress"][0]["ip"]  # type: ignore[index]
    found = await cluster.get("Gateway", "default", "any-ip")
    assert found["status"]["addresses"] == [{"type": "IPAddress", "value": assigned}]  # type: ignore[index]
    gw_class = await cluster.get("GatewayClass", "", "portico")
    assert "GatewayAddressEmpty" in [f["name"] for f in gw_class["status"]["supportedFeatures"]]  # type: ignore[index]


async def test_a_hostname_address_is_unsupported(cluster: Cluster, operator: RunningOperator) -> None:
    await cluster.apply("base.yaml")
    await cluster.create(gateway("named", {"addresses": [{"type": "Hostname", "value": "gw.example.com"}]}))

    async def rejected() -> dict[str, Any] | None:
        cond = condition(await cluster.get("Gateway", "default", "named"), "Accepted")
        return cond if cond and cond["status"] == "False" else None

    cond = await cluster.wait_for("Accepted=False", rejected)
    assert cond["reason"] == "UnsupportedAddress"
    expected = "spec.addresses[0].type: Hostname is not supported by provider proxy (supported: IPAddress)"
    assert cond["message"] == expected
    assert await cluster.get("Service", "default", "portico-named") is None
