"""The kubelet end to end: API server + simulated runtime + KubeletManager on a ManualClock.

No scheduler runs: tests bind pods by hand (``api.bind``) like ``nodeName`` in a manifest.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nbcluster.control.kubelet.node import LEASE_NAMESPACE
from nbcluster.errors import BadRequest, NotFound
from tests.control.test_kubelet_support import Cluster, async_test, condition, container, pod

LEASES = "leases.coordination.k8s.io"


# -- running a pod -------------------------------------------------------------------------


@async_test
async def test_pod_goes_running_and_ready_in_one_status_write() -> None:
    async with Cluster() as c:
        running = await c.run_pod(
            pod(
                "web", containers=[{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]
            )
        )
        assert running["status"]["phase"] == "Running"
        assert c.status_writes["web"] == 1
        for kind in ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"):
            assert condition(running, kind)["status"] == "True", kind
        assert [cond["type"] for cond in running["status"]["conditions"]] == [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ]
        status = container(running, "nginx")
        assert status["ready"] is True and status["started"] is True and status["restartCount"] == 0
        assert status["state"]["running"]["startedAt"] == "2026-01-01T00:00:00Z"
        assert status["containerID"].startswith("simulated://")
        assert status["image"] == "docker.io/library/nginx:1.25"
        assert status["imageID"].startswith("docker.io/library/nginx@sha256:")
        assert running["status"]["podIP"].startswith("10.244.0.")
        assert running["status"]["hostIP"] == "172.18.0.2"
        assert running["status"]["startTime"] == "2026-01-01T00:00:00Z"
        assert running["status"]["qosClass"] == "BestEffort"
        assert c.messages("web", "Pulled") == ['Container image "nginx:1.25" already present on machine']
        assert c.messages("web", "Created") == ["Created container: nginx"]
        assert c.messages("web", "Started") == ["Started container nginx"]
        # Nothing is left scheduled for a running pod without probes: only the heartbeat timer.
        assert len(c.kubelets.timers) == 1
        started = c.events("web", "Started")[0]
        assert started["source"] == {"component": "kubelet", "host": "n1"}
        assert started["involvedObject"]["fieldPath"] == "spec.containers{nginx}"


@async_test
async def test_latest_image_is_pulled_with_kubelets_events() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("web", containers=[{"name": "nginx", "image": "nginx"}]))
        assert c.messages("web", "Pulling") == ['Pulling image "nginx"']
        (pulled,) = c.messages("web", "Pulled")
        assert pulled.startswith('Successfully pulled image "nginx" in ') and "including waiting" in pulled


@async_test
async def test_pods_on_the_second_node_get_its_cidr() -> None:
    async with Cluster() as c:
        p = await c.run_pod(pod("other"), node="n2")
        assert p["status"]["podIP"] == "10.244.1.2"
        assert c.api.get("nodes", "n2")["spec"]["podCIDR"] == "10.244.1.0/24"


@async_test
async def test_init_containers_run_one_at_a_time_then_the_app() -> None:
    async with Cluster() as c:
        spec = pod(
            "init", init=[{"name": "first", "image": "busybox"}, {"name": "second", "image": "busybox"}]
        )
        p = await c.run_pod(spec)
        assert c.status_text("init") == "Init:0/2"
        assert container(p, "first", init=True)["state"]["running"]
        assert container(p, "second", init=True)["state"] == {"waiting": {"reason": "PodInitializing"}}
        assert container(p)["state"] == {"waiting": {"reason": "PodInitializing"}}
        assert condition(p, "Initialized")["message"] == "containers with incomplete status: [first second]"
        assert p["status"]["phase"] == "Pending"
        await c.advance(0.1)
        p = c.pod("init")
        assert c.status_text("init") == "Init:1/2"
        assert container(p, "first", init=True)["state"]["terminated"]["reason"] == "Completed"
        assert container(p, "first", init=True)["ready"] is True
        await c.advance(0.1)
        p = c.pod("init")
        assert p["status"]["phase"] == "Running"
        assert condition(p, "Initialized")["status"] == "True"
        texts = [text for name, text in c.history if name == "init"]
        assert texts == ["Init:0/2", "Init:1/2", "Running"]
        created = [e["involvedObject"]["fieldPath"] for e in c.events("init", "Started")]
        assert created == [
            "spec.initContainers{first}",
            "spec.initContainers{second}",
            "spec.containers{app}",
        ]


@async_test
async def test_failing_init_container_with_never_fails_the_pod() -> None:
    async with Cluster() as c:
        spec = pod(
            "badinit",
            init=[{"name": "setup", "image": "busybox"}],
            restartPolicy="Never",
            annotations={"sim.nbcluster.io/exit-code.setup": "2"},
        )
        await c.run_pod(spec)
        await c.advance(0.2)
        p = c.pod("badinit")
        assert p["status"]["phase"] == "Failed"
        assert c.status_text("badinit") == "Init:Error"
        assert container(p, "setup", init=True)["state"]["terminated"]["exitCode"] == 2
        assert "containerID" not in container(p)


@async_test
async def test_failing_init_container_with_on_failure_crash_loops() -> None:
    async with Cluster() as c:
        spec = pod(
            "initloop",
            init=[{"name": "setup", "image": "busybox"}],
            restartPolicy="OnFailure",
            annotations={"sim.nbcluster.io/exit-code.setup": "1"},
        )
        await c.run_pod(spec)
        await c.advance(0.3)
        p = c.pod("initloop")
        assert p["status"]["phase"] == "Pending"
        assert c.status_text("initloop") == "Init:CrashLoopBackOff"
        assert container(p, "setup", init=True)["restartCount"] == 1


@async_test
async def test_an_exit_is_written_before_the_restart_replaces_it() -> None:
    # kubelet's SyncPod writes the status it observed before acting: `kubectl get -w` shows
    # Error (Init:Error) between the exit and the restart, then the back-off.
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "initloop",
                init=[{"name": "setup", "image": "busybox"}],
                annotations={"sim.nbcluster.io/exit-code.setup": "1"},
            )
        )
        await c.run_pod(
            pod("crash", annotations={"sim.nbcluster.io/duration": "1", "sim.nbcluster.io/exit-code": "1"})
        )
        await c.advance(2.5)
        texts = [text for name, text in c.history if name == "initloop"]
        assert texts == ["Init:0/1", "Init:Error", "Init:0/1", "Init:Error", "Init:CrashLoopBackOff"]
        texts = [text for name, text in c.history if name == "crash"]
        assert texts == ["Running", "Error", "Running", "Error", "CrashLoopBackOff"]


@async_test
async def test_a_failing_post_start_hook_kills_the_container_with_kubelets_event() -> None:
    lifecycle = {"postStart": {"exec": {"command": ["/bin/setup", "--now"]}}}
    async with Cluster() as c:
        p = await c.run_pod(
            pod(
                "hookfail",
                containers=[{"name": "app", "image": "busybox", "lifecycle": lifecycle}],
                annotations={"sim.nbcluster.io/exec-exit-code.app": "3"},
            )
        )
        uid = p["metadata"]["uid"]
        message = (
            f'Exec lifecycle hook ([/bin/setup --now]) for Container "app" in Pod "hookfail_default({uid})"'
            " failed - error: command '/bin/setup --now' exited with 3: , message: \"\""
        )
        assert c.messages("hookfail", "FailedPostStartHook")[0] == message
        assert c.messages("hookfail", "Killing")[0] == "FailedPostStartHook"
        await c.advance(0.5)
        status = container(c.pod("hookfail"))
        assert status["restartCount"] >= 1
        assert status["lastState"]["terminated"]["exitCode"] == 0  # it handled SIGTERM


@async_test
async def test_job_style_pod_succeeds_and_releases_its_sandbox() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("job", restartPolicy="Never"))
        assert c.pod("job")["status"]["phase"] == "Running"
        await c.advance(1.0)
        p = c.pod("job")
        assert p["status"]["phase"] == "Succeeded"
        terminated = container(p)["state"]["terminated"]
        assert terminated["reason"] == "Completed" and terminated["exitCode"] == 0
        assert terminated["startedAt"] == "2026-01-01T00:00:00Z"
        assert terminated["finishedAt"] == "2026-01-01T00:00:01Z"
        assert condition(p, "Ready") == {**condition(p, "Ready"), "status": "False", "reason": "PodCompleted"}
        assert condition(p, "PodReadyToStartContainers")["status"] == "False"
        assert c.status_text("job") == "Completed"
        assert c.runtime.sandbox_ids() == []
        assert len(c.runtime.container_ids()) == 1  # kept until the pod is deleted
        assert p["status"]["podIP"] == "10.244.0.2"
        assert await c.kubelets.logs("default", "job", "app")


@async_test
async def test_exit_code_1_with_never_fails_the_pod() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("fail", restartPolicy="Never", annotations={"sim.nbcluster.io/exit-code": "1"}))
        await c.advance(1.0)
        p = c.pod("fail")
        assert p["status"]["phase"] == "Failed"
        assert container(p)["state"]["terminated"]["reason"] == "Error"
        assert container(p)["state"]["terminated"]["exitCode"] == 1
        assert condition(p, "Ready")["reason"] == "PodFailed"
        assert c.status_text("fail") == "Error"


@async_test
async def test_on_failure_restarts_with_growing_backoff() -> None:
    async with Cluster() as c:
        p = await c.run_pod(
            pod("crash", restartPolicy="OnFailure", annotations={"sim.nbcluster.io/exit-code": "1"})
        )
        uid = p["metadata"]["uid"]
        starts: list[float] = [0.0]
        restarts = 0
        seconds = 0.0
        while len(starts) < 5 and seconds < 200:
            await c.advance(1.0, step=0.5)
            seconds += 1.0
            count = container(c.pod("crash"))["restartCount"]
            if count != restarts:
                restarts = count
                starts.append(seconds)
        # Exits 1 s after each start; kubelet restarts at once, then after 10, 20, 40 s.
        assert starts == [0.0, 1.0, 12.0, 33.0, 74.0]
        p = c.pod("crash")
        await c.advance(1.0)
        p = c.pod("crash")
        waiting = container(p)["state"]["waiting"]
        assert waiting["reason"] == "CrashLoopBackOff"
        assert (
            waiting["message"] == f"back-off 1m20s restarting failed container=app pod=crash_default({uid})"
        )
        assert container(p)["lastState"]["terminated"]["exitCode"] == 1
        assert p["status"]["phase"] == "Running"
        assert c.status_text("crash") == "CrashLoopBackOff"
        assert condition(p, "Ready")["status"] == "False"
        (backoff,) = c.events("crash", "BackOff")
        assert backoff["type"] == "Warning"
        assert backoff["message"] == f"Back-off restarting failed container app in pod crash_default({uid})"
        assert backoff["count"] == 4
        assert await c.kubelets.logs("default", "crash", "app", previous=True)


@async_test
async def test_crash_loop_messages_show_10_20_40_seconds() -> None:
    async with Cluster() as c:
        await c.run_pod(
            pod("loop", annotations={"sim.nbcluster.io/duration": "1", "sim.nbcluster.io/exit-code": "3"})
        )
        seen = []
        for _ in range(80):
            await c.advance(1.0, step=0.5)
            state = container(c.pod("loop"))["state"]
            message = state.get("waiting", {}).get("message", "")
            if message and (not seen or seen[-1] != message.split()[1]):
                seen.append(message.split()[1])
        assert seen[:3] == ["10s", "20s", "40s"]


@async_test
async def test_oom_killed_container() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("oom", restartPolicy="Never", annotations={"sim.nbcluster.io/oom": "true"}))
        await c.advance(1.0)
        terminated = container(c.pod("oom"))["state"]["terminated"]
        assert terminated == {**terminated, "exitCode": 137, "reason": "OOMKilled"}
        assert c.pod("oom")["status"]["phase"] == "Failed"


# -- probes --------------------------------------------------------------------------------------


@async_test
async def test_failing_liveness_probe_restarts_the_container() -> None:
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 5, "failureThreshold": 3}
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "live",
                containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}],
                annotations={"sim.nbcluster.io/fail-probe": "liveness"},
            )
        )
        await c.advance(9.0, step=1.0)
        assert container(c.pod("live"))["restartCount"] == 0
        await c.advance(2.0, step=1.0)  # third failure at t=10
        assert container(c.pod("live"))["restartCount"] == 1
        assert c.messages("live", "Killing") == ["Container app failed liveness probe, will be restarted"]
        (unhealthy,) = c.events("live", "Unhealthy")
        assert (
            unhealthy["message"]
            == "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
        )
        # Failures at 0, 5 and 10 s; the successor's first probe runs at once (10 s) and fails too.
        assert unhealthy["count"] == 4 and unhealthy["type"] == "Warning"
        # The successor fails at 10, 15 and 20 s; killed at 20, it restarts after the
        # 10 s back-off (the first kill restarted at once), at 30 s.
        await c.advance(12.0, step=1.0)
        assert container(c.pod("live"))["restartCount"] == 1
        assert container(c.pod("live"))["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert container(c.pod("live"))["lastState"]["terminated"]["exitCode"] == 0
        await c.advance(8.0, step=1.0)
        assert container(c.pod("live"))["restartCount"] == 2


async def _restart_times(c: Cluster, name: str, seconds: float, step: float = 1.0) -> list[float]:
    """Clock seconds (from now) at which the pod's restartCount went up."""
    times: list[float] = []
    restarts = container(c.pod(name))["restartCount"]
    elapsed = 0.0
    while elapsed < seconds:
        await c.advance(step, step=step / 2)
        elapsed += step
        count = container(c.pod(name))["restartCount"]
        times += [elapsed] * (count - restarts)
        restarts = count
    return times


