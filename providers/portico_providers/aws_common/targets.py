"""Target-group pieces ALB and VPC Lattice model the same way: a registered target and a weighted forward."""

from __future__ import annotations

from portico_providers.kit.references import Reference
from portico_providers.kit.resources import Spec


class Target(Spec):
    """A registered target: a pod IP or an EC2 instance id, and its port."""

    id: str
    port: int


class WeightedTargetGroup(Spec):
    target_group: Reference
    weight: int
