"""A small asyncio Kubernetes API client (aiohttp) and the table of resources Portico reads and writes."""

from portico.kube.client import ApiError, KubeClient
from portico.kube.resources import RESOURCES, ResourceType, resource_for

__all__ = ["RESOURCES", "ApiError", "KubeClient", "ResourceType", "resource_for"]
