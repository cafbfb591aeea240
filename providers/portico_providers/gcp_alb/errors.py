"""What Compute's errors mean to the kit (`ErrorClassifier`): gone, transient, conflict, invalid input."""

from __future__ import annotations

from portico_providers.gcp_alb.compute import TRANSIENT, api_errors, describe, http_code, reason
from portico_providers.gcp_alb.handlers import OperationFailed
from portico_providers.kit.execute import ErrorKind

# Work Compute cannot do yet: a name still held by a running or unanswered insert, a resource
# something else still uses, one not ready, a fingerprint that moved on (re-read, then retried).
CONFLICT_REASONS = frozenset({"alreadyExists", "resourceInUseByAnotherResource", "resourceNotReady", "conditionNotMet"})
# Operation error codes that clear by themselves.
TRANSIENT_OPERATION_CODES = frozenset({"RESOURCE_OPERATION_RATE_EXCEEDED", "RATE_LIMIT_EXCEEDED", "INTERNAL_ERROR"})


class ComputeErrors:
    def classify(self, error: BaseException) -> ErrorKind | None:
        if isinstance(error, OperationFailed):
            return ErrorKind.TRANSIENT if error.code in TRANSIENT_OPERATION_CODES else ErrorKind.INVALID_INPUT
        if not isinstance(error, api_errors()):
            return None
        from google.api_core import exceptions
        from google.auth import exceptions as auth

        if isinstance(error, auth.GoogleAuthError):
            return ErrorKind.INVALID_INPUT  # no usable credentials: the message says why
        if not isinstance(error, exceptions.GoogleAPICallError):
            return ErrorKind.TRANSIENT  # retries exhausted, or the network failed
        code = http_code(error)
        if code == 404:
            return ErrorKind.GONE
        if code in TRANSIENT:
            return ErrorKind.TRANSIENT
        if reason(error) in CONFLICT_REASONS or code in (409, 412):
            return ErrorKind.CONFLICT
        return ErrorKind.INVALID_INPUT

    def describe(self, error: BaseException) -> str:
        return str(error) if isinstance(error, OperationFailed) else describe(error)
