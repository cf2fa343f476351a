"""The ``%kube`` lines that show live widgets instead of (or beside) kubectl's text.

:func:`widget_for` reads a ``%kube`` line and, for the widget forms, builds the widget:

- ``get KIND [NAME] -w`` (``--watch``, ``--watch-only``) with ``-n``, ``-A``, ``-l``,
  ``--field-selector``, ``-o wide``, ``-L``, ``--show-labels``: a :class:`LiveTable`;
- ``scale deploy/NAME --widget [--max N]`` (rs/, sts/, rc/ too): a :class:`ScaleSlider`;
- ``dashboard [-n NS]``: the :class:`Dashboard` (``-A`` or no ``-n``: all namespaces);
- ``logs -f POD|TYPE/NAME|-l SELECTOR [-c C] [--tail N] [--all-containers] [--prefix]``:
  a :class:`LogsView` streaming into a bounded buffer — in a kernel (a frontend that
  shows widgets); elsewhere kubectl's own ``logs -f`` prints as it goes.

:func:`rollout_progress` shows a :class:`RolloutView` (progress bars, ReplicaSets)
while ``rollout status`` waits and prints kubectl's lines, again only in a kernel.
Anything else is an ordinary kubectl line: None.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nbcluster.errors import NbClusterError, UsageError
from nbcluster.ui.widgets import _registry

if TYPE_CHECKING:  # the widget modules (and ipywidgets) are imported only when a widget is made
    from nbcluster.cluster import Cluster
    from nbcluster.ui.widgets._base import LiveWidget
    from nbcluster.ui.widgets.cluster_dashboard import Dashboard
    from nbcluster.ui.widgets.live_table import LiveTable
    from nbcluster.ui.widgets.logs import LogsView
    from nbcluster.ui.widgets.rollout import RolloutView
    from nbcluster.ui.widgets.scale_slider import ScaleSlider

__all__ = ["in_kernel", "rollout_progress", "widget_for"]

_WATCH = ("-w", "--watch", "--watch-only", "-w=true", "--watch=true", "--watch-only=true")
_FOLLOW = ("-f", "--follow", "-f=true", "--follow=true")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # kubectl's wording, no SystemExit
        raise UsageError(f"error: {message}\nSee '{self.prog} --help' for usage.")


def in_kernel(shell: Any = None) -> bool:
    """Whether the code runs in a Jupyter kernel (a frontend that can show widgets)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover
            return False
        shell = get_ipython()
    return getattr(shell, "kernel", None) is not None


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"error: cannot parse the command line: {exc}") from exc


def widget_for(cluster: Cluster, line: str, *, shell: Any = None) -> LiveWidget | None:
    """The live widget a ``%kube`` line asks for, or None for an ordinary kubectl line."""
    words = _words(line)
    if not words:
        return None
    verb, rest = words[0], words[1:]
    if verb == "get" and any(w in _WATCH for w in rest):
        return _get_watch(cluster, [w for w in rest if w not in _WATCH])
    if verb == "scale" and "--widget" in rest:
        return _scale(cluster, [w for w in rest if w != "--widget"])
    if verb == "dashboard":
        return _dashboard(cluster, rest)
    if verb == "logs" and any(w in _FOLLOW for w in rest) and in_kernel(shell):
        return _logs(cluster, [w for w in rest if w not in _FOLLOW])
    return None


def _get_watch(cluster: Cluster, argv: list[str]) -> LiveTable:
    from nbcluster.ui.widgets.live_table import LiveTable

    parser = _Parser(prog="get -w", add_help=False)
    parser.add_argument("targets", nargs="*")
    parser.add_argument("-n", "--namespace")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument("-l", "--selector")
    parser.add_argument("--field-selector")
    parser.add_argument("-o", "--output")
    parser.add_argument("-L", "--label-columns", action="append", default=[])
    parser.add_argument("--show-labels", action="store_true")
    args = parser.parse_intermixed_args(argv)
    if args.output not in (None, "wide"):
        raise UsageError(f"error: %kube get -w shows a live table; -o {args.output} is not supported with -w")
    if len(args.targets) == 1 and "/" in args.targets[0]:
        kind, _, name = args.targets[0].partition("/")
        targets = [kind, name]
    else:
        targets = args.targets
    if not targets or len(targets) > 2 or "," in targets[0]:
        raise UsageError("error: %kube get -w watches one resource type: get KIND [NAME] -w")
    fields = args.field_selector
    if len(targets) == 2:
        by_name = f"metadata.name={targets[1]}"
        fields = f"{fields},{by_name}" if fields else by_name
    labels = [key for value in args.label_columns for key in value.split(",") if key]
    widget = LiveTable(
        cluster,
        targets[0],
        namespace=args.namespace,
        selector=args.selector,
        field_selector=fields,
        all_namespaces=args.all_namespaces,
        wide=args.output == "wide",
        label_columns=labels,
        show_labels=args.show_labels,
    )
    _registry.track(widget, "live", f"{targets}|{widget.namespace}|{args.selector}|{fields}")
    return widget


