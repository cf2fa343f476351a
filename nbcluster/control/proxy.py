"""kube-proxy in the kernel: Services reachable on 127.0.0.1. Does I/O (TCP sockets on loopback).

:class:`ServiceProxy` is a controller on the Service and Endpoints objects. For every
TCP port of a Service it keeps a :class:`Route`: the **ready** endpoints the endpoints
controller lists (``subsets[].addresses`` with their ``targetRef`` pod and the port the
Service's ``targetPort`` resolved to, named ports included; ``notReadyAddresses`` never
receive traffic). A connection picks a backend round-robin, or the client's previous
backend under ``sessionAffinity: ClientIP`` (``timeoutSeconds``, default 10800).

Where traffic enters, always on 127.0.0.1 (never another address):

* ``NodePort`` (and ``LoadBalancer``) Services listen on their ``nodePort``. A port held
  by something else is a Warning event ``FailedOpenPort`` worded like kube-proxy
  (``can't open "nodePort for default/web:http" ...``); the proxy tries again every few
  seconds.
* ``LoadBalancer`` Services get ``status.loadBalancer.ingress: [{ip: 127.0.0.1}]`` in the
  proxy's first sync, milliseconds after they are created (no cloud to wait for; events
  ``EnsuringLoadBalancer`` / ``EnsuredLoadBalancer`` as a cloud's service controller
  writes them), and listen on their ``port`` when it is free (else ``FailedOpenPort`` and
  a retry).
* ClusterIP Services are reached through port-forward (:mod:`nbcluster.control.portforward`)
  or ``%kube service NAME --url``, which reuse :class:`Listener` and the routes here.

How a backend is reached is not the proxy's business: ``resolver(namespace, pod, port)``
answers the loopback address the runtime published for that pod port (the kubelet
manager's :meth:`endpoint_address`), or None. Connections are relayed with raw
non-blocking sockets on the loop's selector (no task or transport per connection: one
``recv`` and one ``send`` per readiness event), with flow control both ways and half-close.
Without a ready endpoint a connection is reset at once, as kube-proxy rejects it.

A new connection never goes to a dead pod while a live one exists: a backend whose
connect fails (refused, unreachable, timeout, no published port) is skipped and marked
suspect for :attr:`ServiceProxy.suspect_seconds`; the next candidate is tried at once.
Docker's userland proxy accepts a connection for a container that has just died and then
closes it without a byte: when an upstream closes silently within
:data:`SILENT_CLOSE_SECONDS` of connecting, the bytes the client sent (at most
:data:`REPLAY_LIMIT`) are replayed to the next backend. The rare cost: a server that reads
a request and closes without answering sees it once per backend.

Requests per second per pod are counted here (one request = one relayed TCP connection,
as an L4 proxy sees traffic; exact for clients that do not keep connections alive) and
read by the metrics source as the ``requests_per_second`` pods metric.

Limits: TCP only (UDP/SCTP ports are ignored); ``externalTrafficPolicy`` and
``internalTrafficPolicy`` are not distinguished (every node is this machine); a ClusterIP
address is not routable from the notebook (use port-forward or ``service --url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from nbcluster.control.controllers.base import Controller, split_key
from nbcluster.control.events import EventRecorder, EventType
from nbcluster.errors import NbClusterError, NotFound
from nbcluster.runtime.interface import Runtime, ServiceConfig, ServicePortConfig
from nbcluster.store import WatchEvent
from nbcluster.util.clock import Clock

__all__ = [
    "LOOPBACK",
    "REPLAY_LIMIT",
    "SILENT_CLOSE_SECONDS",
    "Backend",
    "Listener",
    "RequestCounter",
    "Resolver",
    "Route",
    "ServiceProxy",
    "bind_socket",
    "port_is_free",
]

log = logging.getLogger("nbcluster.proxy")

Obj = dict[str, Any]

LOOPBACK = "127.0.0.1"
#: An upstream that closes without a byte this soon after connecting is treated as dead.
SILENT_CLOSE_SECONDS = 1.0
#: Client bytes kept for a replay to the next backend (beyond: no replay).
REPLAY_LIMIT = 64 * 1024
#: Seconds a connect may take before the next backend is tried.
CONNECT_TIMEOUT = 3.0
#: sessionAffinityConfig.clientIP.timeoutSeconds default (3 hours).
DEFAULT_AFFINITY_SECONDS = 10800
#: How long a LoadBalancer or NodePort listener that could not open waits before trying again.
RETRY_OPEN_SECONDS = 5.0

#: ``resolver(namespace, pod, port)`` -> (host, port) on loopback, or None when unreachable.
Resolver = Callable[[str, str, int], "tuple[str, int] | None"]


@dataclass(frozen=True, slots=True)
class Backend:
    """One endpoint of one Service port: a pod, its IP and the (resolved) target port."""

    namespace: str
    pod: str
    ip: str
    port: int


# ------------------------------------------------------------------------------ routes


class Route:
    """The ready backends of one Service port, with round-robin and ClientIP affinity."""

    __slots__ = ("_affinity", "_rr", "affinity_seconds", "backends", "clock", "key", "suspects")

    def __init__(
        self,
        key: str,
        backends: tuple[Backend, ...],
        clock: Clock,
        suspects: dict[Backend, float],
        affinity_seconds: float | None = None,
    ) -> None:
        self.key = key
        self.backends = backends
        self.clock = clock
        self.suspects = suspects
        self.affinity_seconds = affinity_seconds
        self._rr = 0
        self._affinity: dict[str, tuple[Backend, float]] = {}

    def update(self, backends: tuple[Backend, ...], affinity_seconds: float | None) -> None:
        self.backends = backends
        self.affinity_seconds = affinity_seconds
        if affinity_seconds is None:
            self._affinity.clear()
        elif self._affinity:
            live = set(backends)
            self._affinity = {ip: entry for ip, entry in self._affinity.items() if entry[0] in live}

    def _suspect(self, backend: Backend, now: float) -> bool:
        until = self.suspects.get(backend)
        if until is None:
            return False
        if until <= now:
            self.suspects.pop(backend, None)
            return False
        return True

    def candidates(self, client_ip: str) -> Iterator[Backend]:
        """Backends to try, best first: the affine one, then round-robin, suspects last."""
        backends = self.backends
        count = len(backends)
        if count == 0:
            return
        now = self.clock.monotonic()
        first: Backend | None = None
        if self.affinity_seconds is not None:
            entry = self._affinity.get(client_ip)
            if (
                entry is not None
                and now - entry[1] <= self.affinity_seconds
                and entry[0] in backends
                and not self._suspect(entry[0], now)
            ):
                first = entry[0]
                yield first
        start = self._rr % count
        self._rr = start + 1
        later: list[Backend] = []
        for offset in range(count):
            backend = backends[(start + offset) % count]
            if backend is first:
                continue
            if self.suspects and self._suspect(backend, now):
                later.append(backend)
                continue
            yield backend
        yield from later

    def connected(self, client_ip: str, backend: Backend) -> None:
        if self.affinity_seconds is not None:
            self._affinity[client_ip] = (backend, self.clock.monotonic())


# ------------------------------------------------------------------------------ request counting


class RequestCounter:
    """Connections relayed per pod in one-second buckets; :meth:`rate` over a window."""

    def __init__(self, clock: Clock, *, keep_seconds: float = 120.0, max_pods: int = 10_000) -> None:
        self.clock = clock
        self.keep_seconds = keep_seconds
        self.max_pods = max_pods
        self._buckets: dict[tuple[str, str], deque[list[int]]] = {}
        self._first: dict[tuple[str, str], float] = {}
        self._totals: dict[tuple[str, str], int] = {}

    def count(self, namespace: str, pod: str) -> None:
        key = (namespace, pod)
        now = self.clock.monotonic()
        second = int(now)
        buckets = self._buckets.get(key)
        if buckets is None:
            if len(self._buckets) >= self.max_pods:
                self._prune(second)
            buckets = self._buckets[key] = deque()
            self._first[key] = now
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += 1
        else:
            buckets.append([second, 1])
            horizon = second - self.keep_seconds
            while buckets and buckets[0][0] < horizon:
                buckets.popleft()
        self._totals[key] = self._totals.get(key, 0) + 1

    def _prune(self, second: int) -> None:
        """Forget pods that have had no request for ``keep_seconds`` (deleted ones, mostly)."""
        horizon = second - self.keep_seconds
        for key in [k for k, b in self._buckets.items() if not b or b[-1][0] < horizon]:
            self.forget(*key)

    def total(self, namespace: str, pod: str) -> int:
        return self._totals.get((namespace, pod), 0)

    def rate(self, namespace: str, pod: str, window: float) -> float:
        """Connections per second over the last ``window`` seconds (0 for a pod never reached)."""
        key = (namespace, pod)
        buckets = self._buckets.get(key)
        if not buckets:
            return 0.0
        now = self.clock.monotonic()
        since = now - window
        total = sum(count for second, count in buckets if second + 1 > since)
        span = max(1.0, min(window, now - self._first[key]))
        return total / span

    def forget(self, namespace: str, pod: str) -> None:
        key = (namespace, pod)
        self._buckets.pop(key, None)
        self._first.pop(key, None)
        self._totals.pop(key, None)


# ------------------------------------------------------------------------------ the relay


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: an ephemeral one). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def port_is_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be listened on right now (no one else holds it)."""
    try:
        bind_socket(host, port).close()
    except OSError:
        return False
    return True


