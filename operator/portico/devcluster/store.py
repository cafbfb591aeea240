"""The emulated API server's object store: what a real API server does on every write.

- creation stamps uid, creationTimestamp, resourceVersion and generation 1 (and expands
  `metadata.generateName`); creating an existing object is 409 AlreadyExists;
- a write carrying `metadata.resourceVersion` that is not the current one is 409 Conflict;
- every accepted write takes the next resourceVersion (one counter for the whole store, as etcd);
  a change of `spec` bumps generation; a write to the `status` subresource changes only status;
- deleting an object with finalizers only sets deletionTimestamp; it goes once they are removed.

Every change is appended to a bounded per-resource event log and pushed to live watchers, so a
watch can resume from a resourceVersion (older than the log: 410 Gone, as a real server says).
Stored dicts are never mutated in place: a write builds a new object, so events can share them.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

StoreKey = tuple[str, str, str]  # (resource id, namespace or "" for cluster-scoped, name)
Event = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """A resource the store serves: its id (`group/version/plural`), apiVersion, kind, scope."""

    resource_id: str
    api_version: str
    kind: str
    namespaced: bool


class StatusError(Exception):
    """An API error: the HTTP status, the reason and the message of a `Status` object."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


def merged(base: Any, patch: Any) -> Any:
    """RFC 7386 merge of `patch` onto `base` (null deletes), without touching either."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out


def matches_labels(obj: Mapping[str, Any], selector: str | None) -> bool:
    """Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated."""
    if not selector:
        return True
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = term.split("!=", 1)
            ok = labels.get(key.strip()) != value.strip()
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            ok = labels.get(key.strip()) == value.strip()
        elif term.startswith("!"):
            ok = term[1:].strip() not in labels
        else:
            ok = term in labels
        if not ok:
            return False
    return True


DATA_LIMIT = 1024 * 1024  # bytes of data + binaryData a ConfigMap or Secret may hold


def _decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(str(value)))
    except ValueError:
        return len(str(value).encode())


def validate(kind: Kind, obj: Mapping[str, Any]) -> None:
    """The API server's validation of what Portico writes and a real server refuses: sizes, duplicate keys."""
    if kind.kind not in ("ConfigMap", "Secret"):
        return
    name = (obj.get("metadata") or {}).get("name")
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    duplicates = sorted(set(data) & set(binary))
    if duplicates:
        message = f"data[{duplicates[0]}]: duplicate of key present in binaryData"
        raise StatusError(422, "Invalid", f'{kind.kind} "{name}" is invalid: {message}')
    if kind.kind == "Secret":
        size = sum(len(k) + _decoded_size(v) for k, v in data.items())
    else:
        size = sum(len(k) + len(str(v).encode()) for k, v in data.items())
    size += sum(len(k) + _decoded_size(v) for k, v in binary.items())
    if size > DATA_LIMIT:
        message = f"[]: Too long: must have at most {DATA_LIMIT} bytes"
        raise StatusError(422, "Invalid", f'{kind.kind} "{name}" is invalid: {message}')


# Called after every write that is not to the status subresource: (kind, object before or None,
# object after) -> the object to store, e.g. with the status a cluster's controllers would set.
Controller = Callable[[Kind, Mapping[str, Any] | None, dict[str, Any]], dict[str, Any]]


