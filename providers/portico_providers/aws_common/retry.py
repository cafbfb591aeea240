"""What AWS errors mean: throttling and 5xx are transient (retried by the kit's policy), a few
codes mean "gone", "in use" codes are conflicts, the rest of ClientError is invalid input.

botocore's own retries are switched off on Portico's clients (see `clients.py`) so the kit's
tenacity policy is the one retry policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from portico_providers.kit.execute import ErrorKind
from portico_providers.kit.retry import call_with_retry

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
TRANSIENT_CODES = frozenset(
    {"InternalError", "InternalFailure", "InternalServerException", "ServiceUnavailable", "RequestTimeout"}
)
# Error codes that mean "no such resource": a delete that meets one has nothing left to do.
GONE_CODES = frozenset(
    {
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "RuleNotFound",
        "ResourceNotFoundException",
        "CertificateNotFound",
        "InvalidGroup.NotFound",
        "InvalidPermission.NotFound",
        "InvalidSecurityGroupRuleId.NotFound",
    }
)
# Refusals that pass once something else finishes: a target group still used by a listener (and
# for a while after the listener or balancer is deleted), an ACM certificate an ALB has not let go
# of yet (ResourceInUseException), a resource still being provisioned or deleted, a security group
# the network interfaces of a deleted balancer still hold (DependencyViolation).
CONFLICT_CODES = frozenset(
    {"ResourceInUse", "ResourceInUseException", "ConflictException", "OperationNotPermitted", "DependencyViolation"}
)


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def http_status(error: BaseException) -> int:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def is_transient(error: BaseException) -> bool:
    """Throttling, 5xx and connection failures: worth another try; everything else is final."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ClientError):
        code = error_code(error)
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or http_status(error) >= 500
    return isinstance(error, ConnectionError | HTTPClientError)


def describe_error(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


class AwsErrors:
    """The kit's ErrorClassifier for botocore errors."""

    def classify(self, error: BaseException) -> ErrorKind | None:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(error, ClientError | BotoCoreError):
            return None
        if is_transient(error):
            return ErrorKind.TRANSIENT
        code = error_code(error)
        if code in GONE_CODES:
            return ErrorKind.GONE
        if code in CONFLICT_CODES:
            return ErrorKind.CONFLICT
        return ErrorKind.INVALID_INPUT

    def describe(self, error: BaseException) -> str:
        return describe_error(error)


AWS_ERRORS = AwsErrors()


def call(function: Callable[..., T], /, **kwargs: Any) -> T:
    """Call an SDK function, retrying transient failures with jittered exponential backoff."""
    return call_with_retry(is_transient, function, **kwargs)
