"""nbcluster: a small, real Kubernetes-style cluster inside a Jupyter kernel.

``from nbcluster import Cluster`` for the Python API; ``%load_ext nbcluster`` for the
notebook magics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbcluster import errors

__all__ = ["Cluster", "__version__", "errors"]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import nbcluster` stays cheap (pandas, the schema) until used.
    if name == "Cluster":
        from nbcluster.cluster import Cluster

        return Cluster
    raise AttributeError(f"module 'nbcluster' has no attribute {name!r}")
