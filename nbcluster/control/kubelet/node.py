"""The Node object and Lease a kubelet registers and renews. Pure builders, no I/O.

Shapes follow what a v1.31 kubelet writes: the well-known labels, capacity/allocatable,
the four conditions with the kubelet's reasons and messages, InternalIP + Hostname
addresses, nodeInfo, and ``spec.podCIDR`` (``10.244.N.0/24``); the Lease lives in
``kube-node-lease`` with ``leaseDurationSeconds: 40``.
"""

from __future__ import annotations

import platform
import uuid
from datetime import datetime
from typing import Any

from nbcluster.util.clock import format_time

__all__ = [
    "KUBELET_VERSION",
    "LEASE_DURATION_SECONDS",
    "LEASE_NAMESPACE",
    "build_lease",
    "build_node",
    "format_micro_time",
    "node_conditions",
    "node_internal_ip",
    "pod_cidr",
]

Obj = dict[str, Any]

KUBELET_VERSION = "v1.31.0"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40

_CLUSTER_CIDR_BASE = (10 << 24) | (244 << 16)
_NODE_IP_BASE = (172 << 24) | (18 << 16)


def _ip(value: int) -> str:
    return f"{(value >> 24) & 255}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def pod_cidr(index: int) -> str:
    """``10.244.N.0/24`` for node number N (past 255 it carries into 10.245...)."""
    return f"{_ip(_CLUSTER_CIDR_BASE + index * 256)}/24"


def node_internal_ip(index: int) -> str:
    """A node's InternalIP, kind-style: 172.18.0.2, 172.18.0.3..."""
    return _ip(_NODE_IP_BASE + 2 + index)


def format_micro_time(moment: datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds (a Lease's renewTime)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def node_conditions(now: str, old: list[Obj] | None = None, not_ready: str | None = None) -> list[Obj]:
    """The conditions a kubelet posts; transition times kept from ``old`` when unchanged.

    ``not_ready``: why the kubelet is not ready (its runtime is down): Ready is False with
    reason ``KubeletNotReady`` and that message, as kubelet's setNodeReadyCondition writes.
    """
    old_by_type = {c.get("type"): c for c in old or ()}
    out = []
    for kind, status, reason, message in _CONDITIONS:
        if kind == "Ready" and not_ready is not None:
            status, reason, message = "False", "KubeletNotReady", not_ready
        previous = old_by_type.get(kind)
        transition = now
        if previous is not None and previous.get("status") == status and previous.get("lastTransitionTime"):
            transition = previous["lastTransitionTime"]
        out.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": now,
                "lastTransitionTime": transition,
                "reason": reason,
                "message": message,
            }
        )
    return out


def build_node(
    name: str,
    *,
    index: int,
    capacity: dict[str, str],
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
    control_plane: bool = False,
    runtime_name: str = "simulated",
    runtime_version: str = "0.1.0",
    os_image: str = "Linux",
    now: datetime,
    cidr: str | None = None,
) -> Obj:
    """The Node object a kubelet registers (``tryRegisterWithAPIServer``)."""
    stamp = format_time(now)
    all_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if control_plane:
        all_labels["node-role.kubernetes.io/control-plane"] = ""
    all_labels.update(labels or {})
    full_capacity = {"hugepages-1Gi": "0", "hugepages-2Mi": "0", **capacity}
    machine = uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.nbcluster.local")
    cidr = cidr or pod_cidr(index)
    spec: Obj = {"podCIDR": cidr, "podCIDRs": [cidr]}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "capacity": dict(full_capacity),
            "allocatable": dict(full_capacity),
            "conditions": node_conditions(stamp),
            "addresses": [
                {"type": "InternalIP", "address": node_internal_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(uuid.uuid5(machine, "boot")),
                "containerRuntimeVersion": f"{runtime_name}://{runtime_version}",
                "kernelVersion": platform.release(),
                "kubeProxyVersion": "",
                "kubeletVersion": KUBELET_VERSION,
                "machineID": machine.hex,
                "operatingSystem": "linux",
                "osImage": os_image,
                "systemUUID": str(machine),
            },
        },
    }


def build_lease(name: str, node_uid: str, now: datetime) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
        },
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": LEASE_DURATION_SECONDS,
            "renewTime": format_micro_time(now),
        },
    }