@async_test
async def test_liveness_kills_restart_with_crash_loop_backoff() -> None:
    """Every liveness kill goes through the restart back-off, measured from the kill:
    at once, then after 10 s, 20 s, 40 s ... capped at 300 s (as for a crashing container)."""
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 1}
    probe["initialDelaySeconds"] = 5
    async with Cluster() as c:
        p = await c.run_pod(
            pod(
                "sick",
                containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}],
                annotations={"sim.nbcluster.io/fail-probe": "liveness"},
            )
        )
        uid = p["metadata"]["uid"]
        times = await _restart_times(c, "sick", 200.0)
        # Each instance fails its first probe 5 s after it starts and is killed then.
        kills = [5.0, 10.0, 25.0, 50.0, 95.0, 180.0]
        assert times == [5.0, 20.0, 45.0, 90.0, 175.0]
        waits = [start - kill for kill, start in zip(kills, times)]
        assert waits == [0.0, 10.0, 20.0, 40.0, 80.0]
        waiting = container(c.pod("sick"))["state"]["waiting"]
        assert waiting["reason"] == "CrashLoopBackOff"
        assert waiting["message"] == f"back-off 2m40s restarting failed container=app pod=sick_default({uid})"
        assert container(c.pod("sick"))["lastState"]["terminated"]["exitCode"] == 0
        assert c.status_text("sick") == "CrashLoopBackOff"
        (backoff,) = c.events("sick", "BackOff")
        assert backoff["message"] == f"Back-off restarting failed container app in pod sick_default({uid})"
        assert backoff["type"] == "Warning" and backoff["count"] == 5
        kills_seen = c.messages("sick", "Killing")
        assert kills_seen == ["Container app failed liveness probe, will be restarted"]
        assert c.events("sick", "Killing")[0]["count"] == 6
        # Then 160 s after the kill at 180 (t=340), and the cap: 300 s, not 320 (t=645).
        assert await _restart_times(c, "sick", 500.0, step=5.0) == [140.0, 445.0]


