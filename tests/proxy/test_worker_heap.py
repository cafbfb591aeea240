"""A worker's long-lived heap is frozen once a configuration serves, so the cyclic collector's full
scans (tens to hundreds of milliseconds with the loop stopped) leave it alone; the previous
configuration's cyclic garbage is still freed at the next reload."""

from __future__ import annotations

import gc
import weakref

from portico_proxy.process import settle_heap


class Table:
    """Stands in for a compiled table that refers to itself (a cycle: only the collector frees it)."""

    def __init__(self) -> None:
        self.itself = self


def test_a_settled_heap_is_frozen_and_the_previous_configuration_goes_at_the_next_reload() -> None:
    table = Table()
    alive = weakref.ref(table)
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert not any(tracked is table for tracked in gc.get_objects())  # out of every generation
        del table
        gc.collect()
        assert alive() is not None  # frozen: no collection looks at it
        settle_heap()  # the next configuration applied
        assert alive() is None
    finally:
        gc.unfreeze()
