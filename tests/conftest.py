"""Shared fixtures: a fresh store + API server on a manual clock, and node/pod builders."""

from __future__ import annotations

import os
from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock, format_time

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# No registry here: Services' in-cluster forwarders (Docker runtime) use the locally built
# busybox, in this process and in every kernel or server the tests start.
os.environ.setdefault("NBCLUSTER_SERVICE_PROXY_IMAGE", "nbcluster/busybox:test")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> APIServer:
    server = APIServer(Store(), clock)
    server.ensure_system_objects()
    return server


def make_node(
    api: APIServer,
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    ready: bool = True,
) -> dict[str, Any]:
    """A Node as a kubelet registers it, Ready and with a fresh heartbeat."""
    now = format_time(api.clock.now())
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
        },
    }
    created = api.create(node, validate_schema=False)
    created["status"] = node["status"]
    return api.update_status(created)


def make_pod(
    name: str,
    *,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
    cpu: str | None = None,
    owner: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "busybox:1.36"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [container], **spec}}


def owner_ref(obj: dict[str, Any], *, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
