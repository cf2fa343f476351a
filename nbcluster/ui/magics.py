"""``%kube`` and ``%%kube``: kubectl in a notebook, on the kernel's current cluster.

``%load_ext nbcluster`` registers the magics, shows kubectl tables with status
colours, and starts (or re-attaches to) the default cluster ``nbcluster`` with
``runtime="auto"`` (``NBCLUSTER_RUNTIME`` forces a runtime, ``NBCLUSTER_NODES`` sets
the node count), printing one line that says what runs where and why.
``%unload_ext nbcluster`` and the kernel's shutdown stop every cluster it started.

``%kube VERB …`` is ``Cluster.kubectl("VERB …")`` on the current context, returning
its value (``df = %kube get pods``). ``%%kube apply|create|replace|delete [flags]``
feeds the cell's YAML as ``-f -``; ``--vars`` expands ``{name}`` from the notebook's
variables in the cell (``{{``/``}}`` for literal braces). Mistakes print kubectl's
error in red, never a traceback; a bug inside nbcluster still shows its traceback.

I/O: prints to the notebook (stdout/stderr); starts and stops clusters.
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import sys
import threading
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from nbcluster.cli import contexts
from nbcluster.cli.kubectl import ExecOutput, Kubectl, Output, format_error
from nbcluster.errors import ApplyFailed, NbClusterError, UsageError
from nbcluster.ui import display

__all__ = [
    "DEFAULT_CLUSTER",
    "KubeMagics",
    "expand_vars",
    "load_ipython_extension",
    "unload_ipython_extension",
]

DEFAULT_CLUSTER = "nbcluster"
ENV_NODES = "NBCLUSTER_NODES"
_CELL_VERBS = ("apply", "create", "replace", "delete")
_RED = "\x1b[31m"
_RESET = "\x1b[0m"

_USAGE = """kubectl in the notebook, on the current cluster (the current context).

  %kube VERB [args] [flags]     one kubectl command; returns its value (df = %kube get pods)
  %%kube apply [-n NS] [--dry-run=client|server] [--vars]
  <YAML, one or more documents>  apply (or create, replace, delete) the objects of the cell

  %kube get pods -o wide        tables are pandas DataFrames with kubectl's columns
  %kube describe deploy/web     %kube logs POD [-c C] [--tail=N] [-f]     %kube exec POD -- CMD
  %kube scale deploy/web --replicas=3      %kube rollout status deploy/web
  %kube config get-contexts     %kube cluster create dev --agents 2       %kube --help

