"""Smooth weighted round robin (the nginx algorithm): an even interleaving, weight 0 gets nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class WeightedPicker(Generic[T]):
    __slots__ = ("current", "items", "total", "weights")

    def __init__(self, weighted: Sequence[tuple[int, T]]) -> None:
        kept = [(w, item) for w, item in weighted if w > 0]
        self.items = [item for _, item in kept]
        self.weights = [w for w, _ in kept]
        self.current = [0] * len(kept)
        self.total = sum(self.weights)

    def pick(self) -> T | None:
        """The next item; None when nothing has a positive weight."""
        items = self.items
        if len(items) <= 1:
            return items[0] if items else None
        current, weights = self.current, self.weights
        best = 0
        for index, weight in enumerate(weights):
            current[index] += weight
            if current[index] > current[best]:
                best = index
        current[best] -= self.total
        return items[best]
