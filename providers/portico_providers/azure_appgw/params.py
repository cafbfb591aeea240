"""`spec.azure` of a GatewayParameters object: how each Gateway's Application Gateway v2 is set up."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from portico_providers.kit.parameters import SectionModel

SECTION = "azure"
DEFAULT_SSL_POLICY = "AppGwSslPolicy20220101"
RESERVED_TAG_PREFIXES = ("portico.dev/", "microsoft", "azure", "windows")
# ARM tag names may not contain these characters (Azure Resource Manager tag rules).
FORBIDDEN_TAG_CHARACTERS = re.compile(r"[<>%&\\?/]")
ARM_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+(/[^/]+/[^/]+)*$", re.I)


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    """Azure tags: names up to 512 characters without <>%&\\?/, values up to 256; no reserved prefixes."""
    for key, value in tags.items():
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            raise ValueError(f"tag name {key!r} uses a reserved prefix ({', '.join(RESERVED_TAG_PREFIXES)})")
        if FORBIDDEN_TAG_CHARACTERS.search(key) or not 1 <= len(key) <= 512:
            raise ValueError(f"tag name {key!r}: 1-512 characters, none of <>%&\\?/")
        if len(value) > 256:
            raise ValueError(f"tag {key!r}: values are at most 256 characters")
    return tags


def _check_arm_id(value: str | None) -> str | None:
    if value is not None and not ARM_ID.match(value):
        raise ValueError(f"{value!r} is not an Azure resource id (/subscriptions/.../resourceGroups/.../providers/...)")
    return value


ArmId = Annotated[str | None, AfterValidator(_check_arm_id)]


class Autoscale(SectionModel):
    """Application Gateway v2 autoscaling bounds (Azure's published v2 limit: 0-125 instances)."""

    min_capacity: int = Field(default=0, ge=0, le=125)
    """Fewest instances Azure keeps running."""
    max_capacity: int = Field(default=10, ge=2, le=125)
    """Most instances Azure scales out to."""


class AppGwParameters(SectionModel):
    """Settings of the azure-appgw provider: how each Gateway's Application Gateway v2 is set up.
    `location` and `subnetId` are required; the rest has AGIC-like defaults. The subscription and
    resource group are the operator's (`portico run --azure-subscription-id/--azure-resource-group`)."""

    location: str | None = None
    """Azure region of the Application Gateway and its public IP, e.g. westeurope."""
    subnet_id: ArmId = None
    """The dedicated Application Gateway subnet (a resource id)."""
    sku: Literal["Standard_v2", "WAF_v2"] = "Standard_v2"
    """Application Gateway SKU tier."""
    autoscale: Autoscale = Autoscale()
    """Autoscaling bounds."""
    zones: tuple[Literal["1", "2", "3"], ...] = ()
    """Availability zones of the gateway."""
    public_ip: bool = True
    """Give the gateway a public frontend: a Standard static public IP created and tagged by Portico,
    unless publicIpId names an existing one."""
    public_ip_id: ArmId = None
    """An existing public IP (resource id) to use as the frontend; Portico never changes or deletes it."""
    private_ip: str | None = None
    """A static private frontend IP of the subnet."""
    firewall_policy_id: ArmId = None
    """An Application Gateway WAF policy (resource id); only with sku WAF_v2."""
    ssl_policy: str = DEFAULT_SSL_POLICY
    """Predefined TLS policy of the HTTPS listeners."""
    key_vault_secret_ids: dict[str, str] = Field(default_factory=dict)
    """Gateway listener name -> Key Vault secret id (https://<vault>.vault.azure.net/secrets/<name>), used
    instead of uploading that listener's Secrets (needs identityId)."""
    identity_id: ArmId = None
    """A user-assigned identity (resource id) the gateway reads Key Vault with."""
    target_type: Literal["ip", "nodePort"] = "ip"
    """What the backend pools hold: pod IPs at the container port (ip: Azure CNI, pods routable from the
    gateway's subnet), or the InternalIPs of the nodes hosting each Service's ready endpoints at its
    nodePort (nodePort: kubenet or overlay networks; the Services must be NodePort or LoadBalancer)."""
    health_check_path: str | None = Field(default=None, pattern=r"^/")
    """A custom health probe path for every backend; unset: Application Gateway's default probe."""
    tags: Annotated[dict[str, str], AfterValidator(_check_tags)] = Field(default_factory=dict)
    """Tags added to the Application Gateway and the public IP."""

    @model_validator(mode="after")
    def _consistent(self) -> AppGwParameters:
        if self.autoscale.min_capacity > self.autoscale.max_capacity:
            raise ValueError("autoscale.minCapacity is larger than autoscale.maxCapacity")
        if self.firewall_policy_id and self.sku != "WAF_v2":
            raise ValueError("firewallPolicyId needs sku WAF_v2")
        if not self.public_ip and not self.private_ip:
            raise ValueError("a gateway needs a frontend: publicIp true or a privateIp")
        if self.key_vault_secret_ids and not self.identity_id:
            raise ValueError("keyVaultSecretIds need identityId (a user-assigned identity allowed to read the vault)")
        return self
