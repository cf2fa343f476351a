"""Requests through a Service (the in-kernel kube-proxy) against the same pods' published ports.

    python benchmarks/service_proxy.py                  # 2000 requests x 2 rounds, 8 then 1 at a time
    python benchmarks/service_proxy.py --requests 500 --rounds 1

Needs a Docker daemon and the local images (``bash scripts/start-docker.sh`` and
``bash scripts/build-test-images.sh``). Two busybox ``httpd`` pods behind a NodePort
Service. The load generator runs in its own process (as a browser or ``curl`` would; the
proxy runs on the control plane's thread of this one) and sends HTTP/1.0 requests on
127.0.0.1, one connection each, ``--concurrency`` at a time, bounded by ``--requests``
and ``--seconds``:

* **direct**: alternately to the two pods' published host ports (what the proxy itself
  connects to), and
* **service**: to the Service's nodePort.

Rounds alternate direct and service runs, first ``--concurrency`` at a time (throughput),
then one at a time (the latency one request gains, without queueing). Printed: requests/s,
p50 and p99 latency of each (medians over rounds), the throughput ratio service/direct and
the latency the proxy adds. Goal (not a test): ratio >= 0.6, added p99 <= 2 ms.

Then **in-cluster**: a client pod runs ``--in-cluster`` sequential ``wget`` requests to the
Service's ClusterIP (its forwarder container) and as many to the pods' own IPs, timed by
busybox ``time`` inside the pod; printed: milliseconds per request of each and the
difference (what the in-network forwarder adds; see README "Services and networking").
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import socket
import statistics
import sys
import time
from typing import Any

from nbcluster.cluster import Cluster
from nbcluster.runtime.docker import DockerRuntime, docker_available

IMAGE = "nbcluster/busybox:test"
PAUSE = "nbcluster/pause:test"
# No registry here: the Services' in-network forwarders use the local busybox too.
os.environ.setdefault("NBCLUSTER_SERVICE_PROXY_IMAGE", IMAGE)
REQUEST = b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n"


def _free_node_port() -> int:
    for _ in range(500):
        port = random.randint(30000, 32767)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 30000-32767")


async def _load(
    ports: list[int], count: int, concurrency: int, seconds: float
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal issued, errors
        while issued < count and time.perf_counter() < deadline:
            port = ports[issued % len(ports)]
            issued += 1
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(REQUEST)
                body = await reader.read()
                writer.close()
                if not body.startswith(b"HTTP/1."):
                    errors += 1
                    continue
            except OSError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - began


def load(ports: list[int], count: int, concurrency: int, seconds: float) -> tuple[list[float], int, float]:
    """Run in the load generator's process: (latencies, errors, elapsed seconds)."""
    return asyncio.run(_load(ports, count, concurrency, seconds))


def summarize(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] if ordered else float("nan")
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    return {
        "rps": len(ordered) / elapsed if elapsed else 0.0,
        "p50": p50 * 1000,
        "p99": p99 * 1000,
        "errors": errors,
    }


def manifest(node_port: int) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: bench}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: bench}}}}
  template:
    metadata: {{labels: {{app: bench}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: {IMAGE}
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{{containerPort: 8080}}]
        readinessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: bench}}