class ObjectStore:
    def __init__(self, controller: Controller | None = None, log_size: int = 50_000) -> None:
        self.objects: dict[StoreKey, dict[str, Any]] = {}
        self._by_resource: dict[str, dict[StoreKey, dict[str, Any]]] = {}
        self.conflicts = 0
        self._controller = controller
        self._versions = itertools.count(1)
        self._version = 0
        self._log_size = log_size
        self._logs: dict[str, deque[tuple[int, Event]]] = {}
        self._watchers: dict[str, set[asyncio.Queue[Event]]] = {}

    @property
    def resource_version(self) -> str:
        return str(self._version)

    def _next_version(self) -> str:
        self._version = next(self._versions)
        return str(self._version)

    @staticmethod
    def _key(kind: Kind, namespace: str | None, name: str) -> StoreKey:
        return (kind.resource_id, (namespace or "") if kind.namespaced else "", name)

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        found = self.objects.get(self._key(kind, namespace, name))
        if found is None:
            raise StatusError(404, "NotFound", f'{kind.kind} "{name}" not found')
        return found

    def select(self, kind: Kind, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        return [
            obj
            for (_, ns, _), obj in self._by_resource.get(kind.resource_id, {}).items()
            if (not namespace or ns == namespace) and matches_labels(obj, selector)
        ]

    def create(self, kind: Kind, namespace: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
        meta = dict(body.get("metadata") or {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{secrets.token_hex(3)}"
        name = str(meta.get("name") or "")
        if not name:
            raise StatusError(422, "Invalid", f"{kind.kind}: metadata.name or metadata.generateName is required")
        if kind.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        key = self._key(kind, meta.get("namespace"), name)
        if key in self.objects:
            raise StatusError(409, "AlreadyExists", f'{kind.kind} "{name}" already exists')
        meta.update(
            uid=str(uuid.uuid4()),
            creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            resourceVersion=self._next_version(),
            generation=1,
        )
        obj = {**body, "apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}
        validate(kind, obj)
        if self._controller is not None:
            obj = self._controller(kind, None, obj)
        self._put(key, obj)
        self._emit(kind, "ADDED", obj)
        return obj

    def patch(
        self, kind: Kind, namespace: str | None, name: str, body: Mapping[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        """A JSON merge patch; to the status subresource only `status` is taken."""
        current = self.get(kind, namespace, name)
        self._check_version(kind, name, current, body)
        if subresource == "status":
            after = merged(current, {"status": body.get("status")})
        else:
            after = merged(current, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
        return self._write(kind, current, after, subresource)

    def replace(
        self, kind: Kind, namespace: str | None, name: str, body: Mapping[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        """PUT: the whole object (or only its status, to the status subresource)."""
        current = self.get(kind, namespace, name)
        self._check_version(kind, name, current, body)
        if subresource == "status":
            after = {**current, "status": copy.deepcopy(body.get("status"))}
        else:
            # Identity and bookkeeping stay the server's; metadata.finalizers/labels/... are the client's.
            keep = {k: current["metadata"][k] for k in ("uid", "creationTimestamp", "namespace", "name")}
            after = {**copy.deepcopy(dict(body)), "metadata": {**(body.get("metadata") or {}), **keep}}
        return self._write(kind, current, after, subresource)

    def delete(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        current = self.get(kind, namespace, name)
        meta = current.get("metadata") or {}
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return current
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return self._write(kind, current, merged(current, {"metadata": {"deletionTimestamp": stamp}}), "delete")
        return self._remove(kind, current)

    def _check_version(self, kind: Kind, name: str, current: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        have = current["metadata"]["resourceVersion"]
        if wanted is not None and str(wanted) != str(have):
            self.conflicts += 1
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind.kind} "{name}": the object has been modified '
                f"(resourceVersion {wanted} is not {have}); please apply your changes to the latest version "
                "and try again",
            )

    def _write(
        self, kind: Kind, current: dict[str, Any], after: dict[str, Any], subresource: str | None
    ) -> dict[str, Any]:
        meta = dict(after.get("metadata") or {})
        for field in ("uid", "creationTimestamp", "name", "namespace"):
            if field in current["metadata"]:
                meta[field] = current["metadata"][field]
        generation = int(current["metadata"].get("generation") or 1)
        meta["generation"] = generation + 1 if after.get("spec") != current.get("spec") else generation
        meta["resourceVersion"] = self._next_version()
        after = {**after, "apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}
        validate(kind, after)
        if self._controller is not None and subresource is None:
            after = self._controller(kind, current, after)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(kind, after)
        self._put(self._key(kind, meta.get("namespace"), meta["name"]), after)
        self._emit(kind, "MODIFIED", after)
        return after

    def _remove(self, kind: Kind, last: dict[str, Any]) -> dict[str, Any]:
        meta = last["metadata"]
        key = self._key(kind, meta.get("namespace"), meta["name"])
        self.objects.pop(key, None)
        self._by_resource.get(kind.resource_id, {}).pop(key, None)
        gone = {**last, "metadata": {**meta, "resourceVersion": self._next_version()}}
        self._emit(kind, "DELETED", gone)
        return gone

    def _put(self, key: StoreKey, obj: dict[str, Any]) -> None:
        self.objects[key] = obj
        self._by_resource.setdefault(key[0], {})[key] = obj

    # Watching.

    def _emit(self, kind: Kind, event_type: str, obj: dict[str, Any]) -> None:
        event = {"type": event_type, "object": obj}
        log = self._logs.setdefault(kind.resource_id, deque(maxlen=self._log_size))
        log.append((self._version, event))
        for queue in self._watchers.get(kind.resource_id, ()):
            queue.put_nowait(event)

    def subscribe(self, kind: Kind, since: str | None) -> tuple[list[Event], asyncio.Queue[Event]]:
        """The events a watch from `since` must first replay, and a queue of the ones to come.

        No `since` (or "0"): every current object as ADDED. A `since` older than the kept log
        raises 410 Gone, which makes a client list again."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._watchers.setdefault(kind.resource_id, set()).add(queue)
        if not since or since == "0":
            return [{"type": "ADDED", "object": obj} for obj in self.select(kind, None)], queue
        try:
            start = int(since)
        except ValueError:
            self.unsubscribe(kind, queue)
            raise StatusError(400, "BadRequest", f"resourceVersion {since!r} is not a number") from None
        log = self._logs.get(kind.resource_id, deque())
        if log and log[0][0] > start + 1 and len(log) == log.maxlen:  # events may be lost
            self.unsubscribe(kind, queue)
            raise StatusError(410, "Expired", f"too old resource version: {start} ({log[0][0]})")
        return [event for version, event in log if version > start], queue

    def unsubscribe(self, kind: Kind, queue: asyncio.Queue[Event]) -> None:
        self._watchers.get(kind.resource_id, set()).discard(queue)
