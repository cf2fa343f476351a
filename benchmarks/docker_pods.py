"""Pods on Docker against raw Docker, measured in the same run.

    python benchmarks/docker_pods.py                 # 20 pods, 3 rounds
    python benchmarks/docker_pods.py --pods 10 --rounds 1

Needs a Docker daemon and the local images (``bash scripts/start-docker.sh`` and
``bash scripts/build-test-images.sh``). Two comparisons, each round alternating the raw
run and the nbcluster run so that both see the same daemon state:

* **20 pods.** A Deployment of busybox ``sleep`` is scaled 0 -> N and timed until all N
  pods are Ready; against N raw ``containers.run(detach=True)`` of the same image from
  N threads (the same number of threads the runtime's pool gives those pods).
* **1 pod.** ``apply`` of one Pod timed until it is Running; against one raw run.

Each pod also starts a pause container, so the pod path does twice the daemon's work of
the raw path; the goal (not a test) is <= 1.25x raw for 20 pods. Medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker

from nbcluster.cluster import Cluster
from nbcluster.runtime.docker import DockerRuntime, docker_available

IMAGE = "nbcluster/busybox:test"
PAUSE = "nbcluster/pause:test"
BENCH_LABEL = "io.nbcluster.benchmark"


def raw_runs(client: docker.DockerClient, count: int, tag: str) -> float:
    """Seconds for ``count`` raw detached runs from ``count`` threads (then removed)."""
    barrier = threading.Barrier(count + 1)
    ids: list[str] = []

    def one(_: int) -> None:
        barrier.wait()
        container = client.containers.run(IMAGE, ["sleep", "3600"], detach=True, labels={BENCH_LABEL: tag})
        ids.append(container.id)

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(one, i) for i in range(count)]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        took = time.perf_counter() - started
        list(pool.map(lambda cid: client.api.remove_container(cid, force=True), ids))
    return took


def deployment(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "sleepers"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "sleepers"}},
            "template": {
                "metadata": {"labels": {"app": "sleepers"}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "sleep",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"],
                        }
                    ],
                },
            },
        },
    }


def ready_count(cluster: Cluster) -> int:
    count = 0
    for pod in cluster.api.cached_list("pods", "default"):
        for condition in (pod.get("status") or {}).get("conditions") or ():
            if condition.get("type") == "Ready" and condition.get("status") == "True":
                count += 1
    return count


def wait_until(predicate: Any, timeout: float) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("benchmark step timed out")
        time.sleep(0.005)
    return time.perf_counter()


def scale_pods(cluster: Cluster, count: int, timeout: float) -> float:
    """Seconds from ``scale --replicas=count`` until ``count`` pods are Ready."""
    started = time.perf_counter()
    cluster.kubectl(f"scale deployment/sleepers --replicas={count}")
    done = wait_until(lambda: ready_count(cluster) >= count, timeout)
    return done - started


def scale_down(cluster: Cluster, timeout: float) -> None:
    cluster.kubectl("scale deployment/sleepers --replicas=0")
    wait_until(lambda: not cluster.api.cached_list("pods", "default"), timeout)


def one_pod(cluster: Cluster, name: str, timeout: float) -> float:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "sleep",
                    "image": IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "3600"],
                }
            ],
        },
    }
    started = time.perf_counter()
    cluster.apply(manifest)

    def running() -> bool:
        pod = cluster.api.cached("pods", name, "default")
        return pod is not None and (pod.get("status") or {}).get("phase") == "Running"

    done = wait_until(running, timeout)
    cluster.kubectl(f"delete pod {name}")
    wait_until(lambda: cluster.api.cached("pods", name, "default") is None, timeout)
    return done - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    if docker_available() is None:
        print("no Docker daemon answers: run `bash scripts/start-docker.sh` first", file=sys.stderr)
        return 2
    client = docker.from_env(max_pool_size=args.pods + 8)
    for image in (IMAGE, PAUSE):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            print(f"{image} is missing: run `bash scripts/build-test-images.sh`", file=sys.stderr)
            return 2
    tag = uuid.uuid4().hex[:8]
    cluster = Cluster(
        f"bench-{tag}",
        runtime=DockerRuntime(pause_image=PAUSE, max_workers=max(32, args.pods)),
        nodes=2,
        record_events=True,
    )
    raw_many: list[float] = []
    pods_many: list[float] = []
    raw_one: list[float] = []
    pods_one: list[float] = []
    try:
        cluster.apply(deployment(0))
        raw_runs(client, 2, tag)  # warm the daemon and the image cache once
        one_pod(cluster, "warmup", args.timeout)
        for round_ in range(args.rounds):
            raw_many.append(raw_runs(client, args.pods, tag))
            pods_many.append(scale_pods(cluster, args.pods, args.timeout))
            scale_down(cluster, args.timeout)
            raw_one.append(raw_runs(client, 1, tag))
            pods_one.append(one_pod(cluster, f"single-{round_}", args.timeout))
            print(
                f"round {round_ + 1}: {args.pods} pods {pods_many[-1]:.2f}s vs raw {raw_many[-1]:.2f}s; "
                f"1 pod {pods_one[-1]:.3f}s vs raw {raw_one[-1]:.3f}s",
                flush=True,
            )
    finally:
        cluster.stop()
        for container in client.containers.list(all=True, filters={"label": f"{BENCH_LABEL}={tag}"}):
            container.remove(force=True)
        client.close()
    many, many_raw = statistics.median(pods_many), statistics.median(raw_many)
    one, one_raw = statistics.median(pods_one), statistics.median(raw_one)
    print(
        f"{args.pods} pods Ready:   {many:.2f}s   raw Docker {many_raw:.2f}s   ratio {many / many_raw:.2f}x"
    )
    print(f"1 pod Running:     {one:.3f}s  raw Docker {one_raw:.3f}s  ratio {one / one_raw:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
