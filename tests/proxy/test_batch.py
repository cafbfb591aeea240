"""WriteBatch: a loop turn's writes leave together, in order, and a queued close comes after them."""

from __future__ import annotations

import asyncio

from portico_proxy.batch import MAX_BATCH, WriteBatch


class _Transport(asyncio.Transport):
    """Records writes and closes in one shared journal, to check the order across transports."""

    def __init__(self, name: str, journal: list[str]) -> None:
        super().__init__()
        self.name = name
        self.journal = journal
        self.closing = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.journal.append(f"{self.name}:{data.decode()}")

    def close(self) -> None:
        self.closing = True
        self.journal.append(f"{self.name}:close")

    def is_closing(self) -> bool:
        return self.closing


async def test_writes_wait_for_the_end_of_the_turn_and_keep_their_order() -> None:
    journal: list[str] = []
    a, b = _Transport("a", journal), _Transport("b", journal)
    batch = WriteBatch()
    batch.write(a, b"1")
    batch.write(b, b"2")
    batch.close(a)
    batch.write(a, b"dropped")  # a is closing by then
    batch.write(b, b"3")
    assert journal == []
    await asyncio.sleep(0)
    assert journal == ["a:1", "b:2", "a:close", "b:3"]
    assert batch.pending == []


async def test_close_with_nothing_queued_is_immediate_and_close_now_flushes_first() -> None:
    journal: list[str] = []
    a, b = _Transport("a", journal), _Transport("b", journal)
    batch = WriteBatch()
    batch.close(a)
    assert journal == ["a:close"]
    batch.write(b, b"answer")
    batch.close_now(b)
    assert journal == ["a:close", "b:answer", "b:close"]
    await asyncio.sleep(0)  # the flush scheduled by the first write finds nothing left
    assert journal == ["a:close", "b:answer", "b:close"]


async def test_a_full_batch_leaves_without_waiting_for_the_turn() -> None:
    journal: list[str] = []
    a = _Transport("a", journal)
    batch = WriteBatch()
    for index in range(MAX_BATCH - 1):
        batch.write(a, b"%d" % index)
    assert journal == []
    batch.write(a, b"last")
    assert journal == [f"a:{index}" for index in range(MAX_BATCH - 1)] + ["a:last"]
    batch.write(a, b"next")
    await asyncio.sleep(0)
    assert journal[-1] == "a:next" and batch.pending == []
