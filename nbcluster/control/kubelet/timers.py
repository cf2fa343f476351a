"""One timer heap on the injectable clock, run by one task. No I/O.

Every delayed thing the kubelet does — probe periods, restart backoff expiry, retries,
heartbeats — is a callback in this heap, so 100,000 pods cost heap entries, not sleeping
tasks. Callbacks are plain functions run on the loop; a cancelled handle is skipped when
it comes up.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from nbcluster.util.clock import Clock

__all__ = ["TimerHandle", "Timers"]

log = logging.getLogger("nbcluster.kubelet")


class TimerHandle:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._heap)

    def start(self) -> None:
        """Start the runner on the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._closed = False
            self._changed = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubelet-timers")

    async def stop(self) -> None:
        self._closed = True
        self._heap.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` once ``clock.monotonic()`` reaches ``when``."""
        handle = TimerHandle(when, callback, args)
        heapq.heappush(self._heap, (when, next(self._seq), handle))
        if self._heap[0][2] is handle and self._changed is not None:
            self._changed.set()
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        return self.call_at(self.clock.monotonic() + max(0.0, delay), callback, *args)

    def run_due(self) -> int:
        """Run every callback that is due now; returns how many ran."""
        ran = 0
        now = self.clock.monotonic()
        heap = self._heap
        while heap and heap[0][0] <= now:
            handle = heapq.heappop(heap)[2]
            if handle.cancelled:
                continue
            ran += 1
            try:
                handle.callback(*handle.args)
            except Exception:
                log.exception("kubelet timer callback failed")
        return ran

    async def _run(self) -> None:
        assert self._changed is not None
        changed = self._changed
        while not self._closed:
            self.run_due()
            changed.clear()
            # Drop cancelled entries at the top so they do not cause needless wake-ups.
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if not self._heap:
                await changed.wait()
                continue
            wait = self._heap[0][0] - self.clock.monotonic()
            if wait <= 0:
                await asyncio.sleep(0)
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            waker = asyncio.ensure_future(changed.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