spec:
  type: NodePort
  selector: {{app: bench}}
  ports: [{{port: 80, targetPort: 8080, nodePort: {node_port}}}]
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections at a time (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="direct/service pairs (default 2)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound of one run (default 20)")
    parser.add_argument(
        "--in-cluster", type=int, default=200, help="sequential requests from a pod per path (default 200)"
    )
    args = parser.parse_args(argv)
    if docker_available() is None:
        print("no Docker daemon answers: run `bash scripts/start-docker.sh` first", file=sys.stderr)
        return 2
    node_port = _free_node_port()
    cluster = Cluster(f"bench-{random.randint(0, 99999)}", runtime=DockerRuntime(pause_image=PAUSE), nodes=1)
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        cluster.apply(manifest(node_port))
        pods = cluster.wait("pods", selector="app=bench", condition="Ready", count=2, timeout=60)
        plane = cluster.plane
        direct: list[int] = []
        for pod in pods:
            address = plane.run(_address(plane, pod["metadata"]["name"]))
            assert address is not None, "a pod port is not published"
            direct.append(address[1])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(plane.proxy.routes.get("default/bench:").backends) < 2:
            time.sleep(0.05)
        pool.apply(load, ([node_port], 50, 2, 5.0))  # warm up both paths
        pool.apply(load, (direct, 50, 2, 5.0))
        print(
            f"{args.requests} requests per run, {args.rounds} rounds, one connection per request, "
            "2 busybox httpd pods; medians over rounds"
        )
        medians = {}
        for concurrency in (args.concurrency, 1):
            results: dict[str, list[dict[str, float]]] = {"direct": [], "service": []}
            for _ in range(args.rounds):
                for name, ports in (("direct", direct), ("service", [node_port])):
                    outcome = pool.apply(load, (ports, args.requests, concurrency, args.seconds))
                    results[name].append(summarize(*outcome))
            medians[concurrency] = {
                name: {k: statistics.median(run[k] for run in runs) for k in ("rps", "p50", "p99", "errors")}
                for name, runs in results.items()
            }
            print(f"\n{concurrency} at a time")
            print(f"{'path':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
            for name in ("direct", "service"):
                m = medians[concurrency][name]
                print(f"{name:<10}{m['rps']:>10.0f}{m['p50']:>10.2f}{m['p99']:>10.2f}{m['errors']:>8.0f}")
        loaded, single = medians[args.concurrency], medians[1]
        ratio = loaded["service"]["rps"] / loaded["direct"]["rps"]
        print(
            f"\nthroughput ratio service/direct ({args.concurrency} at a time): {ratio:.2f}x (goal >= 0.6x)"
        )
        for label, m in (("one at a time", single), (f"{args.concurrency} at a time", loaded)):
            print(
                f"latency added by the proxy, {label}: p50 {m['service']['p50'] - m['direct']['p50']:+.2f} ms, "
                f"p99 {m['service']['p99'] - m['direct']['p99']:+.2f} ms (goal: p99 <= 2 ms)"
            )
        if args.in_cluster > 0:
            in_cluster(cluster, pods, args.in_cluster, args.rounds)
    finally:
        pool.close()
        pool.join()
        cluster.stop()
    return 0


CLIENT = f"""
apiVersion: v1
kind: Pod
metadata: {{name: bench-client}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{{name: sh, image: {IMAGE}, imagePullPolicy: Never, command: [sleep, '3600']}}]
"""


def in_cluster(cluster: Cluster, pods: list[Any], count: int, rounds: int) -> None:
    """Sequential requests from inside a pod: to the ClusterIP, and to the pods' IPs directly."""
    cluster.apply(CLIENT)
    cluster.wait("pods", name="bench-client", condition="Ready", timeout=60)
    cluster_ip = cluster.api.get("services", "bench")["spec"]["clusterIP"]
    targets = {
        "direct": [f"{p['status']['podIP']}:8080" for p in pods],
        "service": [f"{cluster_ip}:80"],
    }
    timings: dict[str, list[float]] = {"direct": [], "service": []}
    for _ in range(rounds):
        for name, addresses in targets.items():
            urls = " ".join(f"http://{a}/" for a in addresses)
            loop = (
                f"set -- {urls}; n=0; while [ $n -lt {count} ]; do "
                f'for u in "$@"; do wget -qO- "$u" >/dev/null || echo FAILED >&2; n=$((n+1)); done; done'
            )
            script = f"time sh -c '{loop}'"
            plane = cluster.plane
            result = plane.run(plane.kubelets.exec("default", "bench-client", None, ["sh", "-c", script]))
            match = re.search(r"real\s+(\d+)m\s*([\d.]+)s", result.output)
            if result.exit_code != 0 or match is None or "FAILED" in result.output:
                raise SystemExit(f"in-cluster run failed: {result.output[-500:]}")
            seconds = int(match.group(1)) * 60 + float(match.group(2))
            timings[name].append(seconds * 1000 / count)
    direct, service = statistics.median(timings["direct"]), statistics.median(timings["service"])
    print(f"\nin-cluster, {count} sequential wget from a pod (busybox time, 10 ms resolution per run)")
    print(f"direct to pod IPs: {direct:.2f} ms/request; via ClusterIP: {service:.2f} ms/request")
    print(f"added by the in-network forwarder: {service - direct:+.2f} ms/request")


async def _address(plane: Any, pod: str) -> tuple[str, int] | None:
    return plane.kubelets.endpoint_address("default", pod, 8080)


if __name__ == "__main__":
    sys.exit(main())