@async_test
async def test_liveness_backoff_is_forgotten_after_ten_minutes_of_running() -> None:
    probe = {"exec": {"command": ["true"]}, "periodSeconds": 10, "failureThreshold": 1}
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "tired",
                containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}],
                annotations={
                    "sim.nbcluster.io/fail-probe": "liveness",
                    "sim.nbcluster.io/fail-probe-after": "700",
                },
            )
        )
        # Each instance runs 700 s before it fails: every restart comes at once.
        assert await _restart_times(c, "tired", 2150.0, step=5.0) == [700.0, 1400.0, 2100.0]
        assert not c.events("tired", "BackOff")


@async_test
async def test_liveness_probe_after_a_delay() -> None:
    probe = {
        "httpGet": {"path": "/healthz", "port": 8080},
        "periodSeconds": 1,
        "failureThreshold": 1,
        "initialDelaySeconds": 3,
    }
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "late",
                containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}],
                annotations={
                    "sim.nbcluster.io/fail-probe": "liveness",
                    "sim.nbcluster.io/fail-probe-after": "5",
                },
            )
        )
        await c.advance(4.5, step=0.5)
        assert container(c.pod("late"))["restartCount"] == 0
        await c.advance(1.0, step=0.5)
        assert container(c.pod("late"))["restartCount"] == 1
        assert c.messages("late", "Unhealthy") == [
            "Liveness probe failed: HTTP probe failed with statuscode: 500"
        ]


