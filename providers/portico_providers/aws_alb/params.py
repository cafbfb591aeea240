"""`spec.aws` of a GatewayParameters object: how each Gateway's ALB is set up."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portico_providers.aws_common.params import Parameters, check_user_tags

SECTION = "aws"
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"
INTERNAL_SUBNET_TAG = "kubernetes.io/role/internal-elb"
DEFAULT_GRPC_HEALTH_CHECK_PATH = "/AWS.ALB/healthcheck"
DEFAULT_GRPC_SUCCESS_CODES = "12"


class AlbParameters(Parameters):
    """Every field is optional; the defaults give an internet-facing IPv4 ALB."""

    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    ip_address_type: Literal["ipv4", "dualstack"] = "ipv4"
    # Subnet ids; when empty, subnets tagged `subnet_tags` (default: the EKS role tag for the
    # scheme) are used, one per Availability Zone.
    subnets: tuple[str, ...] = ()
    subnet_tags: dict[str, str] = Field(default_factory=dict)
    vpc_id: str | None = None
    # Security group ids; when empty, the VPC's default security group.
    security_groups: tuple[str, ...] = ()
    ssl_policy: str = DEFAULT_SSL_POLICY
    # Gateway listener name -> ACM certificate ARNs (the first is the listener's default);
    # used instead of importing that listener's Secrets.
    certificate_arns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Added to every resource Portico creates for this Gateway.
    tags: Annotated[dict[str, str], AfterValidator(check_user_tags)] = Field(default_factory=dict)
    health_check_path: str = "/"
    # gRPC target groups: the path and gRPC status codes of their health checks. The defaults are
    # ALB's own for gRPC (a gRPC call to /AWS.ALB/healthcheck answered UNIMPLEMENTED, code 12).
    grpc_health_check_path: str = DEFAULT_GRPC_HEALTH_CHECK_PATH
    grpc_success_codes: str = DEFAULT_GRPC_SUCCESS_CODES
    # `ip`: register pod IPs. `instance`: register the nodes (EC2 instances tagged
    # kubernetes.io/cluster/<cluster id>) at the Service's nodePort.
    target_type: Literal["ip", "instance"] = "ip"

    def subnet_selector(self) -> dict[str, str]:
        if self.subnet_tags:
            return dict(self.subnet_tags)
        role = PUBLIC_SUBNET_TAG if self.scheme == "internet-facing" else INTERNAL_SUBNET_TAG
        return {role: "1"}
