"""Time as the control plane sees it: a real clock, or one tests move by hand. No I/O.

Every component reads time through a :class:`Clock` (backoff, probes, CronJob
schedules, heartbeats, grace periods), so tests and demos can speed time up
(:class:`ScaledClock`) or stop and step it (:class:`ManualClock`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from datetime import datetime, timezone

__all__ = ["Clock", "ManualClock", "RealClock", "ScaledClock", "format_time", "parse_time"]


class Clock:
    """Interface: wall time for timestamps, monotonic time for intervals, async sleep."""

    def now(self) -> datetime:
        """Aware UTC wall-clock time (what goes into creationTimestamp)."""
        raise NotImplementedError

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and deadlines)."""
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def real_seconds(self, seconds: float) -> float:
        """How many real seconds ``seconds`` of this clock's time last."""
        return seconds


class RealClock(Clock):
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock(Clock):
    """Time that runs ``speed`` times faster than real time (for demos and tests)."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall0 = datetime.now(timezone.utc)
        self._mono0 = time.monotonic()

    def monotonic(self) -> float:
        return self._mono0 + (time.monotonic() - self._mono0) * self.speed

    def now(self) -> datetime:
        from datetime import timedelta

        return self._wall0 + timedelta(seconds=(time.monotonic() - self._mono0) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.speed


class ManualClock(Clock):
    """A clock that moves only when a test calls :meth:`advance`.

    Sleepers on any event loop wake when time passes their deadline; safe to
    advance from another thread.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._wall0 = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._offset = 0.0
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def monotonic(self) -> float:
        return self._offset

    def now(self) -> datetime:
        from datetime import timedelta

        return self._wall0 + timedelta(seconds=self._offset)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            heapq.heappush(self._sleepers, (self._offset + seconds, next(self._counter), future))
        await future

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
            due = []
            while self._sleepers and self._sleepers[0][0] <= self._offset:
                due.append(heapq.heappop(self._sleepers)[2])
        for future in due:
            loop = future.get_loop()
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_last_formatted: tuple[int, str] = (-1, "")


def format_time(moment: datetime) -> str:
    """RFC 3339 with second precision and a Z, as Kubernetes writes timestamps."""
    global _last_formatted
    second = int(moment.timestamp())
    cached = _last_formatted
    if cached[0] == second:  # thousands of writes share a second: format it once
        return cached[1]
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_formatted = (second, text)
    return text


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time` (also accepts fractional seconds and offsets)."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)
