"""The Docker daemon dies mid-way and comes back (issue 4, point 9), on a PRIVATE daemon.

The test starts its own ``dockerd`` (own data root, exec root, socket, pid file and
config file; never the shared daemon other tests use), builds the test images into it
with ``scripts/build-test-images.sh``, runs pods on it, SIGKILLs it and starts it again
on the same data root. Flags that work here and why:

* ``--bridge=nbcddXXXXXX``: a default bridge of its own, made by the test (``ip link add``)
  and deleted after. NOT ``--bridge=none``: a dockerd started with it deletes the host's
  ``docker0`` interface (moby's removeDefaultBridgeInterface), which is the shared
  daemon's, and containers on its default network then fail to start ("could not find
  bridge docker0"). Nor the default: two daemons would share ``docker0``. The runtime's
  own per-cluster network is a user-defined bridge and works the same beside it;
* ``--iptables=false --ip-masq=false``: never touch the host's firewall rules (the shared
  daemon owns them); published ports still work through docker-proxy on 127.0.0.1;
* no ``--default-address-pool``: a dockerd restarted with one deletes ``docker0`` too
  (when it clears its stale default network). The cluster's network needs no pool: the
  runtime picks a /16 that overlaps no Docker network and no host route (so none of the
  shared daemon's);
* ``--config-file`` pointing at an empty file: /etc/docker/daemon.json is ignored.

Without live-restore a restarted daemon kills the containers that were running (as a
node reboot does); the kubelet then restarts them per ``restartPolicy``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nbcluster.cluster import Cluster
from nbcluster.errors import RuntimeUnavailable
from nbcluster.runtime.docker import DockerRuntime
from tests.docker.conftest import BUSYBOX, IN_CI, PAUSE, ROOT
from tests.docker.helpers import eventually

#: A container that stops at once on SIGTERM (the restarting daemon's stop does not wait 10 s).
TRAP_SLEEP = "trap 'exit 143' TERM; while :; do sleep 1 & wait $!; done"


class PrivateDaemon:
    """A dockerd of our own under ``root`` (a short path: the socket path has a size limit)."""

    def __init__(self, dockerd: str, root: Path) -> None:
        self.dockerd = dockerd
        self.root = root
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.log = root / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        (root / "daemon.json").write_text("{}\n")
        self.bridge = f"nbcdd{uuid.uuid4().hex[:6]}"  # an interface name has at most 15 characters
        self._bridge_made = False

    def make_bridge(self) -> None:
        """The daemon's default bridge: ours, never the host's docker0."""
        address = f"10.198.{int(self.bridge[-2:], 16)}.1/24"
        for command in (
            ["ip", "link", "add", "name", self.bridge, "type", "bridge"],
            ["ip", "addr", "add", address, "dev", self.bridge],
            ["ip", "link", "set", "dev", self.bridge, "up"],
        ):
            subprocess.run(command, check=True, capture_output=True, text=True)
            self._bridge_made = True  # from the first command on, there is something to delete

    def remove_bridge(self) -> None:
        if self._bridge_made:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
            self._bridge_made = False

    def args(self) -> list[str]:
        r = self.root
        return [
            self.dockerd,
            f"--data-root={r / 'data'}",
            f"--exec-root={r / 'exec'}",
            f"--pidfile={r / 'docker.pid'}",
            f"--config-file={r / 'daemon.json'}",
            f"--host={self.url}",
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-masq=false",
        ]

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.args(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError("the private dockerd did not start:\n" + "\n".join(tail))
            time.sleep(0.2)

    def answers(self) -> bool:
        return self.cli("version", "--format", "{{.Server.Version}}", check=False).returncode == 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the daemon dies mid-way (its containerd goes with it, the shims stay)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        # Its containerd stops on its parent's death, but not at once; a dockerd started
        # while it still runs waits for it and gives up ("timeout waiting for containerd").
        self._wait_containerd_gone()

    def _wait_containerd_gone(self, timeout: float = 15.0) -> None:
        pid_file = self.root / "exec" / "containerd" / "containerd.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            time.sleep(1)

    def stop(self, timeout: float = 30.0) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def cli(self, *args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        docker = shutil.which("docker", path="/usr/bin") or shutil.which("docker") or "docker"
        env = {**os.environ, "DOCKER_HOST": self.url}
        return subprocess.run(
            [docker, *args], env=env, capture_output=True, text=True, check=check, timeout=60, **kwargs
        )

    def build_images(self) -> None:
        env = {**os.environ, "DOCKER_HOST": self.url}
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-test-images.sh")], env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"building the test images failed:\n{result.stdout}\n{result.stderr}")

    def clean_up(self) -> None:
        """Leave nothing behind: containers (through the daemon), the daemon, mounts, files."""
        try:
            if not self.running:
                # A restarted daemon stops the containers a killed one left running.
                self.start()
            ids = self.cli("ps", "-aq", check=False).stdout.split()
            if ids:
                self.cli("rm", "-f", "-v", *ids, check=False)
            self.cli("network", "prune", "-f", check=False)
            self.cli("volume", "prune", "-f", check=False)
        except Exception as exc:  # cleaning up must go on
            logging.getLogger(__name__).warning("cleaning the private daemon: %s", exc)
        finally:
            self.stop()
            self._kill_leftover_processes()
            self._unmount()
            self.remove_bridge()
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftover_processes(self) -> None:
        """containerd shims started for this daemon name its exec root; kill those by pid."""
        marker = str(self.root).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)

    def _unmount(self) -> None:
        mounts = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                point = line.split()[4].replace("\\040", " ")
                if point == str(self.root) or point.startswith(f"{self.root}/"):
                    mounts.append(point)
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists, as dockerd sees it: a zombie not reaped yet (PID 1 here
    reaps orphans late) still counts, and dockerd would wait for it."""
    return Path(f"/proc/{pid}").exists()


