"""ConfigMap, Secret, downwardAPI and projected volumes as files. Does file I/O.

Only for runtimes that run real processes and give the kubelet a directory per pod
(``runtime.pod_dir(uid)``, like ``/var/lib/kubelet/pods/<uid>``); the simulated runtime
never gets files. Like kubelet's volume plugins, each volume is a folder
``<pod dir>/volumes/kubernetes.io~<plugin>/<volume name>`` mounted read-only; its files
follow the object (``items`` with ``path`` and ``mode``, ``defaultMode`` 0644, Secret data
base64-decoded, ``binaryData``), and are rewritten in place when the object changes, so
a running container sees the update (kubelet's atomic writer swaps a symlink; a file
replaced with ``os.replace`` is just as atomic for readers).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nbcluster.control.kubelet.envvars import EnvError, _field_value, _resource_value

__all__ = ["FILE_VOLUME_KINDS", "VolumeError", "referenced_objects", "volume_files", "write_volume"]

Obj = dict[str, Any]
Files = dict[str, tuple[bytes, int]]

#: volume key -> kubelet's plugin folder name
FILE_VOLUME_KINDS = {
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}

_DEFAULT_MODE = 0o644
#: What a projected serviceAccountToken holds: nbcluster has no token issuer.
_FAKE_TOKEN = b"nbcluster.simulated.service-account-token"


class VolumeError(Exception):
    """A volume's files cannot be made (the kubelet reports it as FailedMount)."""


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return value.encode()


def _configmap_data(obj: Obj) -> dict[str, bytes]:
    data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    data.update({k: _decode(str(v)) for k, v in (obj.get("binaryData") or {}).items()})
    return data


def _secret_data(obj: Obj) -> dict[str, bytes]:
    data = {k: _decode(str(v)) for k, v in (obj.get("data") or {}).items()}
    data.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
    return data


def _project(
    data: Mapping[str, bytes] | None, source: Obj, default_mode: int, kind: str, name: str, files: Files
) -> None:
    """Add ``data``'s keys (or just ``items``) to ``files``."""
    if data is None:
        if source.get("optional"):
            return
        raise VolumeError(f'{kind} "{name}" not found')
    items = source.get("items")
    if not items:
        for key, value in data.items():
            files[key] = (value, default_mode)
        return
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if source.get("optional"):
                continue
            raise VolumeError(f"{kind} references non-existent config key: {key}")
        mode = item.get("mode")
        files[item.get("path") or key] = (data[key], int(mode) if mode is not None else default_mode)


def _downward(
    pod: Obj, items: list[Obj], default_mode: int, allocatable: Mapping[str, str], files: Files
) -> None:
    pod_ip = ((pod.get("status") or {}).get("podIP")) or ""
    host_ip = ((pod.get("status") or {}).get("hostIP")) or ""
    containers = {c.get("name"): c for c in pod["spec"].get("containers") or ()}
    for item in items:
        try:
            if item.get("fieldRef") is not None:
                value = _field_value(
                    pod,
                    item["fieldRef"].get("fieldPath", ""),
                    [pod_ip] if pod_ip else [],
                    [host_ip] if host_ip else [],
                )
            elif item.get("resourceFieldRef") is not None:
                ref = item["resourceFieldRef"]
                container = containers.get(ref.get("containerName")) or next(iter(containers.values()), {})
                value = _resource_value(container, ref, allocatable)
            else:
                continue
        except EnvError as exc:
            raise VolumeError(exc.message) from exc
        mode = item.get("mode")
        files[item.get("path", "")] = (value.encode(), int(mode) if mode is not None else default_mode)


def volume_files(
    pod: Obj,
    volume: Obj,
    *,
    get_configmap: Callable[[str], Obj | None],
    get_secret: Callable[[str], Obj | None],
    allocatable: Mapping[str, str] | None = None,
) -> Files:
    """The files of one configMap / secret / downwardAPI / projected volume (pure)."""
    files: Files = {}
    allocatable = allocatable or {}
    if volume.get("configMap") is not None:
        source = volume["configMap"]
        mode = source.get("defaultMode")
        cm = get_configmap(source.get("name", ""))
        _project(
            _configmap_data(cm) if cm is not None else None,
            source,
            int(mode) if mode is not None else _DEFAULT_MODE,
            "configmap",
            source.get("name", ""),
            files,
        )
    elif volume.get("secret") is not None:
        source = volume["secret"]
        mode = source.get("defaultMode")
        secret = get_secret(source.get("secretName", ""))
        _project(
            _secret_data(secret) if secret is not None else None,
            source,
            int(mode) if mode is not None else _DEFAULT_MODE,
            "secret",
            source.get("secretName", ""),
            files,
        )
    elif volume.get("downwardAPI") is not None:
        source = volume["downwardAPI"]
        mode = source.get("defaultMode")
        _downward(
            pod,
            source.get("items") or [],
            int(mode) if mode is not None else _DEFAULT_MODE,
            allocatable,
            files,
        )
    elif volume.get("projected") is not None:
        projected = volume["projected"]
        mode = projected.get("defaultMode")
        default = int(mode) if mode is not None else _DEFAULT_MODE
        for source in projected.get("sources") or ():
            if source.get("configMap") is not None:
                ref = source["configMap"]
                cm = get_configmap(ref.get("name", ""))
                if cm is None and ref.get("name") == "kube-root-ca.crt":
                    cm = {"data": {"ca.crt": ""}}
                _project(
                    _configmap_data(cm) if cm is not None else None,
                    ref,
                    default,
                    "configmap",
                    ref.get("name", ""),
                    files,
                )
            elif source.get("secret") is not None:
                ref = source["secret"]
                secret = get_secret(ref.get("name", ""))
                _project(
                    _secret_data(secret) if secret is not None else None,
                    ref,
                    default,
                    "secret",
                    ref.get("name", ""),
                    files,
                )
            elif source.get("downwardAPI") is not None:
                _downward(pod, source["downwardAPI"].get("items") or [], default, allocatable, files)
            elif source.get("serviceAccountToken") is not None:
                files[source["serviceAccountToken"].get("path") or "token"] = (_FAKE_TOKEN, default)
    return files


def referenced_objects(volume: Obj) -> list[tuple[str, str]]:
    """(resource, name) of the ConfigMaps and Secrets a volume's files come from."""
    refs: list[tuple[str, str]] = []
    if volume.get("configMap") is not None:
        refs.append(("configmaps", volume["configMap"].get("name", "")))
    elif volume.get("secret") is not None:
        refs.append(("secrets", volume["secret"].get("secretName", "")))
    elif volume.get("projected") is not None:
        for source in volume["projected"].get("sources") or ():
            if source.get("configMap") is not None:
                refs.append(("configmaps", source["configMap"].get("name", "")))
            elif source.get("secret") is not None:
                refs.append(("secrets", source["secret"].get("name", "")))
    return refs


def write_volume(directory: Path, files: Files) -> None:
    """Make ``directory`` hold exactly ``files`` (paths relative to it), each replaced atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    wanted = set()
    for relative, (content, mode) in files.items():
        target = (directory / relative).resolve()
        if root not in target.parents:
            raise VolumeError(f"invalid path {relative!r}: must stay inside the volume")
        wanted.add(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if target.read_bytes() == content and (target.stat().st_mode & 0o7777) == mode:
                continue
        except OSError:
            pass
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted and not path.name.startswith(".tmp-"):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
