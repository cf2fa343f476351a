"""The kernel's clusters and contexts: k3d-style ``cluster create|list|delete`` and
kubectl's ``config`` over a kubeconfig of our own.

Every cluster a kernel runs is a context of the same name (cluster, context and user
entries all carry the cluster's name, like kind does). The :class:`Registry` knows
the clusters, which one is current, and writes a kubeconfig file listing all of them
into each cluster's state directory (``<state root>/<name>/kubeconfig``; the state
root is ``~/.nbcluster`` unless ``NBCLUSTER_STATE_DIR`` or :func:`set_state_root` say
otherwise). The user's ``~/.kube/config`` is never read nor written.

:func:`choose_runtime` picks the runtime for ``runtime="auto"`` the way the issue
asks: Docker if a daemon answers (pinged with the Docker SDK, one second at most),
else the local-process runtime, else simulated; ``NBCLUSTER_RUNTIME`` forces a
choice. It answers with one short reason that the notebook prints.

I/O: creates state directories and writes kubeconfig files; pings the Docker daemon.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbcluster.api.yamlio import dump_yaml
from nbcluster.errors import AlreadyExists, NbClusterError, NotFound, RuntimeUnavailable, UsageError

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = [
    "RUNTIMES",
    "Registry",
    "choose_runtime",
    "default_registry",
    "set_state_root",
    "state_root",
]

#: The runtimes a user can name, in the order ``auto`` tries them.
RUNTIMES = ("docker", "process", "simulated")
ENV_RUNTIME = "NBCLUSTER_RUNTIME"
ENV_STATE_DIR = "NBCLUSTER_STATE_DIR"
_DOCKER_PING_TIMEOUT = 1.0

_state_root: Path | None = None


def state_root() -> Path:
    """Where each cluster's state directory lives (``~/.nbcluster`` by default)."""
    if _state_root is not None:
        return _state_root
    return Path(os.environ.get(ENV_STATE_DIR) or "~/.nbcluster").expanduser()


def set_state_root(path: str | Path | None) -> None:
    """Use another state root (tests use a temporary folder); ``None`` restores the default."""
    global _state_root
    _state_root = Path(path).expanduser() if path is not None else None


# ------------------------------------------------------------------------ runtimes


def _runtime_built(name: str) -> bool:
    if name == "simulated":
        return True
    return importlib.util.find_spec(f"nbcluster.runtime.{name}") is not None


def _docker_answers() -> tuple[bool, str]:
    """(daemon answered, where we asked)."""
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        import docker

        client = docker.from_env(timeout=_DOCKER_PING_TIMEOUT)
        try:
            return bool(client.ping()), where
        finally:
            client.close()
    except Exception:  # any failure to reach a daemon means "no Docker here"
        return False, where


def choose_runtime(requested: str = "auto") -> tuple[str, str]:
    """The runtime name to start and one short reason (``NBCLUSTER_RUNTIME`` forces it)."""
    requested = (requested or "auto").strip().lower()
    forced = os.environ.get(ENV_RUNTIME, "").strip().lower()
    if requested == "auto" and forced and forced != "auto":
        if forced not in RUNTIMES:
            raise UsageError(
                f'error: {ENV_RUNTIME}="{forced}" is not a runtime: choose docker, process or simulated'
            )
        if not _runtime_built(forced):
            raise RuntimeUnavailable(
                f"{ENV_RUNTIME}={forced} asks for the {forced} runtime, which is not "
                f"available in this version; use {ENV_RUNTIME}=simulated"
            )
        return forced, f"{ENV_RUNTIME}={forced}"
    if requested != "auto":
        if requested not in RUNTIMES:
            raise UsageError(
                f'error: unknown runtime "{requested}": choose auto, docker, process or simulated'
            )
        if not _runtime_built(requested):
            raise RuntimeUnavailable(
                f"the {requested} runtime is not available in this version; use --runtime=simulated"
            )
        return requested, "asked for"
    reasons = []
    answered, where = _docker_answers()
    if answered and _runtime_built("docker"):
        return "docker", f"a Docker daemon answered at {where}"
    reasons.append(
        f"a Docker daemon answered at {where} but the docker runtime is not available yet"
        if answered
        else f"no Docker daemon answered at {where}"
    )
    if _runtime_built("process"):
        return "process", "; ".join(reasons)
    reasons.append("the process runtime is not available yet")
    return "simulated", "; ".join(reasons)


# ------------------------------------------------------------------------ registry


@dataclass
class _Entry:
    cluster: Cluster
    owned: bool


