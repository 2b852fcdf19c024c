"""How stages hand work to each other in a run: a feed of committed batch numbers, and even sampling.

A downstream stage reads its upstream's batches in batch order, waiting on the upstream's ``Feed`` for the
next one, so the batches it cuts do not depend on which upstream batch happened to finish first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from codefoundry.errors import UserError


def spread(records: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` records, taken evenly across the list (not just its head), in order."""
    if limit is None or len(records) <= limit:
        return records
    step = len(records) / limit
    return [records[int(i * step)] for i in range(limit)]


class Feed:
    """What a stage has made available downstream: committed batch numbers, and its batch count once done."""

    def __init__(self) -> None:
        self.ready: set[int] = set()
        self.total: int | None = None
        self._changed = asyncio.Condition()

    async def publish(self, batch: int) -> None:
        async with self._changed:
            self.ready.add(batch)
            self._changed.notify_all()

    async def finish(self, total: int) -> None:
        async with self._changed:
            self.total = total
            self.ready.update(range(total))
            self._changed.notify_all()

    async def wait_for(self, batch: int) -> bool:
        """Wait until ``batch`` is committed (True) or the stage finished with fewer batches (False)."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: batch in self.ready or (self.total is not None and batch >= self.total)
            )
            return batch in self.ready

    async def wait_finished(self) -> int:
        async with self._changed:
            await self._changed.wait_for(lambda: self.total is not None)
            assert self.total is not None
            return self.total


def first_cause(error: BaseExceptionGroup) -> BaseException:
    """The exception that stopped the run (a user error first), out of the task group's wrapping."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(error)
    for leaf in leaves:
        if isinstance(leaf, UserError):
            return leaf
    return next((leaf for leaf in leaves if not isinstance(leaf, asyncio.CancelledError)), leaves[0])
