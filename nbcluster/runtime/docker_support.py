"""Helpers of the Docker runtime that need no daemon: labels, names, time parsing, the
built-in pause image, exec stream framing, and probing a published port. Only the probe
helpers do I/O (a TCP or HTTP connection to 127.0.0.1); nothing here imports docker.
"""

from __future__ import annotations

import http.client
import io
import re
import select
import socket
import ssl
import struct
import tarfile
import time
from datetime import datetime, timezone

from nbcluster.runtime.interface import ProbeResult

__all__ = [
    "BUILTIN_PAUSE_IMAGE",
    "DEFAULT_PAUSE_IMAGE",
    "LABEL_CLUSTER",
    "LABEL_CONTAINER",
    "LABEL_CONTAINER_TYPE",
    "LABEL_KIND",
    "LABEL_NAMESPACE",
    "LABEL_NODE",
    "LABEL_POD",
    "LABEL_PREFIX",
    "LABEL_RESTART_COUNT",
    "LABEL_SANDBOX",
    "LABEL_SERVICE",
    "LABEL_SERVICE_CIDR",
    "LABEL_UID",
    "LABEL_VOLUME",
    "container_name",
    "docker_name",
    "http_probe",
    "parse_docker_time",
    "pause_image_tar",
    "read_exec_stream",
    "sandbox_name",
    "split_image",
    "tcp_probe",
]

#: The pause image kubelet 1.31+ uses; nbcluster asks Docker for it unless told otherwise.
DEFAULT_PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
#: Built locally (a 129-byte static binary) when the pause image can be neither found nor pulled.
BUILTIN_PAUSE_IMAGE = "nbcluster/pause:builtin"

LABEL_PREFIX = "io.nbcluster."
LABEL_CLUSTER = "io.nbcluster.cluster"
LABEL_NAMESPACE = "io.nbcluster.namespace"
LABEL_POD = "io.nbcluster.pod"
LABEL_UID = "io.nbcluster.uid"
#: The container's name in the pod spec; ``POD`` for the sandbox (as dockershim named it).
LABEL_CONTAINER = "io.nbcluster.container"
LABEL_NODE = "io.nbcluster.node"
#: sandbox | container | network | emptydir | claim | service
LABEL_KIND = "io.nbcluster.kind"
#: The Service a forwarder container serves (kind ``service``).
LABEL_SERVICE = "io.nbcluster.service"
#: On the cluster's network: the lower half of its subnet that ClusterIPs come from.
LABEL_SERVICE_CIDR = "io.nbcluster.service-cidr"
LABEL_SANDBOX = "io.nbcluster.sandbox"
LABEL_RESTART_COUNT = "io.nbcluster.restart-count"
#: init | sidecar | regular
LABEL_CONTAINER_TYPE = "io.nbcluster.container-type"
LABEL_VOLUME = "io.nbcluster.volume"

_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def docker_name(text: str) -> str:
    """``text`` with characters Docker refuses in names replaced (``[a-zA-Z0-9_.-]``)."""
    cleaned = _UNSAFE.sub("-", text)
    if not cleaned or not cleaned[0].isalnum():
        cleaned = "x" + cleaned
    return cleaned


def sandbox_name(namespace: str, pod: str, uid: str, attempt: int) -> str:
    """dockershim's sandbox name: ``k8s_POD_<pod>_<namespace>_<uid>_<attempt>``."""
    return docker_name(f"k8s_POD_{pod}_{namespace}_{uid}_{attempt}")


def container_name(container: str, namespace: str, pod: str, uid: str, restart_count: int) -> str:
    """dockershim's container name: ``k8s_<container>_<pod>_<namespace>_<uid>_<restartCount>``."""
    return docker_name(f"k8s_{container}_{pod}_{namespace}_{uid}_{restart_count}")


def split_image(image: str) -> tuple[str, str]:
    """``repo[:tag][@digest]`` -> (repository, tag or digest); the tag defaults to latest."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, "latest"


_ZERO_TIME = "0001-01-01T00:00:00Z"


def parse_docker_time(text: str | None) -> datetime | None:
    """Docker's RFC 3339 with nanoseconds (``2024-05-01T10:00:00.123456789Z``) -> aware UTC."""
    if not text or text.startswith("0001-01-01"):
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.match(r"^(.*?T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", value)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    fraction = (fraction or "")[:7]  # a dot and at most 6 digits for fromisoformat
    try:
        moment = datetime.fromisoformat(f"{base}{fraction}{zone or '+00:00'}")
    except ValueError:
        return None
    return moment.astimezone(timezone.utc)


# -- the built-in pause image --------------------------------------------------------------


