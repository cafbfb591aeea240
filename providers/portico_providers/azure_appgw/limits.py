"""Application Gateway v2 limits Portico checks before calling Azure.

From "Azure subscription and service limits: Application Gateway limits" (learn.microsoft.com,
azure-resource-manager/management/azure-subscription-service-limits#application-gateway-limits)
and the request routing rule docs (priority 1-20000). docs/providers/azure.md repeats them.
"""

from __future__ import annotations

from typing import Final

MAX_FRONTEND_PORTS: Final = 100
# 200 HTTP listeners per gateway, of which at most 100 may route traffic; every Portico listener does.
MAX_LISTENERS: Final = 100
MAX_ROUTING_RULES: Final = 400
MAX_PATH_RULES_PER_MAP: Final = 100
MAX_POOLS: Final = 100
MAX_ADDRESSES_PER_POOL: Final = 1200
MAX_SETTINGS: Final = 100
MAX_REWRITE_SETS: Final = 400
MAX_REWRITE_RULES_PER_SET: Final = 40
MAX_REDIRECTS: Final = 100
MAX_HOSTNAMES_PER_LISTENER: Final = 5
MAX_CERTIFICATES: Final = 100
MAX_PROBES: Final = 100
MIN_PRIORITY: Final = 1
MAX_PRIORITY: Final = 20000
# Probe interval and timeout 1-86400 s, unhealthy threshold 1-20 (ApplicationGatewayProbe, network REST API).
MIN_PROBE_SECONDS: Final = 1
MAX_PROBE_SECONDS: Final = 86400
MAX_UNHEALTHY_THRESHOLD: Final = 20
MIN_REQUEST_TIMEOUT_S: Final = 1
MAX_REQUEST_TIMEOUT_S: Final = 86400
REDIRECT_TYPES: Final = {301: "Permanent", 302: "Found", 303: "SeeOther", 307: "Temporary"}


class Unsupported(Exception):
    """A rule Application Gateway cannot express; the message names the limit."""
