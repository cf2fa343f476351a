"""Container features on a real daemon: environment, ``$(VAR)`` expansion, ``workingDir``,
lifecycle hooks and failing init containers (the kubelet logic is also covered on the
simulated runtime in tests/control; here the real containers must show it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nbcluster.cli.printers import pod_status_reason
from nbcluster.cluster import Cluster
from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import container_status, events, eventually, pod


@contextmanager
def status_history(c: Cluster) -> Iterator[Callable[[str], list[str]]]:
    """Record kubectl's STATUS column for every version of every pod, so that a state the
    kubelet shows only briefly (``Init:Error`` before the first restart) is seen too."""
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(event: Any) -> None:
        if event.type != "DELETED":
            with lock:
                seen.append((event.object["metadata"]["name"], pod_status_reason(event.object)))

    def of(name: str) -> list[str]:
        with lock:
            texts = [text for pod_name, text in seen if pod_name == name]
        # Consecutive duplicates say nothing about the order of states.
        return [text for index, text in enumerate(texts) if index == 0 or texts[index - 1] != text]

    unsubscribe = c.api.subscribe("pods", record)
    try:
        yield of
    finally:
        unsubscribe()


def _printed(c: Cluster, name: str) -> dict[str, Any]:
    """The row of ``kubectl get pods`` for ``name``."""
    table = c.get("pods")
    rows = table[table["NAME"] == name]
    assert len(rows) == 1, table
    return dict(rows.iloc[0])


def test_environment_expansion_and_working_dir(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{greeting: hello, level: debug}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
data: {{password: czNjcjN0, DB_USER: YWRtaW4=}}   # s3cr3t, admin
---
apiVersion: v1
kind: Pod
metadata: {{name: envy}}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    workingDir: /srv/app
    resources: {{limits: {{memory: 64Mi, cpu: 500m}}}}
    envFrom:
    - {{prefix: CFG_, configMapRef: {{name: settings}}}}
    - secretRef: {{name: creds}}
    env:
    - {{name: PLAIN, value: plain value}}
    - {{name: GREETING, valueFrom: {{configMapKeyRef: {{name: settings, key: greeting}}}}}}
    - {{name: PASSWORD, valueFrom: {{secretKeyRef: {{name: creds, key: password}}}}}}
    - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
    - {{name: POD_NAMESPACE, valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}}}
    - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
    - {{name: NODE_NAME, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}
    - {{name: MEMORY_MI, valueFrom: {{resourceFieldRef: {{resource: limits.memory, divisor: 1Mi}}}}}}
    - {{name: CPU_CORES, valueFrom: {{resourceFieldRef: {{resource: limits.cpu}}}}}}
    - {{name: CPU_MILLIS, valueFrom: {{resourceFieldRef: {{resource: limits.cpu, divisor: 1m}}}}}}
    - {{name: COMBINED, value: "$(GREETING)-$(POD_NAME)-$$(GREETING)-$(NOPE)"}}
    # $(POD_NAME) in the script is expanded by the kubelet before sh sees it; the args
    # are printed verbatim by printf, so an escaped or unknown $(...) reaches no shell.
    command: [sh, -c, 'pwd; echo "cmd=$(POD_NAME)"; printf "arg=%s\\n" "$@"; env', sh]
    args: ["$(GREETING)", "$$(GREETING)", "$(NOPE)", "$(POD_NAME)/$(CFG_level)"]
"""
    )
    c.wait("pods", name="envy", condition="Succeeded", timeout=30)
    lines = c.kubectl("logs envy").splitlines()
    assert lines[0] == "/srv/app"  # workingDir, created by the runtime
    assert lines[1] == "cmd=envy"
    assert [line for line in lines if line.startswith("arg=")] == [
        "arg=hello",
        "arg=$(GREETING)",  # $$ escapes
        "arg=$(NOPE)",  # an unknown variable is left as it is
        "arg=envy/debug",
    ]
    env = dict(line.split("=", 1) for line in lines[2:] if "=" in line and not line.startswith("arg="))
    obj = pod(c, "envy")
    assert obj["status"]["podIP"]
    expected = {
        "PLAIN": "plain value",
        "GREETING": "hello",
        "PASSWORD": "s3cr3t",
        "CFG_greeting": "hello",  # envFrom with a prefix
        "CFG_level": "debug",
        "DB_USER": "admin",  # envFrom a Secret, base64-decoded
        "password": "s3cr3t",
        "POD_NAME": "envy",
        "POD_NAMESPACE": "default",
        "POD_IP": obj["status"]["podIP"],
        "NODE_NAME": obj["spec"]["nodeName"],
        "MEMORY_MI": "64",
        "CPU_CORES": "1",  # 500m rounded up to whole cores
        "CPU_MILLIS": "500",
        "COMBINED": "hello-envy-$(GREETING)-$(NOPE)",
    }
    assert {key: env.get(key) for key in expected} == expected
    # The kubernetes Service's link variables are there too (enableServiceLinks).
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_HOST"]


