"""A stateful fake of the ARM endpoints the azure-appgw provider uses (Microsoft.Network).

Behaves like ARM where the provider relies on it: PUT answers 201/200 with provisioningState
Updating and an Azure-AsyncOperation URL that later reports Succeeded or Failed; DELETE answers
202 with a Location URL; a missing resource is 404 ResourceNotFound; every write changes the etag
and a stale If-Match is 412; a resource busy with an operation refuses writes (409
AnotherOperationInProgress); a public IP in use refuses deletion; bodies are validated against
the SDK's API model and Application Gateway's own rules. Faults (429 with Retry-After, 5xx, lost
answers, failed operations) are injected by tests.
"""

from __future__ import annotations

import base64
import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.mgmt.network import models
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from tests.providers.azure.appgw_rules import Refusal, check_gateway, check_tags
from tests.providers.azure.arm_model import API_VERSION, validate

NETWORK = "/providers/Microsoft.Network/"
APPGW = "applicationGateways"
PIP = "publicIPAddresses"
CHILD_COLLECTIONS = (
    "gatewayIPConfigurations",
    "frontendIPConfigurations",
    "frontendPorts",
    "sslCertificates",
    "httpListeners",
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "probes",
    "urlPathMaps",
    "requestRoutingRules",
    "rewriteRuleSets",
    "redirectConfigurations",
)
SETTINGS_DEFAULTS = {"cookieBasedAffinity": "Disabled", "pickHostNameFromBackendAddress": False, "requestTimeout": 30}


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """The next request matching `method` and `path_part` gets `status` (with Retry-After on 429).

    `lost`: the request takes effect, but its answer never reaches the client.
    `late`: the request takes effect, and its answer comes after `late` seconds, past the client's
    read timeout (the provider option `read_timeout_s`).
    """

    method: str
    path_part: str
    status: int = 500
    retry_after: int = 1
    lost: bool = False
    code: str = ""
    late: float = 0.0  # the ARM error code (default: by status)

    def matches(self, method: str, path: str) -> bool:
        """`WRITE` stands for any mutating request (PUT or DELETE)."""
        wanted = ("PUT", "DELETE") if self.method == "WRITE" else (self.method,)
        return method in wanted and self.path_part in path


@dataclass
class Operation:
    id: str
    resource_id: str
    kind: str  # "put" | "delete"
    polls_left: int
    fail: bool = False
    status: str = "InProgress"


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message}}, headers or {})


