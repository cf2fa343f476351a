"""Optional persistence of the store to a state directory, in SQLite. Does file I/O.

Writes are queued and committed in batches by a background thread, so a burst of
thousands of pod updates costs a handful of transactions; ``close()`` flushes.
A new store on the same file sees every object again, at the same revisions.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbcluster.store.memory import WatchEvent

__all__ = ["Persistence", "SqlitePersistence"]


class Persistence:
    """Interface the store writes through."""

    def load(self) -> Iterator[tuple[str, dict[str, Any]]]:
        raise NotImplementedError

    def revision(self) -> int:
        raise NotImplementedError

    def record(self, event: WatchEvent) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqlitePersistence(Persistence):
    def __init__(self, path: str | Path, *, flush_interval: float = 0.05) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.commit()
        self._queue: queue.Queue[WatchEvent | None] = queue.Queue()
        self._interval = flush_interval
        self._db_lock = threading.Lock()
        self._flushed = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="nbcluster-store-persist", daemon=True)
        self._thread.start()

    def load(self) -> Iterator[tuple[str, dict[str, Any]]]:
        with self._db_lock:
            rows = self._db.execute("SELECT resource, body FROM objects ORDER BY revision").fetchall()
        for resource, body in rows:
            yield resource, json.loads(body)

    def revision(self) -> int:
        with self._db_lock:
            row = self._db.execute("SELECT value FROM meta WHERE key='revision'").fetchone()
        return int(row[0]) if row else 0

    def record(self, event: WatchEvent) -> None:
        with self._flushed:
            self._pending += 1
        self._queue.put(event)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            try:
                while True:
                    item = (
                        self._queue.get(timeout=self._interval)
                        if len(batch) < 2
                        else self._queue.get_nowait()
                    )
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
            except queue.Empty:
                pass
            self._write(batch)
            with self._flushed:
                self._pending -= len(batch)
                self._flushed.notify_all()
            if stop:
                return

    def _write(self, batch: list[WatchEvent]) -> None:
        upserts: dict[tuple[str, str, str], tuple[int, str] | None] = {}
        for event in batch:
            meta = event.object["metadata"]
            key = (event.resource, meta.get("namespace") or "", meta["name"])
            upserts[key] = None if event.type == "DELETED" else (event.revision, json.dumps(event.object))
        with self._db_lock:
            for (resource, namespace, name), value in upserts.items():
                if value is None:
                    self._db.execute(
                        "DELETE FROM objects WHERE resource=? AND namespace=? AND name=?",
                        (resource, namespace, name),
                    )
                else:
                    self._db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)",
                        (resource, namespace, name, value[0], value[1]),
                    )
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('revision', ?)", (str(batch[-1].revision),))
            self._db.commit()

    def flush(self) -> None:
        with self._flushed:
            while self._pending > 0 and self._thread.is_alive():
                self._flushed.wait(0.1)

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._thread.join(timeout=5)
        with self._db_lock:
            self._db.close()
