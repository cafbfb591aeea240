"""Limits every data plane has in some form: weight ranges, rule priorities, per-rule checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from portico.ir import Listener, Rule
from portico.provider import RulesCheck


class Unsupported(Exception):
    """A rule the data plane cannot express; the message names the limit."""


def scale_weights(weights: Sequence[int], maximum: int) -> tuple[int, ...]:
    """Gateway weights (up to 1,000,000) -> 0..`maximum`, same ratios, no positive weight lost."""
    top = max(weights, default=0)
    if top <= maximum:
        return tuple(weights)
    return tuple(max(1, round(w * maximum / top)) if w else 0 for w in weights)


def priority_waves(moves: Mapping[str, tuple[int, int]], spare: int) -> list[list[tuple[str, int]]]:
    """Batches of (rule, priority) such that no batch targets a priority another rule still holds.

    `moves` maps a rule to (current, wanted) priority. Shifting every rule down by one takes two
    waves; a cycle (two rules swapping) parks one rule at a spare priority counting down from `spare`.
    """
    pending = dict(moves)
    waves: list[list[tuple[str, int]]] = []
    while pending:
        held = {now for now, _ in pending.values()}
        wave = sorted((rule, wanted) for rule, (_, wanted) in pending.items() if wanted not in held)
        if not wave:
            rule = min(pending)
            while spare in held or spare in {w for _, w in pending.values()}:
                spare -= 1
            waves.append([(rule, spare)])
            pending[rule] = (spare, pending[rule][1])
            continue
        waves.append(wave)
        for rule, _ in wave:
            del pending[rule]
    return waves


# One check of one rule on its listener: raises Unsupported naming the limit.
RuleCheck = Callable[[Listener, Rule], None]


def rules_checker(checks: Callable[[], Sequence[RuleCheck]]) -> RulesCheck:
    """`Capabilities.check_rules` from per-rule checks, run in precedence order.

    `checks` makes fresh checks per call (aggregate ones count what passed so far); a rule's
    checks stop at the first that raises, so a rejected rule never counts against a quota.
    """

    def check_rules(listeners: Sequence[Listener]) -> Mapping[str, str]:
        rejected: dict[str, str] = {}
        fresh = checks()
        for listener in listeners:
            for rule in listener.rules:
                try:
                    for check in fresh:
                        check(listener, rule)
                except Unsupported as error:
                    rejected[rule.id] = str(error)
        return rejected

    return check_rules


class Quota:
    """An aggregate check: at most `limit` rules per key; `message(limit, count, key)` names it.
    Rules over the quota still count, so each message says which rule it would be."""

    def __init__(
        self, limit: int, message: Callable[[int, int, str], str], key: Callable[[Listener, Rule], str] = lambda *_: ""
    ) -> None:
        self.limit = limit
        self.message = message
        self.key = key
        self.counts: dict[str, int] = {}

    def __call__(self, listener: Listener, rule: Rule) -> None:
        key = self.key(listener, rule)
        count = self.counts[key] = self.counts.get(key, 0) + 1
        if count > self.limit:
            raise Unsupported(self.message(self.limit, count, key))
