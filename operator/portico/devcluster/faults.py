"""Fault injection for the emulated API server: refusals, cut watches and expired histories.

Deterministic: every rule draws from one `random.Random(seed)`, so a test that makes the same
requests in the same order sees the same faults. Switchable per test: `emulator.faults` starts
empty; a test adds rules, cuts or expires watches, and `clear()` turns everything off again.

What a real API server does and a client must survive:
- 500 InternalError and 429 TooManyRequests (with `Retry-After`) on any request;
- 409 Conflict on a write another writer raced;
- 401 Unauthorized for a credential the server no longer accepts (an expired or revoked token:
  a rule with `authorization`);
- 403 Forbidden on what the client's role does not allow (an older ClusterRole);
- a watch connection closed at any moment (the client resumes from its last resourceVersion);
- 410 Gone on resuming a watch whose resourceVersion is no longer in the history (the client
  must list again, and nothing tells it what was deleted in the meantime).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from portico.devcluster.store import StatusError

REASONS = {401: "Unauthorized", 403: "Forbidden", 409: "Conflict", 429: "TooManyRequests", 500: "InternalError"}
VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})


@dataclass
class FaultRule:
    """Answer `code` to a matching request with probability `rate`, at most `times` times.

    `verbs` and `resources` (plural, with `/status` for the subresource) narrow the requests;
    empty means every one. `authorization` narrows to one client: the exact `Authorization` header
    it sends ("" for a client without credentials, like `portico run --server`)."""

    code: int
    rate: float = 1.0
    verbs: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    times: int | None = None
    authorization: str | None = None
    injected: int = 0

    def __post_init__(self) -> None:
        if self.code not in REASONS:
            raise ValueError(f"code: {self.code} is not one of {sorted(REASONS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate: {self.rate} is not between 0 and 1")
        unknown = self.verbs - VERBS
        if unknown:
            raise ValueError(f"verbs: {sorted(unknown)} are not Kubernetes verbs ({sorted(VERBS)})")

    def matches(self, verb: str, resource: str, authorization: str) -> bool:
        if self.times is not None and self.injected >= self.times:
            return False
        if self.verbs and verb not in self.verbs:
            return False
        if self.resources and resource not in self.resources:
            return False
        return self.authorization is None or authorization == self.authorization


@dataclass
class Faults:
    """The faults an emulator injects now; `ClusterEmulator.faults` is one of these."""

    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    injected: dict[int, int] = field(default_factory=dict)  # code -> how many were answered
    watch_cuts: int = 0  # bumped by cut_watches(); open watch streams end when it changes
    expired_before: int = 0  # a watch resumed from an older resourceVersion gets 410 Gone
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """No more refusals (cuts already made and expired histories stay as they are)."""
        self.rules.clear()

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def cut_watches(self) -> None:
        """Close every open watch stream now, as an API server restart or a load balancer would."""
        self.watch_cuts += 1

    def expire(self, resource_version: int) -> None:
        """Forget the history up to `resource_version`: resuming from before it is 410 Gone."""
        self.expired_before = max(self.expired_before, resource_version)

    def check(self, verb: str, resource: str, authorization: str) -> None:
        """Raise the StatusError a matching rule draws for this request, if any."""
        for rule in self.rules:
            if rule.matches(verb, resource, authorization) and self._random.random() < rule.rate:
                rule.injected += 1
                self.injected[rule.code] = self.injected.get(rule.code, 0) + 1
                raise StatusError(rule.code, REASONS[rule.code], f"injected fault on {verb} {resource}")

    def expired(self, since: str | None) -> bool:
        """True when a watch from `since` reaches back before the kept history."""
        if not since or since == "0" or not self.expired_before:
            return False
        try:
            return int(since) < self.expired_before
        except ValueError:
            return False
