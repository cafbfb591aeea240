"""The SDK calls per kind (kit KindHandler): PUT and DELETE, never waiting for the operation.

A write that Azure finishes at once returns; one still running raises the kit's StillRunning with the
operation's state, and the Gateway is pending until a later reconcile finds it done. A gateway PUT is
built on top of what Azure holds and carries its etag (If-Match), so a concurrent change is a 412 that
the next reconcile re-reads instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portico_providers.azure_appgw.arm import APPGW, PIP, Arm
from portico_providers.azure_appgw.certificates import to_pfx
from portico_providers.azure_appgw.compare import merged_body
from portico_providers.azure_appgw.model import GATEWAY
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import StillRunning
from portico_providers.kit.ownership import Marks, TagOwnership
from portico_providers.kit.resources import Desired, Observed

BUSY = frozenset({"Updating", "Deleting"})
RECHECK_S = 20.0  # Application Gateway operations take tens of seconds to minutes


def state_of(resource: Mapping[str, Any] | None) -> str:
    return str(((resource or {}).get("properties") or {}).get("provisioningState") or "")


class ResourceHandler:
    def __init__(self, arm: Arm, kind: str, ownership: TagOwnership, operations: dict[str, str]) -> None:
        self.arm = arm
        self.collection = APPGW if kind == GATEWAY else PIP
        self.kind = kind
        self.ownership = ownership
        self.operations = operations  # resource name -> Azure-AsyncOperation URL of its last write

    def _key(self, name: str) -> str:
        return f"{self.collection}/{name}"

    def running(self, name: str, what: str) -> StillRunning:
        url = self.operations.get(self._key(name))
        detail = ""
        if url:
            status, error = self.arm.operation(url)
            detail = f"; Azure operation {status}" + (f": {error}" if error else "")
        return StillRunning(f"{what}{detail}", RECHECK_S)

    def _written(self, name: str, url: str | None, what: str) -> str:
        if url:
            self.operations[self._key(name)] = url
        found = self.arm.get(self.collection, name)
        if found is not None and state_of(found) not in BUSY:
            return str(found.get("id", ""))
        raise self.running(name, f"{what} is {state_of(found) or 'starting'}")

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        body = {**spec["body"], "tags": dict(marks.tags)}
        self._upload(body, desired.secret or {}, existing=set())
        headers = {"If-None-Match": "*"} if self.kind == GATEWAY else {}
        written = self.arm.put(self.collection, spec["name"], body, headers)
        return self._written(spec["name"], written.operation_url, f"creating the {self.kind}")

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        for step, spec in zip(steps, specs, strict=True):
            assert step.observed is not None and step.desired is not None
            seen: dict[str, Any] = dict(step.observed.extra.get("body") or {})
            if state_of(seen) in BUSY:
                raise self.running(spec["name"], f"the {self.kind} is {state_of(seen)}")
            tags = {**spec.get("tags", {}), **self.ownership.mark(step.id).tags}
            body = merged_body({**spec["body"], "tags": tags}, seen)
            existing = {c["name"].lower() for c in (seen.get("properties") or {}).get("sslCertificates") or []}
            self._upload(body, step.desired.secret or {}, existing)
            headers = {"If-Match": str(seen["etag"])} if seen.get("etag") else {}
            written = self.arm.put(self.collection, spec["name"], body, headers)
            self._written(spec["name"], written.operation_url, f"updating the {self.kind}")

    def delete(self, observed: Observed) -> None:
        name = str(observed.spec.model_dump()["name"])
        if state_of(observed.extra.get("body")) == "Deleting":
            raise self.running(name, f"deleting the {self.kind}")
        written = self.arm.delete(self.collection, name)
        if written.operation_url:
            self.operations[self._key(name)] = written.operation_url
        if self.arm.get(self.collection, name) is not None:
            raise self.running(name, f"deleting the {self.kind}")

    @staticmethod
    def _upload(body: dict[str, Any], uploads: Mapping[str, Any], existing: set[str]) -> None:
        """PFX data for certificates Azure does not hold yet (an upload is write-only, named by fingerprint)."""
        for cert in (body.get("properties") or {}).get("sslCertificates") or []:
            upload = uploads.get(cert["name"])
            if upload is not None and cert["name"].lower() not in existing:
                data, password = to_pfx(upload)
                cert["properties"] = {"data": data, "password": password}
