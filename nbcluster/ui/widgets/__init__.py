"""Live widgets: self-updating tables, replica sliders, rollouts, logs, a cluster dashboard.

Entry points (each returns an ipywidgets widget; show it by leaving it last in a cell
or with ``display``)::

    live(cluster, "pods", namespace="default", selector="app=web")  # kubectl get -w, as a table
    scale_widget(cluster, "deploy/web", max=10)                     # a replica slider
    rollout_widget(cluster, "deploy/web")                           # old/new ReplicaSets, progress
    logs_widget(cluster, "web-7d4b9c-x2k4q")  /  logs_widget(cluster, selector="app=web")
    topology_widget(cluster)                                        # Services -> Pods -> Nodes
    dashboard(cluster)                                              # all of it, in tabs

All of them are served by one background thread (see ``_hub``), keep updating while
the kernel is idle or busy, and release what they hold when closed, when the cell
that made them runs again, and when the cluster stops. ``close_all()`` closes every
widget made from notebook cells. I/O: widget (comm) messages to the notebook frontend;
buttons and sliders write to the cluster through its API server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster
    from nbcluster.ui.widgets._base import LiveWidget
    from nbcluster.ui.widgets._hub import hub
    from nbcluster.ui.widgets.cluster_dashboard import (
        Dashboard,
        service_url_provider,
        set_service_url_provider,
    )
    from nbcluster.ui.widgets.live_table import LiveTable
    from nbcluster.ui.widgets.logs import LogsView
    from nbcluster.ui.widgets.rollout import RolloutView
    from nbcluster.ui.widgets.scale_slider import ScaleSlider
    from nbcluster.ui.widgets.topology import Topology

# Names imported on first use (PEP 562), so that importing this package (the %kube magics do)
# does not import ipywidgets until a widget is made.
_LAZY = {
    "Dashboard": "cluster_dashboard",
    "service_url_provider": "cluster_dashboard",
    "set_service_url_provider": "cluster_dashboard",
    "LiveTable": "live_table",
    "LiveWidget": "_base",
    "LogsView": "logs",
    "RolloutView": "rollout",
    "ScaleSlider": "scale_slider",
    "Topology": "topology",
    "hub": "_hub",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbcluster.ui.widgets' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"nbcluster.ui.widgets.{module}"), name)


__all__ = [
    "Dashboard",
    "LiveTable",
    "LiveWidget",
    "LogsView",
    "RolloutView",
    "ScaleSlider",
    "Topology",
    "close_all",
    "dashboard",
    "hub",
    "live",
    "logs_widget",
    "rollout_widget",
    "scale_widget",
    "service_url_provider",
    "set_service_url_provider",
    "topology_widget",
]


def live(
    cluster: Cluster,
    resource: str,
    *,
    namespace: str | None = None,
    selector: str | dict | None = None,
    field_selector: str | None = None,
    all_namespaces: bool = False,
    wide: bool = False,
    label_columns: Iterable[str] = (),
    show_labels: bool = False,
    max_rows: int = 1000,
    height: str = "420px",
) -> LiveTable:
    """``kubectl get RESOURCE -w`` as a table that keeps itself current (``.df``: the DataFrame now)."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.live_table import LiveTable

    widget = LiveTable(
        cluster,
        resource,
        namespace=namespace,
        selector=selector,
        field_selector=field_selector,
        all_namespaces=all_namespaces,
        wide=wide,
        label_columns=label_columns,
        show_labels=show_labels,
        max_rows=max_rows,
        height=height,
    )
    _registry.track(widget, "live", f"{resource}|{widget.namespace}|{selector}|{field_selector}")
    return widget


def scale_widget(
    cluster: Cluster, target: str, *, namespace: str | None = None, max: int | None = None, min: int = 0
) -> ScaleSlider:
    """A slider bound to ``spec.replicas`` of ``deploy/NAME`` (or rs/, sts/, rc/)."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.scale_slider import ScaleSlider

    widget = ScaleSlider(cluster, target, namespace=namespace, max=max, min=min)
    _registry.track(widget, "scale", f"{target}|{widget.namespace}")
    return widget


def rollout_widget(cluster: Cluster, target: str, *, namespace: str | None = None) -> RolloutView:
    """Progress of ``deploy/NAME``'s rollout (sts/, ds/ too): updated / ready bars, old and new ReplicaSets."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.rollout import RolloutView

    widget = RolloutView(cluster, target, namespace=namespace)
    _registry.track(widget, "rollout", f"{target}|{widget.namespace}")
    return widget


def logs_widget(
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
    **options: Any,
) -> LogsView:
    """``kubectl logs -f POD`` / ``-l SELECTOR`` streaming into a bounded output area."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.logs import LogsView

    widget = LogsView(
        cluster,
        target,
        selector=selector,
        container=container,
        namespace=namespace,
        all_containers=all_containers,
        tail=tail,
        prefix=prefix,
        max_lines=max_lines,
        **options,
    )
    _registry.track(widget, "logs", f"{target}|{selector}|{container}|{widget.namespace}")
    return widget


def topology_widget(cluster: Cluster, *, namespace: str | None = None) -> Topology:
    """Services -> Pods -> Nodes, coloured by status, kept current."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.topology import Topology

    widget = Topology(cluster, namespace=namespace)
    _registry.track(widget, "topology", f"{namespace}")
    return widget


def dashboard(cluster: Cluster, *, namespace: str | None = None) -> Dashboard:
    """Tabs for Nodes, Workloads (with sliders), Pods, Services, Events and the topology, with buttons."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets.cluster_dashboard import Dashboard

    widget = Dashboard(cluster, namespace=namespace)
    _registry.track(widget, "dashboard", f"{namespace}")
    return widget


def close_all() -> None:
    """Close every live widget made from notebook cells, and any other still served."""
    from nbcluster.ui.widgets import _registry
    from nbcluster.ui.widgets._base import LiveWidget
    from nbcluster.ui.widgets._hub import hub

    _registry.close_all()
    for client in hub().clients:
        if isinstance(client, LiveWidget):
            client.close()
