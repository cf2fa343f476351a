"""``Topology``: Services → Pods → Nodes as a live SVG picture, coloured by status.

Three columns: the Services (green when some pod they select is Ready, orange when
none is, grey without pods), the pods (coloured by their STATUS cell, grouped by
node), and the nodes (Ready, NotReady, SchedulingDisabled). A line joins a Service
to each pod its selector matches and a pod to the node it is bound to. Redrawn at
most twice a second from the watch streams; large clusters show the first
:attr:`Topology.max_pods` pods and say how many more there are.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.cli.printers import pod_status_reason, row, status_colour
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, escape, note
from nbcluster.ui.widgets._hub import Changes, Key

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["PALETTE", "Topology", "pod_ready", "service_selects"]

Obj = dict[str, Any]

#: status category -> (fill, stroke): GitHub's palette, as the tables use.
PALETTE: dict[str, tuple[str, str]] = {
    "ok": ("#dafbe1", "#1a7f37"),
    "progress": ("#ddf4ff", "#0969da"),
    "warning": ("#fff1e5", "#bc4c00"),
    "error": ("#ffebe9", "#cf222e"),
    "done": ("#f6f8fa", "#57606a"),
}

_ROW = 24
_TOP = 34
_BOX_H = 18
_SVC_X, _SVC_W = 8, 210
_POD_X, _POD_W = 300, 250
_NODE_X, _NODE_W = 640, 200
_WIDTH = _NODE_X + _NODE_W + 8


def service_selects(svc: Obj, pod: Obj) -> bool:
    """Whether a Service's selector picks the pod (same namespace, every label pair present)."""
    selector = (svc.get("spec") or {}).get("selector")
    if not selector:
        return False
    if (svc["metadata"].get("namespace") or "") != (pod["metadata"].get("namespace") or ""):
        return False
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_ready(pod: Obj) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )


