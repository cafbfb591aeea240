"""Gateway `spec.addresses` on the proxy's Service (GatewayStaticAddresses), as pure functions.

A LoadBalancer Service asks its load balancer for one IP through `spec.loadBalancerIP` (read by
MetalLB, kube-vip and most cloud controllers); ClusterIP and NodePort Services answer on requested
IPs through `spec.externalIPs`. After apply the Service is compared with the request: an address
not there yet is AddressNotAssigned, one the load balancer replaced by another is AddressNotUsable,
and so are externalIPs the API server refuses (the DenyServiceExternalIPs admission plugin).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from portico.ir import GatewayIR

Problem = tuple[str, str]  # (Programmed reason, message naming the field)


def requested_ips(ir: GatewayIR) -> list[tuple[int, str]]:
    """(index in spec.addresses, value) of each IPAddress with a value; empty values are dynamic."""
    return [(i, a.value) for i, a in enumerate(ir.addresses) if a.type == "IPAddress" and a.value]


def service_fields(ir: GatewayIR, service_type: str) -> dict[str, Any]:
    """What the Service spec carries for the requested addresses."""
    values = [value for _, value in requested_ips(ir)]
    if not values:
        return {}
    if service_type == "LoadBalancer":
        return {"loadBalancerIP": values[0]}  # one only: the rest is reported AddressNotUsable
    return {"externalIPs": values}


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def _among(value: str, values: Sequence[str]) -> bool:
    return any(_same(value, v) for v in values)


def address_problem(
    ir: GatewayIR, service_type: str, service: Mapping[str, Any] | None, found: Sequence[tuple[str, str]]
) -> Problem | None:
    """Why the requested addresses are not (yet) the Gateway's; None when they are, or none is requested."""
    requested = requested_ips(ir)
    if not requested:
        return None
    if service_type == "LoadBalancer":
        if len(requested) > 1:
            index, value = requested[1]
            return (
                "AddressNotUsable",
                f"spec.addresses[{index}]: {value}: a LoadBalancer Service takes one requested IP address"
                " (spec.loadBalancerIP); request one, or use serviceType ClusterIP/NodePort (externalIPs)",
            )
        index, value = requested[0]
        assigned = [v for kind, v in found if kind == "IPAddress"]
        if not found:
            return (
                "AddressNotAssigned",
                f"spec.addresses[{index}]: waiting for the load balancer to assign {value}"
                " (Service spec.loadBalancerIP)",
            )
        if not _among(value, assigned):
            got = ", ".join(v for _, v in found)
            return (
                "AddressNotUsable",
                f"spec.addresses[{index}]: {value} was requested, the load balancer assigned {got} instead",
            )
        return None
    listed = [str(ip) for ip in ((service or {}).get("spec") or {}).get("externalIPs") or ()]
    for index, value in requested:
        if not _among(value, listed):
            message = f"spec.addresses[{index}]: {value} is not among the Service's externalIPs yet"
            return ("AddressNotAssigned", message)
    return None


def external_ips_refused(ir: GatewayIR, body: Mapping[str, Any], error: Exception) -> str | None:
    """The AddressNotUsable message when the API server forbade a Service write that carries the
    requested externalIPs (admission: DenyServiceExternalIPs, or a policy engine); else None."""
    status = getattr(error, "status", None)
    if status != 403 or body.get("kind") != "Service" or not (body.get("spec") or {}).get("externalIPs"):
        return None
    requested = requested_ips(ir)
    where = ", ".join(f"spec.addresses[{index}] ({value})" for index, value in requested)
    detail = getattr(error, "message", "") or str(error)
    return (
        f"{where}: the API server refused the Service's externalIPs: {detail}; allow them (DenyServiceExternalIPs), "
        "or request one address with serviceType LoadBalancer (spec.loadBalancerIP)"
    )
