"""``RolloutView``: a rollout's progress, live — what ``kubectl rollout status`` waits for.

Two progress bars (updated / desired and ready / desired replicas), kubectl's own
status line (:func:`nbcluster.cli.kubectl.rollout_status_message`) and, for a
Deployment, its ReplicaSets — the new one and the old ones, with their desired,
current and ready counts and images — so a ``set image`` shows the new ReplicaSet
growing while the old one shrinks. :meth:`RolloutView.wait` blocks until the
rollout is done (what ``%kube rollout status`` does while the bars move).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.api.resources import resolve
from nbcluster.cli.kubectl import format_error, rollout_status_message
from nbcluster.cli.printers import columns, row
from nbcluster.errors import NbClusterError, Timeout, UsageError
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, escape, note, table_html
from nbcluster.ui.widgets._hub import Changes, Key
from nbcluster.ui.widgets._targets import parse_target, short_name

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["RolloutView"]

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
_RS = resolve("replicasets")


class RolloutView(LiveWidget):
    """Progress of one rollout. Build it with :func:`nbcluster.ui.widgets.rollout_widget`."""

    live_tick = 1.0

    def __init__(
        self, cluster: Cluster, target: str | tuple[str, str], *, namespace: str | None = None
    ) -> None:
        info, name = parse_target(target)
        if info.kind not in ("Deployment", "StatefulSet", "DaemonSet"):
            raise UsageError(
                f"error: no rollout for {info.kubectl_name}/{name}: only deployments, statefulsets "
                "and daemonsets roll out"
            )
        self.info = info
        self.name = name
        self.namespace = namespace or getattr(cluster, "namespace", None) or "default"
        obj = cluster.api.get(info, name, namespace=self.namespace)
        self.message = widgets.HTML()
        self.message.add_class("nbcluster-rollout-message")
        self.updated = widgets.IntProgress(
            min=0, max=1, description="updated", bar_style="info", style={"description_width": "70px"}
        )
        self.ready = widgets.IntProgress(
            min=0, max=1, description="ready", bar_style="info", style={"description_width": "70px"}
        )
        self.updated_text = widgets.HTML()
        self.ready_text = widgets.HTML()
        self.sets = widgets.HTML()
        self.sets.add_class("nbcluster-rollout-sets")
        title = widgets.HTML(STYLE + note(f"rollout of {short_name(info, name)} in {self.namespace}"))
        super().__init__(
            cluster,
            children=[
                title,
                self.message,
                widgets.HBox([self.updated, self.updated_text]),
                widgets.HBox([self.ready, self.ready_text]),
                self.sets,
            ],
        )
        #: Every distinct status line, in order (kubectl prints each once).
        self.messages: list[str] = []
        self.error = ""
        self.done = threading.Event()
        self._obj: Obj | None = obj
        self._gone = False
        self._sets: dict[Key, Obj] = {}
        self._version = 0
        self._finished = False
        self._assess(obj)
        self._live_watch(info, self._on_workload, namespace=self.namespace, fields=f"metadata.name={name}")
        if info.kind == "Deployment":
            self._live_watch(_RS, self._on_sets, namespace=self.namespace)
        self._live_start()

    # -- state -----------------------------------------------------------------------

    def _assess(self, obj: Obj) -> None:
        version = int(obj["metadata"].get("resourceVersion") or 0)
        if version < self._version:
            return  # an older state, delivered after wait() read a newer one
        self._version = version
        try:
            message, done = rollout_status_message(self.info.kind, obj)
        except NbClusterError as exc:  # ProgressDeadlineExceeded
            self.error = format_error(exc)
            self.done.set()
            return
        if not self.messages or self.messages[-1] != message:
            self.messages.append(message)
        if done:
            self.done.set()
        else:
            self.done.clear()

    def _on_workload(self, changes: Changes) -> None:
        with self._live_lock:
            for obj in changes.values():
                if obj is None:
                    self._gone = True
                    self.done.set()
                elif int(obj["metadata"].get("resourceVersion") or 0) >= self._version:
                    self._obj, self._gone = obj, False
                    self._assess(obj)
            self._live_dirty = True

    def _on_sets(self, changes: Changes) -> None:
        with self._live_lock:
            for key, obj in changes.items():
                if obj is None:
                    self._sets.pop(key, None)
                else:
                    self._sets[key] = obj
            self._live_dirty = True

    @property
    def status(self) -> str:
        """The latest status line (kubectl's wording)."""
        return self.error or (self.messages[-1] if self.messages else "")

    def wait(self, timeout: float | None = None) -> str:
        """Block until the rollout is done; returns kubectl's last line. Raises Timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._catch_up()
        while not self.done.wait(0.25):
            if not self.live:
                raise Timeout(f"stopped waiting: {self.stopped_reason}")
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout("timed out waiting for the condition")
        if self._gone:
            raise Timeout(f'{self.info.group_resource} "{self.name}" was deleted')
        if self.error:
            raise UsageError(self.error)
        self.refresh()
        return self.status

    def _catch_up(self) -> None:
        """Read the current state from the API server now (the watch may be a tick behind)."""
        api = self.cluster.api
        with api.store.lock:
            current = api.cached(self.info, self.name, self.namespace)
            sets = api.cached_list(_RS, self.namespace) if self.info.kind == "Deployment" else []
        with self._live_lock:
            if current is not None:
                self._obj = current
                self._assess(current)
            if sets:
                self._sets = {
                    (rs["metadata"].get("namespace", ""), rs["metadata"]["name"]): rs for rs in sets
                }

    def finish(self) -> None:
        """Show the final state and stop following the cluster (``%kube rollout status`` returned)."""
        if self.live:
            with contextlib.suppress(Exception):
                self._catch_up()
                self.refresh()
            self._finished = True
            self._live_release("rollout status returned")

    def replica_sets(self) -> list[tuple[str, Obj]]:
        """(``new`` | ``old``, ReplicaSet) of the Deployment, newest revision first."""
        with self._live_lock:
            obj = self._obj
            sets = list(self._sets.values())
        if obj is None or self.info.kind != "Deployment":
            return []
        uid = obj["metadata"].get("uid")
        owned = [
            rs
            for rs in sets
            if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or ())
        ]
        owned.sort(key=_revision, reverse=True)
        current = (obj["metadata"].get("annotations") or {}).get(REVISION)
        new_name = next(
            (
                rs["metadata"]["name"]
                for rs in owned
                if (rs["metadata"].get("annotations") or {}).get(REVISION) == current
            ),
            None,
        )
        if new_name is None and owned:
            new_name = owned[0]["metadata"]["name"]
        return [("new" if rs["metadata"]["name"] == new_name else "old", rs) for rs in owned]

    # -- drawing ------------------------------------------------------------------------

    def _live_draw(self) -> None:
        with self._live_lock:
            obj, gone = self._obj, self._gone
        if gone or obj is None:
            self.message.value = STYLE + note(f"{short_name(self.info, self.name)} was deleted")
            return
        desired, updated, ready = _counts(self.info.kind, obj)
        self._bar(self.updated, self.updated_text, updated, desired, "updated")
        self._bar(self.ready, self.ready_text, ready, desired, "ready")
        if self.error:
            text = f'{STYLE}<div class="nbcluster-note nb-error">{escape(self.error)}</div>'
        else:
            mark = "✔ " if self.done.is_set() else "⏳ "
            text = f'{STYLE}<div class="nbcluster-note">{mark}{escape(self.status)}</div>'
        if self.message.value != text:
            self.message.value = text
        if self.info.kind == "Deployment":
            sets = self.sets_html()
            if self.sets.value != sets:
                self.sets.value = sets

    def _bar(self, bar: widgets.IntProgress, label: widgets.HTML, value: int, total: int, what: str) -> None:
        bar.max = max(total, 1)
        bar.value = min(value, bar.max)
        bar.bar_style = "success" if total and value >= total else "info"
        text = f"{STYLE}{note(f'{value}/{total} {what}')}"
        if label.value != text:
            label.value = text

    def sets_html(self) -> str:
        now = self.cluster.clock.now()
        header = list(columns(_RS, wide=True))
        keep = [
            header.index(c) for c in ("NAME", "DESIRED", "CURRENT", "READY", "AGE", "IMAGES") if c in header
        ]
        rows = []
        for role, rs in self.replica_sets():
            cells = row(rs, now=now, wide=True)
            revision = (rs["metadata"].get("annotations") or {}).get(REVISION, "")
            rows.append(([role, revision, *(cells[i] for i in keep)], "nb-new-row" if role == "new" else ""))
        if not rows:
            return STYLE + note("no ReplicaSets yet")
        return table_html(["ROLLOUT", "REVISION", *(header[i] for i in keep)], rows)

    def _live_stopped(self, reason: str) -> None:
        if not self._finished:
            self.message.value = stopped_html(reason)

    def __repr__(self) -> str:
        return f"<RolloutView {short_name(self.info, self.name)}: {self.status}>"


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, 0))
    except (TypeError, ValueError):
        return 0


def _counts(kind: str, obj: Obj) -> tuple[int, int, int]:
    """(desired, updated, ready) replicas of a Deployment, StatefulSet or DaemonSet."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        return (
            int(status.get("desiredNumberScheduled") or 0),
            int(status.get("updatedNumberScheduled") or 0),
            int(status.get("numberReady") or 0),
        )
    return (
        int(spec.get("replicas", 1)),
        int(status.get("updatedReplicas") or 0),
        int(status.get("readyReplicas") or 0),
    )