@async_test
async def test_failing_readiness_probe_keeps_the_pod_unready() -> None:
    probe = {"tcpSocket": {"port": 80}, "periodSeconds": 2}
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "unready",
                containers=[{"name": "app", "image": "nginx:1.25", "readinessProbe": probe}],
                annotations={"sim.nbcluster.io/fail-probe": "readiness"},
            )
        )
        await c.advance(10.0, step=1.0)
        p = c.pod("unready")
        assert p["status"]["phase"] == "Running"
        ready = condition(p, "Ready")
        assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
        assert ready["message"] == "containers with unready status: [app]"
        assert container(p)["ready"] is False and container(p)["started"] is True
        assert container(p)["restartCount"] == 0
        assert c.messages("unready", "Unhealthy")[0].startswith(
            "Readiness probe failed: dial tcp 10.244.0.2:80"
        )


@async_test
async def test_passing_readiness_probe_makes_the_pod_ready() -> None:
    probe = {"httpGet": {"path": "/", "port": "http"}, "initialDelaySeconds": 2, "periodSeconds": 5}
    async with Cluster() as c:
        p = await c.run_pod(
            pod(
                "ready",
                containers=[
                    {
                        "name": "app",
                        "image": "nginx:1.25",
                        "readinessProbe": probe,
                        "ports": [{"name": "http", "containerPort": 80}],
                    }
                ],
            )
        )
        assert condition(p, "Ready")["status"] == "False"
        await c.advance(1.5)
        assert condition(c.pod("ready"), "Ready")["status"] == "False"
        await c.advance(1.0)
        p = c.pod("ready")
        assert condition(p, "Ready")["status"] == "True"
        assert condition(p, "Ready")["lastTransitionTime"] == "2026-01-01T00:00:02Z"


@async_test
async def test_failing_startup_probe_restarts_and_gates_readiness() -> None:
    startup = {"exec": {"command": ["true"]}, "periodSeconds": 1, "failureThreshold": 2}
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "slow",
                containers=[{"name": "app", "image": "busybox", "startupProbe": startup}],
                annotations={"sim.nbcluster.io/fail-probe": "startup"},
            )
        )
        p = c.pod("slow")
        assert container(p)["started"] is False and container(p)["ready"] is False
        await c.advance(1.5, step=0.5)  # failures at 0 and 1 s
        assert container(c.pod("slow"))["restartCount"] == 1
        assert c.messages("slow", "Killing") == ["Container app failed startup probe, will be restarted"]


# -- configuration and volumes ---------------------------------------------------------------------


@async_test
async def test_missing_configmap_env_is_a_config_error_until_it_appears() -> None:
    env = [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
        {"name": "GREETING", "value": "mode=$(MODE)"},
    ]
    async with Cluster() as c:
        p = await c.run_pod(pod("cfg", containers=[{"name": "app", "image": "busybox", "env": env}]))
        waiting = container(p)["state"]["waiting"]
        assert waiting == {
            "reason": "CreateContainerConfigError",
            "message": 'configmap "settings" not found',
        }
        assert p["status"]["phase"] == "Pending"
        assert c.messages("cfg", "Failed") == ['Error: configmap "settings" not found']
        c.api.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings"},
                "data": {"mode": "fast"},
            }
        )
        await c.settle()
        p = c.pod("cfg")
        assert p["status"]["phase"] == "Running"
        result = await c.kubelets.exec("default", "cfg", "app", ["printenv", "MODE", "GREETING"])
        assert result.output == "fast\nmode=fast\n"


