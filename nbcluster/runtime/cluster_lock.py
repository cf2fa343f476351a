"""One process per cluster name and Docker daemon. Does I/O (a lock file under the temp dir).

Containers carry the cluster's *name*: two kernels that both start cluster "nbcluster" on one
daemon would each take the other's containers for leftovers and remove them. The runtime
therefore holds an exclusive ``flock`` on ``<tmp>/nbcluster-locks/<daemon id>-<cluster>.lock``
while it runs; the kernel's death releases it, so a crashed kernel's cluster can be
re-adopted at once. (Processes on other hosts sharing the daemon are not seen: a limit.)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from nbcluster.errors import Conflict

try:
    import fcntl
except ImportError:  # Windows: no flock; the check is skipped
    fcntl = None  # type: ignore[assignment]

__all__ = ["ClusterLock", "lock_dir"]


def lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / "nbcluster-locks"


class ClusterLock:
    """Held from :meth:`acquire` to :meth:`release` (idempotent both)."""

    def __init__(self, daemon_id: str, cluster: str, directory: Path | None = None) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{daemon_id}-{cluster}")
        self.cluster = cluster
        self.path = (directory or lock_dir()) / f"{safe}.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        if self._file is not None or fcntl is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while the cluster runs
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise Conflict(
                f'cluster "{self.cluster}" is already running on this Docker daemon in another '
                f"process (pid {holder}); stop it there, or give this one another name "
                f"(Cluster(name=...) or %kube cluster create NAME)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.truncate(0)
        handle.close()
