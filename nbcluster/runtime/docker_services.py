"""Services inside a cluster's Docker network: the in-cluster half of kube-proxy. Does I/O
(the Docker API through the runtime, files under the runtime's root directory).

Kubernetes gives each Service a virtual ClusterIP that iptables rewrites to a ready pod.
Without touching the host's netfilter we make the ClusterIP real instead: each Service gets
one small **forwarder container** on the cluster network whose address *is* the ClusterIP
(the network's lower half is the service CIDR, see :mod:`docker_network`) and whose network
alias is ``NAME.NAMESPACE.svc.cluster.local``. Docker's embedded DNS answers that name;
the pods' resolv.conf search list (``NS.svc.cluster.local svc.cluster.local cluster.local``,
``ndots:5``, as Kubernetes' ClusterFirst policy writes it) makes ``NAME`` and
``NAME.NAMESPACE`` resolve too.

The forwarder is busybox: one ``nc -ll -p PORT -e forward PORT`` per Service port; for each
connection ``forward`` picks the next ready endpoint (round-robin) from a file the runtime
rewrites atomically whenever the Service's endpoints change, and connects it with ``nc``.

Limits (documented for users): TCP only; ``sessionAffinity`` is honoured by the kernel's
proxy on 127.0.0.1, not inside the network; a connection that was already forwarded to a pod
keeps going there until it ends. The forwarder image is a setting (``busybox:1.36`` by
default, ``$NBCLUSTER_SERVICE_PROXY_IMAGE``; any image with ``sh`` and busybox ``nc -e``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import docker.errors

from nbcluster.runtime.docker_network import NetworkPlan
from nbcluster.runtime.docker_support import (
    LABEL_CLUSTER,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_SERVICE,
    LABEL_UID,
    docker_name,
)
from nbcluster.runtime.interface import ServiceConfig

__all__ = ["DEFAULT_SERVICE_PROXY_IMAGE", "FORWARD_SCRIPT", "ServiceForwarders", "endpoints_text"]

log = logging.getLogger("nbcluster.runtime.docker")

DEFAULT_SERVICE_PROXY_IMAGE = "busybox:1.36"
KIND_SERVICE = "service"

#: Run once per connection with the Service port as $1; stdin/stdout are the client.
FORWARD_SCRIPT = """#!/bin/sh
# nbcluster: forward one connection of a Service port to the next ready endpoint.
set -- $(cat "/nbcluster/endpoints-$1" 2>/dev/null)
[ "$#" -ge 2 ] || exit 1
count=$(( $# / 2 ))
turn=$(cat /tmp/turn 2>/dev/null || echo 0)
echo $(( turn + 1 )) > /tmp/turn
shift $(( (turn % count) * 2 ))
exec nc "$1" "$2"
"""


def endpoints_text(endpoints: tuple[tuple[str, int], ...]) -> str:
    """The endpoints file: ``IP PORT`` pairs, one per line."""
    return "".join(f"{ip} {port}\n" for ip, port in endpoints)


def forwarder_command(ports: tuple[int, ...]) -> list[str]:
    listeners = " ".join(f"nc -ll -p {port} -e /nbcluster/forward {port} &" for port in ports)
    # A shell as PID 1 ignores TERM unless it traps it.
    return ["sh", "-c", f"trap 'exit 0' TERM INT; {listeners} wait"]


class _Host(Protocol):
    """What the forwarders need of the Docker runtime."""

    cluster: str | None
    service_proxy_image: str

    @property
    def network_name(self) -> str: ...

    @property
    def root_dir(self) -> Path: ...

    @property
    def network_plan(self) -> NetworkPlan | None: ...

    @property
    def _api(self) -> Any: ...

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...

    async def _ensure_network(self) -> str: ...

    async def ensure_image(self, image: str, pull_policy: str) -> bool: ...

    def _labels(self, **extra: str) -> dict[str, str]: ...


@dataclass
class _Forwarder:
    container_id: str
    #: What the container was made for: (sorted ports, address); other wishes need a new one.
    shape: tuple[tuple[int, ...], str]


class ServiceForwarders:
    """The forwarder containers of one cluster, kept in line with its Services."""

    def __init__(self, host: _Host) -> None:
        self.host = host
        self._forwarders: dict[str, _Forwarder] = {}
        self._wanted: dict[str, ServiceConfig | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def directory(self, namespace: str, name: str) -> Path:
        return self.host.root_dir / "services" / docker_name(f"{namespace}_{name}")

    def container_name(self, namespace: str, name: str) -> str:
        return docker_name(f"nbcluster-{self.host.cluster}-svc-{namespace}-{name}")

    async def sync(self, config: ServiceConfig) -> None:
        """Write the endpoints; (re)make the forwarder when its ports or address changed."""
        key = f"{config.namespace}/{config.name}"
        self._wanted[key] = config
        async with self._locks.setdefault(key, asyncio.Lock()):
            wanted = self._wanted.get(key)
            if wanted is None:  # removed while we waited
                return
            await self._apply(key, wanted)

    async def remove(self, namespace: str, name: str) -> None:
        key = f"{namespace}/{name}"
        self._wanted[key] = None
        async with self._locks.setdefault(key, asyncio.Lock()):
            if self._wanted.get(key) is not None:  # wanted again while we waited
                return
            self._wanted.pop(key, None)
            forwarder = self._forwarders.pop(key, None)
            name_or_id = forwarder.container_id if forwarder else self.container_name(namespace, name)
            await self.host._call(_remove_quietly, self.host._api, name_or_id)
            shutil.rmtree(self.directory(namespace, name), ignore_errors=True)

    async def remove_stale(self) -> None:
        """At start: forwarders an earlier kernel of this cluster left go; kube-proxy's first
        sync makes the ones its Services want (a moment without in-cluster names, no orphans)."""
        api = self.host._api
        label = f"{LABEL_CLUSTER}={self.host.cluster}"
        found = await self.host._call(api.containers, all=True, filters={"label": label})
        stale = [c["Id"] for c in found if is_forwarder(c.get("Labels") or {}, self.host.cluster)]
        await asyncio.gather(*(self.host._call(_remove_quietly, api, cid) for cid in stale))

    def forget(self) -> None:
        """The runtime removed everything of the cluster (close)."""
        self._forwarders.clear()
        self._wanted.clear()

    async def _apply(self, key: str, config: ServiceConfig) -> None:
        directory = self.directory(config.namespace, config.name)
        await asyncio.to_thread(_write_files, directory, config)
        ports = tuple(sorted({p.port for p in config.ports}))
        plan = self.host.network_plan
        address = config.cluster_ip if plan is not None and plan.holds_service_ip(config.cluster_ip) else ""
        shape = (ports, address)
        current = self._forwarders.get(key)
        if current is not None and current.shape == shape:
            return
        if current is not None:
            await self.host._call(_remove_quietly, self.host._api, current.container_id)
            del self._forwarders[key]
        if not ports:
            return
        if not address:
            log.warning(
                "service %s: ClusterIP %s is outside the network's service range %s; "
                "its name resolves to another address",
                key,
                config.cluster_ip,
                plan.service_cidr if plan else "?",
            )
        await self.host._ensure_network()
        image = self.host.service_proxy_image
        await self.host.ensure_image(image, "IfNotPresent")
        container_id = await self.host._call(self._create_blocking, config, directory, ports, address, image)
        self._forwarders[key] = _Forwarder(container_id, shape)

    def _create_blocking(
        self, config: ServiceConfig, directory: Path, ports: tuple[int, ...], address: str, image: str
    ) -> str:
        api = self.host._api
        name = self.container_name(config.namespace, config.name)
        # A forwarder of an earlier kernel (same cluster, same Service) holds the address.
        _remove_quietly(api, name)
        host_config = api.create_host_config(
            network_mode=self.host.network_name,
            binds={str(directory): {"bind": "/nbcluster", "mode": "ro"}},
            # Back by itself after a daemon restart: nobody else watches a forwarder.
            restart_policy={"Name": "unless-stopped"},
            init=False,
        )
        endpoint = api.create_endpoint_config(ipv4_address=address or None, aliases=[config.dns_name])
        created = api.create_container(
            image,
            command=forwarder_command(ports),
            name=name,
            # No hostname: Docker's DNS answers a container's hostname network-wide, and a
            # Service's short name must resolve only in its own namespace (search list).
            labels=self.host._labels(
                **{
                    LABEL_KIND: KIND_SERVICE,
                    LABEL_NAMESPACE: config.namespace,
                    LABEL_SERVICE: config.name,
                    LABEL_UID: config.uid,
                }
            ),
            host_config=host_config,
            networking_config=api.create_networking_config({self.host.network_name: endpoint}),
            detach=True,
        )
        try:
            api.start(created["Id"])
        except Exception:
            _remove_quietly(api, created["Id"])
            raise
        return str(created["Id"])


def _write_files(directory: Path, config: ServiceConfig) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "forward"
    if not script.exists():
        _replace(script, FORWARD_SCRIPT, mode=0o755)
    wanted = {f"endpoints-{port.port}" for port in config.ports}
    for port in config.ports:
        _replace(directory / f"endpoints-{port.port}", endpoints_text(port.endpoints), mode=0o644)
    for stale in directory.glob("endpoints-*"):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)


def _replace(path: Path, text: str, *, mode: int) -> None:
    """Write via rename, so a connection reading the file never sees half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.chmod(temporary, mode)
    temporary.replace(path)


def _remove_quietly(api: Any, name_or_id: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        api.remove_container(name_or_id, force=True)


def is_forwarder(labels: dict[str, str], cluster: str | None) -> bool:
    return labels.get(LABEL_CLUSTER) == cluster and labels.get(LABEL_KIND) == KIND_SERVICE
