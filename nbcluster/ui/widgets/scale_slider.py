"""``ScaleSlider``: an IntSlider bound to a workload's ``spec.replicas``.

Moving the slider scales the Deployment / ReplicaSet / StatefulSet (or
ReplicationController) through the ``scale`` subresource, like ``kubectl scale``:
the slider sends its value when released (``continuous_update=False``) and the
widget waits :attr:`ScaleSlider.debounce` seconds for the last of a burst (arrow
keys held down), so a drag is one scale. A change made elsewhere (a magic, another
slider, an autoscaler) moves the slider. Beside it: ``ready / desired`` and a strip
of chips, one per pod the workload selects, coloured by the pod's STATUS.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.cli.kubectl import format_error
from nbcluster.cli.printers import pod_status_reason
from nbcluster.errors import BadRequest, NbClusterError
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, chip, escape
from nbcluster.ui.widgets._hub import Changes, Key
from nbcluster.ui.widgets._targets import label_selector_of, parse_target, short_name

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["ScaleSlider"]

Obj = dict[str, Any]
MAX_CHIPS = 200


class ScaleSlider(LiveWidget):
    """A replica slider. Build it with :func:`nbcluster.ui.widgets.scale_widget`."""

    #: Seconds the slider must rest before it scales (a burst of key presses is one scale).
    debounce = 0.3
    live_tick = None  # nothing here counts time

    def __init__(
        self,
        cluster: Cluster,
        target: str | tuple[str, str],
        *,
        namespace: str | None = None,
        max: int | None = None,
        min: int = 0,
        description: str | None = None,
    ) -> None:
        info, name = parse_target(target)
        if "scale" not in info.subresources:
            raise BadRequest(f"cannot scale a {info.kind}: it has no scale subresource")
        self.info = info
        self.name = name
        self.namespace = (
            (namespace or getattr(cluster, "namespace", None) or "default") if info.namespaced else None
        )
        obj = cluster.api.get(info, name, namespace=self.namespace)  # NotFound says so, like kubectl
        desired = int(obj["spec"].get("replicas", 1))
        top = max if max is not None else _default_max(desired)
        self.slider = widgets.IntSlider(
            value=desired,
            min=min,
            max=_max(top, desired),
            step=1,
            description=description or short_name(info, name),
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="460px"),
        )
        self.slider.add_class("nbcluster-scale-slider")
        self.readout = widgets.HTML()
        self.readout.add_class("nbcluster-scale-readout")
        self.chips = widgets.HTML()
        self.chips.add_class("nbcluster-scale-chips")
        super().__init__(cluster, children=[widgets.HBox([self.slider, self.readout]), self.chips])
        #: How many scale requests the slider sent (a drag is one).
        self.scale_calls = 0
        self.last_error = ""
        self._obj: Obj | None = obj
        self._gone = False
        self._pods: dict[Key, Obj] = {}
        self._pending: tuple[int, float] | None = None
        self._floor = 0  # ignore stored versions older than our own last scale
        self._sync_ident: int | None = None
        self.slider.observe(self._on_slider, names="value")
        self._live_watch(info, self._on_workload, namespace=self.namespace, fields=f"metadata.name={name}")
        self._live_watch(
            "pods", self._on_pods, namespace=self.namespace, labels=label_selector_of(obj) or None
        )
        self._live_start()

    # -- what happens ----------------------------------------------------------------

    @property
    def desired(self) -> int:
        """``spec.replicas`` as last seen."""
        obj = self._obj
        return int(obj["spec"].get("replicas", 1)) if obj else 0

    @property
    def ready(self) -> int:
        obj = self._obj
        return int((obj.get("status") or {}).get("readyReplicas") or 0) if obj else 0

    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._sync_ident == threading.get_ident():
            return  # the cluster moved the slider: nothing to send back
        with self._live_lock:
            self._pending = (int(change["new"]), _now())
            self._live_dirty = True

    def _on_workload(self, changes: Changes) -> None:
        with self._live_lock:
            for obj in changes.values():
                if obj is None:
                    self._gone = True
                else:
                    self._obj, self._gone = obj, False
            self._live_dirty = True

    def _on_pods(self, changes: Changes) -> None:
        with self._live_lock:
            for key, obj in changes.items():
                if obj is None:
                    self._pods.pop(key, None)
                else:
                    self._pods[key] = obj
            self._live_dirty = True

    def _live_poll(self, now: float) -> None:
        with self._live_lock:
            pending = self._pending
            if pending is None or _now() - pending[1] < self.debounce:
                return
            self._pending = None
        replicas = pending[0]
        try:
            scale = self.cluster.api.scale(self.info, self.name, replicas, namespace=self.namespace)
        except NbClusterError as exc:
            self.last_error = format_error(exc)
        else:
            self.last_error = ""
            self.scale_calls += 1
            self._floor = int(scale["metadata"].get("resourceVersion") or 0)
        self._live_dirty = True

    # -- drawing ------------------------------------------------------------------------

    def _live_draw(self) -> None:
        with self._live_lock:
            obj, gone, pending = self._obj, self._gone, self._pending
            pods = [self._pods[k] for k in sorted(self._pods)]
        if gone or obj is None:
            self.readout.value = STYLE + (
                f'<span class="nbcluster-note">{escape(short_name(self.info, self.name))} was deleted</span>'
            )
            self.slider.disabled = True
            return
        desired = int(obj["spec"].get("replicas", 1))
        version = int(obj["metadata"].get("resourceVersion") or 0)
        if pending is None and version >= self._floor and desired != self.slider.value:
            self._move_slider(desired)
        status = obj.get("status") or {}
        ready = int(status.get("readyReplicas") or 0)
        parts = [f"<b>{ready}</b>/{desired} ready"]
        if pending is not None:
            parts.append(f"scaling to {pending[0]}…")
        elif int(status.get("replicas") or 0) != desired:
            parts.append(f"{int(status.get('replicas') or 0)} current")
        text = " · ".join(parts)
        if self.last_error:
            text += f' <span class="nb-error">{escape(self.last_error)}</span>'
        readout = f'{STYLE}<span class="nbcluster-note">{text}</span>'
        if self.readout.value != readout:
            self.readout.value = readout
        shown = [
            chip(
                _suffix(p["metadata"]["name"]),
                pod_status_reason(p),
                f"{p['metadata']['name']}: {pod_status_reason(p)}",
            )
            for p in pods[:MAX_CHIPS]
        ]
        if len(pods) > MAX_CHIPS:
            shown.append(f'<span class="nbcluster-note">+{len(pods) - MAX_CHIPS} more</span>')
        chips = f'{STYLE}<div class="nbcluster-chips">{"".join(shown)}</div>'
        if self.chips.value != chips:
            self.chips.value = chips

    def _move_slider(self, value: int) -> None:
        self._sync_ident = threading.get_ident()
        try:
            if value > self.slider.max:
                self.slider.max = value
            if value < self.slider.min:
                self.slider.min = value
            self.slider.value = value
        finally:
            self._sync_ident = None

    def _live_stopped(self, reason: str) -> None:
        self.slider.disabled = True
        self.readout.value = stopped_html(reason)

    def __repr__(self) -> str:
        return f"<ScaleSlider {short_name(self.info, self.name)}: {self.slider.value} (ready {self.ready})>"


def _now() -> float:
    return time.monotonic()


def _default_max(desired: int) -> int:
    return desired * 2 if desired >= 5 else 10


def _max(a: int, b: int) -> int:
    return a if a > b else b


def _suffix(name: str) -> str:
    """The distinctive tail of a pod name (``web-7d4b9c-x2k4q`` -> ``x2k4q``, ``db-0`` -> ``db-0``)."""
    head, _, tail = name.rpartition("-")
    if head and len(tail) == 5:
        return tail
    return name if len(name) <= 12 else name[-12:]
