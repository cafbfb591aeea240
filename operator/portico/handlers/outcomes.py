"""What a reconcile ends with, shared by programming and clean-up: per-Gateway failure counts with
their backoff, and the one log line (plus counter) every reconcile writes."""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from typing import Any

from tenacity import RetryCallState, wait_exponential

from portico.handlers.metrics import Metrics
from portico.handlers.store import ObjKey

log = logging.getLogger("portico.reconcile")


class Failures:
    """Consecutive failures per key; the retry delay grows with them (tenacity's exponential wait)."""

    def __init__(self, multiplier: float, max_seconds: float) -> None:
        self._backoff = wait_exponential(multiplier=multiplier, max=max_seconds)
        self._counts: dict[Hashable, int] = {}

    def record(self, key: Hashable) -> int:
        """One more failure of `key`; returns how many in a row."""
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count

    def clear(self, key: Hashable) -> None:
        self._counts.pop(key, None)

    def delay(self, failures: int) -> float:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failures
        return float(self._backoff(state))


def log_outcome(metrics: Metrics, key: ObjKey, provider: str, outcome: str, started: float, **extra: Any) -> None:
    """Counts the outcome and logs one `reconcile key=value ...` line (parsed by log pipelines)."""
    duration_ms = (time.monotonic() - started) * 1000
    metrics.reconciles.labels(provider or "none", outcome).inc()
    fields = {
        "gateway": f"{key[1]}/{key[2]}",
        "provider": provider,
        "outcome": outcome,
        "duration_ms": f"{duration_ms:.1f}",
        **extra,
    }
    log.info("reconcile %s", " ".join(f"{k}={_quote(v)}" for k, v in fields.items()))


def _quote(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text
