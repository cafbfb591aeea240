"""How the kit's diff compares Compute resources, and what each kind can change in place.

Compute answers GET with every field, defaults included, and full URLs for references, so a
desired body is satisfied when the observed one holds everything it says (`same`), with URLs
made relative; a field the desired body leaves unset is not compared. What a kind cannot change
in place replaces it, and since a Compute name is the resource's identity, the old one is
deleted before its replacement is created (`reuses_name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portico_providers.gcp_alb.model import FORWARDING_RULE, KINDS, MEMBERS, MODELS
from portico_providers.kit.resources import KindRules

API_ROOT = "https://www.googleapis.com/compute/v1/"
# Compute answers the forwarding rule's IPAddress as the IP itself even when given the address URL.
ANSWERED_OTHERWISE = {FORWARDING_RULE: frozenset({"IPAddress"})}


def relative(value: Any) -> Any:
    if isinstance(value, str):
        return value.removeprefix(API_ROOT)
    if isinstance(value, Mapping):
        return {k: relative(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [relative(v) for v in value]
    return value


def covered(desired: Any, observed: Any) -> bool:
    """Whether `observed` holds everything `desired` says (extra observed fields are defaults)."""
    if isinstance(desired, Mapping):
        return isinstance(observed, Mapping) and all(covered(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        if not desired and observed is None:
            return True  # Compute leaves empty lists out of its answers
        return (
            isinstance(observed, list)
            and len(desired) == len(observed)
            and all(covered(d, o) for d, o in zip(desired, observed, strict=True))
        )
    if isinstance(desired, int) and not isinstance(desired, bool) and isinstance(observed, str):
        return observed.lstrip("-").isdigit() and int(observed) == desired  # JSON carries int64 as a string
    if isinstance(desired, float) or isinstance(observed, float):
        return isinstance(observed, int | float) and abs(float(desired) - float(observed)) < 1e-9
    return bool(desired == observed)


def same(current: Any, wanted: Any) -> bool:
    """A field the desired body leaves out is Compute's to default."""
    return wanted is None or covered(wanted, relative(current))


# Fields each kind can change in place (anything else replaces the resource).
MUTABLE: Mapping[str, frozenset[str]] = {
    "urlMap": frozenset({"defaultRouteAction", "hostRules", "pathMatchers", "description"}),
    "backendService": frozenset({"backends", "healthChecks", "timeoutSec", "protocol", "description"}),
    "healthCheck": frozenset(
        {
            "description",
            "httpHealthCheck",
            "httpsHealthCheck",
            "http2HealthCheck",
            "grpcHealthCheck",
            "checkIntervalSec",
            "timeoutSec",
            "healthyThreshold",
            "unhealthyThreshold",
        }
    ),
    "targetHttpProxy": frozenset({"urlMap"}),
    "targetHttpsProxy": frozenset({"urlMap", "sslCertificates"}),
    "forwardingRule": frozenset({"target"}),
    "instanceGroup": frozenset({"namedPorts"}),
}


def _fields(kind: str) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in MODELS[kind].model_fields.items())


def kind_rules(kind: str) -> KindRules:
    members = frozenset({MEMBERS[kind]}) if kind in MEMBERS else frozenset()
    ignored = ANSWERED_OTHERWISE.get(kind, frozenset())
    immutable = _fields(kind) - MUTABLE.get(kind, frozenset()) - members - ignored
    return KindRules(kind, immutable=immutable, same=same, members=members, ignored=ignored, reuses_name=True)


# In dependency order: everything a kind refers to comes before it; deletes run in reverse.
RULES = tuple(kind_rules(kind) for kind in KINDS)