class Registry:
    """The clusters of one kernel, the current context, and their kubeconfig."""

    def __init__(self, root: str | Path | None = None) -> None:
        self._root = Path(root).expanduser() if root is not None else None
        self._entries: dict[str, _Entry] = {}
        self._current: str | None = None
        self._lock = threading.RLock()

    # -- where ---------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else state_root()

    def state_dir(self, name: str) -> Path:
        cluster = self._entries[name].cluster if name in self._entries else None
        configured = getattr(getattr(cluster, "options", None), "state_dir", None)
        return Path(configured) if configured else self.root / name

    def kubeconfig_path(self, name: str | None = None) -> Path | None:
        name = name or self._current
        return self.state_dir(name) / "kubeconfig" if name else None

    # -- membership ----------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Cluster:
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(f'no cluster named "{name}"' + self._known())
        return entry.cluster

    def _known(self) -> str:
        return (
            f" (clusters: {', '.join(self._entries)})"
            if self._entries
            else " (no clusters: create one with cluster create NAME)"
        )

    def add(self, cluster: Cluster, *, current: bool = True, owned: bool = True) -> None:
        """Register a running cluster as a context (``owned``: stopped by :meth:`stop_all`)."""
        with self._lock:
            if cluster.name in self._entries and self._entries[cluster.name].cluster is not cluster:
                raise AlreadyExists(f'a cluster named "{cluster.name}" already exists')
            self._entries[cluster.name] = _Entry(cluster, owned)
            if current or self._current is None:
                self._current = cluster.name
            self.write_kubeconfig()

    def find(self, cluster: Cluster) -> str | None:
        for name, entry in self._entries.items():
            if entry.cluster is cluster:
                return name
        return None

    @property
    def current_name(self) -> str | None:
        return self._current

    def current(self) -> Cluster:
        if self._current is None:
            raise NbClusterError(
                "error: no current context: create a cluster with "
                "%kube cluster create NAME (or %load_ext nbcluster)"
            )
        return self._entries[self._current].cluster

    def current_or_none(self) -> Cluster | None:
        return self._entries[self._current].cluster if self._current else None

    def use(self, name: str) -> None:
        with self._lock:
            if name not in self._entries:
                raise UsageError(f'error: no context exists with the name: "{name}"')
            self._current = name
            self.write_kubeconfig()

    # -- lifecycle -----------------------------------------------------------

    def create(
        self, name: str, *, agents: int = 0, runtime: str = "auto", current: bool = True, **options: Any
    ) -> Cluster:
        """Start a cluster (one control-plane node + ``agents``) and make it the current context."""
        from nbcluster.cluster import Cluster

        _check_name(name)
        if agents < 0:
            raise UsageError("error: --agents must be 0 or more")
        with self._lock:
            if name in self._entries:
                raise AlreadyExists(
                    f'Failed to create cluster "{name}" because a cluster with that name already exists'
                )
            runtime_name, reason = choose_runtime(runtime)
            cluster = Cluster(name, runtime=runtime_name, nodes=agents + 1, **options)
            cluster.runtime_reason = reason
            self.add(cluster, current=current, owned=True)
            return cluster

    def delete(self, name: str) -> str | None:
        """Stop and forget a cluster; returns the new current context (or None)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise NotFound(f'no cluster named "{name}"' + self._known())
            entry.cluster.stop()
            del self._entries[name]
            path = self.root / name / "kubeconfig"
            if path.exists():
                path.unlink()
            if self._current == name:
                self._current = next(iter(self._entries), None)
            self.write_kubeconfig()
            return self._current

    def forget(self, cluster: Cluster) -> None:
        """Drop a cluster someone else stopped (no stop here)."""
        with self._lock:
            name = self.find(cluster)
            if name is not None:
                del self._entries[name]
                if self._current == name:
                    self._current = next(iter(self._entries), None)
                self.write_kubeconfig()

    def stop_all(self) -> None:
        """Stop every cluster this registry started (kernel shutdown, ``%unload_ext``)."""
        with self._lock:
            for name in list(self._entries):
                entry = self._entries[name]
                if entry.owned:
                    entry.cluster.stop()
                    del self._entries[name]
            if self._current not in self._entries:
                self._current = next(iter(self._entries), None)

    # -- kubeconfig ----------------------------------------------------------

    def kubeconfig(self, *, minify: bool = False) -> dict[str, Any]:
        """The kubeconfig of this kernel's clusters, as ``kubectl config view`` shows it."""
        names = [self._current] if minify and self._current else list(self._entries)
        contexts = []
        for name in names:
            context: dict[str, Any] = {"cluster": name, "user": name}
            namespace = getattr(self._entries[name].cluster, "namespace", "default")
            if namespace and namespace != "default":
                context["namespace"] = namespace
            contexts.append({"context": context, "name": name})
        return {
            "apiVersion": "v1",
            "clusters": [{"cluster": {"server": f"nbcluster://{name}"}, "name": name} for name in names],
            "contexts": contexts,
            "current-context": self._current or "",
            "kind": "Config",
            "preferences": {},
            "users": [{"name": name, "user": {}} for name in names],
        }

    def write_kubeconfig(self) -> None:
        """Write the kubeconfig into every cluster's state directory."""
        if not self._entries:
            return
        text = (
            "# nbcluster: the clusters of one Jupyter kernel (served in-process; there is no HTTP "
            "endpoint yet).\n" + dump_yaml(self.kubeconfig())
        )
        for name in self._entries:
            folder = self.state_dir(name)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / "kubeconfig"
                tmp = path.with_suffix(".tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
            except OSError as exc:
                raise NbClusterError(f"error: cannot write the kubeconfig in {folder}: {exc}") from exc


def _check_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", name or ""):
        raise UsageError(
            f'error: invalid cluster name "{name}": use at most 32 lower-case letters, digits '
            "and '-', starting and ending with a letter or digit"
        )


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The kernel's registry (what ``%kube`` and ``Cluster.kubectl("config …")`` use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default
