"""The two Azure resources a Gateway owns, as kit resources: a public IP and the Application Gateway.

An Application Gateway is one ARM resource: its listeners, rules, pools and the rest change only
through a PUT of the whole gateway, so its spec is the body Portico sets plus the state Azure must
report. The diff is the kit's; what "equal" means is Azure's canonical comparison (compare.py).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import Field

from portico_providers.azure_appgw.compare import differences
from portico_providers.kit.resources import KindRules, Spec

PUBLIC_IP: Final = "public-ip"
GATEWAY: Final = "application-gateway"


def same(current: Any, wanted: Any) -> bool:
    """Azure's canonical comparison (compare.py): Azure holds everything Portico wants in a body or its
    tags; the ids, etags and defaults Azure adds, and tags other writers add, do not count."""
    if isinstance(wanted, dict) and isinstance(current, dict):
        return not differences(wanted, current)
    return bool(current == wanted)


# Forward order: the IP before the gateway that uses it; deletes run in reverse.
KINDS: Final = (KindRules(PUBLIC_IP, same=same), KindRules(GATEWAY, same=same))
READY = {PUBLIC_IP: "Succeeded", GATEWAY: "Succeeded/Running"}


class ResourceSpec(Spec):
    name: str
    # provisioningState (and operationalState for the gateway) Azure must report: a resource that is
    # Updating, Failed or Stopped differs from the desired one, so the plan acts on it.
    state: str
    body: dict[str, Any] = Field(default_factory=dict)  # the ARM body without tags
    tags: dict[str, str] = Field(default_factory=dict)  # the user's tags; execute adds the ownership marks
