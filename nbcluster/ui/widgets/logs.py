"""``LogsView``: ``kubectl logs -f`` into a bounded output area that follows the end.

One pod (``POD``, ``pod/NAME``, or ``TYPE/NAME`` for one pod of a workload, as
kubectl picks it) or every pod a label selector matches (``-l``), each line prefixed
``[pod/NAME/CONTAINER]`` like kubectl does when it follows several streams. Each
container is followed by a task on the control plane's loop reading the kubelet's
``follow_logs`` stream (the runtime's own ``logs -f``: no polling), which appends
lines as the container writes them, so the kernel is never blocked. When an instance
exits its stream ends; the next instance (a restart) is followed from its first line,
looked for at most once every :attr:`LogsView.poll` seconds. The buffer keeps the last
``max_lines`` lines.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.api.selectors import LabelSelector
from nbcluster.errors import UsageError
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, escape, note
from nbcluster.ui.widgets._hub import Changes, Key
from nbcluster.ui.widgets._targets import label_selector_of, parse_target

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["LogsView"]

Obj = dict[str, Any]
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


@dataclass
class _Source:
    pod: str
    container: str
    tail: int | None
    #: the runtime id of the instance followed last (None before the first stream)
    streamed: str | None = None
    future: concurrent.futures.Future[None] | None = None
    next_read: float = 0.0
    waiting: str = ""


class LogsView(LiveWidget):
    """Streaming logs. Build it with :func:`nbcluster.ui.widgets.logs_widget`."""

    #: Seconds between two looks for a container to follow (not started yet, or restarted).
    poll = 1.0
    live_tick = None

    def __init__(
        self,
        cluster: Cluster,
        target: str | None = None,
        *,
        selector: str | None = None,
        container: str | None = None,
        namespace: str | None = None,
        all_containers: bool = False,
        tail: int | None = None,
        prefix: bool | None = None,
        max_lines: int = 1000,
        height: str = "320px",
    ) -> None:
        if bool(target) == bool(selector):
            raise UsageError("error: logs needs one of a pod (POD or TYPE/NAME) or a selector (-l)")
        self.namespace = namespace or getattr(cluster, "namespace", None) or "default"
        self.container = container
        self.all_containers = all_containers
        self.max_lines = max_lines
        labels: Any = selector
        fields = None
        if target:
            pod_name = self._pod_of(cluster, target)
            fields = f"metadata.name={pod_name}"
            labels = None
            self.tail = -1 if tail is None else tail
        else:
            self.tail = 10 if tail is None else tail
        self.selector = selector
        self.target = target
        self.prefix = (bool(selector) or all_containers) if prefix is None else prefix
        self.output = widgets.HTML()
        self.output.add_class("nbcluster-logs")
        self._height = height
        what = f"-l {selector}" if selector else str(target)
        super().__init__(
            cluster, children=[widgets.HTML(STYLE + note(f"logs -f {what} in {self.namespace}")), self.output]
        )
        self._buffer: deque[str] = deque(maxlen=max_lines)
        self._pods: dict[Key, Obj] = {}
        self._sources: dict[tuple[str, str], _Source] = {}
        self._first = True
        self._live_watch("pods", self._on_pods, namespace=self.namespace, labels=labels, fields=fields)
        self._first = False
        self._live_start()

    # -- sources ----------------------------------------------------------------------

    def _pod_of(self, cluster: Cluster, target: str) -> str:
        if "/" not in target:
            return target
        info, name = parse_target(target)
        if info.kind == "Pod":
            return name
        obj = cluster.api.get(info, name, namespace=self.namespace)
        selector = label_selector_of(obj)
        pods = cluster.api.list("pods", namespace=self.namespace, label_selector=_selector_text(selector))[
            "items"
        ]
        if not pods:
            raise UsageError(f"error: no pods found for {target}")
        return pods[0]["metadata"]["name"]

    def _containers(self, pod: Obj) -> list[str]:
        spec = pod.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or ()]
        if self.all_containers:
            return [c["name"] for c in spec.get("initContainers") or ()] + names
        if self.container:
            return [self.container]
        default = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER)
        return [default] if default in names else names[:1]

    def _on_pods(self, changes: Changes) -> None:
        with self._live_lock:
            for key, pod in changes.items():
                if pod is None:
                    self._pods.pop(key, None)
                    for source_key in [k for k in self._sources if k[0] == key[1]]:
                        future = self._sources.pop(source_key).future
                        if future is not None:
                            future.cancel()  # the pod is gone: release its stream now
                    continue
                self._pods[key] = pod
                for name in self._containers(pod):
                    if (key[1], name) not in self._sources:
                        # pods there from the start show their --tail; later ones from their first line
                        self._sources[(key[1], name)] = _Source(
                            key[1], name, self.tail if self._first else -1
                        )
            self._live_dirty = True

    # -- reading ----------------------------------------------------------------------

    def _live_poll(self, now: float) -> None:
        plane = self.cluster.plane
        loop: asyncio.AbstractEventLoop | None = plane.loop
        if loop is None or not plane.running:
            return
        with self._live_lock:
            sources = list(self._sources.values())
        for source in sources:
            future = source.future
            if future is not None:
                if not future.done():
                    continue  # following
                source.future = None
                self._ended(source, future)
            if now >= source.next_read:
                source.next_read = now + self.poll
                coroutine = self._follow(source, plane.kubelets)
                source.future = asyncio.run_coroutine_threadsafe(coroutine, loop)

    async def _follow(self, source: _Source, kubelets: Any) -> None:
        """On the control plane's loop: stream the current instance's lines into the buffer."""
        instance = kubelets.container_id(self.namespace, source.pod, source.container)
        if instance is not None and instance == source.streamed:
            return  # that instance has ended; its successor is not there yet
        # The first instance shows --tail; a pod that came later, or a restart, from line one.
        tail = source.tail if source.streamed is None else -1
        head = f"[pod/{source.pod}/{source.container}] " if self.prefix else ""
        lines = kubelets.follow_logs(
            self.namespace, source.pod, source.container, tail=None if tail is None or tail < 0 else tail
        )
        async for line in lines:
            if source.streamed != instance:
                source.streamed = instance
                source.waiting = ""
            with self._live_lock:
                self._buffer.append(head + line)
                self._live_dirty = True
        source.streamed = instance

    def _ended(self, source: _Source, future: concurrent.futures.Future[None]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:  # not started yet, gone, or the runtime does not answer
            source.waiting = str(error)
            with self._live_lock:
                self._live_dirty = True
        else:
            source.waiting = ""

    @property
    def lines(self) -> list[str]:
        """The buffered lines (the last ``max_lines``)."""
        with self._live_lock:
            return list(self._buffer)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    # -- drawing ----------------------------------------------------------------------

    def _live_draw(self) -> None:
        with self._live_lock:
            lines = list(self._buffer)
            waiting = [s for s in self._sources.values() if s.waiting and s.streamed is None]
            count = len(self._sources)
        body = escape("\n".join(lines)) if lines else ""
        if not lines:
            body = escape(
                waiting[0].waiting if waiting else ("waiting for logs…" if count else "no pods yet…")
            )
        # column-reverse keeps the box scrolled to its end as lines arrive
        value = (
            f'{STYLE}<div style="max-height: {self._height}; overflow: auto; display: flex; '
            'flex-direction: column-reverse"><pre class="nbcluster-note" style="margin: 0; color: inherit">'
            f"{body}</pre></div>"
        )
        if self.output.value != value:
            self.output.value = value

    def _live_stopped(self, reason: str) -> None:
        for source in self._sources.values():
            if source.future is not None:
                source.future.cancel()
        self.children = [*self.children[:1], self.output, widgets.HTML(stopped_html(reason))]

    def __repr__(self) -> str:
        what = f"-l {self.selector}" if self.selector else str(self.target)
        return f"<LogsView {what}: {len(self.lines)} lines>"


def _selector_text(selector: dict[str, Any] | None) -> str | None:
    if not selector:
        return None
    return str(LabelSelector.from_dict(selector))
