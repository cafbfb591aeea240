"""The `azure-appgw` provider: one Application Gateway v2 per Gateway.

observe reads Portico's gateway and public IP by their deterministic names (and checks the
ownership tags); plan is pure; apply makes at most one write per resource and never waits for a
long-running operation: it records the operation, reports the Gateway as pending with the
operation's state, and the next reconcile carries on. A stale etag (someone else changed the
gateway in between) is a 412: re-read, re-plan, PUT again on top of their change.
"""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, Capabilities, ProviderContext
from portico_providers.azure_appgw.arm import APPGW, PIP, Arm, code_of, describe, status_of
from portico_providers.azure_appgw.build import build
from portico_providers.azure_appgw.certificates import to_pfx
from portico_providers.azure_appgw.compare import merged_body
from portico_providers.azure_appgw.layout import check_rules
from portico_providers.azure_appgw.naming import (
    GATEWAY_RESOURCE,
    PUBLIC_IP_RESOURCE,
    gateway_name,
    owned,
    public_ip_name,
)
from portico_providers.azure_appgw.params import SECTION, AppGwParameters
from portico_providers.azure_appgw.plan import BUSY, AppGwPlan, Observed, plan_changes, plan_delete, state_of

NAME = "azure-appgw"
FEATURES = frozenset(
    {
        "Gateway",
        "ReferenceGrant",
        "HTTPRoute",
        "HTTPRouteHostRewrite",
        "HTTPRoutePathRewrite",
        "HTTPRouteSchemeRedirect",
        "HTTPRoutePortRedirect",
        "HTTPRoutePathRedirect",
        "HTTPRouteResponseHeaderModification",
        "HTTPRouteRequestTimeout",
        "HTTPRouteBackendTimeout",
        "HTTPRouteNamedRouteRule",
    }
)
MAX_ROUNDS = 4  # writes per apply while Azure finishes at once (public IP, gateway, a 412 re-read)
OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
OFFLINE_GROUP = "resource-group"
UNCONFIGURED = (
    "the operator has no Azure subscription or resource group: run it with --azure-subscription-id and "
    "--azure-resource-group (chart values azure.subscriptionId and azure.resourceGroup)"
)


