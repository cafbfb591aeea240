"""The proxy provider's pure planning: diff against observed objects, addresses, readiness."""

from __future__ import annotations

import pytest

from portico.ir import GatewayIR, Infrastructure, Listener, ListenerProtocol, ObjectKey
from portico_providers.proxy import objects as o
from portico_providers.proxy.plan import (
    KubeObject,
    Observed,
    addresses,
    node_addresses,
    object_id,
    patch_body,
    plan,
    readiness,
)

GW = ObjectKey(namespace="default", name="web")


def ir(service_type: str | None = None, port: int = 80) -> GatewayIR:
    params = {"proxy": {"serviceType": service_type}} if service_type else {}
    return GatewayIR(
        gateway=GW,
        uid="u1",
        gateway_class="portico",
        controller_name="portico.dev/proxy",
        listeners=(Listener(name="http", port=port, protocol=ListenerProtocol.HTTP),),
        infrastructure=Infrastructure(parameters=params),
    )


def observed_from(gateway: GatewayIR) -> Observed:
    # What the API server returns: our fields plus defaults and status it adds.
    found = {}
    for obj in o.desired_objects(gateway):
        server = {**obj, "metadata": {**obj["metadata"], "uid": "x", "resourceVersion": "7"}, "status": {}}
        if obj["kind"] == "Service":
            server["spec"] = {**obj["spec"], "clusterIP": "10.0.0.1", "sessionAffinity": "None"}
        found[object_id(obj)] = server
    return Observed(found)


def test_nothing_to_do_when_the_cluster_matches() -> None:
    assert plan(ir(), observed_from(ir()), GW, o.DEFAULT_IMAGE).is_empty


def test_a_changed_port_patches_service_and_deployment_and_config() -> None:
    planned = plan(ir(port=8080), observed_from(ir()), GW, o.DEFAULT_IMAGE)
    assert [(s["action"], s["kind"]) for s in planned.to_document()["steps"]] == [
        ("patch", "ConfigMap"),
        ("patch", "Deployment"),
        ("patch", "Service"),
    ]
    desired = planned.steps[2].desired
    assert desired is not None and isinstance(desired.spec, KubeObject)
    service_patch = patch_body(desired.spec.body)
    assert service_patch["spec"]["ports"][0]["port"] == 8080
    assert "name" not in service_patch["metadata"]


def test_deleting_removes_everything_owned_service_first() -> None:
    planned = plan(None, observed_from(ir()), GW, o.DEFAULT_IMAGE)
    assert [(s["action"], s["kind"]) for s in planned.to_document()["steps"]] == [
        ("delete", "Service"),
        ("delete", "Deployment"),
        ("delete", "ConfigMap"),
    ]


def test_service_type_comes_from_parameters_with_load_balancer_as_default() -> None:
    assert o.service(ir())["spec"]["type"] == "LoadBalancer"
    assert o.service(ir("NodePort"))["spec"]["type"] == "NodePort"


def test_bad_parameters_are_an_error_naming_the_field_never_a_silent_default() -> None:
    with pytest.raises(o.InvalidProxyParameters, match=r"spec\.proxy\.serviceType.*'Bogus'"):
        o.service(ir("Bogus"))
    bad_replicas = GatewayIR.model_validate(
        {**ir().model_dump(), "infrastructure": {"parameters": {"proxy": {"replicas": -1}}}}
    )
    with pytest.raises(o.InvalidProxyParameters, match=r"spec\.proxy\.replicas"):
        o.deployment(bad_replicas)
    typo = GatewayIR.model_validate({**ir().model_dump(), "infrastructure": {"parameters": {"proxy": {"replica": 2}}}})
    with pytest.raises(o.InvalidProxyParameters, match=r"spec\.proxy\.replica"):
        o.deployment(typo)


def test_addresses_per_service_type() -> None:
    lb = {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example.com"}]}}}
    assert addresses("LoadBalancer", lb, ()) == (("IPAddress", "192.0.2.1"), ("Hostname", "lb.example.com"))
    nodes = [
        {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]}},
        {
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": "10.0.0.6"},
                    {"type": "ExternalIP", "address": "198.51.100.6"},
                ]
            }
        },
    ]
    assert addresses("NodePort", {}, node_addresses(nodes)) == (
        ("IPAddress", "10.0.0.5"),
        ("IPAddress", "198.51.100.6"),
    )
    assert addresses("ClusterIP", {"spec": {"clusterIP": "10.96.0.9"}}, ()) == (("IPAddress", "10.96.0.9"),)


def test_programmed_needs_an_available_replica_and_a_load_balancer_address() -> None:
    ready = {"status": {"availableReplicas": 1}}
    assert readiness(None, (), "ClusterIP")
    assert "replica" in readiness({"status": {}}, (("IPAddress", "a"),), "LoadBalancer")
    assert "load balancer" in readiness(ready, (), "LoadBalancer")
    assert readiness(ready, (), "ClusterIP") == ""


def test_long_gateway_names_stay_valid_object_names() -> None:
    name = o.object_name("g" * 80)
    assert len(name) <= 63 and name.startswith("portico-ggg")
