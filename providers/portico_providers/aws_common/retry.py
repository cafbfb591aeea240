"""Retries for throttling and transient AWS errors: tenacity, jittered exponential backoff, bounded.

botocore's own retries are switched off on Portico's clients (see `clients.py`) so this is the
one retry policy, and tests can make backoff instantaneous by patching `sleep`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

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
MAX_ATTEMPTS = 8


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


def sleep(seconds: float) -> None:
    """The only place retries wait (tests patch it)."""
    time.sleep(seconds)


def call(function: Callable[..., T], /, **kwargs: Any) -> T:
    """Call an SDK function, retrying transient failures with jittered exponential backoff."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_random_exponential(multiplier=0.2, max=10),
        stop=stop_after_attempt(MAX_ATTEMPTS),
        sleep=sleep,
        reraise=True,
    )
    return retrying(function, **kwargs)
