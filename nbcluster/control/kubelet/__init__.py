"""The kubelet: pod lifecycle, probes, restarts, status and node heartbeats.

``KubeletManager`` runs the kubelet of every node on the control plane's loop; the
deciding (``compute_pod_actions``, ``get_phase``, the condition builders) is pure and
lives apart from the doing (``PodSyncer``), as in Kubernetes' kubelet.
"""

from nbcluster.control.kubelet.actions import (
    KillInfo,
    ObservedContainer,
    ObservedPod,
    PodActions,
    compute_pod_actions,
)
from nbcluster.control.kubelet.manager import KubeletManager
from nbcluster.control.kubelet.status import get_phase, pod_conditions, pod_status_text

__all__ = [
    "KillInfo",
    "KubeletManager",
    "ObservedContainer",
    "ObservedPod",
    "PodActions",
    "compute_pod_actions",
    "get_phase",
    "pod_conditions",
    "pod_status_text",
]
