"""Request bodies checked against the Compute v1 API model, as Compute checks them.

The model is the one google-cloud-compute is generated from (the compute v1 discovery
document): a field the message type does not have fails the parse, and a string field whose
message declares an enum of the same name must hold one of that enum's values.
"""

from __future__ import annotations

import json
import re
from typing import Any

import proto  # type: ignore[import-untyped]
from google.cloud import compute_v1
from google.protobuf import json_format

NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1035, as every Compute resource name

# collection -> message type of its resources
RESOURCES: dict[str, type[proto.Message]] = {
    "addresses": compute_v1.Address,
    "forwardingRules": compute_v1.ForwardingRule,
    "targetHttpProxies": compute_v1.TargetHttpProxy,
    "targetHttpsProxies": compute_v1.TargetHttpsProxy,
    "urlMaps": compute_v1.UrlMap,
    "backendServices": compute_v1.BackendService,
    "healthChecks": compute_v1.HealthCheck,
    "sslCertificates": compute_v1.SslCertificate,
    "networkEndpointGroups": compute_v1.NetworkEndpointGroup,
    "subnetworks": compute_v1.Subnetwork,
    "instanceGroups": compute_v1.InstanceGroup,
}

# (collection, custom verb, regional?) -> message type of the request body
VERB_BODIES: dict[tuple[str, str, bool], type[proto.Message]] = {
    ("targetHttpProxies", "setUrlMap", False): compute_v1.UrlMapReference,
    ("targetHttpProxies", "setUrlMap", True): compute_v1.UrlMapReference,
    ("targetHttpsProxies", "setUrlMap", False): compute_v1.UrlMapReference,
    ("targetHttpsProxies", "setUrlMap", True): compute_v1.UrlMapReference,
    ("targetHttpsProxies", "setSslCertificates", False): compute_v1.TargetHttpsProxiesSetSslCertificatesRequest,
    ("targetHttpsProxies", "setSslCertificates", True): compute_v1.RegionTargetHttpsProxiesSetSslCertificatesRequest,
    ("forwardingRules", "setTarget", False): compute_v1.TargetReference,
    ("forwardingRules", "setTarget", True): compute_v1.TargetReference,
    ("networkEndpointGroups", "attachNetworkEndpoints", False): compute_v1.NetworkEndpointGroupsAttachEndpointsRequest,
    ("networkEndpointGroups", "detachNetworkEndpoints", False): compute_v1.NetworkEndpointGroupsDetachEndpointsRequest,
    ("networkEndpointGroups", "listNetworkEndpoints", False): compute_v1.NetworkEndpointGroupsListEndpointsRequest,
    ("instanceGroups", "addInstances", False): compute_v1.InstanceGroupsAddInstancesRequest,
    ("instanceGroups", "removeInstances", False): compute_v1.InstanceGroupsRemoveInstancesRequest,
    ("instanceGroups", "setNamedPorts", False): compute_v1.InstanceGroupsSetNamedPortsRequest,
    ("instanceGroups", "listInstances", False): compute_v1.InstanceGroupsListInstancesRequest,
}

# Fields Compute sets itself; a client that sends them is refused.
OUTPUT_ONLY = frozenset({"id", "creationTimestamp", "selfLink", "kind"})


class ModelError(ValueError):
    """The body does not fit the API model (Compute answers 400 invalid)."""


def _check_enums(message: Any, where: str) -> None:
    """Every string field with a same-named nested enum holds one of the enum's names."""
    pb = type(message).pb(message) if isinstance(message, proto.Message) else message
    for field, value in pb.ListFields():
        path = f"{where}.{field.json_name}"
        values = list(value) if field.is_repeated else [value]
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry:
                continue
            for index, item in enumerate(values):
                _check_enums(item, f"{path}[{index}]" if field.is_repeated else path)
            continue
        enum_name = field.json_name[:1].upper() + field.json_name[1:]
        nested = {e.name: e for e in pb.DESCRIPTOR.enum_types}
        if field.type == field.TYPE_STRING and enum_name in nested:
            allowed = {v.name for v in nested[enum_name].values} - {f"UNDEFINED_{_snake(field.json_name)}"}
            for item in values:
                if item not in allowed:
                    raise ModelError(f"Invalid value for field '{path}': '{item}'.")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def parse(body: dict[str, Any], message_type: type[proto.Message], where: str) -> Any:
    """The body as `message_type`, strictly: unknown fields and bad enum values are errors."""
    try:
        message = message_type.from_json(json.dumps(body), ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError) as error:
        raise ModelError(f"Invalid JSON payload received. {error}") from None
    _check_enums(message, where)
    return message


def check_resource(collection: str, body: dict[str, Any], *, creating: bool) -> None:
    parse(body, RESOURCES[collection], collection)
    sent = OUTPUT_ONLY & set(body) if creating else set()
    if sent:
        raise ModelError(f"Output-only fields sent: {', '.join(sorted(sent))}")
    name = body.get("name")
    if creating and (not isinstance(name, str) or not NAME.match(name)):
        raise ModelError(f"Invalid value for field 'resource.name': '{name}'. Must match '{NAME.pattern}'")
    description = body.get("description")
    if isinstance(description, str) and len(description) > 2048:
        raise ModelError("Invalid value for field 'resource.description': longer than 2048 characters")