_LINGER_RESET = struct.pack("ii", 1, 0)
_WOULD_BLOCK = (BlockingIOError, InterruptedError)
_CHUNK = 256 * 1024


class _Conn:
    """One relayed connection: raw non-blocking sockets driven by the loop's selector.

    No task, transport or protocol objects: the client socket is read only once a backend
    accepted (or the replay buffer holds what it sent), each direction is one ``recv`` and
    one ``send`` per readiness event, a partial send parks the rest and stops reading the
    other side until it drains (flow control), and EOF is passed on with ``shutdown``.
    """

    __slots__ = (
        "backend",
        "candidates",
        "client",
        "client_eof",
        "client_ip",
        "closed",
        "connected_at",
        "got_data",
        "listener",
        "loop",
        "replay",
        "timer",
        "to_client",
        "to_up",
        "up",
        "up_eof",
    )

    def __init__(self, listener: Listener, client: socket.socket, client_ip: str) -> None:
        self.listener = listener
        self.loop = listener.loop
        self.client = client
        self.client_ip = client_ip
        self.candidates = listener.candidates(client_ip)
        self.up: socket.socket | None = None
        self.backend: Backend | None = None
        self.replay: bytearray | None = bytearray()
        self.to_up = bytearray()
        self.to_client = bytearray()
        self.client_eof = False
        self.up_eof = False
        self.got_data = False
        self.closed = False
        self.connected_at = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # -- connecting ----------------------------------------------------------------------

    def next_backend(self) -> None:
        listener = self.listener
        for backend in self.candidates:
            address = listener.resolve(backend)
            if address is None:
                listener.mark_suspect(backend)
                continue
            up = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_STREAM)
            up.setblocking(False)
            error = up.connect_ex(address)
            if error not in (0, errno.EINPROGRESS):
                up.close()
                listener.mark_suspect(backend)
                continue
            self.up = up
            self.backend = backend
            self.loop.add_writer(up.fileno(), self._connected)
            if not address[0].startswith("127."):
                self.timer = self.loop.call_later(CONNECT_TIMEOUT, self._connect_timeout)
            return
        self.reset()

    def _connect_timeout(self) -> None:
        self.timer = None
        self._drop_upstream()
        self.next_backend()

    def _drop_upstream(self) -> None:
        up, self.up = self.up, None
        if up is not None:
            fd = up.fileno()
            self.loop.remove_writer(fd)
            self.loop.remove_reader(fd)
            up.close()
        if self.backend is not None:
            self.listener.mark_suspect(self.backend)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _connected(self) -> None:
        up = self.up
        if up is None or self.closed:
            return
        self.loop.remove_writer(up.fileno())
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if up.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self._drop_upstream()
            self.next_backend()
            return
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.backend is not None
        self.connected_at = self.loop.time()
        self.listener.connected(self.client_ip, self.backend)
        self.up_eof = False
        self.got_data = False
        self.to_up = bytearray(self.replay or b"")
        self.loop.add_reader(up.fileno(), self._from_up)
        if self.to_up:
            self._flush_up()
        elif self.client_eof:
            _shutdown(up)
        if not self.client_eof and not self.to_up:
            self.loop.add_reader(self.client.fileno(), self._from_client)

    # -- client -> backend ---------------------------------------------------------------

    def _from_client(self) -> None:
        try:
            data = self.client.recv(_CHUNK)
        except _WOULD_BLOCK:
            return
        except OSError:
            self.close()
            return
        up = self.up
        if not data:
            self.client_eof = True
            if self.up_eof and not self.to_client:
                self.close()  # both directions are done (close sends the FIN shutdown would)
                return
            self.loop.remove_reader(self.client.fileno())
            if up is not None and not self.to_up:
                _shutdown(up)
            return
        replay = self.replay
        if replay is not None:
            if len(replay) + len(data) <= REPLAY_LIMIT:
                replay += data
            else:
                self.replay = None
        if up is None:
            return
        self._send_up(up, data)

    def _send_up(self, up: socket.socket, data: bytes | bytearray) -> None:
        try:
            sent = up.send(data)
        except _WOULD_BLOCK:
            sent = 0
        except OSError:
            self._upstream_gone()
            return
        if sent < len(data):
            self.to_up = bytearray(data[sent:])
            self.loop.remove_reader(self.client.fileno())
            self.loop.add_writer(up.fileno(), self._flush_up)

    def _flush_up(self) -> None:
        up = self.up
        if up is None:
            return
        if self.to_up:
            try:
                sent = up.send(self.to_up)
            except _WOULD_BLOCK:
                sent = 0
            except OSError:
                self._upstream_gone()
                return
            del self.to_up[:sent]
        if self.to_up:
            self.loop.add_writer(up.fileno(), self._flush_up)
            return
        self.loop.remove_writer(up.fileno())
        if self.client_eof:
            _shutdown(up)
        elif not self.closed:
            self.loop.add_reader(self.client.fileno(), self._from_client)

    # -- backend -> client ---------------------------------------------------------------

    def _from_up(self) -> None:
        up = self.up
        if up is None:
            return
        try:
            data = up.recv(_CHUNK)
        except _WOULD_BLOCK:
            return
        except OSError:
            self._upstream_gone()
            return
        if not data:
            self._upstream_eof()
            return
        self.got_data = True
        self.replay = None
        try:
            sent = self.client.send(data)
        except _WOULD_BLOCK:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self.to_client = bytearray(data[sent:])
            self.loop.remove_reader(up.fileno())
            self.loop.add_writer(self.client.fileno(), self._flush_client)

    def _flush_client(self) -> None:
        if self.to_client:
            try:
                sent = self.client.send(self.to_client)
            except _WOULD_BLOCK:
                sent = 0
            except OSError:
                self.close()
                return
            del self.to_client[:sent]
        if self.to_client:
            return
        self.loop.remove_writer(self.client.fileno())
        if self.up_eof:
            if self.client_eof:
                self.close()
            else:
                _shutdown(self.client)
        elif self.up is not None:
            self.loop.add_reader(self.up.fileno(), self._from_up)

    def _silent_death(self) -> bool:
        """The backend went away without a byte, right after connecting: try the next one."""
        if (
            self.got_data
            or self.closed
            or self.replay is None
            or self.loop.time() - self.connected_at > SILENT_CLOSE_SECONDS
        ):
            return False
        self._drop_upstream()
        if not self.client_eof:
            self.loop.remove_reader(self.client.fileno())
        self.next_backend()
        return True

    def _upstream_eof(self) -> None:
        if self._silent_death():
            return
        self.up_eof = True
        if not self.to_client and self.client_eof:
            self.close()
            return
        if self.up is not None:
            self.loop.remove_reader(self.up.fileno())
        if not self.to_client:
            _shutdown(self.client)

    def _upstream_gone(self) -> None:
        if not self._silent_death():
            self.close()

    # -- the end -------------------------------------------------------------------------

    def reset(self) -> None:
        """No backend: close the client with RST (as a Service without endpoints rejects)."""
        with contextlib.suppress(OSError):
            self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.listener.connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for sock in (self.client, self.up):
            if sock is None:
                continue
            fd = sock.fileno()
            if fd >= 0:
                self.loop.remove_reader(fd)
                self.loop.remove_writer(fd)
            sock.close()
        self.up = None


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


