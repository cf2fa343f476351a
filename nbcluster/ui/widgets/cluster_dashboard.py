"""``Dashboard``: the whole cluster in tabs, live, with buttons that teach self-healing.

Tabs: **Nodes** (kubectl's node columns plus CPU / memory requests against
allocatable and pods per node; buttons to stop and start a node's kubelet),
**Workloads** (Deployments, StatefulSets, DaemonSets, Jobs, and a replica slider for
each Deployment and StatefulSet), **Pods** (with a button to delete one),
**Services** (with a URL column where a Service is reachable from the notebook —
:func:`set_service_url_provider` is the hook the networking work fills in),
**Events** (newest first, warnings highlighted, the ones after your last button
press marked), and **Topology** (Services → Pods → Nodes). Every button says what it
did and points at the Events tab, where the control plane's answer appears:
the ReplicaSet creating a replacement pod, the node going NotReady and its pods
being evicted, the node coming back Ready.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.api.quantities import cpu_millis, format_cpu_millis, memory_bytes
from nbcluster.api.resources import resolve
from nbcluster.cli.kubectl import NETWORKING_ISSUE, format_error
from nbcluster.cli.printers import columns, row
from nbcluster.control.scheduling import pod_requests
from nbcluster.errors import NbClusterError, NotFound
from nbcluster.ui.widgets._base import LiveWidget, stopped_html
from nbcluster.ui.widgets._html import STYLE, escape, note, table_html
from nbcluster.ui.widgets._hub import Changes, Key
from nbcluster.ui.widgets.live_table import LiveTable
from nbcluster.ui.widgets.scale_slider import ScaleSlider
from nbcluster.ui.widgets.topology import Topology
from nbcluster.util.clock import format_time

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = [
    "Dashboard",
    "NodeSummary",
    "WorkloadSliders",
    "service_url",
    "service_url_provider",
    "set_service_url_provider",
]

Obj = dict[str, Any]
UrlProvider = Callable[[Any, Obj], "str | None"]

_url_provider: UrlProvider | None = None
MAX_PICK = 500
_NODES = resolve("nodes")


def set_service_url_provider(provider: UrlProvider | None) -> None:
    """Register ``provider(cluster, service) -> URL | None``: where the notebook can reach a Service.

    The networking work (port-forward, NodePort / LoadBalancer on 127.0.0.1) calls this;
    until then a cluster may also offer ``cluster.service_url(service)``.
    """
    global _url_provider
    _url_provider = provider


def service_url_provider() -> UrlProvider | None:
    return _url_provider


def service_url(cluster: Any, svc: Obj) -> str | None:
    """The URL the notebook can open for ``svc``, if anything knows one."""
    provider = _url_provider or getattr(cluster, "service_url", None)
    if provider is None:
        return None
    try:
        return provider(cluster, svc) if _url_provider else provider(svc)
    except (NbClusterError, KeyError, ValueError):
        return None


def url_cell(cluster: Any, svc: Obj) -> str:
    """The Services table's URL cell: a link where the notebook can reach the Service."""
    url = service_url(cluster, svc)
    if url:
        return f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(url)}</a>'
    return (
        f'<span title="not reachable from the notebook yet ({escape(NETWORKING_ISSUE)})">&lt;none&gt;</span>'
    )


# ------------------------------------------------------------------------------ nodes


def _memory(n: int) -> str:
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f}{unit}" if value >= 10 or value.is_integer() else f"{value:.1f}{unit}"
    return str(n)


def _share(used: int, total: int, text: Callable[[int], str]) -> str:
    percent = f" ({100 * used // total}%)" if total else ""
    return f"{text(used)}/{text(total)}{percent}"


