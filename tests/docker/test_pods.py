"""Pods as real containers: sandbox, init containers, localhost, probes, deletion, images."""

from __future__ import annotations

import time
from typing import Any

from nbcluster.runtime.docker_support import LABEL_CLUSTER, LABEL_CONTAINER, LABEL_UID
from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import container_status, events, eventually, pod


def _containers_of(client: Any, cluster: str, uid: str, *, sparse: bool = False) -> list[Any]:
    # sparse: no per-container inspect, which would race with a removal being waited for.
    return client.containers.list(
        all=True, sparse=sparse, filters={"label": [f"{LABEL_CLUSTER}={cluster}", f"{LABEL_UID}={uid}"]}
    )


def test_init_containers_run_in_order_on_a_shared_empty_dir(make_cluster: Any) -> None:
    c = make_cluster()
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: ordered}}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{{name: work, emptyDir: {{}}}}]
  initContainers:
  - name: first
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'sleep 0.3; echo first >> /work/log']
    volumeMounts: [{{name: work, mountPath: /work}}]
  - name: second
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'echo second >> /work/log']
    volumeMounts: [{{name: work, mountPath: /work}}]
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'echo app >> /work/log; cat /work/log; exec sleep 3600']
    volumeMounts: [{{name: work, mountPath: /work}}]
"""
    )
    c.wait("pods", name="ordered", condition="Ready", timeout=30)
    logs = eventually(lambda: c.kubectl("logs ordered"), what="logs of app")
    assert logs.split() == ["first", "second", "app"]
    for name in ("first", "second"):
        state = container_status(c, "ordered", name, init=True)["state"]["terminated"]
        assert (state["exitCode"], state["reason"]) == (0, "Completed")
    started = [m for r, m in events(c, "ordered") if r == "Started"]
    assert started == ["Started container first", "Started container second", "Started container app"]


def test_two_containers_of_a_pod_talk_over_localhost(make_cluster: Any, docker_client: Any) -> None:
    c = make_cluster()
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: duo}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: {BUSYBOX}
    imagePullPolicy: IfNotPresent
    command: [httpd, -f, -p, "8080", -h, /www]
    ports: [{{containerPort: 8080}}]
    readinessProbe: {{httpGet: {{port: 8080, path: /}}, periodSeconds: 1}}
  - name: client
    image: {BUSYBOX}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'until wget -q -O - http://localhost:8080/; do sleep 0.2; done; echo; hostname; exec sleep 3600']
"""
    )
    c.wait("pods", name="duo", condition="Ready", timeout=30)
    logs = eventually(lambda: "duo" in c.kubectl("logs duo -c client") and c.kubectl("logs duo -c client"))
    assert "nbcluster busybox" in logs
    assert logs.split()[-1] == "duo"  # hostname = pod name
    obj = pod(c, "duo")
    sandbox = [
        x
        for x in _containers_of(docker_client, c.name, obj["metadata"]["uid"])
        if x.labels[LABEL_CONTAINER] == "POD"
    ]
    assert len(sandbox) == 1
    address = sandbox[0].attrs["NetworkSettings"]["Networks"][f"nbcluster-{c.name}"]["IPAddress"]
    assert obj["status"]["podIP"] == address
    # exec: captured output and exit code
    result = c.plane.run(c.plane.kubelets.exec("default", "duo", "client", ["sh", "-c", "echo out; exit 3"]))
    assert (result.exit_code, result.output) == (3, "out\n")


def test_liveness_failure_restarts_with_growing_backoff(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: sick}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'trap "exit 0" TERM; echo started; sleep 3600 & wait']
    livenessProbe:
      exec: {{command: [cat, /tmp/healthy]}}
      periodSeconds: 1
      failureThreshold: 1
