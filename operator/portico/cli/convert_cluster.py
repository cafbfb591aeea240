"""`portico convert --from-cluster`: the same objects as from files, read from a live cluster through
the `kubernetes` client with list calls only (never a write)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ClusterReadError(Exception):
    """The cluster could not be read; the message says why (no credentials, forbidden, unreachable)."""


def _items(api_client: Any, listed: Any, api_version: str, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in listed.items:
        obj: dict[str, Any] = api_client.sanitize_for_serialization(item)
        obj["apiVersion"], obj["kind"] = api_version, kind
        out.append(obj)
    return out


def _secret_names(api_client: Any, listed: Any) -> list[dict[str, Any]]:
    """Secrets by name only: the converter needs to know a certificate exists, never its content."""
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": s.metadata.namespace, "name": s.metadata.name}}
        for s in listed.items
    ]


def read_cluster(context: str | None = None) -> list[dict[str, Any]]:
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    try:
        try:
            config.load_kube_config(context=context)  # type: ignore[no-untyped-call]
        except (ConfigException, FileNotFoundError, TypeError):
            config.load_incluster_config()  # type: ignore[no-untyped-call]
    except ConfigException as error:
        raise ClusterReadError(f"no kubeconfig or in-cluster credentials: {error}") from error
    api_client = client.ApiClient()
    networking, core = client.NetworkingV1Api(api_client), client.CoreV1Api(api_client)
    calls: list[tuple[Callable[[], Any], str, str]] = [
        (networking.list_ingress_for_all_namespaces, "networking.k8s.io/v1", "Ingress"),
        (networking.list_ingress_class, "networking.k8s.io/v1", "IngressClass"),
        (core.list_service_for_all_namespaces, "v1", "Service"),
        (core.list_config_map_for_all_namespaces, "v1", "ConfigMap"),
    ]
    objects: list[dict[str, Any]] = []
    try:
        for call, api_version, kind in calls:
            objects += _items(api_client, call(), api_version, kind)
        objects += _secret_names(api_client, core.list_secret_for_all_namespaces())
    except ApiException as error:
        raise ClusterReadError(f"{error.status} {error.reason}") from error
    except (HTTPError, OSError) as error:
        raise ClusterReadError(str(error)) from error
    finally:
        api_client.close()  # type: ignore[no-untyped-call]
    return objects