class NodeSummary(LiveWidget):
    """Nodes with what is allocated on them: kubectl's node columns + requests and pod counts."""

    live_interval = 0.5
    live_tick = 1.0

    def __init__(self, cluster: Cluster, *, height: str = "320px") -> None:
        self.html = widgets.HTML(layout=widgets.Layout(max_height=height, overflow="auto"))
        self.html.add_class("nbcluster-nodes")
        super().__init__(cluster, children=[self.html])
        self._nodes: dict[Key, Obj] = {}
        self._pods: dict[Key, Obj] = {}
        self._requests: dict[Key, tuple[Obj, int, int]] = {}
        self._live_watch("nodes", self._into(self._nodes))
        self._live_watch("pods", self._into(self._pods))
        self._live_start()

    def _into(self, store: dict[Key, Obj]) -> Callable[[Changes], None]:
        def apply(changes: Changes) -> None:
            with self._live_lock:
                for key, obj in changes.items():
                    if obj is None:
                        store.pop(key, None)
                    else:
                        store[key] = obj
                self._live_dirty = True

        return apply

    def header(self) -> list[str]:
        return [*columns(_NODES), "CPU REQUESTS", "MEMORY REQUESTS", "PODS"]

    def rows(self) -> list[list[str]]:
        now = self.cluster.clock.now()
        with self._live_lock:
            nodes = [self._nodes[k] for k in sorted(self._nodes)]
            pods = list(self._pods.items())
        usage: dict[str, list[int]] = {}
        requests = self._requests
        for key, pod in pods:
            node = pod["spec"].get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            cached = requests.get(key)
            if cached is None or cached[0] is not pod:
                wanted = pod_requests(pod)
                cached = requests[key] = (pod, wanted.milli_cpu, wanted.memory)
            total = usage.setdefault(node, [0, 0, 0])
            total[0] += cached[1]
            total[1] += cached[2]
            total[2] += 1
        for key in [k for k in requests if k not in self._pods]:
            del requests[key]
        out = []
        for node in nodes:
            allocatable = (node.get("status") or {}).get("allocatable") or {}
            cpu, memory, count = usage.get(node["metadata"]["name"], [0, 0, 0])
            out.append(
                [
                    *row(node, now=now),
                    _share(cpu, cpu_millis(allocatable.get("cpu", 0)), format_cpu_millis),
                    _share(memory, memory_bytes(allocatable.get("memory", 0)), _memory),
                    f"{count}/{allocatable.get('pods', '?')}",
                ]
            )
        return out

    def _live_draw(self) -> None:
        header = self.header()
        value = table_html(
            header, [(cells, "") for cells in self.rows()], status_column=header.index("STATUS")
        )
        if self.html.value != value:
            self.html.value = value

    @property
    def df(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=self.header())

    def _live_stopped(self, reason: str) -> None:
        self.children = [*self.children, widgets.HTML(stopped_html(reason))]


# ------------------------------------------------------------------------------ workloads


class WorkloadSliders(LiveWidget):
    """One :class:`ScaleSlider` per Deployment and StatefulSet, appearing and going with them."""

    live_interval = 0.5
    live_tick = None
    kinds = ("deployments", "statefulsets")

    def __init__(self, cluster: Cluster, *, namespace: str | None = None) -> None:
        self.namespace = namespace
        self.box = widgets.VBox()
        self.empty = widgets.HTML(STYLE + note("no Deployments or StatefulSets to scale yet"))
        super().__init__(cluster, children=[self.empty, self.box])
        self._objects: dict[tuple[str, Key], Obj] = {}
        self.sliders: dict[tuple[str, Key], ScaleSlider] = {}
        for resource in self.kinds:
            self._live_watch(resource, self._into(resource), namespace=namespace)
        self._live_start()

    def _into(self, resource: str) -> Callable[[Changes], None]:
        def apply(changes: Changes) -> None:
            with self._live_lock:
                for key, obj in changes.items():
                    if obj is None:
                        self._objects.pop((resource, key), None)
                    else:
                        self._objects[(resource, key)] = obj
                self._live_dirty = True

        return apply

    def _live_draw(self) -> None:
        with self._live_lock:
            wanted = sorted(
                k for k, obj in self._objects.items() if not obj["metadata"].get("deletionTimestamp")
            )
        changed = False
        for key in [k for k in self.sliders if k not in wanted]:
            self.sliders.pop(key).close()
            changed = True
        for key in wanted:
            if key in self.sliders:
                continue
            resource, (namespace, name) = key
            try:
                slider = ScaleSlider(self.cluster, (resource, name), namespace=namespace)
            except NotFound:
                continue
            if self.namespace is None:
                slider.slider.description = f"{namespace}/{slider.slider.description}"
            self.sliders[key] = slider
            changed = True
        if changed:
            self.box.children = [self.sliders[k] for k in wanted if k in self.sliders]
            self.empty.layout.display = "none" if self.sliders else None

    def _live_parts(self) -> list[widgets.Widget]:
        return [self.empty, self.box, *self.sliders.values()]


# ------------------------------------------------------------------------------ the dashboard