def _pause_elf_x86_64() -> bytes:
    """A static x86-64 ELF executable that calls pause(2) forever (no libc, 129 bytes)."""
    base = 0x400000
    code = bytes([0xB8, 0x22, 0x00, 0x00, 0x00, 0x0F, 0x05, 0xEB, 0xF7])  # mov eax,34; syscall; jmp
    header_size, program_header_size = 64, 56
    total = header_size + program_header_size + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    elf_header = struct.pack(
        "<16sHHIQQQIHHHHHH",
        ident,
        2,  # ET_EXEC
        0x3E,  # x86-64
        1,
        base + header_size + program_header_size,  # entry point
        header_size,  # program header offset
        0,
        0,
        header_size,
        program_header_size,
        1,
        0,
        0,
        0,
    )
    program_header = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)
    return elf_header + program_header + code


def pause_image_tar(machine: str) -> bytes | None:
    """A root filesystem (tar) holding ``/pause`` for ``machine``; None when unsupported."""
    if machine not in ("x86_64", "amd64"):
        return None
    binary = _pause_elf_x86_64()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        info.size = len(binary)
        info.mode = 0o755
        info.mtime = 0
        tar.addfile(info, io.BytesIO(binary))
    return buffer.getvalue()


# -- exec output ----------------------------------------------------------------------------


def read_exec_stream(sock: object, deadline: float, *, tty: bool = False) -> tuple[bytes, bool]:
    """Read an exec's multiplexed output until EOF or ``deadline`` (monotonic).

    Returns (stdout and stderr interleaved as written, timed_out).
    """
    raw = getattr(sock, "_sock", sock)
    fileno = raw.fileno()  # type: ignore[attr-defined]
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI | select.POLLHUP)
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        if not poller.poll(remaining * 1000):
            timed_out = True
            break
        try:
            data = raw.recv(65536)  # type: ignore[attr-defined]
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    data = b"".join(chunks)
    if tty:
        return data, timed_out
    out = bytearray()
    offset = 0
    while offset + 8 <= len(data):
        _stream, size = struct.unpack(">BxxxL", data[offset : offset + 8])
        offset += 8
        out += data[offset : offset + size]
        offset += size
    return bytes(out), timed_out


# -- probes over a port published on 127.0.0.1 ------------------------------------------------


def _refused(ip: str, port: int) -> str:
    return f"dial tcp {ip}:{port}: connect: connection refused"


def tcp_probe(host_port: int, *, pod_ip: str, port: int, timeout: float) -> ProbeResult:
    """kubelet's tcpSocket probe through Docker's port publishing on 127.0.0.1.

    Docker's userland proxy accepts every connection on a published port and closes it
    at once when nothing listens in the pod: an immediate EOF counts as refused.
    """
    deadline = time.monotonic() + max(timeout, 0.05)
    try:
        conn = socket.create_connection(("127.0.0.1", host_port), timeout=max(timeout, 0.05))
    except TimeoutError:
        return ProbeResult(False, f"dial tcp {pod_ip}:{port}: i/o timeout")
    except OSError:
        return ProbeResult(False, _refused(pod_ip, port))
    try:
        conn.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            data = conn.recv(1, socket.MSG_PEEK)
        except TimeoutError:
            return ProbeResult(True)
        except OSError:
            return ProbeResult(False, _refused(pod_ip, port))
        return ProbeResult(True) if data else ProbeResult(False, _refused(pod_ip, port))
    finally:
        conn.close()


def http_probe(
    host_port: int,
    *,
    pod_ip: str,
    port: int,
    path: str,
    scheme: str,
    headers: dict[str, str],
    timeout: float,
) -> ProbeResult:
    """kubelet's httpGet probe through the published port: 200-399 succeeds."""
    scheme = (scheme or "HTTP").lower()
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{pod_ip}:{port}{path}"
    timeout = max(timeout, 0.05)
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", host_port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", host_port, timeout=timeout)
    sent = {"Host": f"{pod_ip}:{port}", "User-Agent": "kube-probe/1.35", "Accept": "*/*"}
    for name, value in headers.items():
        sent[name] = value
    try:
        conn.request("GET", path, headers=sent)
        response = conn.getresponse()
        body = response.read(10 * 1024)
    except TimeoutError:
        return ProbeResult(
            False,
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        )
    except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
        return ProbeResult(False, f'Get "{url}": {_refused(pod_ip, port)}')
    except OSError as exc:
        return ProbeResult(False, f'Get "{url}": {exc}')
    finally:
        conn.close()
    if 200 <= response.status < 400:
        return ProbeResult(True, body.decode("utf-8", "replace"))
    return ProbeResult(False, f"HTTP probe failed with statuscode: {response.status}")