"""
    )
    # The first kill restarts at once; every later one waits out the back-off, counted from
    # the kill: 10 s, then 20 s...
    eventually(lambda: container_status(c, "sick", "app").get("restartCount", 0) >= 1, timeout=20)
    waiting = eventually(
        lambda: container_status(c, "sick", "app")["state"].get("waiting"), timeout=10, interval=0.05
    )
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off 10s restarting failed container=app pod=sick_default(")
    before = container_status(c, "sick", "app")["restartCount"]
    first = time.monotonic()
    eventually(lambda: container_status(c, "sick", "app")["restartCount"] > before, timeout=20)
    assert time.monotonic() - first >= 8  # the restart waited out a 10 s back-off
    reasons = events(c, "sick")
    assert (
        "Unhealthy",
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n",
    ) in [(r, m) for r, m in reasons]
    assert ("Killing", "Container app failed liveness probe, will be restarted") in reasons
    assert any(
        r == "BackOff" and m.startswith("Back-off restarting failed container app") for r, m in reasons
    )
    assert c.kubectl("logs sick --previous").strip() == "started"


def test_job_exit_code_1_with_backoff_limit_2_fails_after_3_attempts(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: fails}}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: {BUSYBOX}
        imagePullPolicy: Never
        command: [sh, -c, 'echo trying; exit 1']
"""
    )
    job = c.wait("jobs.batch", name="fails", condition="Failed", timeout=60)[0]
    failed = {x["type"]: x for x in job["status"]["conditions"]}["Failed"]
    assert failed["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 3
    pods = c.objects("pods", selector="job-name=fails")
    assert len(pods) == 3
    for item in pods:
        terminated = item["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
        assert item["status"]["phase"] == "Failed"


def test_deleting_a_pod_removes_its_containers_after_the_grace_period(
    make_cluster: Any, docker_client: Any
) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: stubborn}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sleep, "3600"]   # PID 1 without a handler: SIGTERM does nothing
"""
    )
    c.wait("pods", name="stubborn", condition="Ready", timeout=30)
    uid = pod(c, "stubborn")["metadata"]["uid"]
    assert len(_containers_of(docker_client, c.name, uid, sparse=True)) == 2  # pause + app
    started = time.monotonic()
    c.kubectl("delete pod stubborn --wait=false")
    eventually(
        lambda: not _containers_of(docker_client, c.name, uid, sparse=True),
        timeout=20,
        what="containers gone",
    )
    took = time.monotonic() - started
    assert 3 <= took < 10, took
    eventually(lambda: c.api.cached("pods", "stubborn", "default") is None, timeout=5)


def test_image_pull_errors_carry_the_daemons_message(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: nopull}
spec:
  containers:
  - {name: app, image: "nbcluster/not-here:1.0", imagePullPolicy: IfNotPresent}
---
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  containers:
  - {name: app, image: "nbcluster/not-here:1.0", imagePullPolicy: Never}
"""
    )

    def waiting(name: str, reason: str) -> dict[str, Any] | None:
        state = container_status(c, name, "app").get("state", {}).get("waiting") or {}
        return state if state.get("reason") == reason else None

    state = eventually(lambda: waiting("nopull", "ErrImagePull"), timeout=30)
    assert state["message"].startswith(
        'rpc error: code = Unknown desc = failed to pull image "nbcluster/not-here:1.0": '
        "Error response from daemon: "
    )
    eventually(lambda: waiting("nopull", "ImagePullBackOff"), timeout=30)
    reasons = events(c, "nopull")
    assert ("Pulling", 'Pulling image "nbcluster/not-here:1.0"') in reasons
    assert any(
        r == "Failed" and m.startswith('Failed to pull image "nbcluster/not-here:1.0": rpc error')
        for r, m in reasons
    )
    state = eventually(lambda: waiting("never", "ErrImageNeverPull"), timeout=30)
    assert (
        state["message"]
        == 'Container image "nbcluster/not-here:1.0" is not present with pull policy of Never'
    )


def test_memory_limit_oom_killed_and_cpu_limit(make_cluster: Any, docker_client: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: hungry}}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'x=a; while true; do x=$x$x; done']
    resources:
      limits: {{memory: 32Mi, cpu: 500m}}
"""
    )
    c.wait("pods", name="hungry", condition="Failed", timeout=60)
    terminated = container_status(c, "hungry", "app")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    uid = pod(c, "hungry")["metadata"]["uid"]
    app = next(x for x in _containers_of(docker_client, c.name, uid) if x.labels[LABEL_CONTAINER] == "app")
    host = app.attrs["HostConfig"]
    assert (host["Memory"], host["NanoCpus"]) == (32 * 1024 * 1024, 500_000_000)


def test_a_bad_host_path_is_reported_on_the_pod(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: badpath}}
spec:
  volumes: [{{name: data, hostPath: {{path: /nonexistent/nbcluster-test}}}}]
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sleep, "3600"]
    volumeMounts: [{{name: data, mountPath: /data}}]
"""
    )

    def reason() -> dict[str, Any] | None:
        state = container_status(c, "badpath", "app").get("state", {}).get("waiting") or {}
        return state if state.get("reason") == "CreateContainerError" else None

    state = eventually(reason, timeout=30)
    assert "/nonexistent/nbcluster-test" in state["message"]
    assert any(r == "Failed" and "/nonexistent/nbcluster-test" in m for r, m in events(c, "badpath"))


def test_stopping_a_cluster_leaves_nothing_with_its_labels(make_cluster: Any, docker_client: Any) -> None:
    from tests.docker.conftest import assert_nothing_left, labelled

    c = make_cluster()
    c.apply(
        f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 30
      volumes: [{{name: scratch, emptyDir: {{}}}}]
      containers:
      - name: web
        image: {BUSYBOX}
        imagePullPolicy: Never
        command: [sleep, "3600"]
        volumeMounts: [{{name: scratch, mountPath: /scratch}}]
"""
    )
    c.wait("pods", selector="app=web", condition="Ready", count=3, timeout=30)
    seen = labelled(docker_client, c.name)
    assert len(seen["containers"]) == 6 and len(seen["networks"]) == 1 and len(seen["volumes"]) == 3
    other = docker_client.containers.run(BUSYBOX, ["sleep", "60"], detach=True, labels={"keep": "me"})
    try:
        started = time.monotonic()
        c.stop()
        assert time.monotonic() - started < 15
        assert_nothing_left(docker_client, c.name)
        other.reload()
        assert other.status == "running"  # nothing else was touched
    finally:
        other.remove(force=True)
