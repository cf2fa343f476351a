"""Where the shared Kubernetes example manifests are (read-only test data).

They live in ``shared/k8s-examples`` beside the checkout (CI lays a copy of ``shared/``
beside its clone); ``NBCLUSTER_EXAMPLES`` points elsewhere. Not finding them is an
error, never a silent skip: every test over them would otherwise pass on nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _locate() -> Path:
    candidates = [Path(os.environ["NBCLUSTER_EXAMPLES"])] if os.environ.get("NBCLUSTER_EXAMPLES") else []
    candidates += [ROOT.parent / "shared" / "k8s-examples", Path("/work/shared/k8s-examples")]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise RuntimeError(
        "the shared Kubernetes examples were not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); set NBCLUSTER_EXAMPLES to their folder"
    )


EXAMPLES_DIR = _locate()
EXAMPLE_FILES = sorted(str(p) for p in EXAMPLES_DIR.glob("*.yaml"))
