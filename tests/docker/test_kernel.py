"""A real kernel (nbclient) that starts a cluster on Docker, applies pods and shuts down
without stopping the cluster: the runtime's exit hook leaves nothing of the cluster behind."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from tests.docker.conftest import BUSYBOX, PAUSE, ROOT, assert_nothing_left, force_clean, labelled


def test_a_kernel_that_shuts_down_leaves_no_containers(docker_client: Any, tmp_path: Path) -> None:
    name = f"nbk{uuid.uuid4().hex[:8]}"
    manifest = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - {{name: web, image: {BUSYBOX}, imagePullPolicy: Never, command: [sleep, "3600"]}}
"""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from nbcluster.cluster import Cluster\n"
            "from nbcluster.runtime.docker import DockerRuntime\n"
            f"c = Cluster({name!r}, runtime=DockerRuntime(pause_image={PAUSE!r}), nodes=2,"
            f" state_dir={str(tmp_path / 'state')!r})\n"
            f"c.apply({manifest!r})\n"
            "c.wait('pods', selector='app=web', condition='Ready', count=2, timeout=60)\n"
            "print(c.runtime.name, len(c.objects('pods')))"
        )
    ]
    env_path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path  # the kernel inherits this process' environment
    try:
        client = NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        # Inside the kernel's run: the pods run as containers while the kernel lives.
        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            assert len(labelled(docker_client, name)["containers"]) == 4  # 2 pods x (pause + app)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        outputs = "".join(o.get("text", "") for o in nb.cells[0].outputs)
        assert outputs.strip() == "docker 2", nb.cells[0].outputs
        assert_nothing_left(docker_client, name)
    finally:
        force_clean(docker_client, name)