@pytest.fixture
def private_daemon() -> Iterator[PrivateDaemon]:
    """A dockerd of this test's own; FAILS (not skips) in CI when dockerd cannot run."""
    dockerd = shutil.which("dockerd")
    problem = None
    if dockerd is None:
        problem = "dockerd is not installed (apt-get install docker.io)"
    elif os.geteuid() != 0:
        problem = "only root can start a private dockerd"
    elif shutil.which("ip") is None:
        problem = "the ip command (iproute2) is missing"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem} — in CI a missing daemon is a failure", pytrace=False)
        pytest.skip(problem)
    assert dockerd is not None
    daemon = PrivateDaemon(dockerd, Path(tempfile.mkdtemp(prefix="nbc-dd-", dir="/tmp")))
    try:
        daemon.make_bridge()
        daemon.start()
        daemon.build_images()
        yield daemon
    finally:
        daemon.clean_up()


@pytest.fixture
def cluster_on(private_daemon: PrivateDaemon) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**kw: Any) -> Cluster:
        name = f"dl{uuid.uuid4().hex[:6]}"
        runtime = DockerRuntime(pause_image=PAUSE, base_url=private_daemon.url, **kw)
        cluster = Cluster(name, runtime=runtime, nodes=1, state_dir=private_daemon.root / "state" / name)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


def _node(c: Cluster) -> dict[str, Any]:
    nodes = c.objects("nodes")
    assert len(nodes) == 1
    return nodes[0]


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return condition
    return {}


def _events(c: Cluster, name: str) -> list[tuple[str, str]]:
    items = [e for e in c.objects("events", all_namespaces=True) if e["involvedObject"].get("name") == name]
    items.sort(key=lambda e: int(e["metadata"].get("resourceVersion") or 0))
    return [(e.get("reason", ""), e.get("message", "")) for e in items]


def _pod_manifest(name: str, *, policy: str = "Always", node: str | None = None) -> str:
    node_line = f"\n  nodeName: {node}" if node else ""
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:{node_line}
  restartPolicy: {policy}
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, {json.dumps(TRAP_SLEEP)}]
"""


def test_the_cluster_survives_its_docker_daemon_dying_and_coming_back(
    private_daemon: PrivateDaemon, cluster_on: Callable[..., Cluster], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nbcluster")
    c = cluster_on()
    node = _node(c)["metadata"]["name"]
    c.apply(_pod_manifest("survivor") + "---" + _pod_manifest("once", policy="Never"))
    c.wait("pods", condition="Ready", count=2, timeout=30)
    first_id = c.objects("pods", field_selector="metadata.name=survivor")[0]["status"]["containerStatuses"][
        0
    ]["containerID"]

    private_daemon.kill()

    # The node reports the runtime down (kubelet's KubeletNotReady with the daemon's words).
    def node_not_ready() -> dict[str, Any] | None:
        ready = _condition(_node(c), "Ready")
        return ready if ready.get("status") == "False" else None

    ready = eventually(node_not_ready, timeout=15, what="node Ready=False")
    assert ready["reason"] == "KubeletNotReady"
    assert "container runtime not ready" in ready["message"]
    assert f"Cannot connect to the Docker daemon at {private_daemon.url}" in ready["message"]
    assert ("NodeNotReady", f"Node {node} status is now: NodeNotReady") in _events(c, node)
    # The control plane answers: pods are listed, their Ready condition says why it is False.
    eventually(
        lambda: all(_condition(p, "Ready").get("status") == "False" for p in c.objects("pods")),
        timeout=10,
        what="pods marked not ready",
    )
    assert _condition(c.objects("pods")[0], "Ready")["reason"] == "NodeNotReady"
    assert ("NodeNotReady", "Node is not ready") in _events(c, "survivor")
    assert "survivor" in str(c.kubectl("get pods"))
    # Logs need the daemon: a clear error, not a traceback.
    with pytest.raises(RuntimeUnavailable, match="Cannot connect to the Docker daemon"):
        c.kubectl("logs survivor")

    # New pods meanwhile: the scheduler keeps one off the NotReady node (taint), the
    # kubelet reports it cannot make the other's sandbox.
    c.apply(_pod_manifest("newcomer") + "---" + _pod_manifest("pinned", node=node))
    eventually(
        lambda: any(
            r == "FailedScheduling" and "node.kubernetes.io/not-ready" in m for r, m in _events(c, "newcomer")
        ),
        timeout=15,
        what="FailedScheduling of the new pod",
    )
    eventually(
        lambda: any(
            r == "FailedCreatePodSandBox" and "Cannot connect to the Docker daemon" in m
            for r, m in _events(c, "pinned")
        ),
        timeout=15,
        what="FailedCreatePodSandBox of the pinned pod",
    )

    private_daemon.start()

    # Recovery: the node is Ready, the running pod was restarted like after a reboot,
    # the pod that must not restart failed, the new pods run.
    eventually(lambda: _condition(_node(c), "Ready").get("status") == "True", timeout=20, what="node Ready")
    c.wait("pods", name="survivor", condition="Ready", timeout=30)
    c.wait("pods", name="newcomer", condition="Ready", timeout=30)
    c.wait("pods", name="pinned", condition="Ready", timeout=30)
    c.wait("pods", name="once", condition="Failed", timeout=30)
    survivor = c.objects("pods", field_selector="metadata.name=survivor")[0]
    status = survivor["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["containerID"] != first_id
    assert status["lastState"]["terminated"]["exitCode"] in (137, 143)
    assert ("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.") in _events(
        c, "survivor"
    )
    assert not (_node(c).get("spec") or {}).get("taints")

    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