class Topology(LiveWidget):
    """The live picture. Build it with :func:`nbcluster.ui.widgets.topology_widget`."""

    live_interval = 0.5
    live_tick = None
    max_pods = 80

    def __init__(self, cluster: Cluster, *, namespace: str | None = None, height: str = "520px") -> None:
        self.namespace = namespace
        self.svg = widgets.HTML(layout=widgets.Layout(max_height=height, overflow="auto"))
        self.svg.add_class("nbcluster-topology")
        where = f"namespace {namespace}" if namespace else "all namespaces"
        super().__init__(
            cluster, children=[widgets.HTML(STYLE + note(f"Services → Pods → Nodes, {where}")), self.svg]
        )
        self._services: dict[Key, Obj] = {}
        self._pods: dict[Key, Obj] = {}
        self._nodes: dict[Key, Obj] = {}
        self._live_watch("services", self._into(self._services), namespace=namespace)
        self._live_watch("pods", self._into(self._pods), namespace=namespace)
        self._live_watch("nodes", self._into(self._nodes))
        self._live_start()

    def _into(self, store: dict[Key, Obj]) -> Any:
        def apply(changes: Changes) -> None:
            with self._live_lock:
                for key, obj in changes.items():
                    if obj is None:
                        store.pop(key, None)
                    else:
                        store[key] = obj
                self._live_dirty = True

        return apply

    def _live_draw(self) -> None:
        value = self.render()
        if self.svg.value != value:
            self.svg.value = value

    def render(self) -> str:
        """The SVG picture of the cluster now."""
        with self._live_lock:
            services = [self._services[k] for k in sorted(self._services)]
            pods = list(self._pods.values())
            nodes = [self._nodes[k] for k in sorted(self._nodes)]
        now = self.cluster.clock.now()
        node_order = {n["metadata"]["name"]: i for i, n in enumerate(nodes)}
        hidden = max(0, len(pods) - self.max_pods)
        pods = heapq.nsmallest(
            self.max_pods,
            pods,
            key=lambda p: (
                node_order.get(p["spec"].get("nodeName") or "", len(nodes)),
                p["metadata"].get("namespace", ""),
                p["metadata"]["name"],
            ),
        )
        rows = max(len(services), len(pods) + (1 if hidden else 0), len(nodes), 1)
        height = _TOP + rows * _ROW + 8
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
            f'font-family="var(--jp-code-font-family, monospace)" font-size="11">'
        ]
        for x, title in ((_SVC_X, "Services"), (_POD_X, "Pods"), (_NODE_X, "Nodes")):
            out.append(f'<text x="{x}" y="16" font-weight="700" fill="currentColor">{title}</text>')

        def spread(count: int, index: int) -> float:
            if count <= 1:
                return _TOP
            span = (rows - 1) * _ROW
            return _TOP + index * span / (count - 1) if count <= rows else _TOP + index * _ROW

        pod_y = {id(p): _TOP + i * _ROW for i, p in enumerate(pods)}
        node_y = {n["metadata"]["name"]: spread(len(nodes), i) for i, n in enumerate(nodes)}
        svc_y = {id(s): spread(len(services), i) for i, s in enumerate(services)}
        edges: list[str] = []
        boxes: list[str] = []
        for svc in services:
            selected = [p for p in pods if service_selects(svc, p)]
            y = svc_y[id(svc)]
            for pod in selected:
                edges.append(_edge(_SVC_X + _SVC_W, y, _POD_X, pod_y[id(pod)]))
            if not (svc.get("spec") or {}).get("selector") or not selected:
                category = "done"
            else:
                category = "ok" if any(pod_ready(p) for p in selected) else "warning"
            meta = svc["metadata"]
            kind = (svc.get("spec") or {}).get("type", "ClusterIP")
            label = (
                f"{meta.get('namespace', '')}/{meta['name']} ({kind})"
                if not self.namespace
                else f"{meta['name']} ({kind})"
            )
            boxes.append(_box("service", meta["name"], _SVC_X, y, _SVC_W, label, category, label))
        for pod in pods:
            status = pod_status_reason(pod)
            y = pod_y[id(pod)]
            node = pod["spec"].get("nodeName")
            if node in node_y:
                edges.append(_edge(_POD_X + _POD_W, y, _NODE_X, node_y[node]))
            name = pod["metadata"]["name"]
            label = name if self.namespace else f"{pod['metadata'].get('namespace', '')}/{name}"
            boxes.append(
                _box(
                    "pod",
                    name,
                    _POD_X,
                    y,
                    _POD_W,
                    f"{label}  {status}",
                    status_colour(status),
                    f"{label}: {status} on {node or '(not scheduled)'}",
                )
            )
        if hidden:
            y = _TOP + len(pods) * _ROW
            boxes.append(f'<text x="{_POD_X}" y="{y + 13}" fill="#57606a">+{hidden} more pods</text>')
        for node in nodes:
            name = node["metadata"]["name"]
            status = row(node, now=now)[1]
            boxes.append(
                _box(
                    "node",
                    name,
                    _NODE_X,
                    node_y[name],
                    _NODE_W,
                    f"{name}  {status}",
                    status_colour(status),
                    f"{name}: {status}",
                )
            )
        out += edges
        out += boxes
        out.append("</svg>")
        return STYLE + "".join(out)

    def _live_stopped(self, reason: str) -> None:
        self.children = [*self.children, widgets.HTML(stopped_html(reason))]


def _edge(x1: float, y1: float, x2: float, y2: float) -> str:
    a, b = y1 + _BOX_H / 2, y2 + _BOX_H / 2
    mid = (x1 + x2) / 2
    return (
        f'<path d="M{x1:.0f},{a:.0f} C{mid:.0f},{a:.0f} {mid:.0f},{b:.0f} {x2:.0f},{b:.0f}" '
        'fill="none" stroke="#8c959f" stroke-opacity="0.6"/>'
    )


def _box(
    kind: str, name: str, x: float, y: float, width: float, label: str, category: str, title: str
) -> str:
    fill, stroke = PALETTE.get(category, PALETTE["warning"])
    text = label if len(label) <= width // 7 else label[: int(width // 7) - 1] + "…"
    return (
        f'<g class="nb-{kind}" data-name="{escape(name)}" data-status="{category}">'
        f"<title>{escape(title)}</title>"
        f'<rect x="{x}" y="{y:.0f}" width="{width}" height="{_BOX_H}" rx="4" fill="{fill}" stroke="{stroke}"/>'
        f'<text x="{x + 5}" y="{y + 13:.0f}" fill="{stroke}">{escape(text)}</text></g>'
    )