def test_post_start_and_pre_stop_hooks_run_in_the_container(make_cluster: Any, tmp_path: Path) -> None:
    host = tmp_path / "hooks"
    host.mkdir()
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: hooked}}
spec:
  terminationGracePeriodSeconds: 10
  volumes: [{{name: host, hostPath: {{path: "{host}"}}}}]
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    volumeMounts: [{{name: host, mountPath: /host}}]
    command:
    - sh
    - -c
    - 'trap "echo term >> /host/log; exit 0" TERM; until [ -f /host/post ]; do sleep 0.1; done;
      cat /host/post; sleep 3600 & wait'
    lifecycle:
      postStart:
        exec: {{command: [sh, -c, 'echo poststart > /host/post.new && mv /host/post.new /host/post']}}
      preStop:
        exec: {{command: [sh, -c, 'echo prestop >> /host/log; sleep 1; echo prestop-done >> /host/log']}}
"""
    )
    c.wait("pods", name="hooked", condition="Ready", timeout=30)
    # The main process saw what the postStart hook wrote, inside the same container.
    eventually(lambda: c.kubectl("logs hooked").strip() == "poststart", timeout=10, what="logs")
    assert (host / "post").read_text() == "poststart\n"
    assert not (host / "log").exists()
    c.kubectl("delete pod hooked --wait=false")
    c.wait("pods", name="hooked", condition="deleted", timeout=20)
    # preStop ran to its end before the container got SIGTERM (whose trap wrote "term").
    assert (host / "log").read_text().split() == ["prestop", "prestop-done", "term"]
    reasons = events(c, "hooked")
    assert ("Killing", "Stopping container app") in reasons
    assert not [r for r, _m in reasons if r.startswith("Failed")]


def test_a_failing_post_start_hook_kills_and_restarts_the_container(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: badhook}}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'trap "exit 0" TERM; echo started; sleep 3600 & wait']
    lifecycle:
      postStart:
        exec: {{command: [sh, -c, 'echo hook broke >&2; exit 3']}}
"""
    )
    eventually(lambda: container_status(c, "badhook", "app").get("restartCount", 0) >= 1, timeout=20)
    uid = pod(c, "badhook")["metadata"]["uid"]
    reasons = events(c, "badhook")
    hook_failed = [m for r, m in reasons if r == "FailedPostStartHook"]
    assert hook_failed, reasons
    # The kubelet's message (pkg/kubelet/lifecycle/handlers.go, the CRI's exec error).
    assert hook_failed[0] == (
        'Exec lifecycle hook ([sh -c echo hook broke >&2; exit 3]) for Container "app" in Pod '
        f"\"badhook_default({uid})\" failed - error: command 'sh -c echo hook broke >&2; exit 3' "
        'exited with 3: hook broke\n, message: "hook broke\\n"'
    )
    assert ("Killing", "FailedPostStartHook") in reasons

    # Killed by the kubelet (SIGTERM, the trap exits 0) and started again at once; the
    # hook fails again and the next start waits out the crash-loop back-off.
    def waiting_reason() -> str:
        return (container_status(c, "badhook", "app")["state"].get("waiting") or {}).get("reason", "")

    eventually(lambda: waiting_reason() == "CrashLoopBackOff", timeout=20, what="CrashLoopBackOff")
    status = container_status(c, "badhook", "app")
    assert status["lastState"]["terminated"]["exitCode"] == 0
    assert _printed(c, "badhook")["STATUS"] == "CrashLoopBackOff"
    assert c.kubectl("logs badhook --previous").strip() == "started"


def test_failing_init_container_shows_init_error_then_crash_loop(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    init = f"""
  initContainers:
  - name: setup
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'echo setting up; exit 1']
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sleep, "3600"]
"""
    with status_history(c) as history:
        c.apply(
            f"""
apiVersion: v1
kind: Pod
metadata: {{name: initloop}}
spec:
  terminationGracePeriodSeconds: 1
{init}
---
apiVersion: v1
kind: Pod
metadata: {{name: initonce}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
{init}
"""
        )

        def restarts() -> int:
            return int(container_status(c, "initloop", "setup", init=True).get("restartCount") or 0)

        # restartPolicy Never: the pod fails on the first exit, nothing is restarted.
        failed = c.wait("pods", name="initonce", condition="Failed", timeout=30)[0]
        row = _printed(c, "initonce")
        assert (row["STATUS"], row["RESTARTS"], row["READY"]) == ("Init:Error", "0", "0/1")
        setup = failed["status"]["initContainerStatuses"][0]
        assert setup["state"]["terminated"]["exitCode"] == 1
        assert setup["state"]["terminated"]["reason"] == "Error"
        assert setup["restartCount"] == 0
        app = failed["status"]["containerStatuses"][0]
        assert app["state"] == {"waiting": {"reason": "PodInitializing"}}
        assert "Started container app" not in [m for _r, m in events(c, "initonce")]

        # restartPolicy Always: Init:Error, an immediate restart, then the back-off.
        eventually(lambda: restarts() >= 1, timeout=20, what="first restart")
        eventually(lambda: _printed(c, "initloop")["STATUS"] == "Init:CrashLoopBackOff", timeout=20)
        eventually(lambda: restarts() >= 2, timeout=20, what="a restart after the 10 s back-off")
        seen = history("initloop")
        assert "Init:Error" in seen, seen
        assert seen.index("Init:Error") < seen.index("Init:CrashLoopBackOff"), seen
        assert "Running" not in seen
    assert pod(c, "initloop")["status"]["phase"] == "Pending"
    reasons = events(c, "initloop")
    assert any(
        r == "BackOff" and m.startswith("Back-off restarting failed container setup in pod initloop_default(")
        for r, m in reasons
    ), reasons
    assert c.kubectl("logs initloop -c setup").strip() == "setting up"
