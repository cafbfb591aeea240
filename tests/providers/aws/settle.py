"""Reconciling and deleting the way the operator does while AWS refuses for a while.

The fakes refuse like AWS by default (a target group or certificate is "in use" for a while after
its last user went away, Lattice deletes asynchronously): a test that is not about the refusal
itself retries, within a bound, exactly as the operator's requeue and the finalizer do.
"""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, DeleteResult
from tests.irs import GATEWAY

RECONCILES = 5  # a refusal that outlasts this many reconciles is a provider bug, not AWS being slow
DELETES = 10


def reconcile_until_programmed(provider: Any, ir: GatewayIR) -> ApplyResult:
    result: ApplyResult = provider.reconcile(ir)
    for _ in range(RECONCILES - 1):
        if result.programmed:
            return result
        result = provider.reconcile(ir)
    assert result.programmed, result.message
    return result


def delete_until_finished(provider: Any, gateway: ObjectKey = GATEWAY) -> DeleteResult:
    result: DeleteResult = provider.delete(gateway)
    for _ in range(DELETES - 1):
        if result.finished:
            return result
        result = provider.delete(gateway)
    assert result.finished, (result.remaining, result.message)
    return result
