"""What the kubelet tells the runtime about a pod's DNS: resolv.conf search and options per
dnsPolicy/dnsConfig, the names other pods resolve to it, and hostPorts."""

from __future__ import annotations

from typing import Any

from tests.control.test_kubelet_support import Cluster, async_test, pod

Obj = dict[str, Any]


def sandbox_config(c: Cluster, name: str) -> Any:
    (config,) = [s.config for s in c.runtime._sandboxes.values() if s.config.name == name]
    return config


def with_spec(body: Obj, **spec: Any) -> Obj:
    body["spec"].update(spec)
    return body


@async_test
async def test_cluster_first_gets_kubernetes_search_list_and_ndots_5() -> None:
    async with Cluster() as c:
        c.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        await c.run_pod(pod("web", namespace="shop"))
        config = sandbox_config(c, "web")
        assert config.dns_search == ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")
        assert config.dns_options == ("ndots:5",)
        assert config.dns_names == ()  # the simulated runtime has no cluster network


@async_test
async def test_dns_policy_default_and_none_and_dns_config() -> None:
    async with Cluster() as c:
        await c.run_pod(with_spec(pod("node-dns"), dnsPolicy="Default"))
        config = sandbox_config(c, "node-dns")
        assert config.dns_search == () and config.dns_options == ()
        custom = {
            "searches": ["corp.example"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
        }
        await c.run_pod(with_spec(pod("tuned"), dnsConfig=custom))
        config = sandbox_config(c, "tuned")
        assert config.dns_search[-1] == "corp.example" and config.dns_search[0] == "default.svc.cluster.local"
        assert config.dns_options == ("ndots:2", "edns0")
        own = {"nameservers": ["192.0.2.53"], "searches": ["a.example"]}
        await c.run_pod(with_spec(pod("own"), dnsPolicy="None", dnsConfig=own))
        config = sandbox_config(c, "own")
        assert config.dns_search == ("a.example",) and config.dns_servers == ("192.0.2.53",)
        assert config.dns_options == ()


@async_test
async def test_a_runtime_with_a_cluster_network_gets_pod_and_headless_service_names() -> None:
    async with Cluster() as c:
        c.runtime.cluster_dns = True
        for name, cluster_ip in (("nginx", "None"), ("web", None)):
            spec: Obj = {"selector": {"app": "nginx"}, "ports": [{"port": 80}]}
            if cluster_ip:
                spec["clusterIP"] = cluster_ip
            c.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
        body = pod("web-0")
        body["metadata"]["labels"] = {"app": "nginx"}
        await c.run_pod(with_spec(body, hostname="web-0", subdomain="nginx"))
        assert sandbox_config(c, "web-0").dns_names == (
            "web-0.nginx.default.svc.cluster.local",
            "nginx.default.svc.cluster.local",
        )
        await c.run_pod(pod("other"))
        assert sandbox_config(c, "other").dns_names == ()


@async_test
async def test_host_ports_reach_the_sandbox_config() -> None:
    async with Cluster() as c:
        ports = [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 53, "protocol": "UDP"}]
        await c.run_pod(pod("hp", containers=[{"name": "app", "image": "busybox", "ports": ports}]))
        config = sandbox_config(c, "hp")
        assert config.host_ports == ((80, "TCP", 8080, ""),)
        assert (80, "TCP") in config.ports and (53, "UDP") in config.ports
