"""The state of the fake Compute API: resources per scope, operations, refusals.

Behaviour copied from Compute where Portico relies on it:
- inserts, patches, updates, custom verbs and deletes answer with an Operation that is RUNNING
  until it has been polled `operation_polls` times; its effect shows only when it is DONE, and
  an operation made to fail ends DONE with `error` and no effect;
- a name is taken from the insert on (a second insert answers 409 alreadyExists even while
  the first is still running); a reference to a missing resource answers 404;
- updating a URL map or backend service needs the current fingerprint (412 conditionNotMet);
- fields that cannot change in place are refused (400);
- deleting a resource another one still references answers 400 resourceInUseByAnotherResource;
- a URL map over a documented limit (size, host rules, route rules, ...: `fake_limits`) is refused.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.providers.gcp.fake_limits import internal_scheme, url_map_problem
from tests.providers.gcp.fake_model import ModelError, check_resource

BASE = "https://www.googleapis.com/compute/v1/"
REFERENCE = re.compile(
    r"(?:^|/)projects/(?P<project>[^/]+)/(?P<scope>global|regions/[^/]+|zones/[^/]+)/(?P<coll>[A-Za-z]+)/(?P<name>[^/]+)$"
)
# Fields that only change by replacing the resource (or through a dedicated verb).
IMMUTABLE: dict[str, frozenset[str]] = {
    "addresses": frozenset({"address", "addressType", "purpose", "subnetwork", "network", "ipVersion"}),
    "forwardingRules": frozenset(
        {"IPAddress", "IPProtocol", "portRange", "loadBalancingScheme", "network", "subnetwork", "target"}
    ),
    "backendServices": frozenset({"loadBalancingScheme"}),
    "healthChecks": frozenset({"type"}),
    "sslCertificates": frozenset({"certificate", "privateKey"}),
    "networkEndpointGroups": frozenset({"networkEndpointType", "network", "subnetwork", "defaultPort"}),
}
# Referring to one of these needs a read permission, not `use` (Compute's IAM reference).
USE_ACTIONS = {"healthChecks": "useReadOnly", "sslCertificates": "get"}
OPERATION_LIFETIME = 25  # requests
FINGERPRINTED = frozenset({"urlMaps", "backendServices"})
# Regional collections whose IAM permissions carry a `region` prefix.
REGION_PREFIXED = frozenset(
    {"urlMaps", "backendServices", "healthChecks", "sslCertificates", "targetHttpProxies", "targetHttpsProxies"}
)


class ComputeError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"domain": "global", "reason": self.reason, "message": self.message}],
            }
        }


Key = tuple[str, str, str]  # (scope, collection, name)


@dataclass
class Operation:
    body: dict[str, Any]
    effect: Callable[[], None]
    remaining: int
    fail: tuple[str, str] | None = None
    age: int = 0  # requests served since it started: an operation nobody polls still ends
    undo: Callable[[], None] | None = None  # what a failed operation gives back (an insert's name)


@dataclass
class Faults:
    """Refusals on demand: `(http method, collection or '*')` -> HTTP statuses to answer next."""

    requests: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    failed_operations: list[tuple[str, str]] = field(default_factory=list)  # (code, message) of the next ops
    lose_next_insert_answer: bool = False  # the next insert takes effect, but its caller gets a 503
    refuse_next_change: bool = False  # the next mutating call answers 400 resourceNotReady

    @staticmethod
    def reason(status: int) -> str:
        """What Compute says with each injected status (400: work it cannot do yet)."""
        return {429: "rateLimitExceeded", 400: "resourceNotReady", 409: "resourceInUseByAnotherResource"}.get(
            status, "backendError"
        )

    def next_status(self, method: str, collection: str) -> int | None:
        for key in ((method, collection), (method, "*"), ("*", collection), ("*", "*")):
            queue = self.requests.get(key)
            if queue:
                return queue.pop(0)
        return None


def scope_of(region: str | None = None, zone: str | None = None) -> str:
    return f"zones/{zone}" if zone else f"regions/{region}" if region else "global"


def fingerprint(body: dict[str, Any]) -> str:
    clean = {k: v for k, v in body.items() if k not in ("fingerprint", "id", "creationTimestamp", "selfLink", "kind")}
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:16]


def permission(scope: str, collection: str, action: str) -> str:
    """The IAM permission Compute checks for `action` on a resource of `collection` in `scope`."""
    if collection == "operations":
        kind = "globalOperations" if scope == "global" else f"{scope.split('/', maxsplit=1)[0][:-1]}Operations"
    elif collection in ("addresses", "forwardingRules"):
        kind = collection if scope != "global" else "global" + collection[0].upper() + collection[1:]
    elif collection in REGION_PREFIXED and scope != "global":
        kind = "region" + collection[0].upper() + collection[1:]
    else:
        kind = collection
    return f"compute.{kind}.{action}"


class ComputeState:
    """One project's Compute resources. Thread-safe: the HTTP server calls it from its threads."""

    def __init__(self, project: str, operation_polls: int = 1) -> None:
        self.project = project
        self.operation_polls = operation_polls
        self.resources: dict[Key, dict[str, Any]] = {}
        self.reserved: set[Key] = set()
        self.operations: dict[tuple[str, str], Operation] = {}
        self.faults = Faults()
        self.calls: list[tuple[str, str]] = []  # (http method, path) of every request
        self.permissions: set[str] = set()  # those checked on Portico's own calls (by User-Agent)
        self.portico_calling = False
        self.endpoints: dict[Key, list[dict[str, Any]]] = {}
        self.members: dict[Key, list[Key]] = {}  # instance group -> instances
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)

    def grant(self, permission_name: str) -> None:
        if self.portico_calling:
            self.permissions.add(permission_name)

    # Reading.
    def link(self, key: Key) -> str:
        return f"{BASE}projects/{self.project}/{key[0]}/{key[1]}/{key[2]}"

    def key_of(self, reference: str) -> Key | None:
        match = REFERENCE.search(reference)
        if not match or match["project"] != self.project:
            return None
        return (match["scope"], match["coll"], match["name"])

    def get(self, key: Key) -> dict[str, Any]:
        found = self.resources.get(key)
        if found is None:
            raise ComputeError(404, "notFound", f"The resource '{self.link(key).removeprefix(BASE)}' was not found")
        return copy.deepcopy(found)

    def list(self, scope: str, collection: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(v) for (s, c, _), v in sorted(self.resources.items()) if (s, c) == (scope, collection)]

    def references(self, body: Any) -> list[Key]:
        found: list[Key] = []
        if isinstance(body, str):
            key = self.key_of(body)
            return [key] if key else []
        if isinstance(body, dict):
            for name, value in body.items():
                if name != "selfLink":
                    found += self.references(value)
        elif isinstance(body, list):
            for value in body:
                found += self.references(value)
        return found

    def _check_references(self, body: dict[str, Any]) -> None:
        for key in self.references(body):
            if key not in self.resources:
                raise ComputeError(404, "notFound", f"The resource '{self.link(key).removeprefix(BASE)}' was not found")
            self.grant(permission(key[0], key[1], USE_ACTIONS.get(key[1], "use")))

    def _users_of(self, key: Key) -> list[Key]:
        return [other for other, body in self.resources.items() if other != key and key in self.references(body)]

    # Operations.
    def operation(
        self, scope: str, kind: str, target: Key, effect: Callable[[], None], undo: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        name = f"operation-{next(self._ids)}-{kind}"
        body: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(next(self._ids)),
            "name": name,
            "operationType": kind,
            "targetLink": self.link(target),
            "status": "RUNNING",
            "progress": 0,
            "selfLink": self.link((scope, "operations", name)),
        }
        if scope.startswith("regions/"):
            body["region"] = BASE + f"projects/{self.project}/{scope}"
        if scope.startswith("zones/"):
            body["zone"] = BASE + f"projects/{self.project}/{scope}"
        fail = self.faults.failed_operations.pop(0) if self.faults.failed_operations else None
        self.operations[(scope, name)] = Operation(body, effect, self.operation_polls, fail, undo=undo)
        if self.operation_polls == 0:
            self._finish(self.operations[(scope, name)])
        return copy.deepcopy(body)

    def _finish(self, op: Operation) -> None:
        if op.body["status"] == "DONE":
            return
        op.body.update(status="DONE", progress=100)
        if op.fail is not None:
            code, message = op.fail
            op.body["error"] = {"errors": [{"code": code, "message": message}]}
            op.body["httpErrorStatusCode"] = 400
            if op.undo is not None:
                op.undo()
            return
        op.effect()

    def poll(self, scope: str, name: str) -> dict[str, Any]:
        op = self.operations.get((scope, name))
        if op is None:
            gone = f"projects/{self.project}/{scope}/operations/{name}"
            raise ComputeError(404, "notFound", f"The resource '{gone}' was not found")
        if op.remaining > 0:
            op.remaining -= 1
        else:
            self._finish(op)
        return copy.deepcopy(op.body)

    def tick(self) -> None:
        """One more request served: operations left alone finish after OPERATION_LIFETIME of them."""
        for op in list(self.operations.values()):
            op.age += 1
            if op.age >= OPERATION_LIFETIME:
                self._finish(op)

    def settle(self) -> None:
        """Finish every running operation (what time does to a real project)."""
        with self.lock:
            for op in list(self.operations.values()):
                self._finish(op)

    def running(self) -> int:
        return sum(1 for op in self.operations.values() if op.body["status"] != "DONE")

    # Writing.
    def insert(self, scope: str, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            check_resource(collection, body, creating=True)
        except ModelError as error:
            raise ComputeError(400, "invalid", str(error)) from None
        key = (scope, collection, body["name"])
        if key in self.resources or key in self.reserved:
            taken = self.link(key).removeprefix(BASE)
            raise ComputeError(409, "alreadyExists", f"The resource '{taken}' already exists")
        self._check_references(body)
        self._check_limits(key, body)
        stored = self._stored(key, body)
        self.reserved.add(key)

        def effect() -> None:
            self.reserved.discard(key)
            self.resources[key] = stored

        return self.operation(scope, "insert", key, effect, undo=lambda: self.reserved.discard(key))

    def _stored(self, key: Key, body: dict[str, Any]) -> dict[str, Any]:
        stored = copy.deepcopy(body)
        stored.update(
            id=str(next(self._ids)),
            selfLink=self.link(key),
            creationTimestamp="2026-01-01T00:00:00.000-00:00",
            kind=f"compute#{key[1][:-1]}",
        )
        if key[1] == "forwardingRules":
            # Compute answers the IP itself, also when the rule was given an address URL.
            named = self.key_of(str(stored.get("IPAddress", "")))
            if named is not None:
                stored["IPAddress"] = self.resources[named]["address"]
            elif "IPAddress" not in stored:
                stored["IPAddress"] = f"203.0.113.{next(self._ids) % 250 + 1}"
        if key[1] == "addresses" and "address" in stored:
            stored["status"] = "RESERVED"
        if key[1] == "addresses" and "address" not in stored:
            stored["address"] = f"198.51.100.{next(self._ids) % 250 + 1}"
            stored["status"] = "RESERVED"
        if key[1] in FINGERPRINTED:
            stored["fingerprint"] = fingerprint(stored)
        return stored

    def _check_limits(self, key: Key, body: dict[str, Any]) -> None:
        services = [self.resources.get(k, {}) for k in self.references(body) if k[1] == "backendServices"]
        internal = any(internal_scheme(s) for s in services)
        problem = key[1] == "urlMaps" and url_map_problem(body, internal, regional=key[0] != "global")
        if problem:
            raise ComputeError(400, "invalid", f"Invalid value for field 'resource': {problem}")

    def replace(self, key: Key, body: dict[str, Any], *, patch: bool) -> dict[str, Any]:
        current = self.get(key)
        merged = {**current, **body} if patch else {**body, "name": key[2]}
        try:
            check_resource(key[1], merged, creating=False)
        except ModelError as error:
            raise ComputeError(400, "invalid", str(error)) from None
        if key[1] in FINGERPRINTED and body.get("fingerprint") != current.get("fingerprint"):
            raise ComputeError(
                412, "conditionNotMet", "Supplied fingerprint does not match current resource fingerprint."
            )
        for name in IMMUTABLE.get(key[1], frozenset()):
            if merged.get(name) != current.get(name) and (patch is False or name in body):
                raise ComputeError(400, "invalid", f"Field '{name}' of {key[1]} cannot be changed in place.")
        self._check_references(merged)
        self._check_limits(key, merged)
        for kept in ("id", "selfLink", "creationTimestamp", "kind", "IPAddress", "address", "status"):
            if kept in current:
                merged[kept] = current[kept]

        def effect() -> None:
            if key in self.resources:
                if key[1] in FINGERPRINTED:
                    merged["fingerprint"] = fingerprint(merged)
                self.resources[key] = merged

        return self.operation(key[0], "patch" if patch else "update", key, effect)

    def set_field(self, key: Key, verb: str, field_name: str, value: Any) -> dict[str, Any]:
        self.get(key)  # 404 when it does not exist
        self._check_references({field_name: value})

        def effect() -> None:
            if key in self.resources:
                self.resources[key][field_name] = value

        return self.operation(key[0], verb, key, effect)

    def delete(self, key: Key) -> dict[str, Any]:
        self.get(key)
        users = self._users_of(key)
        if users:
            raise ComputeError(
                400,
                "resourceInUseByAnotherResource",
                f"The {key[1]} resource '{self.link(key).removeprefix(BASE)}' is already being used by "
                f"'{self.link(users[0]).removeprefix(BASE)}'",
            )

        def effect() -> None:
            self.resources.pop(key, None)
            self.endpoints.pop(key, None)
            self.members.pop(key, None)

        return self.operation(key[0], "delete", key, effect)

    def put(self, key: Key, body: dict[str, Any]) -> None:
        """Seed a resource directly (someone else's, or the network's subnets)."""
        with self.lock:
            self.resources[key] = self._stored(key, {**body, "name": key[2]})

    # Network endpoints of a zonal NEG.
    def change_endpoints(self, key: Key, verb: str, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
        neg = self.get(key)
        current = self.endpoints.get(key, [])
        attach = verb == "attachNetworkEndpoints"
        for endpoint in endpoints:
            complete = "ipAddress" in endpoint and "port" in endpoint
            if neg.get("networkEndpointType") == "GCE_VM_IP_PORT" and not complete:
                raise ComputeError(400, "invalid", "GCE_VM_IP_PORT endpoints need ipAddress and port")
            if attach == (endpoint in current):
                state = "already attached to" if attach else "not attached to"
                raise ComputeError(400, "invalid", f"Network endpoint {endpoint} is {state} {key[2]}")
        self._check_references({"endpoints": endpoints})
        if any("instance" in endpoint for endpoint in endpoints):
            self.grant("compute.instances.use")

        def effect() -> None:
            if key not in self.resources:
                return
            now = self.endpoints.setdefault(key, [])
            for endpoint in endpoints:
                if attach and endpoint not in now:
                    now.append(endpoint)
                elif not attach and endpoint in now:
                    now.remove(endpoint)
            self.resources[key]["size"] = len(now)

        return self.operation(key[0], verb, key, effect)
