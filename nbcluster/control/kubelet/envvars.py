"""A container's environment as the kubelet builds it (makeEnvironmentVariables). No I/O.

Follows ``pkg/kubelet/kubelet_pods.go`` and ``pkg/kubelet/envvars``: ``envFrom`` sources
first (with their prefix), then ``env`` entries in order — ``value`` with ``$(VAR)``
expansion against the variables defined so far and the service variables, ``configMapKeyRef``,
``secretKeyRef`` (base64-decoded), ``fieldRef`` and ``resourceFieldRef`` (with divisor, limits
defaulting to the node's allocatable) — and finally the Docker-link style service variables
(``FOO_SERVICE_HOST``, ``FOO_PORT_80_TCP``...) not already defined. The ``kubernetes``
Service in ``default`` always contributes, the pod's namespace's services only with
``enableServiceLinks`` (default true). ``$(VAR)`` in command and args expands against the
final environment. Missing non-optional ConfigMaps/Secrets/keys raise :class:`EnvError`
with the kubelet's message (``configmap "x" not found``).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from nbcluster.api.quantities import cpu_millis, parse_quantity

__all__ = ["EnvError", "expand", "expand_command", "make_environment", "service_env"]

Obj = dict[str, Any]


class EnvError(Exception):
    """A container's environment cannot be built; ``ref`` is the missing (resource, name)."""

    def __init__(self, message: str, ref: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref


# -- $(VAR) expansion (third_party/forked/golang/expansion) ----------------------------


def expand(text: str, *mappings: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` from the first mapping defining it; ``$$`` escapes; unknown stays."""
    if "$" not in text:
        return text
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    length = len(text)
    while cursor < length:
        if text[cursor] == "$" and cursor + 1 < length:
            out.append(text[checkpoint:cursor])
            nxt = text[cursor + 1]
            if nxt == "$":
                out.append("$")
                advance = 1
            elif nxt == "(":
                close = text.find(")", cursor + 2)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = text[cursor + 2 : close]
                    for mapping in mappings:
                        if name in mapping:
                            out.append(mapping[name])
                            break
                    else:
                        out.append(f"$({name})")
                    advance = close - cursor
            else:
                out.append("$" + nxt)
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def expand_command(container: Obj, env: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``command`` and ``args`` with ``$(VAR)`` expanded against the container's environment."""
    command = tuple(expand(str(part), env) for part in container.get("command") or ())
    args = tuple(expand(str(part), env) for part in container.get("args") or ())
    return command, args


# -- service variables (pkg/kubelet/envvars) -------------------------------------------


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: Iterable[Obj]) -> dict[str, str]:
    """The variables Kubernetes derives from Services (``FromServices``)."""
    result: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _env_name(svc["metadata"]["name"])
        result[prefix + "_SERVICE_HOST"] = ip
        port_name = prefix + "_SERVICE_PORT"
        result[port_name] = str(ports[0].get("port"))
        for port in ports:
            if port.get("name"):
                result[port_name + "_" + _env_name(port["name"])] = str(port.get("port"))
        host = f"[{ip}]" if ":" in ip else ip
        for index, port in enumerate(ports):
            protocol = port.get("protocol") or "TCP"
            url = f"{protocol.lower()}://{host}:{port.get('port')}"
            if index == 0:
                result[prefix + "_PORT"] = url
            port_prefix = f"{prefix}_PORT_{port.get('port')}_{protocol.upper()}"
            result[port_prefix] = url
            result[port_prefix + "_PROTO"] = protocol.lower()
            result[port_prefix + "_PORT"] = str(port.get("port"))
            result[port_prefix + "_ADDR"] = ip
    return result


# -- the container environment ----------------------------------------------------------


def _decode(value: str) -> str:
    try:
        return base64.b64decode(value, validate=False).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value


def _secret_data(secret: Obj) -> dict[str, str]:
    data = {k: _decode(str(v)) for k, v in (secret.get("data") or {}).items()}
    for k, v in (secret.get("stringData") or {}).items():
        data[k] = str(v)
    return data


def _format_map(values: Mapping[str, str] | None) -> str:
    """``FormatMap``: sorted ``key="value"`` lines (the downward API's labels file)."""
    return "\n".join(f'{k}="{v}"' for k, v in sorted((values or {}).items()))


def _field_value(pod: Obj, path: str, pod_ips: list[str], host_ips: list[str]) -> str:
    meta = pod["metadata"]
    spec = pod["spec"]
    if path == "metadata.name":
        return str(meta.get("name", ""))
    if path == "metadata.namespace":
        return str(meta.get("namespace", ""))
    if path == "metadata.uid":
        return str(meta.get("uid", ""))
    for kind in ("labels", "annotations"):
        if path == f"metadata.{kind}":
            return _format_map(meta.get(kind))
        start = f"metadata.{kind}["
        if path.startswith(start) and path.endswith("]"):
            key = path[len(start) : -1].strip("'\"")
            return str((meta.get(kind) or {}).get(key, ""))
    if path == "spec.nodeName":
        return str(spec.get("nodeName", ""))
    if path in ("spec.serviceAccountName", "spec.serviceAccount"):
        return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "")
    if path == "status.podIP":
        return pod_ips[0] if pod_ips else ""
    if path == "status.podIPs":
        return ",".join(pod_ips)
    if path == "status.hostIP":
        return host_ips[0] if host_ips else ""
    if path == "status.hostIPs":
        return ",".join(host_ips)
    raise EnvError(f"unsupported fieldPath: {path}")


def _resource_value(container: Obj, ref: Obj, allocatable: Mapping[str, str]) -> str:
    resource = ref.get("resource", "")
    divisor = ref.get("divisor") or "1"
    kind, _, name = resource.partition(".")
    resources = container.get("resources") or {}
    value = (resources.get(kind) or {}).get(name)
    if value is None and kind == "limits":
        value = allocatable.get(name)
    if value is None:
        value = "0"
    if name == "cpu":
        div = cpu_millis(divisor)
        if div == 0:
            raise EnvError(f"invalid divisor for {resource}: {divisor}")
        return str(math.ceil(cpu_millis(value) / div))
    if kind not in ("limits", "requests") or not name:
        raise EnvError(f"unsupported container resource : {resource}")
    amount, div_amount = parse_quantity(value), parse_quantity(divisor)
    if div_amount == 0:
        raise EnvError(f"invalid divisor for {resource}: {divisor}")
    return str(math.ceil(Decimal(amount) / Decimal(div_amount)))


def make_environment(
    pod: Obj,
    container: Obj,
    *,
    get_configmap: Callable[[str], Obj | None],
    get_secret: Callable[[str], Obj | None],
    services: Mapping[str, str],
    pod_ips: list[str],
    host_ips: list[str],
    allocatable: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of ``container`` (``services`` is :func:`service_env`'s result).

    ``get_configmap(name)`` / ``get_secret(name)`` look objects up in the pod's namespace.
    """
    if not container.get("env") and not container.get("envFrom"):
        return dict(services)
    namespace = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    configmaps: dict[str, Obj | None] = {}
    secrets: dict[str, Obj | None] = {}

    def configmap(name: str) -> Obj | None:
        if name not in configmaps:
            configmaps[name] = get_configmap(name)
        return configmaps[name]

    def secret(name: str) -> Obj | None:
        if name not in secrets:
            secrets[name] = get_secret(name)
        return secrets[name]

    for source in container.get("envFrom") or ():
        prefix = source.get("prefix") or ""
        if source.get("configMapRef") is not None:
            ref = source["configMapRef"]
            obj = configmap(ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise EnvError(
                    f'configmap "{ref.get("name", "")}" not found', ("configmaps", ref.get("name", ""))
                )
            for key, value in (obj.get("data") or {}).items():
                env[prefix + key] = str(value)
        elif source.get("secretRef") is not None:
            ref = source["secretRef"]
            obj = secret(ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'secret "{ref.get("name", "")}" not found', ("secrets", ref.get("name", "")))
            for key, value in _secret_data(obj).items():
                env[prefix + key] = value

    for var in container.get("env") or ():
        name = var.get("name", "")
        if "value" in var and var.get("valueFrom") is None:
            env[name] = expand(str(var.get("value") or ""), env, services)
            continue
        source = var.get("valueFrom")
        if not source:
            env[name] = ""
            continue
        if source.get("configMapKeyRef") is not None:
            ref = source["configMapKeyRef"]
            cm_name, key = ref.get("name", ""), ref.get("key", "")
            obj = configmap(cm_name)
            if obj is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'configmap "{cm_name}" not found', ("configmaps", cm_name))
            data = obj.get("data") or {}
            if key not in data:
                if ref.get("optional"):
                    continue
                raise EnvError(
                    f"couldn't find key {key} in ConfigMap {namespace}/{cm_name}", ("configmaps", cm_name)
                )
            env[name] = str(data[key])
        elif source.get("secretKeyRef") is not None:
            ref = source["secretKeyRef"]
            secret_name, key = ref.get("name", ""), ref.get("key", "")
            obj = secret(secret_name)
            if obj is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'secret "{secret_name}" not found', ("secrets", secret_name))
            data = _secret_data(obj)
            if key not in data:
                if ref.get("optional"):
                    continue
                raise EnvError(
                    f"couldn't find key {key} in Secret {namespace}/{secret_name}", ("secrets", secret_name)
                )
            env[name] = data[key]
        elif source.get("fieldRef") is not None:
            env[name] = _field_value(pod, source["fieldRef"].get("fieldPath", ""), pod_ips, host_ips)
        elif source.get("resourceFieldRef") is not None:
            ref = source["resourceFieldRef"]
            target = container
            wanted = ref.get("containerName")
            if wanted and wanted != container.get("name"):
                for other in list(pod["spec"].get("containers") or ()) + list(
                    pod["spec"].get("initContainers") or ()
                ):
                    if other.get("name") == wanted:
                        target = other
                        break
            env[name] = _resource_value(target, ref, allocatable or {})

    for key, value in services.items():
        if key not in env:
            env[key] = value
    return env
