"""``kubectl port-forward`` in the background, on the control plane's loop. Does I/O (sockets).

``PortForwarder.forward(namespace, "svc/web", ["8888:80"])`` opens a listener on
127.0.0.1:8888 (``addresses`` chooses others, as ``--address`` does) and returns at once;
the kernel is never blocked. Each accepted connection is relayed by
:class:`~nbcluster.control.proxy.Listener` to:

* ``pod/NAME`` (or ``NAME``): that pod's port (a number or a named container port), looked
  up again for every connection, so a pod recreated under the same name (a StatefulSet's)
  is found again;
* ``svc/NAME``: the Service port's ready endpoints through the proxy's route (round-robin,
  session affinity, dead backends skipped), so the forward keeps working while pods are
  replaced -- kubectl itself would stick to the one pod it picked at start;
* ``deploy/NAME``, ``rs/NAME``, ``sts/NAME``, ``ds/NAME``, ``job/NAME``, ``rc/NAME``: the
  workload's ready pods (by its selector), round-robin, per connection.

Every relayed connection counts as a request of its pod (the proxy's counter). The lines
printed are kubectl's: ``Forwarding from 127.0.0.1:8888 -> 80``; errors too
(``unable to listen on any of the requested ports: [{8888 80}]``, ``unable to forward
port because pod is not running. Current status=Pending``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nbcluster.api import resources
from nbcluster.api.selectors import LabelSelector
from nbcluster.control.apiserver import Selector
from nbcluster.control.proxy import LOOPBACK, Backend, Listener, ServiceProxy, bind_socket
from nbcluster.errors import BadRequest, NotFound, UnknownResource, UsageError
from nbcluster.util.clock import Clock

__all__ = ["Forward", "PortForwarder", "parse_port_spec"]

Obj = dict[str, Any]

_WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}


@dataclass
class Forward:
    """One background forward: a local address and port to one remote port of a target."""

    id: int
    namespace: str
    kind: str
    name: str
    address: str
    local_port: int
    remote: str
    shown_remote: str
    started: datetime
    listener: Listener = field(repr=False)

    @property
    def target(self) -> str:
        return f"{_SHORT.get(self.kind, self.kind.lower())}/{self.name}"

    @property
    def connections(self) -> int:
        return self.listener.relayed

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.local_port}"

    def line(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"Forwarding from {host}:{self.local_port} -> {self.shown_remote}"


_SHORT = {
    "Pod": "pod",
    "Service": "service",
    "Deployment": "deployment",
    "ReplicaSet": "replicaset",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "Job": "job",
    "ReplicationController": "replicationcontroller",
}


def parse_port_spec(spec: str) -> tuple[int, str]:
    """``8888:80`` -> (8888, "80"); ``8888`` -> (8888, "8888"); ``:80`` -> (0, "80")."""
    local, sep, remote = spec.partition(":")
    if not sep:
        remote = local
    if not remote:
        raise UsageError(f"error: Error parsing remote port number: {spec!r}")
    if local == "":
        local_port = 0
    else:
        try:
            local_port = int(local)
        except ValueError as exc:
            raise UsageError(
                f"error: Error parsing local port '{local}': strconv.ParseUint: parsing \"{local}\": invalid syntax"
            ) from exc
        if not 0 <= local_port <= 65535:
            raise UsageError(f"error: Error parsing local port '{local}': out of range")
    if remote.isdigit():
        number = int(remote)
        if not 0 < number <= 65535:
            raise UsageError(f"error: Error parsing remote port '{remote}': out of range")
        if not sep:
            local_port = number
    elif not sep:
        raise UsageError(f"error: Error parsing local port '{local}': a named port needs LOCAL:NAME")
    return local_port, remote


def _pod_ready(pod: Obj) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _container_port(pod: Obj, remote: str) -> int | None:
    if remote.isdigit():
        return int(remote)
    for container in pod["spec"].get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == remote:
                return int(port["containerPort"])
    return None


class PortForwarder:
    """The background port-forwards of one cluster (see the module docstring)."""

    def __init__(self, api: Any, clock: Clock, proxy: ServiceProxy, *, available: bool = True) -> None:
        self.api = api
        self.clock = clock
        self.proxy = proxy
        self.available = available
        self._forwards: dict[int, Forward] = {}
        self._ids = itertools.count(1)
        self._rr = itertools.count()

    # -- starting --------------------------------------------------------------------

    async def forward(
        self,
        namespace: str,
        target: str,
        ports: list[str],
        addresses: list[str] | None = None,
    ) -> list[Forward]:
        """Open the forwards ``ports`` (``[LOCAL:]REMOTE``) to ``target``; call on the loop."""
        if not self.available:
            raise BadRequest(
                "error: port-forward needs a runtime that runs real processes: this cluster runs on the "
                "simulated runtime, where pods have nothing to connect to"
            )
        if not ports:
            raise UsageError("error: TYPE/NAME and list of ports are required for port-forward")
        kind, name, obj = self._target(namespace, target)
        specs = [parse_port_spec(p) for p in ports]
        shown = [self._shown_remote(kind, obj, namespace, remote) for _local, remote in specs]
        hosts = _addresses(addresses)
        opened: list[Forward] = []
        for (local, remote), shown_remote in zip(specs, shown, strict=True):
            made = []
            for host in hosts:
                try:
                    sock = bind_socket(host, local)
                except OSError:
                    continue
                listener = Listener(
                    sock,
                    loop=_loop(),
                    candidates=self._chooser(kind, name, namespace, remote),
                    resolve=self.proxy.resolve,
                    on_connected=self._on_connected(kind, name, namespace, remote),
                    on_suspect=self.proxy.mark_suspect,
                )
                listener.start()
                forward = Forward(
                    id=next(self._ids),
                    namespace=namespace,
                    kind=kind,
                    name=name,
                    address=host,
                    local_port=listener.port,
                    remote=remote,
                    shown_remote=shown_remote,
                    started=self.clock.now(),
                    listener=listener,
                )
                self._forwards[forward.id] = forward
                made.append(forward)
            if not made:
                for forward in opened:
                    await self._close(forward)
                raise BadRequest(
                    f"error: unable to listen on any of the requested ports: [{{{local} {remote}}}]"
                )
            opened += made
        return opened

    def _target(self, namespace: str, target: str) -> tuple[str, str, Obj]:
        if "/" in target:
            word, _, name = target.partition("/")
            info = resources.resolve(word)
        else:
            info, name = resources.resolve("pods"), target
        if info.kind != "Pod" and info.kind != "Service" and info.kind not in _WORKLOADS:
            raise UsageError(f"error: cannot attach to {info.kubectl_name}: not implemented")
        obj = self.api.cached(info, name, namespace)
        if obj is None:
            raise NotFound(f'{info.group_resource} "{name}" not found')
        if info.kind == "Pod":
            phase = (obj.get("status") or {}).get("phase") or "Pending"
            if phase != "Running":
                raise BadRequest(
                    f"error: unable to forward port because pod is not running. Current status={phase}"
                )
        return info.kind, name, obj

    def _shown_remote(self, kind: str, obj: Obj, namespace: str, remote: str) -> str:
        """The container port kubectl prints after ``->``."""
        if kind == "Pod":
            port = _container_port(obj, remote)
            if port is None:
                raise BadRequest(
                    f"error: Pod '{obj['metadata']['name']}' does not have a named port '{remote}'"
                )
            return str(port)
        if kind == "Service":
            sp = _service_port(obj, remote)
            if sp is None:
                raise BadRequest(
                    f"error: Service {obj['metadata']['name']} does not have a service port {remote}"
                )
            route = self.proxy.route(namespace, obj["metadata"]["name"], sp.get("port"))
            if route is not None and route.backends:
                return str(route.backends[0].port)
            target = sp.get("targetPort", sp.get("port"))
            return str(target)
        pods = self._workload_pods(namespace, obj)
        for pod in pods:
            port = _container_port(pod, remote)
            if port is not None:
                return str(port)
        return remote

    # -- per connection --------------------------------------------------------------

    def _chooser(self, kind: str, name: str, namespace: str, remote: str) -> Any:
        def pod_backend(client_ip: str) -> Iterator[Backend]:
            pod = self.api.cached("pods", name, namespace)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return
            port = _container_port(pod, remote)
            if port is not None:
                yield Backend(namespace, name, (pod.get("status") or {}).get("podIP") or "", port)

        def service_backends(client_ip: str) -> Iterator[Backend]:
            svc = self.api.cached("services", name, namespace)
            if svc is None:
                return iter(())
            sp = _service_port(svc, remote)
            route = self.proxy.route(namespace, name, sp.get("port")) if sp is not None else None
            return route.candidates(client_ip) if route is not None else iter(())

        def workload_backends(client_ip: str) -> Iterator[Backend]:
            obj = self.api.cached(resources.resolve(kind.lower()), name, namespace)
            if obj is None:
                return
            pods = [p for p in self._workload_pods(namespace, obj) if _pod_ready(p)]
            if not pods:
                return
            pods.sort(key=lambda p: p["metadata"]["name"])
            start = next(self._rr)
            for offset in range(len(pods)):
                pod = pods[(start + offset) % len(pods)]
                port = _container_port(pod, remote)
                if port is not None:
                    ip = (pod.get("status") or {}).get("podIP") or ""
                    yield Backend(namespace, pod["metadata"]["name"], ip, port)

        if kind == "Pod":
            return pod_backend
        if kind == "Service":
            return service_backends
        return workload_backends

    def _on_connected(self, kind: str, name: str, namespace: str, remote: str) -> Any:
        def connected(client_ip: str, backend: Backend) -> None:
            if kind == "Service":
                svc = self.api.cached("services", name, namespace)
                sp = _service_port(svc, remote) if svc is not None else None
                route = self.proxy.route(namespace, name, sp.get("port")) if sp is not None else None
                if route is not None:
                    route.connected(client_ip, backend)
            self.proxy.count(backend)

        return connected

    def _workload_pods(self, namespace: str, obj: Obj) -> list[Obj]:
        selector = (obj.get("spec") or {}).get("selector") or {}
        if "matchLabels" in selector or "matchExpressions" in selector:
            label_selector = LabelSelector.from_dict(selector)
        else:
            label_selector = LabelSelector.from_dict({"matchLabels": selector})
        if label_selector.is_empty():
            return []
        pods = self.api.cached_list("pods", namespace, Selector(label_selector))
        return [p for p in pods if not p["metadata"].get("deletionTimestamp")]

    # -- listing and stopping -----------------------------------------------------------

    def forwards(self) -> list[Forward]:
        return sorted(self._forwards.values(), key=lambda f: f.id)

    def find_service_forward(self, namespace: str, name: str, remote: str) -> Forward | None:
        for forward in self.forwards():
            if (forward.kind, forward.namespace, forward.name, forward.remote) == (
                "Service",
                namespace,
                name,
                remote,
            ) and forward.address == LOOPBACK:
                return forward
        return None

    async def stop(self, what: str | None = None, namespace: str | None = None) -> list[Forward]:
        """Stop the forwards of ``what``: all (None or ``all``), a local port, or TYPE/NAME."""
        chosen: list[Forward] = []
        for forward in self.forwards():
            if what in (None, "", "all"):
                chosen.append(forward)
            elif what.isdigit():
                if forward.local_port == int(what):
                    chosen.append(forward)
            else:
                word, _, name = what.partition("/") if "/" in what else ("pod", "", what)
                try:
                    kind = resources.resolve(word).kind
                except UnknownResource:
                    kind = word
                if (
                    forward.kind == kind
                    and forward.name == name
                    and (namespace is None or forward.namespace == namespace)
                ):
                    chosen.append(forward)
        for forward in chosen:
            await self._close(forward)
        return chosen

    async def _close(self, forward: Forward) -> None:
        self._forwards.pop(forward.id, None)
        forward.listener.close()

    async def close(self) -> None:
        for forward in list(self._forwards.values()):
            await self._close(forward)


def _service_port(svc: Obj, remote: str) -> Obj | None:
    for sp in (svc.get("spec") or {}).get("ports") or ():
        if str(sp.get("port")) == remote or (sp.get("name") and sp.get("name") == remote):
            return sp
    return None


def _addresses(addresses: list[str] | None) -> list[str]:
    """``--address`` values: comma lists; ``localhost`` is 127.0.0.1 (never another address)."""
    out: list[str] = []
    for entry in addresses or ["localhost"]:
        for part in entry.split(","):
            part = part.strip()
            if not part:
                continue
            host = LOOPBACK if part == "localhost" else part
            if host not in out:
                out.append(host)
    return out or [LOOPBACK]


def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()
