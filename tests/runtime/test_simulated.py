"""The simulated runtime: deterministic containers on a ManualClock, scripted by pod annotations."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from nbcluster.errors import BadRequest, NotFound
from nbcluster.runtime.interface import ContainerConfig, ContainerState, ImagePullError, PodSandboxConfig
from nbcluster.runtime.simulated import SimulatedRuntime, normalize_image
from nbcluster.util.clock import ManualClock


def run(fn: Callable[[SimulatedRuntime, ManualClock], Coroutine[Any, Any, None]], **options: Any) -> None:
    async def main() -> None:
        clock = ManualClock()
        runtime = SimulatedRuntime(clock, **options)
        await runtime.start()
        try:
            await fn(runtime, clock)
        finally:
            await runtime.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # a fresh thread: its own loop
        pool.submit(asyncio.run, main()).result()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def advance(clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    await settle()


def pod(name: str = "p", node: str = "n1", **annotations: str) -> PodSandboxConfig:
    return PodSandboxConfig(
        namespace="default",
        name=name,
        uid=f"uid-{name}",
        node=node,
        hostname=name,
        ports=((80, "TCP"),),
        annotations={f"sim.nbcluster.io/{k.replace('_', '-')}": v for k, v in annotations.items()},
    )


def config(
    name: str = "app",
    *,
    policy: str = "Always",
    kind: str = "regular",
    sandbox: PodSandboxConfig,
    env: dict[str, str] | None = None,
) -> ContainerConfig:
    annotations = {
        **sandbox.annotations,
        "nbcluster.io/restart-policy": policy,
        "nbcluster.io/container-type": kind,
    }
    return ContainerConfig(
        name=name, image="nginx:1.25", env=env or {}, init=kind == "init", annotations=annotations
    )


async def start(runtime: SimulatedRuntime, sandbox_config: PodSandboxConfig, **kw: Any) -> str:
    sandbox = await runtime.run_sandbox(sandbox_config)
    container_id = await runtime.create_container(
        sandbox, sandbox_config, config(sandbox=sandbox_config, **kw)
    )
    await runtime.start_container(container_id)
    return container_id


def test_always_containers_run_until_stopped() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        exits: list[str] = []
        runtime.on_container_exit(exits.append)
        cid = await start(runtime, pod())
        await advance(clock, 3600)
        status = await runtime.container_status(cid)
        assert status.state is ContainerState.RUNNING and exits == []
        assert status.image == "docker.io/library/nginx:1.25"
        assert status.image_id.startswith("docker.io/library/nginx@sha256:")
        await runtime.stop_container(cid, 30)
        status = await runtime.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (ContainerState.EXITED, 0, "Completed")
        assert exits == [cid]

    run(body)


def test_job_containers_exit_after_the_configured_duration() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        cid = await start(runtime, pod(), policy="Never")
        await advance(clock, 1.5)
        assert (await runtime.container_status(cid)).state is ContainerState.RUNNING
        await advance(clock, 0.5)
        status = await runtime.container_status(cid)
        assert (status.exit_code, status.reason) == (0, "Completed")
        assert (status.finished_at - status.started_at).total_seconds() == 2.0

    run(body, job_duration=2.0)


def test_init_containers_exit_quickly() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        cid = await start(runtime, pod(), kind="init")
        await advance(clock, 0.1)
        assert (await runtime.container_status(cid)).exit_code == 0

    run(body)


def test_scripted_duration_exit_code_and_oom() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        crash = await start(runtime, pod("crash", duration="5", exit_code="3"))
        oom = await start(runtime, pod("oom", oom="true"))
        await advance(clock, 1)
        status = await runtime.container_status(oom)
        assert (status.exit_code, status.reason) == (137, "OOMKilled")
        assert (await runtime.container_status(crash)).state is ContainerState.RUNNING
        await advance(clock, 4)
        status = await runtime.container_status(crash)
        assert (status.exit_code, status.reason) == (3, "Error")

    run(body)


def test_per_container_annotations_win_and_generic_ones_skip_init_containers() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        sandbox_config = PodSandboxConfig(
            namespace="default",
            name="p",
            uid="u",
            node="n1",
            hostname="p",
            annotations={
                "sim.nbcluster.io/exit-code": "1",
                "sim.nbcluster.io/exit-code.web": "0",
                "sim.nbcluster.io/duration.web": "2",
            },
        )
        sandbox = await runtime.run_sandbox(sandbox_config)
        ids = {}
        for name, kind in (("setup", "init"), ("web", "regular"), ("worker", "regular")):
            ids[name] = await runtime.create_container(
                sandbox, sandbox_config, config(name, kind=kind, sandbox=sandbox_config)
            )
            await runtime.start_container(ids[name])
        await advance(clock, 2)
        assert (await runtime.container_status(ids["setup"])).exit_code == 0
        assert (await runtime.container_status(ids["worker"])).exit_code == 1
        web = await runtime.container_status(ids["web"])
        assert (web.state, web.exit_code) == (ContainerState.EXITED, 0)

    run(body)


def test_missing_images() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        assert await runtime.ensure_image("nginx", "Always") is True
        assert await runtime.ensure_image("nginx:1.25", "IfNotPresent") is False
        with pytest.raises(ImagePullError) as info:
            await runtime.ensure_image("example/does-not-exist:1", "IfNotPresent")
        assert info.value.message.startswith(
            "rpc error: code = NotFound desc = failed to pull and unpack image "
            '"docker.io/example/does-not-exist:1"'
        )
        with pytest.raises(ImagePullError):
            await runtime.ensure_image("corp/private:2", "Always")
        with pytest.raises(ImagePullError) as never:
            await runtime.ensure_image("corp/private:2", "Never")
        assert never.value.reason == "ErrImageNeverPull"

    run(body, missing_images={"corp/private:2"})


def test_pod_ips_come_from_the_node_cidr_and_are_reused() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        runtime.set_node_pod_cidr("n1", "10.244.3.0/24")
        first = await runtime.run_sandbox(pod("a"))
        second = await runtime.run_sandbox(pod("b"))
        assert (first.ip, second.ip) == ("10.244.3.2", "10.244.3.3")
        assert first.host_ports[(80, "TCP")] >= 40000
        await runtime.remove_sandbox(first.id)
        assert (await runtime.run_sandbox(pod("c"))).ip == "10.244.3.2"
        assert (await runtime.run_sandbox(pod("d", node="elsewhere"))).ip.startswith("10.244.")

    run(body)


def test_removing_a_sandbox_kills_its_containers_but_keeps_their_records() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        sandbox_config = pod()
        sandbox = await runtime.run_sandbox(sandbox_config)
        cid = await runtime.create_container(sandbox, sandbox_config, config(sandbox=sandbox_config))
        await runtime.start_container(cid)
        await runtime.remove_sandbox(sandbox.id)
        status = await runtime.container_status(cid)
        assert (status.state, status.exit_code) == (ContainerState.EXITED, 137)
        assert runtime.sandbox_ids() == [] and runtime.container_ids() == [cid]
        await runtime.remove_container(cid)
        with pytest.raises(NotFound):
            await runtime.container_status(cid)

    run(body)


def test_shutdown_seconds_and_grace_period() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        slow = await start(runtime, pod("slow", shutdown_seconds="3"))
        stubborn = await start(runtime, pod("stubborn", shutdown_seconds="inf"))
        stops = asyncio.gather(runtime.stop_container(slow, 10), runtime.stop_container(stubborn, 5))
        await settle()
        await advance(clock, 3)
        assert (await runtime.container_status(slow)).exit_code == 0
        assert (await runtime.container_status(stubborn)).state is ContainerState.RUNNING
        await advance(clock, 2)
        await stops
        assert (await runtime.container_status(stubborn)).exit_code == 137
        killed = await start(runtime, pod("killed"))
        await runtime.stop_container(killed, 0)
        assert (await runtime.container_status(killed)).exit_code == 137

    run(body)


def test_logs_and_exec() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        talk = await start(runtime, pod("talk", logs="a\nb\nc"), env={"GREETING": "hi"})
        assert await runtime.logs(talk) == "a\nb\nc\n"
        assert await runtime.logs(talk, tail=2) == "b\nc\n"
        quiet = await start(runtime, pod("quiet"))
        assert "container app started" in await runtime.logs(quiet)
        assert (await runtime.exec(talk, ["printenv", "GREETING"])).output == "hi\n"
        assert "HOSTNAME=talk\n" in (await runtime.exec(talk, ["env"])).output
        assert (await runtime.exec(talk, ["echo", "x", "y"])).output == "x y\n"
        assert (await runtime.exec(talk, ["ls"])).exit_code == 0
        failing = await start(runtime, pod("failing", exec_exit_code="7"))
        assert (await runtime.exec(failing, ["true"])).exit_code == 7
        await runtime.stop_container(talk, 1)
        with pytest.raises(BadRequest):
            await runtime.exec(talk, ["true"])

    run(body)


def test_probes_succeed_unless_scripted() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        sandbox_config = pod("probed", fail_probe="liveness, startup", fail_probe_after="10")
        sandbox = await runtime.run_sandbox(sandbox_config)
        cid = await runtime.create_container(sandbox, sandbox_config, config(sandbox=sandbox_config))
        await runtime.start_container(cid)
        assert (
            await runtime.probe_http(sandbox, cid, port=80, path="/", scheme="HTTP", headers={}, timeout=1)
        ).success
        assert (await runtime.probe_tcp(sandbox, cid, port=80, timeout=1)).success
        http = {"httpGet": {"port": 80}}
        assert runtime.scripted_probe_result(cid, "liveness", http) is None  # not yet: fail-probe-after
        await advance(clock, 10)
        failed = runtime.scripted_probe_result(cid, "liveness", http)
        assert failed is not None and failed.message == "HTTP probe failed with statuscode: 500"
        tcp = runtime.scripted_probe_result(cid, "startup", {"tcpSocket": {"port": 80}})
        assert tcp is not None and tcp.message == f"dial tcp {sandbox.ip}:80: connect: connection refused"
        assert runtime.scripted_probe_result(cid, "readiness", http) is None

    run(body)


def test_close_removes_everything() -> None:
    async def body(runtime: SimulatedRuntime, clock: ManualClock) -> None:
        await start(runtime, pod("a"))
        await start(runtime, pod("b"), policy="Never")
        await runtime.close()
        assert runtime.container_ids() == [] and runtime.sandbox_ids() == []

    run(body)


def test_capacity_is_configurable() -> None:
    assert SimulatedRuntime(capacity={"cpu": "16"}).node_capacity() == {
        "cpu": "16",
        "memory": "8Gi",
        "pods": "110",
        "ephemeral-storage": "100Gi",
    }


@pytest.mark.parametrize(
    ("image", "normalized"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
)
def test_normalize_image(image: str, normalized: str) -> None:
    assert normalize_image(image) == normalized
