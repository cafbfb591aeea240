"""`spec.aws` of a GatewayParameters object: how each Gateway's ALB is set up."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portico_providers.aws_common.params import Parameters, check_cidr, check_user_tags
from portico_providers.kit.parameters import printer_column

SECTION = "aws"
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"
INTERNAL_SUBNET_TAG = "kubernetes.io/role/internal-elb"
DEFAULT_GRPC_HEALTH_CHECK_PATH = "/AWS.ALB/healthcheck"
DEFAULT_GRPC_SUCCESS_CODES = "12"


def two_or_none(subnets: tuple[str, ...]) -> tuple[str, ...]:
    """Validator body: an ALB spans at least two Availability Zones, so one subnet is never enough."""
    if len(set(subnets)) == 1:
        raise ValueError(f"an ALB needs subnets in at least two Availability Zones; only {subnets[0]} is given")
    return subnets


class AlbParameters(Parameters):
    """Settings of the aws-alb provider (one Application Load Balancer per Gateway)."""

    scheme: Literal["internet-facing", "internal"] = Field(
        default="internet-facing",
        json_schema_extra=printer_column("ALB Scheme", "Scheme of the ALBs (aws-alb provider)."),
    )
    """Whether the ALB is reachable from the internet or only inside the VPC."""
    ip_address_type: Literal["ipv4", "dualstack"] = "ipv4"
    """IP address family of the ALB's addresses."""
    subnets: Annotated[tuple[str, ...], AfterValidator(two_or_none)] = ()
    """Subnet ids, at least two Availability Zones. Empty: the subnets matching subnetTags, one per
    Availability Zone."""
    subnet_tags: dict[str, str] = Field(default_factory=dict)
    """Tags selecting the subnets when subnets is empty. Empty: the EKS convention for the scheme
    (kubernetes.io/role/elb=1 internet-facing, kubernetes.io/role/internal-elb=1 internal)."""
    vpc_id: str | None = None
    """VPC of the ALB and its target groups; when empty, the VPC of the subnets."""
    security_groups: tuple[str, ...] = ()
    """Security group ids of the ALB. Empty: Portico creates and owns a frontend security group open on the
    listener ports to inboundCidrs, and admits it in the targets' security groups."""
    inbound_cidrs: tuple[Annotated[str, AfterValidator(check_cidr)], ...] = ()
    """Client CIDRs the frontend security group admits on the listener ports (IPv4 or IPv6). Empty:
    0.0.0.0/0, and ::/0 too when ipAddressType is dualstack. Only without securityGroups."""
    manage_backend_security_group_rules: bool = True
    """With Portico's frontend security group: add, to the VPC's security groups tagged
    kubernetes.io/cluster/CLUSTER_ID (the nodes' or the EKS cluster security group), an ingress rule
    per target port from the frontend group; Portico owns those rules, not the groups."""
    ssl_policy: str = DEFAULT_SSL_POLICY
    """ELB security policy of HTTPS listeners."""
    certificate_arns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Gateway listener name to ACM certificate ARNs (the first is the listener's default), used
    instead of importing that listener's TLS Secrets into ACM."""
    tags: Annotated[dict[str, str], AfterValidator(check_user_tags)] = Field(default_factory=dict)
    """Tags added to every AWS resource Portico creates for the Gateway. Keys may not start with
    portico.dev/ or aws:."""
    health_check_path: str = "/"
    """Path of the target groups' HTTP health checks."""
    grpc_health_check_path: str = DEFAULT_GRPC_HEALTH_CHECK_PATH
    """Path of gRPC target groups' health checks; ALB's own default is a gRPC call to /AWS.ALB/healthcheck."""
    grpc_success_codes: str = DEFAULT_GRPC_SUCCESS_CODES
    """gRPC status codes that mean healthy (ALB's default 12: the health check method answered UNIMPLEMENTED)."""
    target_type: Literal["ip", "instance"] = "ip"
    """What the target groups register - pod IPs (ip, needs the VPC CNI), or the cluster's nodes at
    the Service's nodePort (instance; the running EC2 instances tagged kubernetes.io/cluster/CLUSTER_ID,
    so the chart's clusterId must then be the EKS cluster name)."""

    def subnet_selector(self) -> dict[str, str]:
        if self.subnet_tags:
            return dict(self.subnet_tags)
        role = PUBLIC_SUBNET_TAG if self.scheme == "internet-facing" else INTERNAL_SUBNET_TAG
        return {role: "1"}
