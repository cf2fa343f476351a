"""The kube-proxy and port-forward against real TCP servers on 127.0.0.1 standing in for pods.

Each "pod" is an asyncio server on an ephemeral loopback port that answers a line with its
own name; the resolver maps (namespace, pod, port) to it, as the kubelet manager maps a pod
port to the host port its sandbox publishes. Services, pods and Endpoints live in a real
API server; the endpoints controller computes the Endpoints; the proxy syncs once.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter
from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.endpoints import EndpointsController
from nbcluster.control.portforward import PortForwarder, parse_port_spec
from nbcluster.control.proxy import Backend, RequestCounter, Route, ServiceProxy
from nbcluster.errors import BadRequest, UsageError
from nbcluster.runtime.interface import ImagePullError, Runtime, ServiceConfig
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock
from tests.control.test_kubelet_support import async_test

Obj = dict[str, Any]


def free_port(low: int = 30000, high: int = 32767) -> int:
    """A port in [low, high] nothing listens on right now."""
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


class Bed:
    """API server + endpoints controller + proxy, and pods served by local TCP servers."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.api = APIServer(Store(), self.clock)
        self.api.ensure_system_objects()
        self.endpoints = EndpointsController(self.api, self.clock)
        self.servers: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self.addresses: dict[tuple[str, str, int], tuple[str, int]] = {}
        self.proxy = ServiceProxy(self.api, self.clock, resolver=self.resolve)
        self.ip = 1

    def resolve(self, namespace: str, pod: str, port: int) -> tuple[str, int] | None:
        return self.addresses.get((namespace, pod, port))

    async def serve(self, pod: str, port: int, *, mute: bool = False) -> None:
        """A server for ``pod``'s ``port``: answers each line with ``pod:port`` (mute: closes at once)."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not mute:
                await reader.readline()
                writer.write(f"{pod}:{port}\n".encode())
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers[(pod, port)] = server
        self.addresses[("default", pod, port)] = ("127.0.0.1", server.sockets[0].getsockname()[1])

    async def kill(self, pod: str, port: int) -> None:
        server = self.servers.pop((pod, port))
        server.close()
        await server.wait_closed()

    def pod(
        self,
        name: str,
        *,
        ready: bool = True,
        labels: dict[str, str] | None = None,
        ports: list[Obj] | None = None,
    ) -> None:
        self.ip += 1
        self.api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "busybox",
                            "ports": ports or [{"name": "http", "containerPort": 80}],
                        }
                    ]
                },
            }
        )
        self.api.bind("default", name, "node-a")
        self.set_ready(name, ready)

    def set_ready(self, name: str, ready: bool) -> None:
        pod = self.api.get("pods", name, namespace="default")
        pod["status"] = {
            "phase": "Running",
            "podIP": pod.get("status", {}).get("podIP") or f"10.244.0.{self.ip}",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        self.api.update_status(pod)

    def service(self, name: str = "web", **spec: Any) -> Obj:
        body = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}
        body.update(spec)
        return self.api.create(
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}
        )

    def sync(self, name: str = "web") -> float | None:
        self.endpoints.sync(f"default/{name}")
        return self.proxy.sync(f"default/{name}")

    def warnings(self, reason: str) -> list[str]:
        return [
            e["message"]
            for e in self.api.list("events", namespace="default")["items"]
            if e["reason"] == reason
        ]

    async def close(self) -> None:
        self.proxy.close()
        for server in self.servers.values():
            server.close()


async def ask(port: int) -> str:
    """One request: connect, send a line, read the answer until the server closes."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionResetError:  # no endpoint: the proxy resets at once
        return ""
    try:
        writer.write(b"hello\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        data = b""
    finally:
        writer.close()
    return data.decode().strip()


def node_port_service(bed: Bed, **spec: Any) -> int:
    port = free_port()
    ports = spec.pop("ports", [{"port": 80, "targetPort": "http", "nodePort": port}])
    bed.service(type="NodePort", ports=ports, **spec)
    return port


# -- routes without sockets --------------------------------------------------------------


def test_route_round_robin_puts_suspects_last_and_keeps_affinity() -> None:
    clock = ManualClock()
    a, b, c = (Backend("default", n, "10.0.0.1", 80) for n in "abc")
    suspects: dict[Backend, float] = {}
    route = Route("default/web:", (a, b, c), clock, suspects)
    firsts = [next(route.candidates("1.2.3.4")) for _ in range(6)]
    assert firsts == [a, b, c, a, b, c]
    suspects[b] = clock.monotonic() + 2
    order = list(route.candidates("x"))
    assert order[-1] == b and set(order) == {a, b, c}
    clock.advance(3)  # the suspicion expires
    assert b in list(route.candidates("x"))[:2]
    sticky = Route("k", (a, b, c), clock, {}, affinity_seconds=10)
    chosen = next(sticky.candidates("5.6.7.8"))
    sticky.connected("5.6.7.8", chosen)
    assert [next(sticky.candidates("5.6.7.8")) for _ in range(4)] == [chosen] * 4
    clock.advance(11)  # the affinity times out: round-robin again
    assert len({next(sticky.candidates("5.6.7.8")) for _ in range(3)}) == 3


def test_request_counter_rate_over_a_window() -> None:
    clock = ManualClock()
    counter = RequestCounter(clock)
    assert counter.rate("default", "a", 15) == 0.0
    for _ in range(10):
        counter.count("default", "a")
        clock.advance(0.5)
    # 10 requests in the 5 s since the first one
    assert counter.rate("default", "a", 15) == pytest.approx(2.0)
    clock.advance(30)
    assert counter.rate("default", "a", 15) == 0.0
    assert counter.total("default", "a") == 10


def test_port_specs_parse_like_kubectl() -> None:
    assert parse_port_spec("8888:80") == (8888, "80")
    assert parse_port_spec("8080") == (8080, "8080")
    assert parse_port_spec(":80") == (0, "80")
    assert parse_port_spec("9000:http") == (9000, "http")
    with pytest.raises(UsageError):
        parse_port_spec("x:80")


# -- traffic -------------------------------------------------------------------------------


@async_test
async def test_node_port_round_robins_over_ready_pods() -> None:
    bed = Bed()
    try:
        for name in ("a", "b", "c"):
            bed.pod(name)
            await bed.serve(name, 80)
        port = node_port_service(bed)
        assert bed.sync() is None
        answers = [await ask(port) for _ in range(9)]
        assert Counter(answers) == {"a:80": 3, "b:80": 3, "c:80": 3}
        assert answers[:3] == sorted(answers[:3])  # one after the other, in endpoint order
        assert bed.proxy.requests.total("default", "a") == 3
    finally:
        await bed.close()


@async_test
async def test_a_pod_that_stops_being_ready_leaves_the_rotation() -> None:
    bed = Bed()
    try:
        for name in ("a", "b"):
            bed.pod(name)
            await bed.serve(name, 80)
        port = node_port_service(bed)
        bed.sync()
        assert {await ask(port) for _ in range(4)} == {"a:80", "b:80"}
        bed.set_ready("b", False)
        bed.sync()
        subset = bed.api.get("endpoints", "web", namespace="default")["subsets"][0]
        assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["b"]
        assert {await ask(port) for _ in range(6)} == {"a:80"}
        bed.api.delete("pods", "a", namespace="default", grace_period_seconds=0)
        bed.set_ready("b", True)
        bed.sync()
        assert {await ask(port) for _ in range(3)} == {"b:80"}
    finally:
        await bed.close()


@async_test
async def test_no_ready_endpoint_resets_the_connection() -> None:
    bed = Bed()
    try:
        bed.pod("a", ready=False)
        await bed.serve("a", 80)
        port = node_port_service(bed)
        bed.sync()
        assert await ask(port) == ""
    finally:
        await bed.close()


@async_test
async def test_client_ip_affinity_sticks_until_the_pod_leaves() -> None:
    bed = Bed()
    try:
        for name in ("a", "b", "c"):
            bed.pod(name)
            await bed.serve(name, 80)
        port = node_port_service(
            bed, sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}}
        )
        bed.sync()
        answers = {await ask(port) for _ in range(6)}
        assert len(answers) == 1
        (first,) = answers
        bed.set_ready(first.split(":")[0], False)
        bed.sync()
        again = {await ask(port) for _ in range(4)}
        assert len(again) == 1 and again != answers
    finally:
        await bed.close()