@async_test
async def test_missing_secret_env_from() -> None:
    async with Cluster() as c:
        p = await c.run_pod(
            pod(
                "sec",
                containers=[
                    {
                        "name": "app",
                        "image": "busybox",
                        "envFrom": [{"secretRef": {"name": "creds"}, "prefix": "DB_"}],
                    }
                ],
            )
        )
        assert container(p)["state"]["waiting"]["message"] == 'secret "creds" not found'
        c.api.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "creds"},
                "data": {"USER": "YWRtaW4="},
            }
        )
        await c.settle()
        result = await c.kubelets.exec("default", "sec", "app", ["printenv", "DB_USER"])
        assert result.output == "admin\n"


@async_test
async def test_missing_configmap_volume_blocks_in_container_creating() -> None:
    spec = pod(
        "vol",
        volumes=[{"name": "config", "configMap": {"name": "app-config"}}],
        containers=[
            {"name": "app", "image": "busybox", "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}
        ],
    )
    async with Cluster() as c:
        p = await c.run_pod(spec)
        assert c.status_text("vol") == "ContainerCreating"
        assert "podIP" not in p["status"]
        assert condition(p, "PodReadyToStartContainers")["status"] == "False"
        (mount,) = c.events("vol", "FailedMount")
        assert (
            mount["message"]
            == 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'
        )
        assert mount["type"] == "Warning"
        await c.advance(2.0, step=0.5)
        assert c.events("vol", "FailedMount")[0]["count"] > 1
        c.api.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config"}, "data": {}}
        )
        await c.settle()
        assert c.pod("vol")["status"]["phase"] == "Running"


@async_test
async def test_unbound_claim_keeps_the_pod_waiting() -> None:
    spec = pod("data", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "claim"}}])
    async with Cluster() as c:
        await c.run_pod(spec)
        assert c.status_text("data") == "ContainerCreating"
        assert c.runtime.container_ids() == []
        c.api.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "claim"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        )
        await c.settle()
        assert c.status_text("data") == "ContainerCreating"
        claim = c.api.get("persistentvolumeclaims", "claim")
        claim["status"] = {"phase": "Bound"}
        c.api.update_status(claim)
        await c.settle()
        assert c.pod("data")["status"]["phase"] == "Running"


@async_test
async def test_service_environment_variables() -> None:
    async with Cluster() as c:
        c.api.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "redis-primary"},
                "spec": {"selector": {"app": "redis"}, "ports": [{"name": "redis", "port": 6379}]},
            }
        )
        await c.run_pod(pod("env"))
        env = (await c.kubelets.exec("default", "env", "app", ["env"])).output
        ip = c.api.get("services", "redis-primary")["spec"]["clusterIP"]
        assert f"REDIS_PRIMARY_SERVICE_HOST={ip}\n" in env
        assert "REDIS_PRIMARY_SERVICE_PORT=6379\n" in env
        assert f"REDIS_PRIMARY_PORT_6379_TCP=tcp://{ip}:6379\n" in env
        assert "KUBERNETES_SERVICE_HOST=10.96.0.1\n" in env
        await c.run_pod(pod("nolinks", enableServiceLinks=False))
        env = (await c.kubelets.exec("default", "nolinks", "app", ["env"])).output
        assert "REDIS_PRIMARY" not in env and "KUBERNETES_SERVICE_HOST=10.96.0.1\n" in env


@async_test
async def test_image_pull_errors_back_off() -> None:
    async with Cluster() as c:
        p = await c.run_pod(pod("pull", containers=[{"name": "app", "image": "example/does-not-exist:1"}]))
        waiting = container(p)["state"]["waiting"]
        assert waiting["reason"] == "ErrImagePull"
        assert "not found" in waiting["message"]
        assert c.status_text("pull") == "ErrImagePull"
        await c.advance(1.0)
        assert container(c.pod("pull"))["state"]["waiting"] == {
            "reason": "ImagePullBackOff",
            "message": 'Back-off pulling image "example/does-not-exist:1"',
        }
        failed = c.messages("pull", "Failed")
        assert failed[0].startswith('Failed to pull image "example/does-not-exist:1": ')
        assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed


@async_test
async def test_missing_image_from_the_runtime_set() -> None:
    async with Cluster(missing_images={"private/app:2"}) as c:
        p = await c.run_pod(pod("priv", containers=[{"name": "app", "image": "private/app:2"}]))
        assert container(p)["state"]["waiting"]["reason"] == "ErrImagePull"


# -- sidecars --------------------------------------------------------------------------------------


