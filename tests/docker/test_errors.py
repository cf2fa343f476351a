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