def _event_time(event: Obj) -> tuple[str, int]:
    series = event.get("series") or {}
    stamp = str(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or event["metadata"].get("creationTimestamp")
        or ""
    )
    return stamp[:19], int(event["metadata"].get("resourceVersion") or 0)


class Dashboard(LiveWidget):
    """The cluster dashboard. Build it with :func:`nbcluster.ui.widgets.dashboard`."""

    live_interval = 0.5
    live_tick = 1.0  # the Events tab's "(+N)" follows the events table
    TABS = ("Nodes", "Workloads", "Pods", "Services", "Events", "Topology")

    def __init__(self, cluster: Cluster, *, namespace: str | None = None) -> None:
        self.namespace = namespace
        scope: dict[str, Any] = {"namespace": namespace, "all_namespaces": namespace is None}
        self._action_at: str | None = None  # RFC 3339 second of the last button press
        # Nodes
        self.nodes = NodeSummary(cluster)
        self.node_pick = widgets.Dropdown(description="node", options=[])
        self.stop_node_button = widgets.Button(
            description="Stop node",
            icon="power-off",
            button_style="warning",
            tooltip="Stop the node's kubelet: no heartbeats, containers stop",
        )
        self.start_node_button = widgets.Button(
            description="Start node",
            icon="play",
            button_style="success",
            tooltip="Start the node's kubelet again",
        )
        nodes_tab = widgets.VBox(
            [widgets.HBox([self.node_pick, self.stop_node_button, self.start_node_button]), self.nodes]
        )
        # Workloads
        self.deployments = LiveTable(cluster, "deployments", height="180px", **scope)
        self.statefulsets = LiveTable(cluster, "statefulsets", height="150px", **scope)
        self.daemonsets = LiveTable(cluster, "daemonsets", height="150px", **scope)
        self.jobs = LiveTable(cluster, "jobs", height="150px", **scope)
        self.sliders = WorkloadSliders(cluster, namespace=namespace)
        workloads_tab = widgets.VBox(
            [self.sliders, self.deployments, self.statefulsets, self.daemonsets, self.jobs]
        )
        # Pods
        self.pods = LiveTable(cluster, "pods", **scope)
        self.pod_pick = widgets.Dropdown(description="pod", options=[], layout=widgets.Layout(width="420px"))
        self.delete_pod_button = widgets.Button(
            description="Delete pod",
            icon="trash",
            button_style="danger",
            tooltip="Delete the pod: its controller makes a new one",
        )
        pods_tab = widgets.VBox([widgets.HBox([self.pod_pick, self.delete_pod_button]), self.pods])
        # Services, Events, Topology
        self.services = LiveTable(
            cluster, "services", extra_columns=[("URL", lambda svc: url_cell(cluster, svc))], **scope
        )
        self.events = LiveTable(
            cluster,
            "events",
            sort_key=_event_time,
            newest_first=True,
            max_rows=300,
            row_class=self._event_row,
            **scope,
        )
        self.topology = Topology(cluster, namespace=namespace)
        self.tabs = widgets.Tab(
            children=[nodes_tab, workloads_tab, pods_tab, self.services, self.events, self.topology]
        )
        for index, title in enumerate(self.TABS):
            self.tabs.set_title(index, title)
        self.message = widgets.HTML()
        self.message.add_class("nbcluster-dashboard-message")
        where = f"namespace {namespace}" if namespace else "all namespaces"
        header = widgets.HTML(STYLE + note(f"cluster {getattr(cluster, 'name', '')} · {where} · live"))
        super().__init__(cluster, children=[header, self.message, self.tabs])
        self._pod_objs: dict[Key, Obj] = {}
        self._node_objs: dict[Key, Obj] = {}
        self._events_title = "Events"
        self.stop_node_button.on_click(lambda _b: self.stop_node(self.node_pick.value))
        self.start_node_button.on_click(lambda _b: self.start_node(self.node_pick.value))
        self.delete_pod_button.on_click(lambda _b: self._delete_picked())
        self._live_watch("pods", self._into(self._pod_objs), namespace=namespace)
        self._live_watch("nodes", self._into(self._node_objs))
        self._live_start()

    def _into(self, store: dict[Key, Obj]) -> Callable[[Changes], None]:
        def apply(changes: Changes) -> None:
            with self._live_lock:
                for key, obj in changes.items():
                    if obj is None:
                        store.pop(key, None)
                    else:
                        store[key] = obj
                self._live_dirty = True

        return apply

    # -- cells -------------------------------------------------------------------------

    def _event_row(self, event: Obj) -> str:
        classes = []
        if event.get("type") == "Warning":
            classes.append("nb-warning-row")
        if self._action_at is not None and _event_time(event)[0] >= self._action_at:
            classes.append("nb-new-row")
        return " ".join(classes)

    # -- buttons -----------------------------------------------------------------------

    def _mark_action(self) -> None:
        self._action_at = format_time(self.cluster.clock.now())[:19]

    def _say(self, text: str, *, error: bool = False) -> None:
        css = "nbcluster-note nb-error" if error else "nbcluster-note"
        self.message.value = f'{STYLE}<div class="{css}">{escape(text)}</div>'

    def _delete_picked(self) -> None:
        picked = self.pod_pick.value
        if not picked:
            self._say("no pod to delete", error=True)
            return
        namespace, name = picked
        self.delete_pod(name, namespace=namespace)

    def delete_pod(self, name: str, *, namespace: str | None = None) -> None:
        """Delete a pod, as the button does, and say what comes next."""
        namespace = namespace or self.namespace or getattr(self.cluster, "namespace", "default")
        self._mark_action()
        try:
            self.cluster.api.delete("pods", name, namespace=namespace)
        except NbClusterError as exc:
            self._say(format_error(exc), error=True)
            return
        self._say(
            f'pod "{name}" deleted at {self._clock_text()}. If a controller owns it, it creates a '
            "replacement now: see the Pods tab, and the Events tab (new events marked ▍)."
        )
        self._events_changed()

    def stop_node(self, name: str | None) -> None:
        """Stop a node's kubelet (heartbeats stop, its containers stop), as the button does."""
        if not name:
            self._say("no node to stop", error=True)
            return
        self._mark_action()
        plane = self.cluster.plane
        try:
            plane.run(plane.kubelets.stop_node(name))
        except NbClusterError as exc:
            self._say(format_error(exc), error=True)
            return
        grace = getattr(getattr(self.cluster, "options", None), "monitor_grace_seconds", 40.0)
        self._say(
            f"node {name} stopped at {self._clock_text()}: its kubelet is silent. After {grace:g}s the "
            "node lifecycle controller marks it NotReady (NodeNotReady), taints it, and evicts its pods "
            "once their tolerations expire; their controllers replace them elsewhere. Watch the Events tab."
        )
        self._events_changed()

    def start_node(self, name: str | None) -> None:
        """Start a stopped node's kubelet again, as the button does."""
        if not name:
            self._say("no node to start", error=True)
            return
        self._mark_action()
        plane = self.cluster.plane
        try:
            plane.run(plane.kubelets.start_node(name))
        except NbClusterError as exc:
            self._say(format_error(exc), error=True)
            return
        self._say(
            f"node {name} started at {self._clock_text()}: the kubelet posts Ready again (NodeReady) and "
            "the node takes pods. Watch the Events tab."
        )
        self._events_changed()

    def _clock_text(self) -> str:
        now: datetime = self.cluster.clock.now()
        return now.strftime("%H:%M:%S")

    def _events_changed(self) -> None:
        self.events._live_dirty = True
        self._live_dirty = True
        self._live_hub.wake()

    # -- drawing -----------------------------------------------------------------------

    def _live_draw(self) -> None:
        with self._live_lock:
            pods = sorted(self._pod_objs)[:MAX_PICK]
            nodes = sorted(k[1] for k in self._node_objs)
        options = [(name if self.namespace else f"{ns}/{name}", (ns, name)) for ns, name in pods]
        if list(self.pod_pick.options) != options:
            current = self.pod_pick.value
            values = [value for _label, value in options]
            self.pod_pick.options = options
            if values:
                self.pod_pick.value = current if current in values else values[0]
        if list(self.node_pick.options) != nodes:
            current_node = self.node_pick.value
            self.node_pick.options = nodes
            if nodes:
                self.node_pick.value = current_node if current_node in nodes else nodes[0]
        title = "Events"
        if self._action_at is not None:
            fresh = sum(1 for e in self.events.objects() if _event_time(e)[0] >= self._action_at)
            title = f"Events (+{fresh})" if fresh else "Events"
        if title != self._events_title:
            self._events_title = title
            self.tabs.set_title(self.TABS.index("Events"), title)

    def _live_stopped(self, reason: str) -> None:
        for button in (self.stop_node_button, self.start_node_button, self.delete_pod_button):
            button.disabled = True
        self.message.value = stopped_html(reason)
