"""`aws-lattice`: a Gateway becomes a VPC Lattice service network, one service per route.

See docs/providers/aws.md.

Importing this package does not import boto3; the provider module is loaded by the factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.provider import ProviderContext, ProviderSpec
from portico_providers.aws_lattice.params import SECTION, LatticeParameters

if TYPE_CHECKING:
    from portico.provider import AnyProvider


def _create(context: ProviderContext) -> AnyProvider:
    from portico_providers.aws_lattice.provider import create

    return create(context)


SPEC = ProviderSpec(
    name="aws-lattice", factory=_create, requires=("boto3",), extra="aws", section=SECTION, parameters=LatticeParameters
)
