"""The one retry policy for cloud calls: tenacity, jittered exponential backoff, bounded.

SDK-level retries are switched off by the providers so this is the only one; each cloud
passes its own `is_transient`. Tests make backoff instantaneous by patching `sleep`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    multiplier: float = 0.2
    max_wait_seconds: float = 10.0


def sleep(seconds: float) -> None:
    """The only place retries wait (tests patch it)."""
    time.sleep(seconds)


def _wait(seconds: float) -> None:
    sleep(seconds)  # looked up at call time, so a test's patch of `sleep` applies


def call_with_retry(
    is_transient: Callable[[BaseException], bool],
    function: Callable[..., T],
    /,
    policy: RetryPolicy = RetryPolicy(),
    **kwargs: Any,
) -> T:
    """Call `function`, retrying the failures `is_transient` accepts."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_random_exponential(multiplier=policy.multiplier, max=policy.max_wait_seconds),
        stop=stop_after_attempt(policy.attempts),
        sleep=_wait,
        reraise=True,
    )
    return retrying(function, **kwargs)