@async_test
async def test_native_sidecar_starts_first_and_stops_when_the_job_is_done() -> None:
    init = [
        {"name": "proxy", "image": "envoy", "restartPolicy": "Always"},
        {"name": "setup", "image": "busybox"},
    ]
    async with Cluster() as c:
        p = await c.run_pod(pod("side", init=init, restartPolicy="Never"))
        assert container(p, "proxy", init=True)["state"].get("running")
        assert container(p, "proxy", init=True)["started"] is True
        assert container(p, "setup", init=True)["state"].get("running")
        await c.advance(0.1)
        p = c.pod("side")
        assert p["status"]["phase"] == "Running"
        assert container(p, "proxy", init=True)["state"].get("running")
        assert condition(p, "Ready")["status"] == "True"
        await c.advance(1.0)
        p = c.pod("side")
        assert p["status"]["phase"] == "Succeeded"
        assert "terminated" in container(p, "proxy", init=True)["state"]
        assert c.runtime.running_containers() == []


# -- the runtime going away -------------------------------------------------------------------------


@async_test
async def test_a_runtime_outage_makes_the_nodes_not_ready_and_defers_running_pods() -> None:
    """A runtime that reports its daemon gone (the docker runtime's ``on_runtime_state``):
    nodes post Ready=False with kubelet's words, probes pause, running pods are not synced
    until the runtime is back; a pod bound meanwhile is still tried."""
    c = Cluster()
    tell: list[Any] = []
    c.runtime.on_runtime_state = tell.append  # type: ignore[attr-defined]
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1}
    async with c:
        await c.run_pod(
            pod(
                "old",
                containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}],
                annotations={
                    "sim.nbcluster.io/fail-probe": "liveness",
                    "sim.nbcluster.io/fail-probe-after": "5",
                },
            )
        )
        (state_changed,) = tell
        state_changed("DockerDaemonNotReady", "docker: failed to get docker version: Cannot connect")
        await c.settle()
        for name in ("n1", "n2"):
            ready = condition(c.api.get("nodes", name), "Ready")
            assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady")
            assert ready["message"] == (
                "container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady "
                "message:docker: failed to get docker version: Cannot connect"
            )
        assert c.messages("n1", "NodeNotReady") == ["Node n1 status is now: NodeNotReady"]
        await c.advance(10.0, step=1.0)  # the probe would fail from 5 s on: it does not run
        assert not c.events("old", "Unhealthy") and container(c.pod("old"))["restartCount"] == 0
        c.api.delete("pods", "old")  # a running pod cannot be stopped: it stays Terminating
        await c.run_pod(pod("new"), node="n2")  # a new pod is still tried
        assert c.pod("old")["metadata"]["deletionTimestamp"]
        assert c.pod("new")["status"]["phase"] == "Running"
        # The heartbeat keeps the node NotReady (no "Ready" flapping every status interval).
        await c.advance(61.0, step=5.0)
        assert condition(c.api.get("nodes", "n1"), "Ready")["status"] == "False"

        state_changed(None, "")
        await c.settle()
        ready = condition(c.api.get("nodes", "n1"), "Ready")
        assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
        assert c.messages("n1", "NodeReady")[-1] == "Node n1 status is now: NodeReady"
        await c.advance(3.0, step=0.5)
        assert c.api.cached("pods", "old") is None  # the deferred deletion went through


# -- deletion -------------------------------------------------------------------------------------


@async_test
async def test_graceful_deletion_waits_for_the_grace_period() -> None:
    lifecycle = {"preStop": {"exec": {"command": ["/bin/drain"]}}}
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "slowstop",
                terminationGracePeriodSeconds=5,
                containers=[{"name": "app", "image": "busybox", "lifecycle": lifecycle}],
                annotations={"sim.nbcluster.io/shutdown-seconds": "inf"},
            )
        )
        c.api.delete("pods", "slowstop")
        await c.advance(4.5, step=0.5)
        assert c.pod("slowstop")["metadata"]["deletionTimestamp"]
        assert c.messages("slowstop", "Killing") == ["Stopping container app"]
        await c.advance(1.0, step=0.5)
        try:
            c.pod("slowstop")
            raise AssertionError("the pod should be gone")
        except NotFound:
            pass
        assert c.runtime.container_ids() == [] and c.runtime.sandbox_ids() == []


@async_test
async def test_deleting_a_pod_that_stops_promptly() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("quick"))
        c.api.delete("pods", "quick")
        await c.settle()
        assert c.api.cached("pods", "quick") is None
        assert c.runtime.container_ids() == []
        # The kubelet wrote the final status before deleting: the app exited 0 on SIGTERM.
        assert c.history[-1] == ("quick", "Completed")


@async_test
async def test_deleting_a_finished_pod_removes_its_containers() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("done", restartPolicy="Never"))
        await c.advance(1.0)
        assert len(c.runtime.container_ids()) == 1
        c.api.delete("pods", "done")
        await c.settle()
        assert c.runtime.container_ids() == []


# -- nodes -------------------------------------------------------------------------------------------


