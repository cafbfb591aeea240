"""`spec.awsLattice` of a GatewayParameters object: how each Gateway maps onto VPC Lattice."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo

from portico_providers.aws_common.params import Parameters, check_user_tags
from portico_providers.kit.parameters import printer_column

SECTION = "awsLattice"
MAX_AUTH_POLICY = 102400  # characters (PutAuthPolicy's `policy` in the vpc-lattice API model)


def canonical_policy(text: str) -> str:
    """The policy as Lattice wants it (JSON without newlines), in one spelling so a diff is exact."""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def _check_auth_policy(value: str | None, info: ValidationInfo) -> str | None:
    auth_type = info.data.get("auth_type")
    if auth_type == "AWS_IAM" and value is None:
        raise ValueError("required when authType is AWS_IAM: Lattice denies every request that no auth policy allows")
    if auth_type == "NONE" and value is not None:
        raise ValueError("applies only with authType AWS_IAM")
    if value is None:
        return None
    try:
        document: Any = json.loads(value)
    except ValueError as error:
        raise ValueError(f"not a JSON policy document: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        raise ValueError("a policy document is a JSON object with a Statement")
    if len(canonical_policy(value)) > MAX_AUTH_POLICY:
        raise ValueError(f"longer than {MAX_AUTH_POLICY} characters")
    return value


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
    """Auth type of the service network and services; AWS_IAM requires SigV4-signed requests that
    the auth policy allows."""
    auth_policy: Annotated[str | None, AfterValidator(_check_auth_policy)] = Field(default=None, validate_default=True)
    """IAM auth policy (a JSON policy document) Portico puts on the service network it creates and
    on every service; required with authType AWS_IAM, not allowed without it."""
    tags: Annotated[dict[str, str], AfterValidator(check_user_tags)] = Field(default_factory=dict)
    """Tags added to every AWS resource Portico creates for the Gateway. Keys may not start with
    portico.dev/ or aws:."""
