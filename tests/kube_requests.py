"""What the operator asked the emulated API server during the e2e tests, as RBAC sees it.

The e2e `cluster` fixture adds every entry of its emulator's access log that did not come from the
test's own client (which sends TEST_CLIENT_TOKEN); tests/install/test_rbac.py checks them against the
chart's ClusterRole. One log per pytest session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

TEST_CLIENT_TOKEN = "e2e-test-client"


class ApiRequest(NamedTuple):
    verb: str
    group: str
    resource: str  # plural, with "/subresource" when there is one

    def __str__(self) -> str:
        return f"{self.verb} {self.group or 'core'}/{self.resource}"


def from_operator(access_log: Iterable[tuple[str, str, str, str]]) -> set[ApiRequest]:
    """The emulator's access log (verb, group, resource, Authorization) without the test client's requests."""
    return {
        ApiRequest(verb, group, resource)
        for verb, group, resource, authorization in access_log
        if authorization != f"Bearer {TEST_CLIENT_TOKEN}"
    }


SESSION_LOG: set[ApiRequest] = set()