def _scale(cluster: Cluster, argv: list[str]) -> ScaleSlider:
    from nbcluster.ui.widgets._targets import parse_target
    from nbcluster.ui.widgets.scale_slider import ScaleSlider

    parser = _Parser(prog="scale --widget", add_help=False)
    parser.add_argument("targets", nargs="+")
    parser.add_argument("-n", "--namespace")
    parser.add_argument("--max", type=int)
    parser.add_argument("--replicas", type=int)  # accepted: the slider starts from the object's value
    args = parser.parse_intermixed_args(argv)
    target = args.targets[0] if len(args.targets) == 1 else "/".join(args.targets[:2])
    if len(args.targets) > 2 or "/" not in target:
        raise UsageError("error: %kube scale --widget takes one TYPE/NAME, e.g. deploy/web")
    if args.replicas is not None:
        info, name = parse_target(target)
        cluster.api.scale(info, name, args.replicas, namespace=args.namespace or cluster.namespace)
    widget = ScaleSlider(cluster, target, namespace=args.namespace, max=args.max)
    _registry.track(widget, "scale", f"{target}|{widget.namespace}")
    return widget


def _dashboard(cluster: Cluster, argv: list[str]) -> Dashboard:
    from nbcluster.ui.widgets.cluster_dashboard import Dashboard

    parser = _Parser(prog="dashboard", add_help=False)
    parser.add_argument("-n", "--namespace")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    args = parser.parse_args(argv)
    widget = Dashboard(cluster, namespace=None if args.all_namespaces else args.namespace)
    _registry.track(widget, "dashboard", f"{widget.namespace}")
    return widget


def _logs(cluster: Cluster, argv: list[str]) -> LogsView:
    from nbcluster.ui.widgets.logs import LogsView

    parser = _Parser(prog="logs -f", add_help=False)
    parser.add_argument("target", nargs="?")
    parser.add_argument("container_arg", nargs="?")
    parser.add_argument("-n", "--namespace")
    parser.add_argument("-c", "--container")
    parser.add_argument("-l", "--selector")
    parser.add_argument("--tail", type=int)
    parser.add_argument("--all-containers", action="store_true")
    parser.add_argument("--prefix", action="store_true", default=None)
    parser.add_argument("--max-log-requests", type=int)
    args = parser.parse_intermixed_args(argv)
    widget = LogsView(
        cluster,
        args.target,
        selector=args.selector,
        container=args.container or args.container_arg,
        namespace=args.namespace,
        all_containers=args.all_containers,
        tail=args.tail,
        prefix=args.prefix,
    )
    _registry.track(widget, "logs", f"{args.target}|{args.selector}|{widget.namespace}")
    return widget


@contextlib.contextmanager
def rollout_progress(cluster: Cluster, line: str, *, shell: Any = None) -> Iterator[RolloutView | None]:
    """Around ``rollout status TYPE/NAME`` in a kernel: show a :class:`RolloutView` while kubectl waits.

    The bars move while kubectl prints its lines; when the command returns (or fails,
    or is interrupted) the view stops following the cluster and keeps its last state.
    For any other line (or outside a kernel) nothing is shown.
    """
    view = _rollout_view(cluster, line, shell)
    if view is None:
        yield None
        return
    from IPython.display import display

    display(view)
    try:
        yield view
    finally:
        view.finish()


def _rollout_view(cluster: Cluster, line: str, shell: Any) -> RolloutView | None:
    words = _words(line)
    if words[:2] != ["rollout", "status"] or not in_kernel(shell):
        return None
    parser = _Parser(prog="rollout status", add_help=False)
    parser.add_argument("targets", nargs="*")
    parser.add_argument("-n", "--namespace")
    parser.add_argument("-w", "--watch", default="true")
    try:
        args, _unknown = parser.parse_known_args(words[2:])
    except UsageError:
        return None  # kubectl says what is wrong
    if str(args.watch).lower() == "false" or len(args.targets) != 1 or "/" not in args.targets[0]:
        return None
    from nbcluster.ui.widgets.rollout import RolloutView

    try:
        view = RolloutView(cluster, args.targets[0], namespace=args.namespace)
    except NbClusterError:
        return None  # kubectl reports NotFound / unsupported kinds in its own words
    _registry.track(view, "rollout", f"{args.targets[0]}|{view.namespace}")
    return view
