"""What live widgets cost: latency to the widget, redraw cost, and the control plane's slowdown.

    python benchmarks/widgets.py                 # all three, ~1 minute
    python benchmarks/widgets.py --quick         # smaller sizes

Prints:

1. **latency** — from an API change (a pod created; a Deployment scaled elsewhere) to
   the widget's state (the live table's objects; the slider's value) and to its
   rendered HTML (p50 / p95 / max over ``--samples`` changes);
2. **redraw cost** of the live pods table at 100 / 1,000 / 10,000 Running pods
   (simulated runtime): a cold redraw (every row computed), a warm one (rows cached),
   one a second later (AGE ticks: young rows recomputed), ``.df``, and for comparison
   the styled ``get`` table (pandas Styler) that ``%kube get`` shows;
3. **control-plane throughput** — pods/s to bring ``--pods`` pods to Running with 0
   and with 30 open live widgets (30 pod tables on the namespace being scaled: every
   widget sees every change — the worst case), over ``--rounds`` alternating runs:
   best and median pods/s, the process' CPU per 1,000 pods, the hub thread's share,
   and how long after the last pod ran the 30 tables all showed it. On a shared
   machine the best-of ratio is the fairer figure (other load only slows runs down).

Goals (issue 6, not tests): <= 100 ms redraw at 1,000 pods; <= 10% slowdown with 30 widgets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from typing import Any

from nbcluster.cluster import Cluster
from nbcluster.ui import widgets as live_widgets
from nbcluster.ui.display import to_html
from nbcluster.ui.widgets._hub import hub

#: Simulated nodes: roomy, but each node's pod CIDR is a /24 (253 pod IPs), as in Kubernetes.
CAPACITY = {"cpu": "256", "memory": "1024Gi", "pods": "200"}


def deployment(name: str, replicas: int, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "bench": "load"}},
                "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
            },
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def cpu(action: Any) -> float:
    """The CPU time ``action`` takes on this thread (the hub and the control plane run beside it)."""
    started = time.thread_time()
    action()
    return time.thread_time() - started


def wait_until(check: Any, timeout: float) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("benchmark condition not met")
        time.sleep(0.001)
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ 1. latency


def latency(samples: int) -> None:
    print("1. latency: API change -> widget")
    with Cluster("bench-latency", runtime="simulated", nodes=2) as cluster:
        table = live_widgets.live(cluster, "pods")
        state: list[float] = []
        shown: list[float] = []
        for i in range(samples):
            name = f"p{i}"
            started = time.perf_counter()
            cluster.api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                }
            )
            wait_until(lambda n=name: ("default", n) in table._objects, 5)
            state.append(time.perf_counter() - started)
            wait_until(lambda n=name: f"<td>{n}</td>" in table.html.value, 5)
            shown.append(time.perf_counter() - started)
            time.sleep(0.3)  # an isolated change (a burst waits up to 0.25 s for the redraw throttle)
        cluster.apply(deployment("web", 1))
        slider = live_widgets.scale_widget(cluster, "deploy/web", max=50)
        moved: list[float] = []
        for i in range(min(samples, 30)):
            started = time.perf_counter()
            cluster.api.scale("deployments", "web", 2 + i % 20, namespace="default")
            moved.append(wait_until(lambda v=2 + i % 20: slider.slider.value == v, 5))
            time.sleep(0.3)
        table.close()
        slider.close()
    for what, values in (
        ("pod created -> table state", state),
        ("pod created -> table HTML", shown),
        ("scaled elsewhere -> slider value", moved),
    ):
        print(
            f"   {what:34} p50 {ms(percentile(values, 0.5))}  p95 {ms(percentile(values, 0.95))}"
            f"  max {ms(max(values))}"
        )


# ------------------------------------------------------------------------------ 2. redraw cost


def redraw_cost(sizes: list[int]) -> None:
    print("2. redraw cost of the live pods table (Running pods, simulated runtime; CPU time of one redraw)")
    print(
        f"   {'pods':>6} {'cold':>10} {'warm':>10} {'+1 s':>10} {'full rows':>10} {'.df':>10} {'styled get':>11}"
        "   (shown rows capped at 1,000; 'full rows' renders all)"
    )
    for size in sizes:
        nodes = max(2, size // 200 + 1)
        with Cluster(f"bench-redraw-{size}", runtime="simulated", nodes=nodes, capacity=CAPACITY) as cluster:
            for index in range(0, size, 1000):  # Deployments of up to 1,000, as benchmarks/simulated_scale.py
                cluster.apply(deployment(f"load-{index // 1000}", min(1000, size - index)))
            cluster.wait("pods", selector="bench=load", condition="Running", count=size, timeout=600)
            table = live_widgets.live(cluster, "pods", selector="bench=load")
            feed = hub().feed(cluster, "pods")
            assert feed is not None and table.count == size
            feed.rows.clear()
            cold = cpu(table.refresh)
            warm = cpu(table.refresh)
            time.sleep(1.05)
            tick = cpu(table.refresh)
            table.max_rows = size
            full = cpu(table.refresh)
            frame = table.df
            df_cost = cpu(lambda t=table: t.df)
            styled = float("nan")
            if size <= 1000:
                styled = cpu(lambda f=frame: to_html(f))
            table.close()
        print(
            f"   {size:>6} {ms(cold):>10} {ms(warm):>10} {ms(tick):>10} {ms(full):>10} {ms(df_cost):>10}"
            f" {ms(styled) if styled == styled else '   (skipped)':>11}"
        )


# ------------------------------------------------------------------------------ 3. throughput


def all_running(table: live_widgets.LiveTable) -> bool:
    return all((o.get("status") or {}).get("phase") == "Running" for o in table.objects())


def throughput(pods: int, nodes: int, widgets: int) -> dict[str, float]:
    """One run with ``widgets`` live pod tables open: pods/s, CPU per 1,000 pods, hub share, widget lag."""
    with Cluster(f"bench-cp-{widgets}", runtime="simulated", nodes=nodes, capacity=CAPACITY) as cluster:
        opened = [live_widgets.live(cluster, "pods", namespace="default") for _ in range(widgets)]
        running = 0
        done = threading.Event()
        lock = threading.Lock()

        def count(event: Any) -> None:
            nonlocal running
            was = bool(event.old) and event.old.get("status", {}).get("phase") == "Running"
            now = event.type != "DELETED" and event.object.get("status", {}).get("phase") == "Running"
            if now != was:
                with lock:
                    running += 1 if now else -1
                    if running >= pods:
                        done.set()

        cluster.api.subscribe("pods", count)
        busy_before = hub().busy
        cpu_before = time.process_time()
        started = time.perf_counter()
        for index in range(max(1, pods // 500)):
            cluster.apply(deployment(f"load-{index}", min(500, pods - index * 500)))
        if not done.wait(600):
            raise TimeoutError("pods did not become Running")
        elapsed = time.perf_counter() - started
        cpu_used = time.process_time() - cpu_before
        busy = (hub().busy - busy_before) / elapsed if widgets else 0.0
        lag = 0.0
        if widgets:  # the widgets did follow: each holds every pod, Running
            lag = wait_until(lambda: all(t.count == pods and all_running(t) for t in opened), 60)
            for table in opened:
                table.refresh()
        for table in opened:
            table.close()
    return {"rate": pods / elapsed, "cpu": cpu_used / pods * 1000, "busy": busy, "lag": lag}


def control_plane(pods: int, nodes: int, rounds: int) -> None:
    print(
        f"3. control plane: {pods} pods to Running on {nodes} nodes, with 0 and with 30 live pod tables "
        f"({rounds} alternating rounds)"
    )
    results: dict[int, list[dict[str, float]]] = {0: [], 30: []}
    for _round in range(rounds):
        for widgets in (0, 30):
            results[widgets].append(throughput(pods, nodes, widgets))

    def best(n: int, what: str) -> float:
        values = [r[what] for r in results[n]]
        return min(values) if what == "cpu" else max(values)

    def median(n: int, what: str) -> float:
        return statistics.median(r[what] for r in results[n])

    for n in (0, 30):
        extra = ""
        if n:
            extra = (
                f"   hub thread busy {median(n, 'busy'):.0%}, all 30 tables showed every pod Running "
                f"{median(n, 'lag'):.2f} s after the last one ran"
            )
        print(
            f"   {n:2} widgets: best {best(n, 'rate'):6.0f} pods/s  median {median(n, 'rate'):6.0f} pods/s"
            f"  CPU {best(n, 'cpu'):5.2f} s per 1,000 pods{extra}"
        )
    print(
        f"   ratio 30/0: pods/s best {best(30, 'rate') / best(0, 'rate'):.2f}, median "
        f"{median(30, 'rate') / median(0, 'rate'):.2f};  CPU per pod {best(30, 'cpu') / best(0, 'cpu'):.2f}"
        f"  (slowdown {1 - best(30, 'rate') / best(0, 'rate'):+.0%} best-of-{rounds})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--pods", type=int, default=5000, help="pods for the control-plane measurement")
    parser.add_argument("--nodes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10_000]
    if args.quick:
        args.samples, args.pods, args.nodes, args.rounds = 10, 1000, 10, 1
    latency(args.samples)
    redraw_cost(sizes)
    control_plane(args.pods, args.nodes, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
