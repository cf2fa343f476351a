"""A rate-limited, de-duplicating work queue like client-go's. No I/O.

Keys are strings (``namespace/name``). A key added many times before a worker takes
it is processed once; a key added while being processed is processed again after
``done``. ``add_after`` schedules on the injectable clock; ``add_rate_limited`` backs
off exponentially per key (5 ms doubling to 1000 s, as client-go's default) until
``forget``. ``add`` is safe from any thread; workers run on the queue's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
from collections import deque

from nbcluster.util.clock import Clock

__all__ = ["WorkQueue"]


class WorkQueue:
    def __init__(
        self, clock: Clock, *, name: str = "", base_delay: float = 0.005, max_delay: float = 1000.0
    ) -> None:
        self.name = name
        self.clock = clock
        self._lock = threading.Lock()
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._delayed: list[tuple[float, int, str]] = []
        #: key -> earliest deadline it waits for (one entry per key, like client-go's delaying queue)
        self._waiting: dict[str, float] = {}
        self._counter = itertools.count()
        self._base = base_delay
        self._max = max_delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._ready: asyncio.Event | None = None
        self._delay_changed: asyncio.Event | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop the workers run on (called from that loop's thread)."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._ready = asyncio.Event()
        self._delay_changed = asyncio.Event()
        if self._queue:
            self._ready.set()

    def _signal(self, event: asyncio.Event | None) -> None:
        if event is None or self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            event.set()
        else:
            # A closed loop means the queue is shutting down: nothing to wake.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(event.set)

    def add(self, key: str) -> None:
        with self._lock:
            if self._closed or key in self._dirty:
                return
            self._dirty.add(key)
            if key in self._processing:
                return
            self._queue.append(key)
        self._signal(self._ready)

    def add_after(self, key: str, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        deadline = self.clock.monotonic() + delay
        with self._lock:
            current = self._waiting.get(key)
            if current is not None and current <= deadline:
                return  # already due sooner: a burst of events is one sync
            self._waiting[key] = deadline
            heapq.heappush(self._delayed, (deadline, next(self._counter), key))
        self._signal(self._delay_changed)

    def add_rate_limited(self, key: str) -> None:
        with self._lock:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        self.add_after(key, min(self._max, self._base * (2**failures)))

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    def pending(self) -> list[str]:
        """Keys waiting to be processed, now or after a delay (sorted; for tests and debugging)."""
        with self._lock:
            return sorted(set(self._queue) | set(self._waiting))

    def clear(self) -> None:
        """Forget every queued and delayed key (not those being processed)."""
        with self._lock:
            self._queue.clear()
            self._dirty.clear()
            self._waiting.clear()
            self._delayed.clear()

    def __len__(self) -> int:
        return len(self._queue)

    async def get(self) -> str | None:
        """The next key to process (None once the queue is closed)."""
        assert self._ready is not None, "bind() the queue to a loop first"
        while True:
            with self._lock:
                if self._closed:
                    return None
                if self._queue:
                    key = self._queue.popleft()
                    self._processing.add(key)
                    self._dirty.discard(key)
                    return key
                self._ready.clear()
            await self._ready.wait()

    def done(self, key: str) -> None:
        requeue = False
        with self._lock:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                requeue = True
        if requeue:
            self._signal(self._ready)

    async def run_delays(self) -> None:
        """Move delayed keys into the queue when due (one task per queue)."""
        assert self._delay_changed is not None
        while not self._closed:
            with self._lock:
                now = self.clock.monotonic()
                due = []
                while self._delayed and self._delayed[0][0] <= now:
                    deadline, _, key = heapq.heappop(self._delayed)
                    if self._waiting.get(key) == deadline:
                        del self._waiting[key]
                        due.append(key)
                wait = self._delayed[0][0] - now if self._delayed else None
                self._delay_changed.clear()
            for key in due:
                self.add(key)
            if wait is None:
                await self._delay_changed.wait()
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            changed = asyncio.ensure_future(self._delay_changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                changed.cancel()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._signal(self._ready)
        self._signal(self._delay_changed)
