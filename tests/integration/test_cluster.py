"""The Python API end to end on the simulated runtime: lifecycle, persistence, waiting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nbcluster import Cluster
from nbcluster.errors import ApplyFailed, Timeout

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def control_plane_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"nbcluster-{name}"]


def test_with_block_runs_and_stops_everything() -> None:
    with Cluster("life", runtime="simulated", nodes=3) as c:
        assert control_plane_threads("life")
        assert c.apply(DEPLOYMENT) == ["deployment.apps/web created"]
        pods = c.wait("pods", selector="app=web", condition="Ready", count=3, timeout=20)
        assert len({p["spec"]["nodeName"] for p in pods}) == 3
        table = c.get("pods")
        assert list(table.columns) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert set(table["STATUS"]) == {"Running"}
        assert c.kubectl("scale deploy/web --replicas=1") == "deployment.apps/web scaled"
        c.wait("pods", selector="app=web", condition=lambda p: True, count=1, timeout=20)
    assert not c.running
    assert control_plane_threads("life") == []
    assert c.api.store.watch_count == 0


def test_a_new_cluster_on_the_same_state_dir_sees_every_object(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Cluster("keep", runtime="simulated", nodes=2, state_dir=state) as c:
        c.apply(DEPLOYMENT)
        c.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
        )
        c.wait("pods", selector="app=web", condition="Ready", count=3, timeout=20)
        before = {p["metadata"]["name"] for p in c.objects("pods")}
        revision = c.api.store.revision
    with Cluster("keep", runtime="simulated", nodes=2, state_dir=state) as again:
        assert again.api.get("configmaps", "settings", namespace="default")["data"] == {"a": "1"}
        assert again.api.store.revision >= revision
        assert {p["metadata"]["name"] for p in again.objects("pods")} == before
        # The kubelets take their pods up again: still three ready replicas, no duplicates.
        pods = again.wait("pods", selector="app=web", condition="Ready", count=3, timeout=20)
        assert {p["metadata"]["name"] for p in pods} == before


def test_a_failed_document_changes_nothing_and_the_others_apply() -> None:
    with Cluster("partial", runtime="simulated") as c:
        text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: good}
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers: [{name: app, imag: nginx}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: also-good}
"""
        with pytest.raises(ApplyFailed) as failure:
            c.apply(text)
        assert failure.value.results == ["configmap/good created", "configmap/also-good created"]
        assert 'unknown field "spec.containers[0].imag"' in str(failure.value)
        assert [p["metadata"]["name"] for p in c.objects("pods")] == []


def test_wait_times_out_with_a_clear_message() -> None:
    with Cluster("slow", runtime="simulated") as c:
        c.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"nodeSelector": {"disk": "none"}, "containers": [{"name": "a", "image": "busybox"}]},
            }
        )
        with pytest.raises(Timeout, match="timed out waiting for pods"):
            c.wait("pods", name="p", condition="Ready", timeout=0.5)
