"""Errors at the runtime's boundary, the default pause image, and the runtime choice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from nbcluster.cluster import Cluster, choose_runtime
from nbcluster.errors import RuntimeUnavailable
from nbcluster.runtime.docker import DockerRuntime
from tests.docker.conftest import BUSYBOX, assert_nothing_left, force_clean
from tests.docker.helpers import events


def test_no_daemon_is_runtime_unavailable_naming_the_socket(tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/docker.sock"
    runtime = DockerRuntime(cluster="nodaemon", base_url=socket)
    with pytest.raises(RuntimeUnavailable, match=f"Cannot connect to the Docker daemon at {socket}"):
        asyncio.run(runtime.start())
    with pytest.raises(RuntimeUnavailable, match="Is the docker daemon running"):
        Cluster("nodaemon", runtime=DockerRuntime(base_url=socket), nodes=1)


def test_auto_picks_docker_only_when_a_daemon_answers(
    docker_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NBCLUSTER_RUNTIME", raising=False)
    runtime, reason = choose_runtime("auto")
    assert runtime.name == "docker" and "Docker daemon answered at" in reason
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    runtime, _reason = choose_runtime("auto")
    assert runtime.name != "docker"


def test_the_default_pause_image_works_without_a_registry(
    docker_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """registry.k8s.io/pause:3.10 is pulled if it can be, else a tiny one is built here."""
    monkeypatch.delenv("NBCLUSTER_PAUSE_IMAGE", raising=False)
    c = Cluster("pausedefault", runtime=DockerRuntime(), nodes=1, state_dir=tmp_path)
    try:
        c.apply(
            f"""
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {{name: app, image: {BUSYBOX}, imagePullPolicy: Never, command: [sleep, "3600"]}}
"""
        )
        c.wait("pods", name="p", condition="Ready", timeout=60)
        assert c.runtime.name == "docker"
    finally:
        c.stop()
        try:
            assert_nothing_left(docker_client, "pausedefault")
        finally:
            force_clean(docker_client, "pausedefault")


def _host_port_pod(name: str, node: str, port: int) -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{{containerPort: 8080, hostPort: {port}}}]
"""


def test_host_port_is_published_on_loopback_and_a_clash_is_a_clear_pod_event(make_cluster: Any) -> None:
    # Two nodes share one daemon, so the same hostPort on both is a real clash on the host
    # (on one node the scheduler keeps them apart: NodePorts).
    import socket
    import urllib.request

    from tests.docker.helpers import eventually

    c = make_cluster(nodes=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nodes = sorted(n["metadata"]["name"] for n in c.objects("nodes"))
    c.apply(_host_port_pod("first", nodes[0], port))
    c.wait("pods", name="first", condition="Ready", timeout=60)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        assert response.read().decode().strip() == "first"

    c.apply(_host_port_pod("second", nodes[1], port))
    clash = eventually(
        lambda: [m for r, m in events(c, "second") if r == "FailedCreatePodSandBox"],
        timeout=30,
        what="a FailedCreatePodSandBox event",
    )
    assert f"127.0.0.1:{port}" in clash[0] and "already allocated" in clash[0], clash
    pod = c.api.get("pods", "second")
    assert pod["status"]["phase"] == "Pending"
    # The first pod keeps its port; freeing it lets the second start (the kubelet retries).
    c.kubectl("delete pod first")
    c.wait("pods", name="second", condition="Ready", timeout=60)


def test_a_second_cluster_of_the_same_name_on_the_daemon_is_refused_and_harms_nothing(
    make_cluster: Any, docker_client: Any
) -> None:
    from nbcluster.errors import Conflict
    from tests.docker.conftest import labelled

    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: keep}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{{name: app, image: {BUSYBOX}, imagePullPolicy: Never, command: [sleep, '3600']}}]
"""
    )
    c.wait("pods", name="keep", condition="Ready", timeout=60)
    before = {x.id for x in labelled(docker_client, c.name)["containers"]}
    with pytest.raises(Conflict, match=f'cluster "{c.name}" is already running on this Docker daemon'):
        Cluster(c.name, runtime=DockerRuntime(pause_image="nbcluster/pause:test"), nodes=1)
    assert {x.id for x in labelled(docker_client, c.name)["containers"]} == before
    assert c.api.get("pods", "keep")["status"]["phase"] == "Running"