class ArmState:
    def __init__(self, subscription: str = "00000000-0000-0000-0000-0000000000aa", location: str = "westeurope"):
        self.subscription = subscription
        self.location = location
        self.base_url = ""
        self.resources: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, Operation] = {}
        self.faults: list[Fault] = []
        self.faults_served: list[Fault] = []
        self.failed_operations = 0
        self.actions: list[str] = []  # ARM operations (RBAC actions) in call order
        self.writes = 0
        self.fail_operations = 0  # the next N operations end Failed
        self.polls_per_operation = 1
        self.instant = False  # operations finish as soon as they start (a fast cloud)
        self.mutating_requests = 0  # every PUT and DELETE that reached the fake, refused or not
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._addresses = itertools.count(10)

    # Set-up and inspection by tests (not through HTTP).
    def add_subnet(self, group: str, vnet: str, subnet: str, prefix: str = "10.1.0.0/24") -> str:
        rid = (
            f"/subscriptions/{self.subscription}/resourceGroups/{group}{NETWORK}virtualNetworks/{vnet}/subnets/{subnet}"
        )
        self.resources[rid.lower()] = {
            "id": rid,
            "name": subnet,
            "type": "Microsoft.Network/virtualNetworks/subnets",
            "etag": self._etag(),
            "properties": {"addressPrefix": prefix, "provisioningState": "Succeeded"},
        }
        return rid

    def get(self, rid: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.resources.get(rid.lower())
            return copy.deepcopy(found) if found else None

    def edit(self, rid: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Someone else (the portal, another tool) changes a resource: new etag."""
        with self.lock:
            body = self.resources[rid.lower()]
            change(body)
            body["etag"] = self._etag()

    def settle(self) -> None:
        """Every operation in progress finishes (the cloud got its work done)."""
        with self.lock:
            for op in list(self.operations.values()):
                if op.status == "InProgress":
                    op.polls_left = 0
                    self._advance(op)

    def owned_by_type(self, kind: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self.resources.values() if r["type"] == f"Microsoft.Network/{kind}"]

    # HTTP entry point.
    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        with self.lock:
            if query.get("api-version") != API_VERSION:
                return error(400, "InvalidApiVersionParameter", f"api-version {query.get('api-version')} unsupported")
            if "/operations/" in path or "/operationResults/" in path:
                return self._operation(path)
            parts = path.split("/")
            kind = parts[-2] if len(parts) >= 2 else ""
            rid = path
            if kind == "subnets" and method == "GET":
                self.actions.append("Microsoft.Network/virtualNetworks/subnets/read")
                return self._read(rid)
            if kind not in (APPGW, PIP) or not path.lower().startswith(f"/subscriptions/{self.subscription}/"):
                return error(404, "InvalidResourceType", f"{path}: not served by this fake")
            verb = {"GET": "read", "PUT": "write", "DELETE": "delete"}[method]
            self.actions.append(f"Microsoft.Network/{kind}/{verb}")
            if method == "GET":
                return self._read(rid)
            if method == "DELETE":
                return self._delete(rid, kind)
            return self._put(rid, kind, headers, body)

    # Reads.
    def _read(self, rid: str) -> Answer:
        found = self.resources.get(rid.lower())
        if found is None:
            return error(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        return Answer(200, copy.deepcopy(found))

    # Writes.
    def _etag(self) -> str:
        return f'W/"{next(self._ids):08d}"'

    def _start(self, rid: str, kind: str) -> Operation:
        op = Operation(f"op-{next(self._ids)}", rid.lower(), kind, self.polls_per_operation)
        if self.fail_operations:
            self.fail_operations -= 1
            self.failed_operations += 1
            op.fail = True
        self.operations[op.id] = op
        if self.instant:
            op.polls_left = 0
        return op

    def _operation_url(self, op: Operation, results: bool = False) -> str:
        leaf = "operationResults" if results else "operations"
        return (
            f"{self.base_url}/subscriptions/{self.subscription}/providers/Microsoft.Network/locations/"
            f"{self.location}/{leaf}/{op.id}?api-version={API_VERSION}"
        )

    def _busy(self, rid: str) -> Answer | None:
        found = self.resources.get(rid.lower())
        state = found["properties"].get("provisioningState") if found else None
        if state in ("Updating", "Deleting"):
            return error(409, "AnotherOperationInProgress", f"{rid}: another operation is in progress ({state})")
        return None

    def _put(self, rid: str, kind: str, headers: dict[str, str], body: Any) -> Answer:
        problems = validate(body, models.ApplicationGateway if kind == APPGW else models.PublicIPAddress)
        if problems:
            return error(400, "InvalidRequestFormat", "; ".join(problems))
        busy = self._busy(rid)
        if busy:
            return busy
        existing = self.resources.get(rid.lower())
        match = headers.get("if-match")
        if match is not None and (existing is None or (match != "*" and match != existing["etag"])):
            return error(412, "PreconditionFailed", f"{rid}: the etag {match} does not match")
        if headers.get("if-none-match") == "*" and existing is not None:
            return error(412, "PreconditionFailed", f"{rid} already exists")
        if body.get("location", "").lower() != self.location:
            return error(400, "LocationRequired", f"location must be {self.location}")
        try:
            stored = self._appgw(rid, body, existing) if kind == APPGW else self._public_ip(rid, body, existing)
        except Refusal as refusal:
            return error(400, refusal.code, str(refusal))
        self.writes += 1
        op = self._start(rid, "put")
        self.resources[rid.lower()] = stored
        answer = Answer(
            201 if existing is None else 200, copy.deepcopy(stored), {"Azure-AsyncOperation": self._operation_url(op)}
        )
        if self.instant:
            self._advance(op)
        return answer

    def _base(self, rid: str, kind: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        stored = copy.deepcopy(body)
        stored.update(
            {"id": rid, "name": rid.rsplit("/", 1)[1], "type": f"Microsoft.Network/{kind}", "etag": self._etag()}
        )
        props = stored.setdefault("properties", {})
        props["provisioningState"] = "Updating"
        props["resourceGuid"] = (existing or {}).get("properties", {}).get("resourceGuid") or f"guid-{next(self._ids)}"
        return stored

    def _public_ip(self, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        check_tags(body.get("tags"))
        sku = (body.get("sku") or {}).get("name", "Basic")
        props = body.get("properties") or {}
        if sku == "Standard" and props.get("publicIPAllocationMethod") != "Static":
            raise Refusal("StandardSkuPublicIPAddressesMustBeStatic", "Standard public IPs must be Static")
        stored = self._base(rid, PIP, body, existing)
        old = (existing or {}).get("properties", {}).get("ipAddress")
        if old:
            stored["properties"]["ipAddress"] = old
        return stored

    def _linked_state(self, rid: str) -> str | None:
        found = self.resources.get(rid.lower())
        return None if found is None else str(found["properties"].get("provisioningState"))

    def _appgw(self, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        old_certs = {c["name"].lower(): c for c in (existing or {}).get("properties", {}).get("sslCertificates") or []}
        check_gateway(body, rid, set(old_certs), self._linked_state)
        props = body["properties"]
        for frontend in props.get("frontendIPConfigurations") or []:
            pip = (frontend.get("properties") or {}).get("publicIPAddress", {}).get("id")
            if pip is None:
                continue
            self.actions.append("Microsoft.Network/publicIPAddresses/join/action")
            for other in self.owned_by_type(APPGW):
                used = [
                    f["properties"].get("publicIPAddress", {}).get("id", "").lower()
                    for f in other["properties"].get("frontendIPConfigurations") or []
                ]
                if other["id"].lower() != rid.lower() and pip.lower() in used:
                    raise Refusal("PublicIPAddressInUse", f"{pip} is used by {other['id']}")
        self.actions.append("Microsoft.Network/virtualNetworks/subnets/join/action")
        if props.get("firewallPolicy"):
            self.actions.append("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action")
        if body.get("identity"):
            self.actions.append("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action")
        stored = self._base(rid, APPGW, body, existing)
        sprops = stored["properties"]
        sprops["operationalState"] = (existing or {}).get("properties", {}).get("operationalState", "Stopped")
        for collection in CHILD_COLLECTIONS:
            for child in sprops.get(collection) or []:
                child["id"] = f"{rid}/{collection}/{child['name']}"
                child["etag"] = stored["etag"]
                child.setdefault("properties", {})["provisioningState"] = "Updating"
                if collection == "backendHttpSettingsCollection":
                    for key, value in SETTINGS_DEFAULTS.items():
                        child["properties"].setdefault(key, value)
                if collection == "urlPathMaps":
                    for rule in child["properties"].get("pathRules") or []:
                        rule["id"] = f"{child['id']}/pathRules/{rule['name']}"
                if collection == "sslCertificates":
                    self._store_certificate(child, old_certs.get(child["name"].lower()))
        return stored

    @staticmethod
    def _store_certificate(child: dict[str, Any], old: dict[str, Any] | None) -> None:
        props = child["properties"]
        data = props.pop("data", None)
        password = props.pop("password", None)
        if data is None:
            if old is not None and "publicCertData" in old["properties"]:
                props["publicCertData"] = old["properties"]["publicCertData"]
            return
        _, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(data), password.encode() if password else None)
        assert cert is not None
        props["publicCertData"] = base64.b64encode(cert.public_bytes(Encoding.DER)).decode()

    def _delete(self, rid: str, kind: str) -> Answer:
        existing = self.resources.get(rid.lower())
        if existing is None:
            return Answer(204)
        running = [o for o in self.operations.values() if o.resource_id == rid.lower() and o.status == "InProgress"]
        if existing["properties"].get("provisioningState") == "Deleting" and running:
            return self._deleting(running[0])  # a repeated DELETE joins the one in progress
        busy = self._busy(rid)
        if busy:
            return busy
        if kind == PIP:
            for gateway in self.owned_by_type(APPGW):
                for frontend in gateway["properties"].get("frontendIPConfigurations") or []:
                    if frontend["properties"].get("publicIPAddress", {}).get("id", "").lower() == rid.lower():
                        return error(400, "PublicIPAddressCannotBeDeleted", f"{rid} is in use by {gateway['id']}")
        self.writes += 1
        existing["properties"]["provisioningState"] = "Deleting"
        existing["etag"] = self._etag()
        op = self._start(rid, "delete")
        answer = self._deleting(op)
        if self.instant:
            self._advance(op)
        return answer

    def _deleting(self, op: Operation) -> Answer:
        urls = {"Location": self._operation_url(op, results=True), "Azure-AsyncOperation": self._operation_url(op)}
        return Answer(202, None, {**urls, "Retry-After": "1"})

    # Operations.
    def _advance(self, op: Operation) -> None:
        if op.status != "InProgress":
            return
        if op.polls_left > 0:
            op.polls_left -= 1
            return
        found = self.resources.get(op.resource_id)
        op.status = "Failed" if op.fail else "Succeeded"
        if found is None:
            return
        if op.kind == "delete":
            if op.fail:
                found["properties"]["provisioningState"] = "Failed"
            else:
                del self.resources[op.resource_id]
            return
        state = op.status
        found["properties"]["provisioningState"] = state
        for collection in CHILD_COLLECTIONS:
            for child in found["properties"].get(collection) or []:
                child["properties"]["provisioningState"] = state
        if found["type"].endswith(APPGW) and not op.fail:
            found["properties"]["operationalState"] = "Running"
        if found["type"].endswith(PIP) and not op.fail:
            found["properties"].setdefault("ipAddress", f"20.50.0.{next(self._addresses)}")

    def _operation(self, path: str) -> Answer:
        self.actions.append("Microsoft.Network/locations/operations/read")
        op = self.operations.get(path.rsplit("/", 1)[1])
        if op is None:
            return error(404, "OperationNotFound", f"{path}: no such operation")
        self._advance(op)
        if "/operationResults/" in path:
            return Answer(202, None, {"Retry-After": "1"}) if op.status == "InProgress" else Answer(204)
        answer: dict[str, Any] = {"id": op.id, "name": op.id, "status": op.status}
        if op.status == "Failed":
            answer["error"] = {"code": "InternalServerError", "message": "the gateway update failed; retry it"}
        return Answer(200, answer)