class AppGwProvider:
    name = NAME

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.arm = Arm(context.options)
        self._operations: dict[str, str] = {}  # gateway -> Azure-AsyncOperation URL of its last write

    def capabilities(self) -> Capabilities:
        return Capabilities(features=FEATURES, route_kinds=frozenset({"HTTPRoute"}), check_rules=check_rules)

    # Reads.
    def observe(self, gateway: ObjectKey) -> Observed:
        if not self.arm.subscription or not self.arm.resource_group:
            return Observed(key=gateway, problem=UNCONFIGURED)
        cluster = self.context.cluster_id
        found: dict[str, dict[str, Any] | None] = {}
        foreign: list[str] = []
        names = (
            (APPGW, gateway_name(cluster, gateway), GATEWAY_RESOURCE),
            (PIP, public_ip_name(cluster, gateway), PUBLIC_IP_RESOURCE),
        )
        for kind, name, resource_id in names:
            resource = self.arm.get(kind, name)
            if resource is not None and not owned(resource.get("tags"), cluster, gateway, resource_id):
                foreign.append(f"{kind}/{name}")
                resource = None
            found[kind] = resource
        return Observed(found[APPGW], found[PIP], gateway, tuple(foreign))

    # Pure.
    def plan(self, ir: GatewayIR | None, observed: Any) -> AppGwPlan:
        seen = observed if isinstance(observed, Observed) else None
        if ir is None:
            if seen is None:
                return AppGwPlan(NAME, ObjectKey(namespace="", name=""), problems=("deleting needs observe first",))
            gateway = seen.key
            refused = (seen.problem,) if seen.problem else ()
            steps = tuple(plan_delete(seen))
            return AppGwPlan(NAME, gateway, observed=seen, steps=steps, problems=refused, deleting=True)
        problems = list(ir.validate_ir())
        params = _parameters(ir)
        if isinstance(params, list):
            return AppGwPlan(NAME, ir.gateway, ir=ir, problems=tuple(problems + params), offline=seen is None)
        subscription = self.arm.subscription or OFFLINE_SUBSCRIPTION
        group = self.arm.resource_group or OFFLINE_GROUP
        desired = build(ir, params, self.context.cluster_id, subscription, group)
        if isinstance(desired, list) or problems:
            found = problems + (desired if isinstance(desired, list) else [])
            return AppGwPlan(NAME, ir.gateway, ir=ir, problems=tuple(found), offline=seen is None)
        if seen is not None and seen.problem:
            return AppGwPlan(NAME, ir.gateway, ir=ir, desired=desired, problems=(seen.problem,))
        if seen is not None and seen.foreign:
            problems += [f"{name} exists without Portico's ownership tags; it is left alone" for name in seen.foreign]
            return AppGwPlan(NAME, ir.gateway, ir=ir, desired=desired, problems=tuple(problems))
        changes = plan_changes(desired, seen or Observed())
        return AppGwPlan(
            NAME,
            ir.gateway,
            ir=ir,
            desired=desired,
            observed=seen,
            steps=tuple(changes),
            notes=tuple(desired.notes),
            offline=seen is None,
        )

    # Writes.
    def apply(self, plan: Any) -> ApplyResult:
        if not isinstance(plan, AppGwPlan) or plan.provider != NAME:
            return ApplyResult(programmed=False, message=f"not a plan of the {NAME} provider")
        if plan.problems:
            return ApplyResult(programmed=False, message="; ".join(plan.problems))
        if plan.offline:
            return ApplyResult(programmed=False, message="an offline dry-run plan cannot be applied")
        before = self.arm.mutations
        try:
            result = self._delete(plan) if plan.deleting else self._converge(plan)
        except Exception as error:
            from azure.core.exceptions import AzureError

            if not isinstance(error, AzureError):
                raise
            result = ApplyResult(programmed=False, message=f"Azure refused: {describe(error)}")
        return ApplyResult(result.addresses, result.programmed, result.message, self.arm.mutations - before)

    def delete(self, gateway: ObjectKey) -> ApplyResult:
        from azure.core.exceptions import AzureError

        try:
            seen = self.observe(gateway)
        except AzureError as error:
            return ApplyResult(programmed=False, message=f"reading Azure failed: {describe(error)}")
        return self.apply(self.plan(None, seen))

    def reconcile(self, ir: GatewayIR) -> ApplyResult:
        """observe -> plan -> apply for one Gateway (what the operator's worker does)."""
        from azure.core.exceptions import AzureError

        try:
            seen = self.observe(ir.gateway)
        except AzureError as error:
            return ApplyResult(programmed=False, message=f"reading Azure failed: {describe(error)}")
        return self.apply(self.plan(ir, seen))

    def _pending(self, key: str, what: str, resource: dict[str, Any] | None) -> ApplyResult:
        url = self._operations.get(key)
        state = state_of(resource) or "InProgress"
        detail = ""
        if url:
            status, error = self.arm.operation(url)
            detail = f"; Azure operation {status}" + (f": {error}" if error else "")
        return ApplyResult(programmed=False, message=f"Pending: {what} is {state}{detail}")

    def _converge(self, plan: AppGwPlan) -> ApplyResult:
        """Write what differs, one resource at a time; carry on while Azure finishes at once, and
        report pending as soon as an operation is running (the next reconcile picks it up)."""
        assert plan.desired is not None and plan.observed is not None and plan.ir is not None
        desired, seen, key = plan.desired, plan.observed, str(plan.gateway)
        for _ in range(MAX_ROUNDS):
            if state_of(seen.public_ip) in BUSY:
                return self._pending(key + "#ip", "the public IP address", seen.public_ip)
            if state_of(seen.gateway) in BUSY:
                return self._pending(key, "the Application Gateway", seen.gateway)
            steps = {(s.kind, s.action) for s in plan_changes(desired, seen)}
            if desired.public_ip is not None and desired.public_ip_id and steps & {(PIP, "create"), (PIP, "update")}:
                name = desired.public_ip_id.rsplit("/", 1)[1]
                written = self.arm.put(PIP, name, desired.public_ip, {})
                self._remember(key + "#ip", written.operation_url)
            elif steps & {(APPGW, "create"), (APPGW, "update")}:
                # None: Azure took the PUT; else a 412/409: someone else changed it, start from their version.
                self._put_gateway(plan, seen)
            elif (PIP, "delete") in steps and seen.public_ip is not None:
                written = self.arm.delete(PIP, str(seen.public_ip["name"]))
                self._remember(key + "#ip", written.operation_url)
            else:
                return self._programmed(desired, seen)
            seen = self.observe(plan.ir.gateway)
        return ApplyResult(
            programmed=False, message="the Application Gateway kept changing under Portico; retrying later"
        )

    def _put_gateway(self, plan: AppGwPlan, seen: Observed) -> str | None:
        """PUT the whole gateway; None when Azure took it, else why it must be re-read (412/409)."""
        from azure.core.exceptions import HttpResponseError

        assert plan.desired is not None
        desired = plan.desired
        body = merged_body(desired.body, seen.gateway)
        existing = {
            c["name"].lower() for c in ((seen.gateway or {}).get("properties") or {}).get("sslCertificates") or []
        }
        for cert in body["properties"].get("sslCertificates") or []:
            upload = desired.uploads.get(cert["name"])
            if upload is not None and cert["name"].lower() not in existing:
                data, password = to_pfx(upload)
                cert["properties"] = {"data": data, "password": password}
        headers = {"If-Match": str(seen.gateway["etag"])} if seen.gateway else {"If-None-Match": "*"}
        try:
            written = self.arm.put(APPGW, desired.name, body, headers)
        except HttpResponseError as error:
            if status_of(error) == 412 or code_of(error) == "AnotherOperationInProgress":
                return code_of(error) or "PreconditionFailed"
            raise
        self._remember(str(plan.gateway), written.operation_url)
        return None

    def _remember(self, key: str, url: str | None) -> None:
        if url:
            self._operations[key] = url
        else:
            self._operations.pop(key, None)

    def _programmed(self, desired: Any, seen: Observed) -> ApplyResult:
        props = (seen.gateway or {}).get("properties") or {}
        addresses: list[tuple[str, str]] = []
        ip = ((seen.public_ip or {}).get("properties") or {}).get("ipAddress")
        if desired.public_ip_id and desired.public_ip is None:
            ip = self._address_of(desired.public_ip_id)
        if ip:
            addresses.append(("IPAddress", str(ip)))
        if desired.private_ip:
            addresses.append(("IPAddress", desired.private_ip))
        running = props.get("provisioningState") == "Succeeded" and props.get("operationalState") == "Running"
        if not running:
            state = f"{props.get('provisioningState')}/{props.get('operationalState')}"
            return ApplyResult(tuple(addresses), programmed=False, message=f"Pending: Application Gateway is {state}")
        return ApplyResult(tuple(addresses), programmed=bool(addresses), message="" if addresses else "no address yet")

    def _address_of(self, public_ip_id: str) -> str | None:
        parts = public_ip_id.split("/")
        found = self.arm.get_by_group(PIP, parts[4], parts[-1]) if len(parts) > 8 else None
        return ((found or {}).get("properties") or {}).get("ipAddress")

    def _delete(self, plan: AppGwPlan) -> ApplyResult:
        """The gateway first (Azure refuses to delete an IP it uses), then the public IP."""
        seen = plan.observed or Observed()
        key = str(plan.gateway)
        for _ in range(MAX_ROUNDS):
            if seen.gateway is not None:
                if state_of(seen.gateway) in BUSY:
                    return self._pending(key, "deleting the Application Gateway", seen.gateway)
                written = self.arm.delete(APPGW, str(seen.gateway["name"]))
                self._remember(key, written.operation_url)
            elif seen.public_ip is not None:
                if state_of(seen.public_ip) in BUSY:
                    return self._pending(key + "#ip", "deleting the public IP address", seen.public_ip)
                written = self.arm.delete(PIP, str(seen.public_ip["name"]))
                self._remember(key + "#ip", written.operation_url)
            else:
                return ApplyResult(programmed=True, message="nothing of this Gateway is left in Azure")
            seen = self.observe(plan.gateway)
        return ApplyResult(programmed=False, message="deleting is taking several steps; retrying later")


def _parameters(ir: GatewayIR) -> AppGwParameters | list[str]:
    from pydantic import ValidationError

    raw = ir.infrastructure.parameters.get(SECTION) or {}
    if not isinstance(raw, dict):
        return [f"spec.{SECTION}: must be an object, got {type(raw).__name__}"]
    try:
        return AppGwParameters.model_validate(raw)
    except ValidationError as error:
        return [f"spec.{SECTION}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".rstrip(".") for e in error.errors()]


def create(context: ProviderContext) -> AppGwProvider:
    return AppGwProvider(context)
