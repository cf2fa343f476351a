"""nbcluster: a small, real Kubernetes-style cluster inside a Jupyter kernel.

``from nbcluster import Cluster`` for the Python API; ``%load_ext nbcluster`` for the
notebook magics; ``nbcluster.live(cluster, "pods")`` for a table that keeps itself current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbcluster import errors

__all__ = ["Cluster", "__version__", "errors", "live", "load_ipython_extension", "unload_ipython_extension"]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster
    from nbcluster.ui.widgets import live


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import nbcluster` stays cheap (pandas, the schema) until used.
    if name == "Cluster":
        from nbcluster.cluster import Cluster

        return Cluster
    if name == "live":
        # ``nbcluster.live(cluster, "pods", ...)``: a live table widget (imports ipywidgets on first use)
        from nbcluster.ui.widgets import live

        return live
    raise AttributeError(f"module 'nbcluster' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbcluster``: the ``%kube`` magics and the default cluster."""
    # Imported here so that `import nbcluster` never imports IPython.
    from nbcluster.ui.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbcluster``: stop the clusters the extension started."""
    from nbcluster.ui.magics import unload_ipython_extension as unload

    unload(ipython)
