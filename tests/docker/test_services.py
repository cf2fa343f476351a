"""Services on real Docker: NodePort, LoadBalancer, readiness, port-forward and the HPA on traffic.

The pods are busybox ``httpd`` serving their own hostname (the pod name); every request
goes from the test to 127.0.0.1 (a nodePort, a LoadBalancer port or a port-forward),
never to a container address.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from nbcluster.cluster import Cluster
from nbcluster.errors import RuntimeUnavailable
from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import eventually


def free_port(low: int = 30000, high: int = 32767) -> int:
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


def get(port: int, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as response:
        assert response.status == 200
        return response.read().decode().strip()


def web(replicas: int = 2, service: str = "") -> str:
    """A Deployment of httpd pods answering with their hostname, ready while /tmp/ready exists."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: {BUSYBOX}
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www']
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{exec: {{command: [cat, /tmp/ready]}}, periodSeconds: 1, failureThreshold: 1}}
---
{service}
"""


def ready_pods(c: Cluster) -> list[str]:
    return sorted(
        p["metadata"]["name"] for p in c.wait("pods", selector="app=web", condition="Ready", timeout=60)
    )


def test_node_port_balances_over_ready_pods_through_deletion_and_unreadiness(make_cluster: Any) -> None:
    c = make_cluster()
    node_port = free_port()
    c.apply(
        web(
            2,
            f"""apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http, nodePort: {node_port}}}]
""",
        )
    )
    c.wait("pods", selector="app=web", condition="Ready", count=2, timeout=60)
    pods = eventually(lambda: len(ready_pods(c)) == 2 and ready_pods(c), what="two ready pods")
    eventually(lambda: len(c.plane.proxy.routes.get("default/web:http").backends) == 2, what="two endpoints")
    answers = Counter(get(node_port) for _ in range(20))
    assert set(answers) == set(pods) and sum(answers.values()) == 20

    # Delete one pod: every request is answered while the Deployment replaces it.
    victim, survivor = pods
    failures: list[str] = []
    seen: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                seen.append(get(node_port))
            except (OSError, urllib.error.URLError) as exc:
                failures.append(repr(exc))
            time.sleep(0.01)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        c.kubectl(f"delete pod {victim} --wait=false")
        replacement = eventually(
            lambda: [n for n in ready_pods(c) if n not in pods and len(ready_pods(c)) == 2],
            timeout=60,
            what="a ready replacement",
        )[0]
        eventually(lambda: replacement in seen[-20:], timeout=20, what="traffic on the replacement")
    finally:
        stop.set()
        loader.join()
    assert failures == [], failures[:5]
    assert victim in seen and survivor in seen and replacement in seen
    assert len(seen) > 20

    # Make the survivor unready (its readiness file goes): it gets no traffic.
    c.kubectl(f"exec {survivor} -- rm /tmp/ready")
    eventually(
        lambda: (
            [
                a["targetRef"]["name"]
                for a in c.api.get("endpoints", "web")["subsets"][0].get("notReadyAddresses", [])
            ]
            == [survivor]
        ),
        timeout=20,
        what="the survivor in notReadyAddresses",
    )
    eventually(lambda: len(c.plane.proxy.routes["default/web:http"].backends) == 1, what="one endpoint")
    assert {get(node_port) for _ in range(10)} == {replacement}


def test_load_balancer_and_port_forward_to_a_pod_and_a_service(make_cluster: Any) -> None:
    c = make_cluster()
    lb_port = free_port(40000, 50000)
    c.apply(
        web(
            1,
            f"""apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: {lb_port}, targetPort: 8080}}]
