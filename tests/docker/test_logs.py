"""``logs -f`` on real containers: lines come from Docker's own log stream as they are written."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.docker.conftest import BUSYBOX


def test_logs_follow_shows_lines_as_the_container_writes_them(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: ticker}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'i=1; while [ $i -le 15 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']
"""
    )
    c.wait("pods", name="ticker", condition="Running", timeout=30)
    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    out = c.kubectl("logs -f ticker", out=lambda line: arrivals.append((time.monotonic(), line)))
    ended = time.monotonic()
    assert out is None
    assert [line for _at, line in arrivals] == [f"tick {i}" for i in range(1, 16)]
    # Followed, not polled: each of the last lines arrives on its own, about 0.2 s after the
    # one before, as the container writes it (a poll would bring them in batches).
    late = [at for at, _line in arrivals[-10:]]
    gaps = [b - a for a, b in itertools.pairwise(late)]
    assert sum(0.1 < gap < 0.4 for gap in gaps) >= 7, gaps
    assert ended - started < 10
    c.wait("pods", name="ticker", condition="Succeeded", timeout=10)
    # The container is gone: -f prints what it wrote and ends at once.
    again = c.kubectl("logs -f ticker --tail=2")
    assert str(again).splitlines() == ["tick 14", "tick 15"]