@async_test
async def test_new_connections_avoid_a_dead_pod_while_a_live_one_exists() -> None:
    bed = Bed()
    try:
        for name in ("a", "b", "c"):
            bed.pod(name)
            await bed.serve(name, 80)
        bed.pod("d")
        await bed.serve("d", 80, mute=True)  # accepts and closes without a byte (docker-proxy)
        port = node_port_service(bed)
        bed.sync()
        await bed.kill("a", 80)  # dead, still listed as ready
        bed.addresses.pop(("default", "c", 80))  # not published: unreachable
        answers = [await ask(port) for _ in range(12)]
        assert set(answers) == {"b:80"}, answers
        # the dead and the mute are tried after the live one from now on
        assert bed.proxy.routes["default/web:"].suspects
    finally:
        await bed.close()


@async_test
async def test_named_target_ports_and_multi_port_services() -> None:
    bed = Bed()
    try:
        ports = [{"name": "web", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]
        bed.pod("a", ports=ports)
        await bed.serve("a", 8080)
        await bed.serve("a", 9090)
        web, metrics = free_port(), free_port()
        node_port_service(
            bed,
            ports=[
                {"name": "http", "port": 80, "targetPort": "web", "nodePort": web},
                {"name": "prom", "port": 9000, "targetPort": "metrics", "nodePort": metrics},
            ],
        )
        bed.sync()
        assert await ask(web) == "a:8080"
        assert await ask(metrics) == "a:9090"
        assert bed.proxy.listening("default", "web") == {80: web, 9000: metrics}
    finally:
        await bed.close()


@async_test
async def test_a_node_port_held_by_another_process_is_a_clear_error_then_opens() -> None:
    bed = Bed()
    try:
        bed.pod("a")
        await bed.serve("a", 80)
        port = free_port()
        holder = socket.socket()
        holder.bind(("127.0.0.1", port))
        holder.listen()
        node_port_service(bed, ports=[{"name": "http", "port": 80, "targetPort": "http", "nodePort": port}])
        assert bed.sync() == 5.0  # looks again later
        (message,) = bed.warnings("FailedOpenPort")
        assert message == (
            f'can\'t open "nodePort for default/web:http" (127.0.0.1:{port}/tcp), skipping this nodePort: '
            f"listen tcp4 127.0.0.1:{port}: bind: address already in use"
        )
        assert bed.sync() == 5.0 and len(bed.warnings("FailedOpenPort")) == 1  # said once
        holder.close()
        assert bed.sync() is None
        assert await ask(port) == "a:80"
    finally:
        await bed.close()


@async_test
async def test_load_balancer_gets_loopback_at_once_and_serves_on_its_port() -> None:
    bed = Bed()
    try:
        bed.pod("a")
        await bed.serve("a", 80)
        lb_port = free_port(40000, 50000)
        node = free_port()
        bed.service(type="LoadBalancer", ports=[{"port": lb_port, "targetPort": "http", "nodePort": node}])
        bed.sync()
        svc = bed.api.get("services", "web", namespace="default")
        assert svc["status"]["loadBalancer"] == {"ingress": [{"ip": "127.0.0.1", "ipMode": "VIP"}]}
        reasons = [e["reason"] for e in bed.api.list("events", namespace="default")["items"]]
        assert reasons.count("EnsuringLoadBalancer") == 1 and reasons.count("EnsuredLoadBalancer") == 1
        assert await ask(lb_port) == "a:80"
        assert await ask(node) == "a:80"
        # back to ClusterIP: the ingress goes, and so do the listeners
        svc["spec"]["type"] = "ClusterIP"
        for field in ("allocateLoadBalancerNodePorts", "externalTrafficPolicy"):
            svc["spec"].pop(field, None)
        for p in svc["spec"]["ports"]:
            p.pop("nodePort", None)
        bed.api.update(svc)
        bed.sync()
        assert bed.api.get("services", "web", namespace="default")["status"]["loadBalancer"] == {}
        assert bed.proxy.listener_count() == 0
    finally:
        await bed.close()


@async_test
async def test_a_simulated_cluster_proxy_writes_status_but_opens_nothing() -> None:
    bed = Bed()
    bed.proxy.listen = False
    bed.pod("a")
    bed.service(type="LoadBalancer", ports=[{"port": free_port(40000, 50000), "targetPort": "http"}])
    assert bed.sync() is None
    assert (
        bed.api.get("services", "web", namespace="default")["status"]["loadBalancer"]["ingress"][0]["ip"]
        == "127.0.0.1"
    )
    assert bed.proxy.listener_count() == 0


# -- port-forward ------------------------------------------------------------------------------


@async_test
async def test_port_forward_to_a_pod_and_to_a_service_across_pod_replacement() -> None:
    bed = Bed()
    forwards = PortForwarder(bed.api, bed.clock, bed.proxy)
    try:
        bed.pod("a")
        await bed.serve("a", 80)
        bed.service()  # ClusterIP
        bed.sync()
        (to_pod,) = await forwards.forward("default", "pod/a", [":http"])
        assert to_pod.line() == f"Forwarding from 127.0.0.1:{to_pod.local_port} -> 80"
        assert await ask(to_pod.local_port) == "a:80"
        (to_svc,) = await forwards.forward("default", "svc/web", [":80"])
        assert to_svc.line().endswith("-> 80")
        assert await ask(to_svc.local_port) == "a:80"
        # the pod is replaced by another: the service forward follows, the pod forward has nothing
        bed.api.delete("pods", "a", namespace="default", grace_period_seconds=0)
        await bed.kill("a", 80)
        bed.pod("b")
        await bed.serve("b", 80)
        bed.sync()
        assert await ask(to_svc.local_port) == "b:80"
        assert await ask(to_pod.local_port) == ""
        with pytest.raises(BadRequest, match="unable to listen on any of the requested ports"):
            await forwards.forward("default", "pod/b", [f"{to_svc.local_port}:80"])
        assert [f.target for f in forwards.forwards()] == ["pod/a", "service/web"]
        stopped = await forwards.stop("svc/web")
        assert [f.target for f in stopped] == ["service/web"]
        assert await ask_refused(to_svc.local_port)
        assert bed.proxy.requests.total("default", "b") == 1
    finally:
        await forwards.close()
        await bed.close()


async def ask_refused(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@async_test
async def test_port_forward_refuses_a_pod_that_is_not_running() -> None:
    bed = Bed()
    forwards = PortForwarder(bed.api, bed.clock, bed.proxy)
    bed.api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        }
    )
    with pytest.raises(BadRequest) as info:
        await forwards.forward("default", "pod/p", ["8080:80"])
    assert (
        str(info.value) == "error: unable to forward port because pod is not running. Current status=Pending"
    )
    off = PortForwarder(bed.api, bed.clock, bed.proxy, available=False)
    with pytest.raises(BadRequest, match="simulated runtime"):
        await off.forward("default", "pod/p", ["8080:80"])


