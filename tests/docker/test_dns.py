"""In-cluster service discovery on real Docker: Service names, ClusterIPs, env vars, headless
Services and StatefulSet pod names, all from inside pods (``wget``/``nslookup`` in busybox).

Every request here goes from one container to another on the cluster's own network; the
test only runs ``exec`` in a client pod.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

from nbcluster.cluster import Cluster
from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import eventually
from tests.docker.test_services import web

WEB = web(
    2,
    """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
""",
)


def client(namespace: str = "default") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: {namespace}}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sleep, '3600']
"""


def run_in(c: Cluster, pod: str, script: str, namespace: str = "default") -> tuple[int, str]:
    # `timeout` rather than wget -T: busybox-static's wget crashes on -T with a host name.
    result = c.plane.run(c.plane.kubelets.exec(namespace, pod, None, ["sh", "-c", script]))
    return result.exit_code, result.output


def fetch(c: Cluster, pod: str, url: str, times: int = 1, namespace: str = "default") -> list[str]:
    code, output = run_in(
        c, pod, f"for i in $(seq {times}); do timeout 5 wget -qO- {url} || echo FAILED; done", namespace
    )
    assert code == 0, output
    return output.split()


def test_service_names_cluster_ip_and_env_reach_ready_backends(make_cluster: Any) -> None:
    c = make_cluster(nodes=2)
    c.apply(WEB)
    pods = sorted(
        p["metadata"]["name"] for p in c.wait("pods", selector="app=web", condition="Ready", count=2)
    )
    c.kubectl("create namespace shop")
    c.apply(client())
    c.apply(client("shop"))
    c.wait("pods", name="client", condition="Ready", timeout=60)
    c.wait("pods", name="client", namespace="shop", condition="Ready", timeout=60)
    svc = c.api.get("services", "web")
    cluster_ip = svc["spec"]["clusterIP"]
    plan = c.runtime.network_plan
    assert plan is not None and ipaddress.ip_address(cluster_ip) in plan.service_cidr
    assert c.api.service_cidr == plan.service_cidr

    # The short name, the namespaced name and the FQDN, on the Service's port (80, not 8080).
    answers = Counter(fetch(c, "client", "http://web/", 10))
    assert set(answers) == set(pods) and sum(answers.values()) == 10, answers
    for name in ("web.default", "web.default.svc.cluster.local", f"{cluster_ip}:80"):
        assert fetch(c, "client", f"http://{name}/")[0] in pods, name

    # Kubernetes' service env vars point at the same address.
    _, output = run_in(c, "client", "echo $WEB_SERVICE_HOST $WEB_SERVICE_PORT $WEB_SERVICE_PORT_HTTP")
    assert output.split() == [cluster_ip, "80", "80"], output
    _, output = run_in(c, "client", "nslookup web")
    assert cluster_ip in output, output

    # Another namespace: the short name is not theirs, the namespaced name is.
    assert fetch(c, "client", "http://web.default/", namespace="shop")[0] in pods
    _, output = run_in(c, "client", "timeout 5 wget -qO- http://web/ || echo unresolved", "shop")
    assert "unresolved" in output, output

    # An unready pod leaves the rotation inside the cluster too.
    unready, ready = pods
    c.kubectl(f"exec {unready} -- rm /tmp/ready")
    eventually(
        lambda: [b.pod for b in c.plane.proxy.routes["default/web:http"].backends] == [ready],
        timeout=20,
        what="one endpoint",
    )
    eventually(
        lambda: set(fetch(c, "client", "http://web/", 6)) == {ready}, timeout=10, what="only the ready pod"
    )

    # The learner's way: a throw-away pod that prints what it fetched and goes.
    out = c.kubectl(f"run probe -it --rm --restart=Never --image={BUSYBOX} -- wget -qO- http://web")
    assert out.splitlines() == [ready, 'pod "probe" deleted'], out

    # Deleting the Service removes its forwarder: the name stops resolving.
    c.kubectl("delete service web")
    eventually(
        lambda: "unresolved" in run_in(c, "client", "timeout 5 wget -qO- http://web/ || echo unresolved")[1],
        timeout=20,
        what="the name to go",
    )


HEADLESS = f"""
apiVersion: v1
kind: Service
metadata: {{name: nginx}}
spec:
  clusterIP: None
  selector: {{app: nginx}}
  ports: [{{name: web, port: 80}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: web}}
spec:
  serviceName: nginx
  replicas: 2
  selector: {{matchLabels: {{app: nginx}}}}
  template:
    metadata: {{labels: {{app: nginx}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: {BUSYBOX}
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']
        ports: [{{name: web, containerPort: 80}}]
"""


def test_headless_service_and_stateful_pod_names_resolve_to_pods(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(HEADLESS)
    c.apply(client())
    c.wait("pods", selector="app=nginx", condition="Ready", count=2, timeout=60)
    c.wait("pods", name="client", condition="Ready", timeout=60)
    ips = {
        p["metadata"]["name"]: p["status"]["podIP"]
        for p in c.wait("pods", selector="app=nginx", condition="Ready", count=2)
    }
    assert c.api.get("services", "nginx")["spec"]["clusterIP"] == "None"

    assert fetch(c, "client", "http://web-0.nginx/") == ["web-0"]
    assert fetch(c, "client", "http://web-1.nginx.default.svc.cluster.local/") == ["web-1"]
    _, output = run_in(c, "client", "nslookup nginx")
    assert ips["web-0"] in output and ips["web-1"] in output, output
    _, output = run_in(c, "client", "nslookup web-0.nginx.default.svc.cluster.local")
    assert ips["web-0"] in output and ips["web-1"] not in output, output
