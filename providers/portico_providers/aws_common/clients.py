"""boto3 clients built lazily from the provider context, plus event hooks that count calls.

Context options understood by both AWS providers:
  region (str), profile (str), endpoint_urls ({service: url}), session (a boto3.Session),
  hooks (iterable of (event_name, handler) pairs registered first on every client).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

READ_PREFIXES = ("Describe", "List", "Get")


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


def iam_action(service_id: str, operation: str) -> str:
    """botocore service id + operation -> IAM action (`elasticloadbalancing:CreateRule`)."""
    prefix = {
        "elastic load balancing v2": "elasticloadbalancing",
        "acm": "acm",
        "ec2": "ec2",
        "vpc lattice": "vpc-lattice",
    }.get(service_id.lower(), service_id.lower().replace(" ", "-"))
    return f"{prefix}:{operation}"


@dataclass
class CallCounter:
    """Counts the API calls made through the clients it is attached to."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_id, model.name))

    @property
    def mutations(self) -> int:
        return sum(1 for _, operation in self.calls if is_mutating(operation))


class AwsClients:
    """One client per service, created on first use with botocore retries off (tenacity retries)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = options
        self._clients: dict[str, Any] = {}
        self._session: Any = options.get("session")
        self.counter = CallCounter()
        hooks: Iterable[tuple[str, Callable[..., Any]]] = options.get("hooks", ())
        self._hooks = list(hooks)

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.Session(
                profile_name=self._options.get("profile"), region_name=self._options.get("region")
            )
        return self._session

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "total_max_attempts": 1})
            endpoints: Mapping[str, str] = self._options.get("endpoint_urls", {})
            client = self._boto_session().client(
                service,
                region_name=self._options.get("region"),
                endpoint_url=endpoints.get(service),
                config=config,
            )
            client.meta.events.register("before-call.*.*", self.counter)
            for event, handler in self._hooks:
                client.meta.events.register_first(event, handler)
            self._clients[service] = client
        return self._clients[service]