Python variables: {var} and $var expand in %kube lines (IPython does it, all or nothing:
on a line that also holds a JSONPath template, double its braces: -o jsonpath={{.spec.replicas}}).
In a %%kube cell, --vars expands {name} from the notebook's variables ({{ and }} for braces).
"""

_lock = threading.Lock()
_atexit_registered = False
_loaded_shells: set[int] = set()


def _red(text: str) -> str:
    return f"{_RED}{text}{_RESET}"


def expand_vars(text: str, namespace: dict[str, Any]) -> str:
    """``{name}`` / ``{obj.attr}`` / ``{mapping.key}`` from ``namespace``; ``{{`` and ``}}`` stay braces."""

    def value_of(path: str) -> str:
        head, *rest = path.split(".")
        if head not in namespace:
            raise UsageError(f"error: --vars: name '{head}' is not defined in the notebook")
        value = namespace[head]
        for part in rest:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif hasattr(value, part):
                value = getattr(value, part)
            else:
                raise UsageError(f"error: --vars: {path}: no attribute or key '{part}'")
        return str(value)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return value_of(match.group(1))

    return re.sub(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}", replace, text)


@magics_class
class KubeMagics(Magics):
    """The ``%kube`` line magic and ``%%kube`` cell magic."""

    def __init__(self, shell: Any, registry: contexts.Registry) -> None:
        super().__init__(shell)
        self.registry = registry

    @line_cell_magic
    def kube(self, line: str, cell: str | None = None) -> Any:
        if cell is None:
            return self._run(line.strip())
        return self._cell(line, cell)

    kube.__doc__ = _USAGE

    # -- running ---------------------------------------------------------------

    def _cell(self, line: str, cell: str) -> Any:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self._error(f"error: cannot parse the command line: {exc}")
            return None
        if not words or words[0] not in _CELL_VERBS:
            given = f' "{words[0]}"' if words else ""
            self._error(
                f"error: %%kube{given}: the cell form takes apply, create, replace or delete and YAML in the "
                "cell; for other verbs use the line form, %kube VERB"
            )
            return None
        use_vars = "--vars" in words
        words = [w for w in words if w != "--vars"]
        body = cell
        if use_vars:
            try:
                body = expand_vars(cell, self.shell.user_ns)
            except NbClusterError as exc:
                self._error(format_error(exc))
                return None
        if not any(w in ("-f", "--filename") or w.startswith(("--filename=", "-f=")) for w in words):
            words += ["-f", "-"]
        return self._run(shlex.join(words), stdin=body)

    def _run(self, line: str, stdin: str | None = None) -> Any:
        options: dict[str, Any] = {"out": self._out, "err": self._notice}
        if stdin is not None:
            options.update(stdin=stdin, stdin_name="<cell>")
        try:
            cluster = self.registry.current_or_none()
            if cluster is not None:
                # live widgets (nbcluster.ui.widgets): get -w, scale --widget, dashboard, logs -f,
                # and rollout status's progress bars
                from nbcluster.ui.widgets import magic as live

                widget = live.widget_for(cluster, line, shell=self.shell) if stdin is None else None
                if widget is not None:
                    return widget
                with live.rollout_progress(cluster, line, shell=self.shell):
                    result = cluster.kubectl(line, **options)
            else:
                result = Kubectl(None, self.registry).run(line, **options)
        except ApplyFailed as exc:
            if exc.results:
                print("\n".join(exc.results), flush=True)
            self._error(format_error(exc))
            return None
        except NbClusterError as exc:
            self._error(format_error(exc))
            return None
        except KeyboardInterrupt:
            return None
        if isinstance(result, ExecOutput) and result.exit_code:
            if str(result):
                print(str(result), flush=True)
            self._error(f"command terminated with exit code {result.exit_code}")
            return None
        if isinstance(result, Output) and not str(result):
            return None
        return result

    @staticmethod
    def _out(text: str) -> None:
        print(text, flush=True)

    @staticmethod
    def _notice(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    @staticmethod
    def _error(text: str) -> None:
        print(_red(text), file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ the extension


def _start_default(registry: contexts.Registry) -> str:
    """Start (or find) the default cluster; the one line the notebook shows."""
    name = DEFAULT_CLUSTER
    if name in registry:
        cluster = registry.get(name)
        if registry.current_name is None:
            registry.use(name)
        return (
            f'nbcluster: re-attached to cluster "{name}" ({len(cluster.options.nodes)} node'
            f"{'s' if len(cluster.options.nodes) != 1 else ''}, {cluster.runtime.name} runtime). "
            "%kube --help for help."
        )
    try:
        nodes = int(os.environ.get(ENV_NODES, "1"))
    except ValueError:
        raise UsageError(f"error: {ENV_NODES} must be a number of nodes") from None
    cluster = registry.create(name, agents=max(nodes, 1) - 1, runtime="auto")
    count = len(cluster.options.nodes)
    return (
        f'nbcluster: cluster "{name}" runs on the {cluster.runtime.name} runtime ({cluster.runtime_reason}); '
        f"{count} node{'s' if count != 1 else ''}. Try %kube get nodes, or %kube --help."
    )


def _shutdown() -> None:
    contexts.default_registry().stop_all()


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext nbcluster``: magics, table display, and the default cluster (once)."""
    global _atexit_registered
    registry = contexts.default_registry()
    with _lock:
        if id(shell) not in _loaded_shells:
            shell.register_magics(KubeMagics(shell, registry))
            display.register(shell)
            _loaded_shells.add(id(shell))
        if not _atexit_registered:
            atexit.register(_shutdown)
            _atexit_registered = True
    try:
        message = _start_default(registry)
    except NbClusterError as exc:
        print(_red(format_error(exc)), file=sys.stderr, flush=True)
        print(
            "nbcluster: the %kube magics are loaded; start a cluster with "
            "%kube cluster create NAME --runtime simulated",
            flush=True,
        )
        return
    print(message, flush=True)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext nbcluster``: stop every cluster the extension started, remove the magics."""
    registry = contexts.default_registry()
    names = registry.names()
    registry.stop_all()
    with _lock:
        manager = shell.magics_manager
        manager.magics["line"].pop("kube", None)
        manager.magics["cell"].pop("kube", None)
        manager.registry.pop("KubeMagics", None)
        display.unregister(shell)
        _loaded_shells.discard(id(shell))
    if names:
        print(f"nbcluster: stopped {', '.join(names)}.", flush=True)
