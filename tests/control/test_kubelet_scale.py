"""The kubelet at scale on the simulated runtime: one status write per simple pod, and its speed.

``python tests/control/test_kubelet_scale.py [PODS] [NODES]`` measures kubelet throughput:
it creates PODS bound pods (default 10,000) across NODES simulated nodes (default 100)
directly through the API server, with events off, and times the kubelets until every pod
is Running (the API writes are not counted). The test below checks the shape at a
smaller size and asserts no timing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import time
from typing import Any

from nbcluster.control.apiserver import APIServer
from nbcluster.control.kubelet import KubeletManager
from nbcluster.runtime.simulated import SimulatedRuntime
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock


async def run_pods(pods: int, nodes: int) -> dict[str, Any]:
    clock = ManualClock()
    api = APIServer(Store(), clock)
    api.ensure_system_objects()
    runtime = SimulatedRuntime(clock)
    kubelets = KubeletManager(api, clock, runtime, record_events=False)
    await kubelets.start()
    for index in range(nodes):
        await kubelets.add_node(f"node-{index}")
    running = 0
    writes = 0

    def count(event: Any) -> None:
        nonlocal running, writes
        if event.type == "MODIFIED" and event.old["spec"] is event.object["spec"]:
            writes += 1
            if (
                event.object["status"].get("phase") == "Running"
                and event.old["status"].get("phase") != "Running"
            ):
                running += 1

    api.subscribe("pods", count)
    for index in range(pods):
        api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"pod-{index}", "namespace": "default", "labels": {"app": "scale"}},
                "spec": {
                    "nodeName": f"node-{index % nodes}",
                    "containers": [{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}],
                },
            },
            owned=True,
        )
    wall, cpu = time.perf_counter(), time.process_time()
    while running < pods:
        await asyncio.sleep(0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {"wall": wall, "cpu": cpu, "writes": writes, "containers": len(runtime.container_ids())}
    await kubelets.stop()
    result["left"] = len(runtime.container_ids())
    return result


def test_every_simple_pod_needs_one_status_write() -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # a fresh thread: its own loop
        result = pool.submit(asyncio.run, asyncio.wait_for(run_pods(2000, 20), timeout=120)).result()
    assert result["writes"] == 2000
    assert result["containers"] == 2000
    assert result["left"] == 0


if __name__ == "__main__":
    n_pods = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_nodes = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    outcome = asyncio.run(run_pods(n_pods, n_nodes))
    print(
        f"{n_pods} pods on {n_nodes} nodes Running in {outcome['wall']:.2f} s: "
        f"{n_pods / outcome['wall']:,.0f} pods/s ({n_pods / outcome['cpu']:,.0f} pods/s of CPU time), "
        f"{outcome['writes']} status writes"
    )
