"""`spec.awsLattice` of a GatewayParameters object: how each Gateway maps onto VPC Lattice."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portico_providers.aws_common.params import Parameters, check_user_tags
from portico_providers.kit.parameters import printer_column

SECTION = "awsLattice"


class LatticeParameters(Parameters):
    """Settings of the aws-lattice provider (a VPC Lattice service network per Gateway)."""

    vpc_id: str | None = Field(
        default=None,
        json_schema_extra=printer_column(
            "Lattice VPC", "VPC associated with the service network (aws-lattice provider)."
        ),
    )
    """VPC of the pods (the target groups), associated with the service network."""
    service_network: str | None = None
    """An existing service network (name, id or ARN) the Gateway's services join; when unset, Portico
    creates one service network per Gateway."""
    associate_vpc: bool = True
    """Associate vpcId with the service network so clients in that VPC reach the services."""
    security_groups: tuple[str, ...] = Field(default=(), max_length=5)
    """Security group ids of the VPC association."""
    certificate_arn: str | None = None
    """ACM certificate ARN for HTTPS services, used instead of importing the listener's Secret."""
    auth_type: Literal["NONE", "AWS_IAM"] = "NONE"
    """Auth type of the services; AWS_IAM requires SigV4-signed requests allowed by an auth policy."""
    tags: Annotated[dict[str, str], AfterValidator(check_user_tags)] = Field(default_factory=dict)
    """Tags added to every AWS resource Portico creates for the Gateway. Keys may not start with
    portico.dev/ or aws:."""
