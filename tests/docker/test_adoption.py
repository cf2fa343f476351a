"""A kernel dies (SIGKILL) with pods running; a new one on the same state dir adopts the
live containers (no duplicates) and removes those no object wants (no orphans)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

from nbcluster.cluster import Cluster
from nbcluster.runtime.docker import DockerRuntime
from nbcluster.runtime.docker_support import LABEL_CLUSTER, LABEL_UID
from tests.docker.conftest import BUSYBOX, PAUSE, ROOT, assert_nothing_left, force_clean, labelled
from tests.docker.helpers import container_status, eventually


def test_readoption_after_a_crash_with_the_same_state_dir(docker_client: Any, tmp_path: Path) -> None:
    name = f"adopt{uuid.uuid4().hex[:6]}"
    try:
        _crash_and_adopt(docker_client, tmp_path, name)
    finally:
        force_clean(docker_client, name)


def _crash_and_adopt(docker_client: Any, tmp_path: Path, name: str) -> None:
    state = tmp_path / "state"
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from nbcluster.cluster import Cluster
        from nbcluster.runtime.docker import DockerRuntime
        c = Cluster({name!r}, runtime=DockerRuntime(pause_image={PAUSE!r}), nodes=2, state_dir={str(state)!r})
        c.apply('''
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web}}
        spec:
          replicas: 2
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              terminationGracePeriodSeconds: 2
              containers:
              - {{name: web, image: {BUSYBOX}, imagePullPolicy: Never, command: [httpd, -f, -p, "80", -h, /www],
                  ports: [{{containerPort: 80}}]}}
        ''')
        pods = c.wait("pods", selector="app=web", condition="Ready", count=2, timeout=60)
        time.sleep(0.5)  # the store's writer commits every 50 ms
        print(json.dumps({{p["metadata"]["name"]: p["status"]["containerStatuses"][0]["containerID"] for p in pods}}))
        sys.stdout.flush()
        time.sleep(3600)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, "the first kernel did not get its pods running"
        before = json.loads(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    live = labelled(docker_client, name)["containers"]
    assert len(live) == 4  # the crash left 2 pods x (pause + app) running
    # A container of a pod that no longer exists (deleted while no kernel ran): an orphan.
    orphan = docker_client.containers.run(
        BUSYBOX,
        ["sleep", "3600"],
        detach=True,
        labels={
            LABEL_CLUSTER: name,
            LABEL_UID: "0000-gone",
            "io.nbcluster.node": f"{name}-control-plane",
            "io.nbcluster.kind": "container",
            "io.nbcluster.container": "ghost",
        },
    )

    try:
        c = Cluster(name, runtime=DockerRuntime(pause_image=PAUSE), nodes=2, state_dir=state)
    except BaseException:
        orphan.remove(force=True)
        raise
    try:
        pods = c.wait("pods", selector="app=web", condition="Ready", count=2, timeout=30)
        assert {p["metadata"]["name"] for p in pods} == set(before)
        for pod in pods:
            status = container_status(c, pod["metadata"]["name"], "web")
            assert status["containerID"] == before[pod["metadata"]["name"]]  # the same container
            assert status["restartCount"] == 0
        eventually(
            lambda: len(labelled(docker_client, name)["containers"]) == 4, timeout=10, what="orphan gone"
        )
        ids = {x.id for x in labelled(docker_client, name)["containers"]}
        assert orphan.id not in ids
        assert {f"docker://{x.id}" for x in live} <= {f"docker://{i}" for i in ids}
        # the adopted pods work: logs, exec and a probe-able port
        pod_name = next(iter(before))
        assert c.plane.run(c.plane.kubelets.exec("default", pod_name, None, ["echo", "ok"])).output == "ok\n"
        # scaling down removes adopted containers like any other
        c.kubectl("scale deployment/web --replicas=1")
        eventually(lambda: len(labelled(docker_client, name)["containers"]) == 2, timeout=20)
    finally:
        c.stop()
        with contextlib.suppress(Exception):
            orphan.remove(force=True)
    assert_nothing_left(docker_client, name)


def test_a_runtime_lists_and_removes_leftovers(docker_client: Any) -> None:
    import asyncio

    name = f"left{uuid.uuid4().hex[:6]}"
    ghost = docker_client.containers.run(
        BUSYBOX,
        ["sleep", "3600"],
        detach=True,
        labels={
            LABEL_CLUSTER: name,
            LABEL_UID: "u-1",
            "io.nbcluster.pod": "p",
            "io.nbcluster.container": "c",
        },
    )

    async def scenario() -> tuple[list[Any], int]:
        runtime = DockerRuntime(cluster=name, pause_image=PAUSE)
        await runtime.start()
        try:
            found = await runtime.list_leftovers()
            removed = await runtime.remove_leftovers()
            return found, removed
        finally:
            await runtime.close()

    try:
        found, removed = asyncio.run(scenario())
    finally:
        with contextlib.suppress(Exception):
            ghost.remove(force=True)
    assert [(x.id, x.uid, x.pod, x.container, x.state) for x in found] == [
        (ghost.id, "u-1", "p", "c", "running")
    ]
    assert removed == 1
    assert_nothing_left(docker_client, name)
