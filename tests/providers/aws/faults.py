"""Injected AWS faults: throttling before a call takes effect, 5xx before or after it does."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from portico_providers.aws_common.clients import is_mutating


def client_error(code: str, status: int, operation: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@dataclass
class Faults:
    """`rate` of calls fail. A failure after the call took effect is a lost answer: the provider
    must cope with a create that happened although it was told it did not."""

    seed: int
    rate: float = 0.0
    injected: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def before(self, model: Any, **_: Any) -> None:
        if self.rng.random() < self.rate:
            code, status = self.rng.choice(
                [("Throttling", 400), ("ThrottlingException", 400), ("ServiceUnavailable", 503), ("InternalError", 500)]
            )
            self.injected.append(("before", model.name))
            raise client_error(code, status, model.name)

    def after(self, model: Any, **_: Any) -> None:
        if is_mutating(model.name) and self.rng.random() < self.rate / 2:
            self.injected.append(("after", model.name))
            raise client_error("ServiceUnavailable", 503, model.name)

    def hooks(self) -> list[tuple[str, Any]]:
        return [("before-call", self.before), ("after-call", self.after)]
