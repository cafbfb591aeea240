"""`spec.awsLattice` of a GatewayParameters object: how each Gateway maps onto VPC Lattice."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portico_providers.aws_common.params import Parameters, check_user_tags

SECTION = "awsLattice"


class LatticeParameters(Parameters):
    # The VPC of the pods (target groups) and the one associated with the service network.
    vpc_id: str | None = None
    # An existing service network (name, id or ARN) to join; when unset, Portico creates one per Gateway.
    service_network: str | None = None
    # Associate `vpc_id` with the service network so clients in that VPC can reach the services.
    associate_vpc: bool = True
    # Security groups of that VPC association (at most 5).
    security_groups: tuple[str, ...] = Field(default=(), max_length=5)
    # ACM certificate for HTTPS services, instead of importing the listener's Secret.
    certificate_arn: str | None = None
    auth_type: Literal["NONE", "AWS_IAM"] = "NONE"
    tags: Annotated[dict[str, str], AfterValidator(check_user_tags)] = Field(default_factory=dict)