class Listener:
    """One listening socket whose connections go to ``candidates(client_ip)`` backends."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        loop: asyncio.AbstractEventLoop | None,
        candidates: Callable[[str], Iterator[Backend]],
        resolve: Callable[[Backend], tuple[str, int] | None],
        on_connected: Callable[[str, Backend], None] | None = None,
        on_suspect: Callable[[Backend], None] | None = None,
    ) -> None:
        self.sock = sock
        self.loop: asyncio.AbstractEventLoop = loop  # type: ignore[assignment]
        self.candidates = candidates
        self.resolve = resolve
        self._on_connected = on_connected
        self._on_suspect = on_suspect
        self.connections: set[_Conn] = set()
        self.accepted = 0
        self.relayed = 0
        self.serving = False
        self.closed = False
        name = sock.getsockname()
        self.host: str = name[0]
        self.port: int = name[1]

    def start(self) -> None:
        """Serve on the loop (call on the loop's thread); connections wait in the backlog until then."""
        if not self.serving and not self.closed and self.loop is not None:
            self.loop.add_reader(self.sock.fileno(), self._accept)
            self.serving = True

    def _accept(self) -> None:
        for _ in range(64):
            try:
                client, peer = self.sock.accept()
            except _WOULD_BLOCK:
                return
            except OSError:  # out of descriptors, a connection reset before accept...
                return
            client.setblocking(False)
            with contextlib.suppress(OSError):
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted += 1
            conn = _Conn(self, client, peer[0] if peer else "")
            self.connections.add(conn)
            conn.next_backend()

    def connected(self, client_ip: str, backend: Backend) -> None:
        self.relayed += 1
        if self._on_connected is not None:
            self._on_connected(client_ip, backend)

    def mark_suspect(self, backend: Backend) -> None:
        if self._on_suspect is not None:
            self._on_suspect(backend)

    def close(self) -> None:
        """Stop accepting and drop every relayed connection (call on the loop's thread)."""
        if self.closed:
            return
        self.closed = True
        if self.serving:
            self.loop.remove_reader(self.sock.fileno())
            self.serving = False
        with contextlib.suppress(OSError):
            self.sock.close()
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()


# ------------------------------------------------------------------------------ the controller


@dataclass
class _Opened:
    listener: Listener | None
    error: str | None = None


class ServiceProxy(Controller):
    """kube-proxy for one cluster: routes per Service port and loopback listeners."""

    name: ClassVar[str] = "kube-proxy"
    primary: ClassVar[str] = "services"
    #: How long a backend that failed a connect is tried only after the others.
    suspect_seconds: ClassVar[float] = 2.0

    def __init__(
        self,
        api: Any,
        clock: Clock,
        *,
        resolver: Resolver | None = None,
        listen: bool = True,
        host: str = LOOPBACK,
        record_events: bool = True,
        runtime: Runtime | None = None,
    ) -> None:
        super().__init__(api, clock, record_events=record_events)
        self.resolver = resolver
        #: A runtime with its own cluster network (Docker) also serves each Service inside it.
        self.runtime = runtime if runtime is not None and runtime.cluster_dns else None
        self._in_cluster: dict[str, ServiceConfig] = {}
        self._in_cluster_failed: dict[str, str] = {}
        self.listen = listen
        self.host = host
        self.requests = RequestCounter(clock)
        self.lb_events = EventRecorder(api, clock, "service-controller", enabled=record_events)
        #: "ns/name:portname" -> Route
        self.routes: dict[str, Route] = {}
        #: (host, port) -> (service key, kind) for the listeners this proxy opened.
        self._listeners: dict[tuple[str, int], tuple[str, str, Listener]] = {}
        #: service key -> the (host, port, route key) it wants, and what failed last time.
        self._wanted: dict[str, dict[tuple[str, int], str]] = {}
        self._failed: dict[tuple[str, int], str] = {}
        self._suspects: dict[Backend, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ports_of: dict[str, list[str]] = {}
        #: uids of the LoadBalancer Services whose Ensured event is written.
        self._ensured: set[str] = set()

    # -- wiring ----------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.on("endpoints", self._service_of_endpoints)

    def _service_of_endpoints(self, event: WatchEvent) -> str:
        meta = event.object["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"

    def teardown(self) -> None:
        super().teardown()
        self.close()

    def close(self) -> None:
        """Close every listener (the cluster stops)."""
        for _key, _kind, listener in list(self._listeners.values()):
            listener.close()
        self._listeners.clear()
        self._wanted.clear()
        self.routes.clear()

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        if self._loop is None:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()
        return self._loop

    # -- sync ------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        svc = self.api.cached("services", name, namespace)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            self._forget_service(key)
            return None
        spec = svc.get("spec") or {}
        kind = spec.get("type") or "ClusterIP"
        self._sync_load_balancer_status(svc, kind)
        if not self.listen:
            return None
        self._sync_routes(key, svc)
        self._sync_in_cluster(key, svc)
        return self._sync_listeners(key, svc, kind)

    def _forget_service(self, key: str) -> None:
        if self.runtime is not None and self._in_cluster.pop(key, None) is not None:
            namespace, name = split_key(key)
            self._spawn(key, self.runtime.remove_service(namespace, name), None)
        for route_key in self._ports_of.pop(key, []):
            self.routes.pop(route_key, None)
        self._wanted.pop(key, None)
        for address, (owner, _kind, listener) in list(self._listeners.items()):
            if owner == key:
                listener.close()
                del self._listeners[address]
                self._failed.pop(address, None)

    # -- LoadBalancer status (what a cloud's service controller writes) -----------------

    def _sync_load_balancer_status(self, svc: Obj, kind: str) -> None:
        status = svc.get("status") or {}
        current = (status.get("loadBalancer") or {}).get("ingress")
        uid = svc["metadata"].get("uid", "")
        if kind == "LoadBalancer":
            wanted = [{"ip": self.host, "ipMode": "VIP"}]
            if current == wanted and uid in self._ensured:
                return
            # The API server may have written the ingress at creation already; the events
            # still tell the story a cloud's service controller tells.
            self.lb_events.event(svc, EventType.NORMAL, "EnsuringLoadBalancer", "Ensuring load balancer")
            if current != wanted:
                self._write_lb_status(svc, {"ingress": wanted})
            self.lb_events.event(svc, EventType.NORMAL, "EnsuredLoadBalancer", "Ensured load balancer")
            self._ensured.add(uid)
            return
        self._ensured.discard(uid)
        if current:
            self.lb_events.event(svc, EventType.NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
            self._write_lb_status(svc, {})
            self.lb_events.event(svc, EventType.NORMAL, "DeletedLoadBalancer", "Deleted load balancer")

    def _write_lb_status(self, svc: Obj, load_balancer: Obj) -> None:
        status = dict(svc.get("status") or {})
        status["loadBalancer"] = load_balancer
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": svc["metadata"]["name"],
                "namespace": svc["metadata"]["namespace"],
                "resourceVersion": svc["metadata"]["resourceVersion"],
            },
            "status": status,
        }
        self.api.update_status(body, owned=True)

    # -- routes -------------------------------------------------------------------------

    def _sync_routes(self, key: str, svc: Obj) -> None:
        namespace = svc["metadata"]["namespace"]
        spec = svc.get("spec") or {}
        affinity: float | None = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
            affinity = float(config if config is not None else DEFAULT_AFFINITY_SECONDS)
        endpoints = self.api.cached("endpoints", svc["metadata"]["name"], namespace)
        subsets = (endpoints or {}).get("subsets") or []
        headless = spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName"
        keys = []
        for port in spec.get("ports") or ():
            if (port.get("protocol") or "TCP") != "TCP" or headless:
                continue
            port_name = port.get("name") or ""
            route_key = f"{key}:{port_name}"
            keys.append(route_key)
            backends: list[Backend] = []
            for subset in subsets:
                target = None
                for sp in subset.get("ports") or ():
                    if (sp.get("name") or "") == port_name and (sp.get("protocol") or "TCP") == "TCP":
                        target = sp.get("port")
                        break
                if target is None:
                    continue
                for address in subset.get("addresses") or ():
                    ref = address.get("targetRef") or {}
                    pod = ref.get("name") if ref.get("kind", "Pod") == "Pod" else None
                    backends.append(
                        Backend(
                            ref.get("namespace") or namespace, pod or "", address.get("ip", ""), int(target)
                        )
                    )
            route = self.routes.get(route_key)
            if route is None:
                self.routes[route_key] = Route(
                    route_key, tuple(backends), self.clock, self._suspects, affinity
                )
            else:
                route.update(tuple(backends), affinity)
        for stale in set(self._ports_of.get(key, [])) - set(keys):
            self.routes.pop(stale, None)
        self._ports_of[key] = keys

    # -- inside the cluster network (runtimes with cluster_dns) ------------------------------

    def _sync_in_cluster(self, key: str, svc: Obj) -> None:
        if self.runtime is None:
            return
        spec = svc.get("spec") or {}
        cluster_ip = spec.get("clusterIP") or ""
        if cluster_ip in ("", "None") or (key == "default/kubernetes"):
            return  # headless: pods' own aliases; the API server has no in-cluster address
        ports = []
        for port in spec.get("ports") or ():
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            route = self.routes.get(f"{key}:{port.get('name') or ''}")
            endpoints = tuple((b.ip, b.port) for b in route.backends if b.ip) if route else ()
            ports.append(ServicePortConfig(port.get("name") or "", int(port["port"]), endpoints))
        meta = svc["metadata"]
        config = ServiceConfig(meta["namespace"], meta["name"], meta.get("uid", ""), cluster_ip, tuple(ports))
        if self._in_cluster.get(key) == config:
            return
        self._in_cluster[key] = config
        self._spawn(key, self.runtime.sync_service(config), svc)

    def _spawn(self, key: str, work: Any, svc: Obj | None) -> None:
        loop = self._running_loop()
        if loop is None:
            work.close()
            return
        task = loop.create_task(work)
        task.add_done_callback(lambda done: self._in_cluster_done(key, svc, done))

    def _in_cluster_done(self, key: str, svc: Obj | None, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._in_cluster_failed.pop(key, None)
            return
        # Forget the config so that the next sync (endpoints change, resync) tries again.
        self._in_cluster.pop(key, None)
        message = str(error) if isinstance(error, NbClusterError) else f"{type(error).__name__}: {error}"
        if svc is None or self._in_cluster_failed.get(key) == message:
            log.debug("service %s inside the cluster network, again: %s", key, message)
            return
        log.warning("service %s inside the cluster network: %s", key, message)
        self._in_cluster_failed[key] = message
        meta = svc["metadata"]
        self.events.event(
            svc,
            EventType.WARNING,
            "FailedInClusterAddress",
            f"{svc['spec'].get('clusterIP')} ({meta['name']}.{meta['namespace']}.svc.cluster.local) "
            f"does not answer inside the cluster network: {message}",
        )
        self.queue.add_rate_limited(key)

    def route(self, namespace: str, name: str, port: int | str) -> Route | None:
        """The route of a Service port given by number or name (None if no such port)."""
        svc = self.api.cached("services", name, namespace)
        if svc is None:
            return None
        for sp in (svc.get("spec") or {}).get("ports") or ():
            if sp.get("port") == port or (isinstance(port, str) and sp.get("name") == port):
                return self.routes.get(f"{namespace}/{name}:{sp.get('name') or ''}")
        return None

    # -- listeners ---------------------------------------------------------------------

    def _sync_listeners(self, key: str, svc: Obj, kind: str) -> float | None:
        spec = svc.get("spec") or {}
        wanted: dict[tuple[str, int], str] = {}
        descriptions: dict[tuple[str, int], str] = {}
        if kind in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or ():
                if (port.get("protocol") or "TCP") != "TCP":
                    continue
                port_name = port.get("name") or ""
                route_key = f"{key}:{port_name}"
                label = f"{key}:{port_name}" if port_name else key
                if port.get("nodePort"):
                    address = (self.host, int(port["nodePort"]))
                    wanted[address] = route_key
                    descriptions[address] = f"nodePort for {label}"
                if kind == "LoadBalancer" and port.get("port"):
                    address = (self.host, int(port["port"]))
                    if address not in wanted:
                        wanted[address] = route_key
                        descriptions[address] = f"loadBalancer port for {label}"
        # close what this service no longer wants
        for address, (owner, _route, listener) in list(self._listeners.items()):
            if owner == key and wanted.get(address) != _route:
                listener.close()
                del self._listeners[address]
        retry = False
        for address, route_key in wanted.items():
            held = self._listeners.get(address)
            if held is not None:
                if held[0] == key:
                    continue
                # another Service holds it (a LoadBalancer port shared by two Services)
                error = f"listen tcp4 {address[0]}:{address[1]}: bind: address already in use"
                self._open_failed(svc, address, descriptions[address], error)
                retry = True
                continue
            try:
                sock = bind_socket(*address)
            except OSError as exc:
                self._open_failed(svc, address, descriptions[address], _bind_error(address, exc))
                retry = True
                continue
            self._failed.pop(address, None)
            listener = self._make_listener(sock, route_key)
            self._listeners[address] = (key, route_key, listener)
        self._wanted[key] = wanted
        for address in list(self._failed):
            if address not in wanted and not any(
                address in other for owner, other in self._wanted.items() if owner != key
            ):
                self._failed.pop(address, None)
        return RETRY_OPEN_SECONDS if retry else None

    def _open_failed(self, svc: Obj, address: tuple[str, int], description: str, error: str) -> None:
        message = (
            f'can\'t open "{description}" ({address[0]}:{address[1]}/tcp), skipping this '
            f"{'nodePort' if description.startswith('nodePort') else 'port'}: {error}"
        )
        if self._failed.get(address) != message:
            self._failed[address] = message
            self.events.event(svc, EventType.WARNING, "FailedOpenPort", message)
            log.warning("%s", message)

    def _make_listener(self, sock: socket.socket, route_key: str) -> Listener:
        loop = self._running_loop()
        listener = Listener(
            sock,
            loop=loop,  # type: ignore[arg-type]
            candidates=lambda client_ip: self._candidates(route_key, client_ip),
            resolve=self.resolve,
            on_connected=lambda client_ip, backend: self._connected(route_key, client_ip, backend),
            on_suspect=self.mark_suspect,
        )
        if loop is not None:
            listener.start()
        return listener

    def start_pending(self) -> None:
        """Start serving listeners bound before a loop was known (call on the loop)."""
        loop = self._running_loop()
        if loop is None:
            return
        for _key, _route, listener in self._listeners.values():
            if listener.loop is None:
                listener.loop = loop
            listener.start()

    def _candidates(self, route_key: str, client_ip: str) -> Iterator[Backend]:
        route = self.routes.get(route_key)
        if route is None:
            return iter(())
        return route.candidates(client_ip)

    def _connected(self, route_key: str, client_ip: str, backend: Backend) -> None:
        route = self.routes.get(route_key)
        if route is not None:
            route.connected(client_ip, backend)
        self.requests.count(backend.namespace, backend.pod)

    # -- shared with port-forward -------------------------------------------------------------

    def resolve(self, backend: Backend) -> tuple[str, int] | None:
        if self.resolver is None or not backend.pod:
            return None
        return self.resolver(backend.namespace, backend.pod, backend.port)

    def mark_suspect(self, backend: Backend) -> None:
        self._suspects[backend] = self.clock.monotonic() + self.suspect_seconds

    def count(self, backend: Backend) -> None:
        self.requests.count(backend.namespace, backend.pod)

    def request_rate(self, namespace: str, pod: str, window: float) -> float:
        return self.requests.rate(namespace, pod, window)

    def listening(self, namespace: str, name: str) -> dict[int, int]:
        """Service port -> the loopback port it is reachable on (NodePort / LoadBalancer)."""
        svc = self.api.cached("services", name, namespace)
        if svc is None:
            raise NotFound(f'services "{name}" not found')
        key = f"{namespace}/{name}"
        open_ports = {
            address[1] for address, (owner, _r, _l) in list(self._listeners.items()) if owner == key
        }
        out: dict[int, int] = {}
        spec = svc.get("spec") or {}
        for port in spec.get("ports") or ():
            number = port.get("port")
            if spec.get("type") == "LoadBalancer" and number in open_ports:
                out[int(number)] = int(number)
            elif port.get("nodePort") in open_ports:
                out[int(number)] = int(port["nodePort"])
        return out

    def listener_count(self) -> int:
        return len(self._listeners)


def _bind_error(address: tuple[str, int], exc: OSError) -> str:
    """Go's wording of a failed listen (what kube-proxy quotes)."""
    reason = {
        errno.EADDRINUSE: "address already in use",
        errno.EACCES: "permission denied",
        errno.EADDRNOTAVAIL: "cannot assign requested address",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"listen tcp4 {address[0]}:{address[1]}: bind: {reason}"
