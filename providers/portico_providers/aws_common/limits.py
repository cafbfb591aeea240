"""Limits both AWS data planes share: weights 0-999, and moving rule priorities without collisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_WEIGHT = 999


class Unsupported(Exception):
    """A rule the load balancer cannot express; the message names the limit."""


def scale_weights(weights: Sequence[int]) -> tuple[int, ...]:
    """Gateway weights (up to 1,000,000) -> AWS's 0-999, same ratios, no positive weight lost."""
    top = max(weights, default=0)
    if top <= MAX_WEIGHT:
        return tuple(weights)
    return tuple(max(1, round(w * MAX_WEIGHT / top)) if w else 0 for w in weights)


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
