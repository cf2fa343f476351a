"""How fast the control plane brings pods to Running on the simulated runtime, and what it costs.

    python benchmarks/simulated_scale.py --nodes 1000 --pods 100000
    python benchmarks/simulated_scale.py --nodes 100 --pods 10000      # a quicker run

Creates Deployments (``--per-deployment`` replicas each) on a cluster of simulated
nodes and prints: time until every pod is Running, pods per second, peak RSS, and
p50/p99 latency of a ``get`` of one pod and of a label-selector ``list`` at that size.
Events are off (``record_events=False``) as KWOK's benchmarks run without them;
``--events`` turns them on. While the pods are being created the benchmark runs under
:func:`nbcluster.util.gctuning.bulk_gc` (fewer, cheaper cyclic-GC passes; see that module
for the trade-off); ``--no-gc-tuning`` measures with the interpreter's default GC.
Goal (not a test): >= 3,000 pods/s and <= 2 GB RSS for 100k pods.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import resource
import statistics
import sys
import threading
import time

from nbcluster import Cluster
from nbcluster.util.gctuning import bulk_gc


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=100_000)
    parser.add_argument("--per-deployment", type=int, default=1000)
    parser.add_argument("--events", action="store_true", help="record Events as a real cluster would")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--no-gc-tuning", action="store_true", help="keep CPython's default GC settings during the run"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    cluster = Cluster(
        "bench",
        runtime="simulated",
        nodes=args.nodes,
        record_events=args.events,
        capacity={"cpu": "64", "memory": "256Gi", "pods": str(max(110, 2 * args.pods // args.nodes))},
    )
    boot = time.perf_counter() - started
    running = 0
    done = threading.Event()
    lock = threading.Lock()

    def count(event) -> None:  # type: ignore[no-untyped-def]
        nonlocal running
        was = (event.old or {}).get("status", {}).get("phase") == "Running" if event.old else False
        now = event.type != "DELETED" and event.object.get("status", {}).get("phase") == "Running"
        if now != was:
            with lock:
                running += 1 if now else -1
                if running >= args.pods:
                    done.set()

    cluster.api.subscribe("pods", count)
    deployments = []
    remaining = args.pods
    index = 0
    while remaining > 0:
        replicas = min(args.per_deployment, remaining)
        deployments.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"load-{index}", "namespace": "default"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": f"load-{index}"}},
                    "template": {
                        "metadata": {"labels": {"app": f"load-{index}"}},
                        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
                    },
                },
            }
        )
        remaining -= replicas
        index += 1
    gc_seconds = [0.0, 0.0, 0.0]
    gc_started = [0.0]

    def gc_clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_seconds[info["generation"]] += time.perf_counter() - gc_started[0]

    gc.callbacks.append(gc_clock)
    collections0 = [generation["collections"] for generation in gc.get_stats()]
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    with contextlib.nullcontext() if args.no_gc_tuning else bulk_gc():
        cluster.apply(deployments)
        finished = done.wait(args.timeout)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    gc.callbacks.remove(gc_clock)
    collections = [g["collections"] - c for g, c in zip(gc.get_stats(), collections0, strict=True)]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # One full collection now, timed, so the latencies below do not include it: with
    # bulk_gc it is the work the run deferred; without, whatever the run left.
    t = time.perf_counter()
    gc.collect()
    after_collect = time.perf_counter() - t

    get_latency, list_latency = [], []
    names = [o["metadata"]["name"] for o in cluster.api.cached_list("pods", "default")[:200]]
    for name in names:
        t = time.perf_counter()
        cluster.api.get("pods", name, namespace="default")
        get_latency.append((time.perf_counter() - t) * 1000)
    for i in range(min(50, index)):
        t = time.perf_counter()
        cluster.api.list("pods", namespace="default", label_selector=f"app=load-{i}")
        list_latency.append((time.perf_counter() - t) * 1000)
    cluster.stop()

    print(
        f"nodes: {args.nodes}  pods: {args.pods}  deployments: {index}  events: {'on' if args.events else 'off'}"
        f"  gc tuning: {'off' if args.no_gc_tuning else 'bulk_gc'}"
    )
    print(f"cluster start: {boot:.2f} s")
    print(f"all Running: {'yes' if finished else f'NO ({running} of {args.pods})'} in {elapsed:.2f} s")
    print(f"pods/s: {running / elapsed:.0f}")
    # The machine may be shared: CPU time per pod is the steadier figure.
    print(f"cpu: {cpu:.2f} s ({1e6 * cpu / max(1, running):.0f} us per pod)")
    print(
        f"gc: {sum(gc_seconds):.2f} s, of which full collections {gc_seconds[2]:.2f} s "
        f"(collections by generation: {'/'.join(str(n) for n in collections)}); "
        f"a full collection after the run: {after_collect:.2f} s"
    )
    print(f"peak RSS: {peak_rss_mb:.0f} MB")
    print(
        f"get pod latency: p50 {statistics.median(get_latency):.3f} ms  p99 {percentile(get_latency, 0.99):.3f} ms"
    )
    per_list = args.per_deployment
    print(
        f"list by label ({per_list} pods): p50 {statistics.median(list_latency):.2f} ms  "
        f"p99 {percentile(list_latency, 0.99):.2f} ms"
    )
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
