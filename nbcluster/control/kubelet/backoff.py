"""Per-key exponential backoff like client-go's ``flowcontrol.Backoff``, and Go durations. No I/O.

The kubelet keeps two: container restarts (key ``pod uid/container``, 10 s doubling to
300 s, measured from the container's ``finishedAt``) and image pulls (key ``pod
uid_image``). An entry is forgotten when the event it measures from is more than twice the
maximum (10 minutes) after its last update: a container that ran for ten minutes starts
again from 10 s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff", "format_duration"]


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    """``IsInBackOffSince`` / ``IsInBackOffSinceUpdate`` / ``Next`` over plain seconds."""

    def __init__(self, initial: float = 10.0, maximum: float = 300.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > self.maximum * 2

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """True while ``now`` is less than the current backoff after ``event_time``."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry.last_update):
            return False
        return now - event_time < entry.backoff

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry.last_update):
            return False
        return now - entry.last_update < entry.backoff

    def next(self, key: str, event_time: float, now: float) -> None:
        """Record a retry at ``now``: the first (or a stale) one waits ``initial``, then doubles."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry.last_update):
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.backoff = min(entry.backoff * 2, self.maximum)
            entry.last_update = now

    def due(self, key: str) -> float | None:
        """When the current backoff of ``key`` (counted from its last update) ends."""
        entry = self._entries.get(key)
        return None if entry is None else entry.last_update + entry.backoff

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def format_duration(seconds: float) -> str:
    """Go's ``time.Duration.String``: ``10s``, ``1m20s``, ``5m0s``, ``1.2s``, ``532ms``, ``0s``."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _trim(rest / 1e9)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