@async_test
async def test_node_registration_and_lease() -> None:
    async with Cluster() as c:
        node = c.api.get("nodes", "n1")
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "n1"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.0"
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "simulated://0.1.0"
        ready = next(cond for cond in node["status"]["conditions"] if cond["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        )
        assert {a["type"] for a in node["status"]["addresses"]} == {"InternalIP", "Hostname"}
        lease = c.api.get(LEASES, "n1", namespace=LEASE_NAMESPACE)
        assert lease["spec"]["holderIdentity"] == "n1" and lease["spec"]["leaseDurationSeconds"] == 40
        assert c.messages("n1", "Starting") == ["Starting kubelet."]
        assert c.messages("n1", "NodeReady") == ["Node n1 status is now: NodeReady"]
        assert c.messages("n1", "RegisteredNode") == ["Node n1 event: Registered Node n1 in Controller"]
        assert c.kubelets.node_names() == ["n1", "n2"]
        await c.advance(60.0, step=5.0)
        node = c.api.get("nodes", "n1")
        ready = next(cond for cond in node["status"]["conditions"] if cond["type"] == "Ready")
        assert ready["lastHeartbeatTime"] == "2026-01-01T00:01:00Z"
        assert ready["lastTransitionTime"] == "2026-01-01T00:00:00Z"


@async_test
async def test_stop_node_silences_heartbeats_and_start_node_restarts_pods() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("web"))
        await c.run_pod(pod("elsewhere"), node="n2")
        await c.advance(10.0, step=5.0)
        renewed = c.api.get(LEASES, "n1", namespace=LEASE_NAMESPACE)["spec"]["renewTime"]
        assert renewed.startswith("2026-01-01T00:00:10")
        await c.kubelets.stop_node("n1")
        assert [cid for cid in c.runtime.running_containers()] == [
            container(c.pod("elsewhere"))["containerID"].split("//")[1]
        ]
        await c.advance(30.0, step=5.0)
        assert c.api.get(LEASES, "n1", namespace=LEASE_NAMESPACE)["spec"]["renewTime"] == renewed
        assert c.api.get(LEASES, "n2", namespace=LEASE_NAMESPACE)["spec"]["renewTime"] > renewed
        await c.kubelets.start_node("n1")
        await c.settle()
        assert c.api.get(LEASES, "n1", namespace=LEASE_NAMESPACE)["spec"]["renewTime"] > renewed
        p = c.pod("web")
        assert p["status"]["phase"] == "Running"
        assert container(p)["restartCount"] == 1
        assert c.messages("web", "SandboxChanged") == [
            "Pod sandbox changed, it will be killed and re-created."
        ]


@async_test
async def test_remove_node_deletes_node_and_lease() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("web"), node="n2")
        await c.kubelets.remove_node("n2")
        assert c.api.cached("nodes", "n2") is None
        assert c.api.cached(LEASES, "n2", LEASE_NAMESPACE) is None
        assert c.runtime.container_ids() == []
        assert c.kubelets.node_names() == ["n1"]


@async_test
async def test_pods_bound_before_the_node_registers_are_adopted() -> None:
    async with Cluster() as c:
        c.api.create(pod("early"))
        c.api.bind("default", "early", "n3")
        await c.settle()
        assert c.pod("early")["status"]["phase"] == "Pending"
        await c.kubelets.add_node("n3")
        await c.settle()
        assert c.pod("early")["status"]["phase"] == "Running"
        assert c.pod("early")["status"]["podIP"] == "10.244.2.2"


@async_test
async def test_stop_leaves_the_runtime_empty() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("a"))
        await c.run_pod(pod("b", restartPolicy="Never"), node="n2")
        await c.advance(1.0)
        await c.kubelets.stop()
        assert c.runtime.container_ids() == [] and c.runtime.sandbox_ids() == []
        assert c.kubelets.timers.__len__() == 0


# -- logs and exec --------------------------------------------------------------------------------


@async_test
async def test_logs_and_exec() -> None:
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "talk",
                annotations={
                    "sim.nbcluster.io/logs": "one\ntwo\nthree",
                    "sim.nbcluster.io/exec-exit-code": "4",
                },
            )
        )
        assert await c.kubelets.logs("default", "talk", "app") == "one\ntwo\nthree\n"
        assert await c.kubelets.logs("default", "talk", "app", tail=1) == "three\n"
        assert (await c.kubelets.exec("default", "talk", "app", ["ls"])).exit_code == 4
        try:
            await c.kubelets.logs("default", "talk", "app", previous=True)
            raise AssertionError("expected BadRequest")
        except BadRequest as exc:
            assert str(exc) == 'previous terminated container "app" in pod "talk" not found'
        try:
            await c.kubelets.logs("default", "talk", "nope")
            raise AssertionError("expected BadRequest")
        except BadRequest as exc:
            assert str(exc) == "container nope is not valid for pod talk"
        try:
            await c.kubelets.logs("default", "ghost", "app")
            raise AssertionError("expected NotFound")
        except NotFound as exc:
            assert str(exc) == 'pods "ghost" not found'


