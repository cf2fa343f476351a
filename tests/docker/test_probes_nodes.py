"""Probes through ports published on 127.0.0.1 (declared or not), and a node stopped and
started again: its containers stop, then come back in a new sandbox."""

from __future__ import annotations

from typing import Any

from nbcluster.runtime.docker_support import LABEL_CLUSTER, LABEL_NODE
from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import container_status, events, eventually, pod


def test_http_and_tcp_probes_reach_the_pod_over_loopback(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: probed}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [httpd, -f, -p, "8080", -h, /www]   # no containerPort declared
    readinessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 1}}
    livenessProbe: {{httpGet: {{port: 8080, path: /index.html}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Pod
metadata: {{name: deaf}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [httpd, -f, -p, "8080", -h, /www]
    ports: [{{containerPort: 8080}}]
    readinessProbe: {{tcpSocket: {{port: 9090}}, periodSeconds: 1}}
    livenessProbe: {{httpGet: {{port: 8080, path: /missing}}, periodSeconds: 1, failureThreshold: 2}}
"""
    )
    c.wait("pods", name="probed", condition="Ready", timeout=30)
    ip = eventually(lambda: pod(c, "deaf")["status"].get("podIP"))
    eventually(lambda: container_status(c, "deaf", "web").get("restartCount", 0) >= 1, timeout=30)
    reasons = events(c, "deaf")
    assert (
        "Unhealthy",
        f"Readiness probe failed: dial tcp {ip}:9090: connect: connection refused",
    ) in reasons
    assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404") in reasons
    assert not container_status(c, "deaf", "web")["ready"]
    assert container_status(c, "probed", "web")["restartCount"] == 0
    assert not [r for r, _m in events(c, "probed") if r == "Unhealthy"]


def test_a_stopped_node_stops_its_containers_and_a_started_one_runs_them_again(
    make_cluster: Any, docker_client: Any
) -> None:
    c = make_cluster(nodes=1)
    node = f"{c.name}-control-plane"
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: steady}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {{name: app, image: {BUSYBOX}, imagePullPolicy: Never, command: [sleep, "3600"]}}
"""
    )
    c.wait("pods", name="steady", condition="Ready", timeout=30)
    before = container_status(c, "steady", "app")["containerID"]

    def running() -> list[Any]:
        return docker_client.containers.list(
            sparse=True, filters={"label": [f"{LABEL_CLUSTER}={c.name}", f"{LABEL_NODE}={node}"]}
        )

    assert len(running()) == 2
    c.plane.run(c.plane.kubelets.stop_node(node))
    assert running() == []
    c.plane.run(c.plane.kubelets.start_node(node))
    eventually(lambda: len(running()) == 2, timeout=30, what="containers back")
    eventually(
        lambda: container_status(c, "steady", "app").get("containerID") not in (None, before), timeout=30
    )
    c.wait("pods", name="steady", condition="Ready", timeout=30)
    assert ("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.") in events(c, "steady")