""",
        )
    )
    # The proxy's first sync (milliseconds after the apply) writes the ingress: no <pending>.
    eventually(
        lambda: c.kubectl("get svc web")["EXTERNAL-IP"][0] == "127.0.0.1",
        timeout=1,
        interval=0.01,
        what="EXTERNAL-IP",
    )
    (pod,) = eventually(lambda: ready_pods(c), what="a ready pod")
    eventually(lambda: c.plane.proxy.routes["default/web:"].backends, what="an endpoint")
    assert get(lb_port) == pod
    node_port = c.api.get("services", "web")["spec"]["ports"][0]["nodePort"]
    assert get(node_port) == pod
    assert c.kubectl("service web --url") == f"http://127.0.0.1:{lb_port}"

    # port-forward: to the pod (kubectl's line), and to the service
    line = c.kubectl(f"port-forward pod/{pod} :8080")
    assert line.startswith("Forwarding from 127.0.0.1:") and line.endswith(" -> 8080")
    pod_port = int(line.split(":")[1].split(" ")[0])
    assert get(pod_port) == pod
    svc_line = c.kubectl(f"port-forward svc/web :{lb_port}")
    svc_port = int(svc_line.split(":")[1].split(" ")[0])
    assert get(svc_port) == pod
    listed = c.kubectl("port-forward --list")
    assert sorted(listed["TARGET"]) == [f"pod/{pod}", "service/web"]

    # the service forward keeps working across a pod replacement
    c.kubectl(f"delete pod {pod} --wait=false")
    replacement = eventually(
        lambda: [n for n in ready_pods(c) if n != pod], timeout=60, what="a replacement"
    )[0]
    eventually(
        lambda: _answers(svc_port) == replacement, timeout=20, what="the forward reaching the replacement"
    )
    assert (
        c.kubectl(f"port-forward --stop {svc_port}")
        == f"Stopped forwarding from 127.0.0.1:{svc_port} -> 8080"
    )
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", svc_port), timeout=1):
        raise AssertionError("the stopped forward still listens")


def _answers(port: int) -> str | None:
    try:
        return get(port, timeout=2)
    except (OSError, urllib.error.URLError):
        return None


def test_hpa_scales_on_requests_through_the_service_then_back(make_cluster: Any) -> None:
    c = make_cluster()
    c.plane.hpa.sync_period = 1.0  # --horizontal-pod-autoscaler-sync-period, short for the test
    c.plane.metrics.resolution = 2.0  # the request-rate window
    node_port = free_port()
    c.apply(
        web(
            1,
            f"""apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080, nodePort: {node_port}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Pods
    pods:
      metric: {{name: requests_per_second}}
      target: {{type: AverageValue, averageValue: "5"}}
  behavior:
    scaleDown: {{stabilizationWindowSeconds: 3}}
""",
        )
    )
    eventually(lambda: ready_pods(c), timeout=60, what="a ready pod")
    eventually(lambda: c.plane.proxy.routes["default/web:"].backends, what="an endpoint")
    stop = threading.Event()

    def load() -> None:  # about 40 requests a second, one connection each
        while not stop.is_set():
            with contextlib.suppress(OSError, urllib.error.URLError):
                get(node_port)
            time.sleep(0.025)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        eventually(
            lambda: c.api.get("deployments", "web")["spec"]["replicas"] == 3,
            timeout=30,
            what="a scale-up to 3",
        )
    finally:
        stop.set()
        loader.join()
    eventually(
        lambda: c.api.get("deployments", "web")["spec"]["replicas"] == 1, timeout=30, what="a scale-down to 1"
    )
    events = c.kubectl("events --for hpa/web")
    messages = list(events["MESSAGE"])
    assert any(
        m.startswith("New size: ") and m.endswith("reason: pods metric requests_per_second above target")
        for m in messages
    )
    assert "New size: 1; reason: All metrics below target" in messages


def test_top_reads_docker_stats(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.plane.metrics.resolution = 1.0  # sample every second (metrics-server: 15 s)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: busy}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: spin
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'while :; do :; done']
    resources: {{requests: {{cpu: 100m}}, limits: {{cpu: 500m}}}}
"""
    )
    c.wait("pods", name="busy", condition="Ready", timeout=60)

    def busy_row() -> dict[str, str] | None:
        try:
            table = c.kubectl("top pods")  # a DataFrame with kubectl's columns
        except RuntimeUnavailable:  # "metrics not available yet": the first samples give none
            return None
        rows = table[table["NAME"] == "busy"].to_dict("records")
        return rows[0] if rows and int(rows[0]["CPU(cores)"].rstrip("m")) > 200 else None

    row = eventually(busy_row, timeout=30, what="busy using CPU in top pods")
    # The limit (500m) caps the spinning shell, as the cgroup does; memory is the working set.
    assert int(row["CPU(cores)"].rstrip("m")) <= 600 and row["MEMORY(bytes)"].endswith("Mi"), row
    nodes = c.kubectl("top nodes")
    assert list(nodes.columns) == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert int(nodes.iloc[0]["CPU(cores)"].rstrip("m")) > 200
