"""What the operator asked the emulated API server during the e2e tests, as RBAC sees it.

The e2e `cluster` fixture adds every request of its emulator that did not come from the test's own
client (which sends TEST_CLIENT_TOKEN); tests/install/test_rbac.py checks them against the chart's
ClusterRole. One log per pytest session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

TEST_CLIENT_TOKEN = "e2e-test-client"
_VERBS = {"LIST": "list", "WATCH": "watch", "FETCH": "get", "CREATE": "create", "DELETE": "delete"}
_METHOD_VERBS = {"PATCH": "patch", "PUT": "update"}


class ApiRequest(NamedTuple):
    verb: str
    group: str
    resource: str  # plural, with "/subresource" when there is one

    def __str__(self) -> str:
        return f"{self.verb} {self.group or 'core'}/{self.resource}"


def as_rbac(request: Any) -> ApiRequest | None:
    """A kmock request as (verb, group, resource); None for discovery and other non-resource URLs."""
    if request.resource is None or not getattr(request.resource, "plural", None):
        return None
    method = str(getattr(request.method, "value", request.method)).upper()
    action = str(getattr(request.action, "value", request.action)).upper()
    verb = _METHOD_VERBS.get(method) or _VERBS.get(action)
    if verb is None:
        return None
    resource = request.resource.plural + (f"/{request.subresource}" if request.subresource else "")
    return ApiRequest(verb, request.resource.group or "", resource)


def from_operator(requests: Iterable[Any]) -> set[ApiRequest]:
    out = set()
    for request in requests:
        if request.headers.get("Authorization") == f"Bearer {TEST_CLIENT_TOKEN}":
            continue
        seen = as_rbac(request)
        if seen is not None:
            out.add(seen)
    return out


SESSION_LOG: set[ApiRequest] = set()