@async_test
async def test_follow_logs_streams_until_the_container_exits() -> None:
    async with Cluster() as c:
        await c.run_pod(
            pod(
                "chatty",
                restartPolicy="Never",
                annotations={"sim.nbcluster.io/logs": "one\ntwo\nthree", "sim.nbcluster.io/duration": "5"},
            )
        )
        lines: list[str] = []

        async def follow(tail: int | None = None) -> None:
            async for line in c.kubelets.follow_logs("default", "chatty", "app", tail=tail):
                lines.append(line)

        task = asyncio.ensure_future(follow())
        await c.advance(1.0)
        # The existing lines at once, then the stream stays open while the container runs.
        assert lines == ["one", "two", "three"] and not task.done()
        await c.advance(4.5)
        assert task.done() and task.exception() is None  # the container exited: the stream ended
        lines.clear()
        await follow(tail=1)  # an exited container: its last lines, then the end at once
        assert lines == ["three"]


@async_test
async def test_follow_logs_of_a_waiting_container_and_a_stopped_follower() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("late", containers=[{"name": "app", "image": "nope-does-not-exist"}]))
        with pytest.raises(
            BadRequest, match='container "app" in pod "late" is waiting to start: ErrImagePull'
        ):
            async for _line in c.kubelets.follow_logs("default", "late", "app"):
                pass
        await c.run_pod(pod("long"))
        stream = c.kubelets.follow_logs("default", "long")
        assert (await stream.__anext__()).startswith("[simulated] container app started")
        waiter = asyncio.ensure_future(stream.__anext__())
        await c.settle()
        assert not waiter.done()  # nothing new: the follower waits for the container
        waiter.cancel()  # the caller stops: the runtime's stream is released
        await asyncio.gather(waiter, return_exceptions=True)
        await c.settle()
        (instance,) = [x for x in c.runtime._containers.values() if x.pod.name == "long"]
        assert not instance.waiters


@async_test
async def test_events_can_be_disabled() -> None:
    async with Cluster(record_events=False) as c:
        await c.run_pod(pod("quiet"))
        assert c.api.cached_list("events") == []
        assert c.pod("quiet")["status"]["phase"] == "Running"


@async_test
async def test_active_deadline_fails_the_pod() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("deadline", activeDeadlineSeconds=30))
        await c.advance(29.0, step=1.0)
        assert c.pod("deadline")["status"]["phase"] == "Running"
        await c.advance(1.0)
        p = c.pod("deadline")
        assert p["status"]["phase"] == "Failed"
        assert p["status"]["reason"] == "DeadlineExceeded"
        assert p["status"]["message"] == "Pod was active on the node longer than the specified deadline"
        assert c.messages("deadline", "DeadlineExceeded") == [p["status"]["message"]]
        assert c.runtime.running_containers() == []


@async_test
async def test_changing_the_image_restarts_the_container() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("upgrade", containers=[{"name": "app", "image": "nginx:1.24"}]))
        current = c.pod("upgrade")
        current["spec"]["containers"][0]["image"] = "nginx:1.25"
        c.api.update(current)
        await c.settle()
        p = c.pod("upgrade")
        assert container(p)["image"] == "docker.io/library/nginx:1.25"
        assert container(p)["restartCount"] == 1
        assert c.messages("upgrade", "Killing") == ["Container app definition changed, will be restarted"]


@async_test
async def test_an_existing_node_object_is_reregistered_with_its_cidr() -> None:
    async with Cluster() as c:
        c.api.create(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "old", "labels": {"disk": "ssd"}},
                "spec": {"podCIDR": "10.244.7.0/24", "podCIDRs": ["10.244.7.0/24"]},
            },
            validate_schema=False,
        )
        await c.kubelets.add_node("old", labels={"zone": "a"})
        node = c.api.get("nodes", "old")
        assert node["spec"]["podCIDR"] == "10.244.7.0/24"
        assert node["metadata"]["labels"]["disk"] == "ssd" and node["metadata"]["labels"]["zone"] == "a"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "old"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.0"
        p = await c.run_pod(pod("there"), node="old")
        assert p["status"]["podIP"] == "10.244.7.2"
        await c.kubelets.add_node("fresh")
        assert c.api.get("nodes", "fresh")["spec"]["podCIDR"] == "10.244.2.0/24"


@async_test
async def test_a_runtime_made_without_a_clock_follows_the_kubelets() -> None:
    from nbcluster.runtime.simulated import SimulatedRuntime

    c = Cluster()
    c.runtime = SimulatedRuntime()
    from nbcluster.control.kubelet import KubeletManager

    c.kubelets = KubeletManager(c.api, c.clock, c.runtime)
    async with c:
        await c.run_pod(pod("job", restartPolicy="Never"))
        await c.advance(1.0)
        assert c.pod("job")["status"]["phase"] == "Succeeded"


@async_test
async def test_a_pod_deleted_while_its_node_is_down_goes_when_the_node_returns() -> None:
    async with Cluster() as c:
        await c.run_pod(pod("stuck"))
        await c.kubelets.stop_node("n1")
        c.api.delete("pods", "stuck")
        await c.advance(60.0, step=5.0)
        assert c.pod("stuck")["metadata"]["deletionTimestamp"]
        await c.kubelets.start_node("n1")
        await c.settle()
        assert c.api.cached("pods", "stuck") is None
        assert c.runtime.container_ids() == []
