"""What the cluster must have before Portico can start: the Gateway API CRDs and Portico's own.

A missing CRD makes the API server answer 404 to a list. The operator then says which CRDs are
missing and how to install them, in its log and as a Warning Event on its own Pod (found through
the POD_NAME/POD_NAMESPACE environment the Helm chart sets), and stops: kopf cannot watch what
does not exist, and the Deployment's restarts retry once the CRDs are there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from portico.handlers.events import Events
from portico.kube.resources import GW, ResourceType

log = logging.getLogger("portico.operator")

GATEWAY_API_RELEASE = "v1.6.1"
GATEWAY_API_INSTALL = (
    "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/"
    f"{GATEWAY_API_RELEASE}/standard-install.yaml"
)
PORTICO_CRDS_INSTALL = "kubectl apply --server-side -f charts/portico/crds/"
EVENT_REASON = "MissingCRDs"


class MissingCRDs(RuntimeError):
    """The cluster lacks CRDs Portico watches; the message says which and how to install them."""


def missing_crds_message(missing: Sequence[ResourceType]) -> str:
    names = ", ".join(sorted(f"{r.plural}.{r.group}" for r in missing))
    fixes = []
    if any(r.group == GW for r in missing):
        fixes.append(f"install the Gateway API CRDs (standard channel, {GATEWAY_API_RELEASE}): {GATEWAY_API_INSTALL}")
    if any(r.group != GW for r in missing):
        fixes.append(f"install Portico's CRDs: {PORTICO_CRDS_INSTALL}")
    return f"CRDs not installed: {names}; {'; '.join(fixes)}"


def own_pod(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The operator's Pod as an Event's involvedObject, when the Downward API names it."""
    env = os.environ if environ is None else environ
    name, namespace = env.get("POD_NAME"), env.get("POD_NAMESPACE")
    if not name or not namespace:
        return None
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}


async def report_missing_crds(events: Events, missing: Sequence[ResourceType]) -> MissingCRDs:
    """Log and post the problem; the caller raises the returned error."""
    message = missing_crds_message(missing)
    log.error("%s", message)
    pod = own_pod()
    if pod is not None:
        await events.post(pod, "Warning", EVENT_REASON, message)
    return MissingCRDs(message)
