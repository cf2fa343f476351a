"""Fixtures for tests on a real Docker daemon (never a mock).

Every test here is marked ``docker``. When no daemon answers, the tests are skipped on a
developer machine and FAIL when ``CI=true`` (``.ci/run`` starts dockerd first). The local
images (``nbcluster/busybox:test``, ``nbcluster/pause:test``) are built by
``scripts/build-test-images.sh`` when missing.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nbcluster.cluster import Cluster
from nbcluster.runtime.docker import DockerRuntime, default_docker_url, docker_available
from nbcluster.runtime.docker_support import LABEL_CLUSTER

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BUSYBOX = "nbcluster/busybox:test"
PAUSE = "nbcluster/pause:test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker-py client for checking what the runtime did; skip or fail without a daemon."""
    if docker_available() is None:
        message = (
            f"no Docker daemon answers at {default_docker_url()} (run `bash scripts/start-docker.sh` as root)"
        )
        if IN_CI:
            pytest.fail(message + " — in CI a missing daemon is a failure", pytrace=False)
        pytest.skip(message)
    import docker

    client = docker.from_env(max_pool_size=32)
    missing = [image for image in (BUSYBOX, PAUSE) if not _has_image(client, image)]
    if missing:
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-test-images.sh")], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.fail(f"building the test images failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    yield client
    client.close()


def _has_image(client: Any, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def labelled(client: Any, cluster: str) -> dict[str, list[Any]]:
    """Everything in Docker that carries the cluster's label."""
    label = f"{LABEL_CLUSTER}={cluster}"
    return {
        "containers": client.containers.list(all=True, sparse=True, filters={"label": label}),
        "networks": client.networks.list(filters={"label": label}),
        "volumes": client.volumes.list(filters={"label": label}),
    }


def assert_nothing_left(client: Any, cluster: str) -> None:
    left = labelled(client, cluster)
    assert left == {"containers": [], "networks": [], "volumes": []}, left


def force_clean(client: Any, cluster: str) -> None:
    """Remove whatever a failed test left with the cluster's label (never other objects)."""
    left = labelled(client, cluster)
    for container in left["containers"]:
        container.remove(force=True)
    for volume in left["volumes"]:
        volume.remove(force=True)
    for network in left["networks"]:
        network.remove()


@pytest.fixture
def make_cluster(docker_client: Any, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(nodes=2)``: a cluster on Docker with a unique name and a state dir;
    stopped at the end, and then nothing with its label may remain."""
    made: list[Cluster] = []

    def make(name: str | None = None, *, nodes: int = 2, state_dir: Path | None = None, **kw: Any) -> Cluster:
        name = name or f"t{uuid.uuid4().hex[:8]}"
        runtime = DockerRuntime(pause_image=PAUSE, **kw)
        cluster = Cluster(name, runtime=runtime, nodes=nodes, state_dir=state_dir or tmp_path / name)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
    try:
        for cluster in made:
            assert_nothing_left(docker_client, cluster.name)
    finally:
        for cluster in made:
            force_clean(docker_client, cluster.name)
