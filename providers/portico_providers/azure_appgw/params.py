"""`spec.azure` of a GatewayParameters object: how each Gateway's Application Gateway v2 is set up."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

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


class _Section(BaseModel):
    """camelCase keys as in the CRD; unknown keys are errors (typos surface)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Autoscale(_Section):
    # Application Gateway v2 autoscaling: 0-125 instances (Azure's published v2 limit).
    min_capacity: int = Field(default=0, ge=0, le=125)
    max_capacity: int = Field(default=10, ge=2, le=125)


class AppGwParameters(_Section):
    """`location` and `subnetId` are required; the rest has AGIC-like defaults. The subscription and
    resource group are the operator's (`portico run --azure-subscription-id/--azure-resource-group`)."""

    location: str | None = None
    # The dedicated Application Gateway subnet (a resource id).
    subnet_id: ArmId = None
    sku: Literal["Standard_v2", "WAF_v2"] = "Standard_v2"
    autoscale: Autoscale = Autoscale()
    zones: tuple[Literal["1", "2", "3"], ...] = ()
    # Frontends: a public IP (created and tagged by Portico unless `publicIpId` names an existing
    # one) and/or a static private IP of the subnet.
    public_ip: bool = True
    public_ip_id: ArmId = None
    private_ip: str | None = None
    # An Application Gateway WAF policy (resource id); only with sku WAF_v2.
    firewall_policy_id: ArmId = None
    ssl_policy: str = DEFAULT_SSL_POLICY
    # Gateway listener name -> Key Vault secret id (https://<vault>.vault.azure.net/secrets/<name>),
    # used instead of uploading that listener's Secrets (needs a user-assigned identity on the gateway).
    key_vault_secret_ids: dict[str, str] = Field(default_factory=dict)
    identity_id: ArmId = None
    # A custom health probe path for every backend; none: Application Gateway's default probe.
    health_check_path: str | None = Field(default=None, pattern=r"^/")
    # Added to the Application Gateway and the public IP.
    tags: Annotated[dict[str, str], AfterValidator(_check_tags)] = Field(default_factory=dict)

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
