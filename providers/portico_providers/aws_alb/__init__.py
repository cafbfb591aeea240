"""`aws-alb`: a Gateway becomes an Application Load Balancer (see docs/providers/aws.md).

Importing this package does not import boto3; the provider module is loaded by the factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.provider import ProviderContext, ProviderSpec
from portico_providers.aws_alb.params import SECTION, AlbParameters

if TYPE_CHECKING:
    from portico.provider import AnyProvider


def _create(context: ProviderContext) -> AnyProvider:
    from portico_providers.aws_alb.provider import create

    return create(context)


SPEC = ProviderSpec(
    name="aws-alb", factory=_create, requires=("boto3",), extra="aws", section=SECTION, parameters=AlbParameters
)