class ClusterNetwork(Runtime):
    """A runtime with a cluster network, as kube-proxy sees one: it records what it is told."""

    cluster_dns = True

    def __init__(self, fail: str = "") -> None:
        self.synced: list[ServiceConfig] = []
        self.removed: list[tuple[str, str]] = []
        self.fail = fail

    async def sync_service(self, config: ServiceConfig) -> None:
        if self.fail:
            raise ImagePullError(self.fail)
        self.synced.append(config)

    async def remove_service(self, namespace: str, name: str) -> None:
        self.removed.append((namespace, name))


@async_test
async def test_the_cluster_network_gets_each_service_with_its_ready_endpoints() -> None:
    bed = Bed()
    network = ClusterNetwork()
    bed.proxy = ServiceProxy(bed.api, bed.clock, resolver=bed.resolve, runtime=network)
    try:
        bed.pod("a", ports=[{"name": "http", "containerPort": 8080}])
        bed.pod("b", ports=[{"name": "http", "containerPort": 8080}], ready=False)
        svc = bed.service(ports=[{"name": "web", "port": 80, "targetPort": "http"}])
        bed.service("db", clusterIP="None")  # headless: the pods' own names, no forwarder
        bed.sync()
        bed.sync("db")
        await asyncio.sleep(0)
        (config,) = network.synced
        assert (config.namespace, config.name, config.cluster_ip) == (
            "default",
            "web",
            svc["spec"]["clusterIP"],
        )
        assert config.dns_name == "web.default.svc.cluster.local"
        assert [(p.name, p.port, p.endpoints) for p in config.ports] == [("web", 80, (("10.244.0.2", 8080),))]
        bed.sync()  # nothing changed: nothing sent
        await asyncio.sleep(0)
        assert len(network.synced) == 1
        bed.set_ready("b", True)
        bed.sync()
        await asyncio.sleep(0)
        assert network.synced[-1].ports[0].endpoints == (("10.244.0.2", 8080), ("10.244.0.3", 8080))
        bed.api.delete("services", "web", namespace="default")
        bed.proxy.sync("default/web")
        await asyncio.sleep(0)
        assert network.removed == [("default", "web")]
    finally:
        await bed.close()


@async_test
async def test_a_service_the_cluster_network_cannot_serve_gets_a_warning_event() -> None:
    bed = Bed()
    network = ClusterNetwork(fail='failed to pull "busybox:1.36": no registry')
    bed.proxy = ServiceProxy(bed.api, bed.clock, resolver=bed.resolve, runtime=network)
    try:
        bed.pod("a")
        svc = bed.service()
        bed.sync()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        (message,) = bed.warnings("FailedInClusterAddress")
        assert message == (
            f"{svc['spec']['clusterIP']} (web.default.svc.cluster.local) does not answer inside the "
            'cluster network: failed to pull "busybox:1.36": no registry'
        )
        # Tried again later (rate limited), and the same failure is not reported twice.
        assert bed.proxy.queue.pending()
        bed.sync()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert len(bed.warnings("FailedInClusterAddress")) == 1
    finally:
        await bed.close()
