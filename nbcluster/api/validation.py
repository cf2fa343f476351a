"""Semantic validation of objects, as the API server does after decoding. No I/O.

``validate(obj)`` checks a new object, ``validate(obj, old=stored)`` an update (the new
object is checked in full, then what may not change). It returns every problem at once as
:class:`~nbcluster.errors.FieldError` s worded like ``pkg/apis/*/validation`` (paths,
``Invalid value`` renderings, details), e.g.::

    spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`
    spec.replicas: Invalid value: -1: must be greater than or equal to 0

Objects are expected to have passed :func:`nbcluster.api.schema.validate_schema` (wrong
JSON types are skipped here, not reported twice) and normally
:func:`nbcluster.api.defaults.apply_defaults`. Fields that defaulting fills
(``imagePullPolicy``, ``dnsPolicy``, ``protocol``...) are only checked when present, so
an undefaulted object is not drowned in "Required value" errors.

Deliberate differences from Kubernetes, each for a friendlier single-kernel cluster:
Service names are DNS-1123 labels (Kubernetes 1.34+ RelaxedServiceNameValidation);
a StatefulSet's pod template is validated like any template, its volumeClaimTemplates
counting as volumes (Kubernetes skips the template's pod spec); a StatefulSet selector
change is reported as ``spec.selector: field is immutable``; NodePorts outside
30000-32767 are reported here (Kubernetes' allocator does it).
"""

from __future__ import annotations

import ipaddress
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from nbcluster.api.naming import (
    inclusive_range_error,
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_http_header_name,
    is_qualified_name,
    is_relaxed_env_var_name,
    is_valid_label_value,
    is_valid_path_segment_name,
    is_valid_percent,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns_label,
    name_is_dns_subdomain,
    validate_annotations,
    validate_labels,
)
from nbcluster.errors import CauseType, FieldError

__all__ = ["go_repr", "name_is_valid", "validate", "validate_metadata"]

NameFunc = Callable[[str, bool], list[str]]

_NONNEGATIVE = "must be greater than or equal to 0"
_IMMUTABLE = "field is immutable"
_MAX_INT32 = 2**31 - 1
_MAX_UINT32 = 2**32 - 1


# --- Go-style value rendering ---------------------------------------------------------


class _GoLiteral:
    """A value shown in an error exactly as Go's ``%#v`` prints it (``[]string{"a"}``)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: Any = None) -> None:
        self.text = text
        self.value = value

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _GoLiteral):
            return self.text == other.text
        return self.value == other

    def __hash__(self) -> int:
        return hash(self.text)


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _go_string_map(value: Any) -> str:
    if not isinstance(value, Mapping) or not value:
        return "map[string]string(nil)" if not value else "map[string]string{}"
    items = ", ".join(f"{_go_quote(str(k))}:{_go_quote(str(v))}" for k, v in sorted(value.items()))
    return "map[string]string{" + items + "}"


def _go_string_slice(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(str(v)) for v in value) + "}"


def _go_label_selector(selector: Any) -> str:
    selector = selector if isinstance(selector, Mapping) else {}
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list) and expressions:
        rendered = ", ".join(
            "v1.LabelSelectorRequirement{"
            f"Key:{_go_quote(str(_d(e).get('key', '')))}, "
            f"Operator:{_go_quote(str(_d(e).get('operator', '')))}, "
            f"Values:{_go_string_slice(_d(e).get('values'))}"
            "}"
            for e in expressions
        )
        expr_text = "[]v1.LabelSelectorRequirement{" + rendered + "}"
    else:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    match_labels = selector.get("matchLabels")
    return f"v1.LabelSelector{{MatchLabels:{_go_string_map(match_labels)}, MatchExpressions:{expr_text}}}"


def go_repr(value: Any, go_type: str = "") -> _GoLiteral:
    """Wrap ``value`` so FieldError renders it like Go (``map[string]string{"app":"x"}``).

    ``go_type`` picks the rendering: ``"labels"`` (map[string]string), ``"strings"``
    ([]string), ``"selector"`` (v1.LabelSelector); otherwise a type name printed as
    ``name{...}``. The wrapper compares equal to the wrapped JSON value.
    """
    if go_type == "labels":
        return _GoLiteral(_go_string_map(value), value)
    if go_type == "strings":
        return _GoLiteral(_go_string_slice(value), value)
    if go_type == "selector":
        return _GoLiteral(_go_label_selector(value), value)
    return _GoLiteral(f"{go_type or 'interface {}'}{{...}}", value)


# --- small typed accessors (objects may carry wrong types; the schema reports those) ----


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _key(path: str, key: str) -> str:
    return f"{path}[{key}]"


class _Errs(list[FieldError]):
    """A field.ErrorList with Kubernetes' constructors."""

    def required(self, path: str, detail: str = "") -> None:
        self.append(FieldError(path, CauseType.REQUIRED, detail))

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.append(FieldError(path, CauseType.INVALID, detail, value))

    def invalid_each(self, path: str, value: Any, msgs: Iterable[str]) -> None:
        for msg in msgs:
            self.invalid(path, value, msg)

    def unsupported(self, path: str, value: Any, supported: Iterable[str]) -> None:
        quoted = ", ".join(_go_quote(str(v)) for v in supported)
        self.append(
            FieldError(path, CauseType.UNSUPPORTED, f"supported values: {quoted}" if quoted else "", value)
        )

    def forbidden(self, path: str, detail: str) -> None:
        self.append(FieldError(path, CauseType.FORBIDDEN, detail))

    def duplicate(self, path: str, value: Any, detail: str = "") -> None:
        self.append(FieldError(path, CauseType.DUPLICATE, detail, value))

    def not_found(self, path: str, value: Any) -> None:
        self.append(FieldError(path, CauseType.NOT_FOUND, "", value))

    def too_long(self, path: str, max_length: int) -> None:
        unit = "byte" if max_length == 1 else "bytes"
        self.append(FieldError(path, CauseType.TOO_LONG, f"may not be more than {max_length} {unit}"))

    def nonnegative(self, value: Any, path: str) -> None:
        number = _int(value)
        if number is not None and number < 0:
            self.invalid(path, number, _NONNEGATIVE)


# --- public entry point -------------------------------------------------------------------


def validate(obj: dict[str, Any], *, old: dict[str, Any] | None = None) -> list[FieldError]:
    """Every semantic problem of ``obj`` (and, with ``old``, of the update), in one list."""
    errs = _Errs()
    if not isinstance(obj, dict):
        errs.invalid("", None, "must be an object")
        return list(errs)
    kind = _s(obj.get("kind"))
    api_version = _s(obj.get("apiVersion"))
    name_fn = _NAME_FUNCS.get(kind, name_is_dns_subdomain)
    _validate_object_meta(errs, obj.get("metadata"), kind, name_fn)
    old = old if isinstance(old, dict) else None
    handler = _VALIDATORS.get(kind)
    if handler is not None:
        handler(errs, obj, api_version, old)
    if old is not None:
        _validate_object_meta_update(errs, _d(obj.get("metadata")), _d(old.get("metadata")))
        update_handler = _UPDATE_VALIDATORS.get(kind)
        if update_handler is not None:
            update_handler(errs, obj, old)
    return _unique(errs)


def validate_metadata(obj: dict[str, Any]) -> list[FieldError]:
    """The ``metadata`` problems :func:`validate` reports (first) for a new ``obj``.

    For a Pod this and the spec's problems are the whole of :func:`validate`: the API
    server checks a pod made from an already validated template this way.
    """
    errs = _Errs()
    kind = _s(obj.get("kind"))
    _validate_object_meta(errs, obj.get("metadata"), kind, _NAME_FUNCS.get(kind, name_is_dns_subdomain))
    return _unique(errs)


def name_is_valid(kind: str, name: str) -> bool:
    """Whether ``metadata.name`` alone passes :func:`validate_metadata` for ``kind``."""
    return bool(name) and not _NAME_FUNCS.get(kind, name_is_dns_subdomain)(name, False)


def _unique(errs: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, CauseType, str]] = set()
    result = []
    for err in errs:
        key = (err.path, err.type, err.detail)
        if key not in seen:
            seen.add(key)
            result.append(err)
    return result


# --- object metadata ----------------------------------------------------------------------

_CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "ComponentStatus",
}
_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def _path_segment_name(name: str, prefix: bool) -> list[str]:
    return is_valid_path_segment_name(name)


_NAME_FUNCS: dict[str, NameFunc] = {
    "Namespace": name_is_dns_label,
    "Service": name_is_dns_label,
    "Role": _path_segment_name,
    "ClusterRole": _path_segment_name,
    "RoleBinding": _path_segment_name,
    "ClusterRoleBinding": _path_segment_name,
}


def _validate_object_meta(
    errs: _Errs, meta: Any, kind: str, name_fn: NameFunc, path: str = "metadata"
) -> None:
    meta = _d(meta)
    generate_name = _s(meta.get("generateName"))
    name = _s(meta.get("name"))
    if generate_name:
        errs.invalid_each(_child(path, "generateName"), generate_name, name_fn(generate_name, True))
    if not name:
        if not generate_name:
            errs.required(_child(path, "name"), "name or generateName is required")
    else:
        errs.invalid_each(_child(path, "name"), name, name_fn(name, False))
    namespace = _s(meta.get("namespace"))
    if namespace and kind not in _CLUSTER_SCOPED:
        errs.invalid_each(_child(path, "namespace"), namespace, name_is_dns_label(namespace, False))
    errs.nonnegative(meta.get("generation"), _child(path, "generation"))
    errs.extend(validate_labels(meta.get("labels"), _child(path, "labels")))
    errs.extend(validate_annotations(meta.get("annotations"), _child(path, "annotations")))
    _validate_owner_references(errs, meta.get("ownerReferences"), _child(path, "ownerReferences"))
    _validate_finalizers(errs, meta.get("finalizers"), _child(path, "finalizers"))


def _validate_owner_references(errs: _Errs, refs: Any, path: str) -> None:
    first_controller = ""
    for ref in _l(refs):
        ref = _d(ref)
        api_version = _s(ref.get("apiVersion"))
        if not api_version.rpartition("/")[2]:
            errs.invalid(_child(path, "apiVersion"), api_version, "version must not be empty")
        for name in ("kind", "name", "uid"):
            if not _s(ref.get(name)):
                errs.invalid(_child(path, name), _s(ref.get(name)), "must not be empty")
        if ref.get("controller") is True:
            current = f"{_s(ref.get('kind'))}/{_s(ref.get('name'))}"
            if first_controller:
                errs.invalid(
                    path,
                    go_repr(refs, "[]v1.OwnerReference"),
                    "Only one reference can have Controller set to true. "
                    f'Found "true" in references for {first_controller} and {current}',
                )
            else:
                first_controller = current


def _validate_finalizers(errs: _Errs, finalizers: Any, path: str) -> None:
    names = [f for f in _l(finalizers) if isinstance(f, str)]
    for finalizer in names:
        errs.invalid_each(path, finalizer, is_qualified_name(finalizer))
    if "orphan" in names and "foregroundDeletion" in names:
        errs.invalid(
            path, go_repr(names, "strings"), "finalizer orphan and foregroundDeletion cannot be both set"
        )


def _validate_object_meta_update(errs: _Errs, new: dict[str, Any], old: dict[str, Any]) -> None:
    for name in ("name", "namespace"):
        new_value, old_value = _s(new.get(name)), _s(old.get(name))
        if new_value != old_value and (new_value or name == "name"):
            errs.invalid(_child("metadata", name), new_value, _IMMUTABLE)
    new_uid, old_uid = _s(new.get("uid")), _s(old.get("uid"))
    if new_uid and old_uid and new_uid != old_uid:
        errs.invalid("metadata.uid", new_uid, _IMMUTABLE)


# --- label selectors ------------------------------------------------------------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _validate_label_selector(errs: _Errs, selector: Any, path: str) -> None:
    if not isinstance(selector, dict):
        return
    errs.extend(validate_labels(selector.get("matchLabels"), _child(path, "matchLabels")))
    for i, expr in enumerate(_l(selector.get("matchExpressions"))):
        expr = _d(expr)
        expr_path = _index(_child(path, "matchExpressions"), i)
        operator = _s(expr.get("operator"))
        values = _l(expr.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.required(
                    _child(expr_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(
                    _child(expr_path, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
        else:
            errs.invalid(_child(expr_path, "operator"), operator, "not a valid selector operator")
        key = _s(expr.get("key"))
        errs.invalid_each(_child(expr_path, "key"), key, is_qualified_name(key))
        for j, value in enumerate(values):
            if isinstance(value, str):
                errs.invalid_each(_index(_child(expr_path, "values"), j), value, is_valid_label_value(value))


def _selector_is_empty(selector: Any) -> bool:
    selector = _d(selector)
    return not _d(selector.get("matchLabels")) and not _l(selector.get("matchExpressions"))


def _selector_matches(selector: Any, labels: Any) -> bool:
    """LabelSelectorAsSelector(selector).Matches(labels); a nil selector matches nothing."""
    if not isinstance(selector, dict):
        return False
    labels = _d(labels)
    for key, value in _d(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in _l(selector.get("matchExpressions")):
        expr = _d(expr)
        key = _s(expr.get("key"))
        operator = expr.get("operator")
        values = [v for v in _l(expr.get("values")) if isinstance(v, str)]
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_parses(selector: Any) -> bool:
    for expr in _l(_d(selector).get("matchExpressions")):
        if _d(expr).get("operator") not in _SELECTOR_OPERATORS:
            return False
    return True


def _validate_selector_matches_template(
    errs: _Errs, selector: Any, template: Any, template_path: str
) -> None:
    if not isinstance(selector, dict) or _selector_is_empty(selector) or not _selector_parses(selector):
        return
    labels = _d(_d(template).get("metadata")).get("labels")
    if not _selector_matches(selector, labels):
        errs.invalid(
            _child(template_path, "metadata.labels"),
            go_repr(labels, "labels"),
            "`selector` does not match template `labels`",
        )


# --- generic field helpers ------------------------------------------------------------------


def _validate_port_num_or_name(errs: _Errs, port: Any, path: str) -> None:
    if isinstance(port, bool):
        return
    if isinstance(port, int):
        errs.invalid_each(path, port, is_valid_port_num(port))
    elif isinstance(port, str):
        errs.invalid_each(path, port, is_valid_port_name(port))


def _validate_local_descending_path(errs: _Errs, target: str, path: str) -> None:
    if target.startswith("/"):
        errs.invalid(path, target, "must be a relative path")
    if ".." in target.replace("\\", "/").split("/"):
        errs.invalid(path, target, "must not contain '..'")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _validate_ip(errs: _Errs, text: Any, path: str) -> None:
    if isinstance(text, str) and not _is_ip(text):
        errs.invalid(path, text, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def _validate_cidr(errs: _Errs, text: Any, path: str) -> None:
    if not isinstance(text, str):
        return
    try:
        ipaddress.ip_network(text, strict=False)
        valid = "/" in text
    except ValueError:
        valid = False
    if not valid:
        errs.invalid(path, text, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")


def _int_or_percent(value: Any) -> tuple[int, bool] | None:
    """(number, is_percent) of an IntOrString like ``25%`` or ``3``; None if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, False
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value):
        return int(value[:-1]), True
    return None


def _validate_positive_int_or_percent(errs: _Errs, value: Any, path: str) -> None:
    if isinstance(value, str):
        errs.invalid_each(path, value, is_valid_percent(value))
    else:
        errs.nonnegative(value, path)


def _is_not_more_than_100_percent(errs: _Errs, value: Any, path: str) -> None:
    parsed = _int_or_percent(value)
    if parsed is not None and parsed[1] and parsed[0] > 100:
        errs.invalid(path, value, "must not be greater than 100%")


def _int_or_percent_value(value: Any) -> int:
    parsed = _int_or_percent(value)
    return parsed[0] if parsed else 0


def _parse_quantity(value: Any) -> Decimal:
    from nbcluster.api.quantities import parse_quantity

    return parse_quantity(value)


def _canonical_quantity(value: Any) -> str:
    from nbcluster.api.quantities import canonical_quantity

    try:
        return canonical_quantity(value)
    except ValueError:
        return str(value)


# --- pod spec -------------------------------------------------------------------------------

_VOLUME_SOURCES = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
)
_HOST_PATH_TYPES = (
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
)
_ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
_RESOURCE_FIELD_REFS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_STANDARD_RESOURCES = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
}
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _validate_volumes(errs: _Errs, volumes: Any, path: str) -> dict[str, dict[str, Any]]:
    """ValidateVolumes: returns the valid volumes by name (mounts may only use those)."""
    valid: dict[str, dict[str, Any]] = {}
    names: set[str] = set()
    for i, volume in enumerate(_l(volumes)):
        volume = _d(volume)
        vol_path = _index(path, i)
        vol_errs = _Errs()
        _validate_volume_source(vol_errs, volume, vol_path)
        name = _s(volume.get("name"))
        name_path = _child(vol_path, "name")
        if not name:
            vol_errs.required(name_path)
        else:
            vol_errs.invalid_each(name_path, name, is_dns1123_label(name))
        if name in names:
            vol_errs.duplicate(name_path, name)
        if vol_errs:
            errs.extend(vol_errs)
        else:
            names.add(name)
            valid[name] = volume
    return valid


def _validate_key_to_paths(errs: _Errs, items: Any, path: str) -> None:
    for i, item in enumerate(_l(items)):
        item = _d(item)
        item_path = _index(path, i)
        if not _s(item.get("key")):
            errs.required(_child(item_path, "key"))
        target = _s(item.get("path"))
        if not target:
            errs.required(_child(item_path, "path"))
        else:
            _validate_local_descending_path(errs, target, _child(item_path, "path"))
        _validate_mode(errs, item.get("mode"), _child(item_path, "mode"))


def _validate_mode(errs: _Errs, mode: Any, path: str) -> None:
    value = _int(mode)
    if value is not None and not 0 <= value <= 0o777:
        errs.invalid(path, value, "must be a number between 0 and 0777 (octal), both inclusive")


def _validate_downward_api_file(errs: _Errs, item: dict[str, Any], path: str) -> None:
    target = _s(item.get("path"))
    if not target:
        errs.required(_child(path, "path"))
    else:
        _validate_local_descending_path(errs, target, _child(path, "path"))
    field_ref, resource_ref = item.get("fieldRef"), item.get("resourceFieldRef")
    if isinstance(field_ref, dict):
        _validate_object_field_selector(errs, field_ref, _VOLUME_FIELD_PATHS, _child(path, "fieldRef"))
        if resource_ref is not None:
            errs.invalid(
                path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"
            )
    elif isinstance(resource_ref, dict):
        _validate_resource_field_selector(errs, resource_ref, _child(path, "resourceFieldRef"), volume=True)
    else:
        errs.required(path, "one of fieldRef and resourceFieldRef is required")
    _validate_mode(errs, item.get("mode"), _child(path, "mode"))


def _validate_volume_source(errs: _Errs, volume: dict[str, Any], path: str) -> None:
    count = 0
    for source in _VOLUME_SOURCES:
        if volume.get(source) is None:
            continue
        if count:
            errs.forbidden(_child(path, source), "may not specify more than 1 volume type")
            continue
        count += 1
        body = _d(volume[source])
        source_path = _child(path, source)
        if source == "hostPath":
            host_path = _s(body.get("path"))
            if not host_path:
                errs.required(_child(source_path, "path"))
            elif ".." in host_path.split("/"):
                errs.invalid(_child(source_path, "path"), host_path, "must not contain '..'")
            host_type = body.get("type")
            if isinstance(host_type, str) and host_type not in _HOST_PATH_TYPES:
                errs.unsupported(_child(source_path, "type"), host_type, _HOST_PATH_TYPES)
        elif source == "emptyDir":
            size = body.get("sizeLimit")
            if size is not None:
                try:
                    negative = _parse_quantity(size) < 0
                except ValueError:
                    negative = True
                if negative:
                    errs.forbidden(
                        _child(source_path, "sizeLimit"), "SizeLimit field must be a valid resource quantity"
                    )
        elif source == "secret":
            if not _s(body.get("secretName")):
                errs.required(_child(source_path, "secretName"))
            _validate_mode(errs, body.get("defaultMode"), _child(source_path, "defaultMode"))
            _validate_key_to_paths(errs, body.get("items"), _child(source_path, "items"))
        elif source == "configMap":
            if not _s(body.get("name")):
                errs.required(_child(source_path, "name"))
            _validate_mode(errs, body.get("defaultMode"), _child(source_path, "defaultMode"))
            _validate_key_to_paths(errs, body.get("items"), _child(source_path, "items"))
        elif source == "persistentVolumeClaim":
            if not _s(body.get("claimName")):
                errs.required(_child(source_path, "claimName"))
        elif source == "nfs":
            if not _s(body.get("server")):
                errs.required(_child(source_path, "server"))
            nfs_path = _s(body.get("path"))
            if not nfs_path:
                errs.required(_child(source_path, "path"))
            elif not nfs_path.startswith("/"):
                errs.invalid(_child(source_path, "path"), nfs_path, "must be an absolute path")
        elif source == "csi":
            if not _s(body.get("driver")):
                errs.required(_child(source_path, "driver"))
        elif source == "downwardAPI":
            _validate_mode(errs, body.get("defaultMode"), _child(source_path, "defaultMode"))
            for j, item in enumerate(_l(body.get("items"))):
                _validate_downward_api_file(errs, _d(item), _index(_child(source_path, "items"), j))
        elif source == "projected":
            _validate_projected(errs, body, source_path)
    if count == 0:
        errs.required(path, "must specify a volume type")


def _validate_projected(errs: _Errs, body: dict[str, Any], path: str) -> None:
    _validate_mode(errs, body.get("defaultMode"), _child(path, "defaultMode"))
    kinds = (
        "secret",
        "configMap",
        "downwardAPI",
        "serviceAccountToken",
        "clusterTrustBundle",
        "podCertificate",
    )
    for i, source in enumerate(_l(body.get("sources"))):
        source = _d(source)
        source_path = _index(_child(path, "sources"), i)
        present = [k for k in kinds if source.get(k) is not None]
        if not present:
            errs.required(
                source_path,
                "must specify exactly one of: `secret`, `configMap`, `downwardAPI`, `serviceAccountToken`, `clusterTrustBundle`",
            )
        for extra in present[1:]:
            errs.forbidden(_child(source_path, extra), "may not specify more than 1 volume type per source")
        for name in present[:1]:
            body_path = _child(source_path, name)
            item = _d(source[name])
            if name in ("secret", "configMap"):
                _validate_key_to_paths(errs, item.get("items"), _child(body_path, "items"))
            elif name == "downwardAPI":
                for j, file in enumerate(_l(item.get("items"))):
                    _validate_downward_api_file(errs, _d(file), _index(_child(body_path, "items"), j))
            elif name == "serviceAccountToken":
                seconds = _int(item.get("expirationSeconds"))
                if seconds is not None and seconds < 10 * 60:
                    errs.invalid(
                        _child(body_path, "expirationSeconds"),
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                elif seconds is not None and seconds > 1 << 32:
                    errs.invalid(
                        _child(body_path, "expirationSeconds"),
                        seconds,
                        "may not specify a duration larger than 2^32 seconds",
                    )
                token_path = _s(item.get("path"))
                if not token_path:
                    errs.required(_child(body_path, "path"))
                else:
                    _validate_local_descending_path(errs, token_path, _child(body_path, "path"))


def _validate_object_field_selector(
    errs: _Errs, selector: dict[str, Any], allowed: Iterable[str], path: str
) -> None:
    if "apiVersion" in selector and not _s(selector.get("apiVersion")):
        errs.required(_child(path, "apiVersion"))
        return
    field_path = _s(selector.get("fieldPath"))
    if not field_path:
        errs.required(_child(path, "fieldPath"))
        return
    match = re.fullmatch(r"(metadata\.(?:labels|annotations))\['([^']*)'\]", field_path)
    if match:
        key = match.group(2).lower() if match.group(1).endswith("annotations") else match.group(2)
        errs.invalid_each(path, key, is_qualified_name(key))
        return
    allowed = sorted(allowed)
    if field_path not in allowed:
        errs.unsupported(_child(path, "fieldPath"), field_path, allowed)


def _validate_resource_field_selector(
    errs: _Errs, selector: dict[str, Any], path: str, *, volume: bool
) -> None:
    resource = _s(selector.get("resource"))
    if volume and not _s(selector.get("containerName")):
        errs.required(_child(path, "containerName"))
    elif not resource:
        errs.required(_child(path, "resource"))
    elif resource not in _RESOURCE_FIELD_REFS and not resource.startswith(
        ("requests.hugepages-", "limits.hugepages-")
    ):
        errs.unsupported(_child(path, "resource"), resource, _RESOURCE_FIELD_REFS)


def _validate_env(errs: _Errs, env: Any, path: str) -> None:
    for i, var in enumerate(_l(env)):
        var = _d(var)
        var_path = _index(path, i)
        name = _s(var.get("name"))
        if not name:
            errs.required(_child(var_path, "name"))
        else:
            errs.invalid_each(_child(var_path, "name"), name, is_relaxed_env_var_name(name))
        value_from = var.get("valueFrom")
        if not isinstance(value_from, dict):
            continue
        from_path = _child(var_path, "valueFrom")
        sources = 0
        if isinstance(value_from.get("fieldRef"), dict):
            sources += 1
            _validate_object_field_selector(
                errs, value_from["fieldRef"], _ENV_FIELD_PATHS, _child(from_path, "fieldRef")
            )
        if isinstance(value_from.get("resourceFieldRef"), dict):
            sources += 1
            _validate_resource_field_selector(
                errs, value_from["resourceFieldRef"], _child(from_path, "resourceFieldRef"), volume=False
            )
        for ref_name in ("configMapKeyRef", "secretKeyRef"):
            ref = value_from.get(ref_name)
            if not isinstance(ref, dict):
                continue
            sources += 1
            ref_path = _child(from_path, ref_name)
            ref_object = _s(ref.get("name"))
            errs.invalid_each(_child(ref_path, "name"), ref_object, is_dns1123_subdomain(ref_object))
            key = _s(ref.get("key"))
            if not key:
                errs.required(_child(ref_path, "key"))
            else:
                errs.invalid_each(_child(ref_path, "key"), key, is_config_map_key(key))
        if isinstance(value_from.get("fileKeyRef"), dict):
            sources += 1
        if sources == 0:
            errs.invalid(
                from_path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )
        elif _s(var.get("value")):
            errs.invalid(from_path, "", "may not be specified when `value` is not empty")
        elif sources > 1:
            errs.invalid(from_path, "", "may not have more than one field specified at a time")


def _validate_env_from(errs: _Errs, env_from: Any, path: str) -> None:
    for i, source in enumerate(_l(env_from)):
        source = _d(source)
        source_path = _index(path, i)
        prefix = _s(source.get("prefix"))
        if prefix:
            errs.invalid_each(_child(source_path, "prefix"), prefix, is_relaxed_env_var_name(prefix))
        sources = 0
        for ref_name in ("configMapRef", "secretRef"):
            ref = source.get(ref_name)
            if not isinstance(ref, dict):
                continue
            sources += 1
            ref_object = _s(ref.get("name"))
            if not ref_object:
                errs.required(_child(_child(source_path, ref_name), "name"))
            else:
                errs.invalid_each(
                    _child(_child(source_path, ref_name), "name"),
                    ref_object,
                    is_dns1123_subdomain(ref_object),
                )
        if sources == 0:
            errs.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
        elif sources > 1:
            errs.invalid(path, "", "may not have more than one field specified at a time")


def _validate_container_ports(errs: _Errs, ports: Any, path: str) -> None:
    names: set[str] = set()
    for i, port in enumerate(_l(ports)):
        port = _d(port)
        port_path = _index(path, i)
        name = _s(port.get("name"))
        if name:
            msgs = is_valid_port_name(name)
            if msgs:
                errs.invalid_each(_child(port_path, "name"), name, msgs)
            elif name in names:
                errs.duplicate(_child(port_path, "name"), name)
            else:
                names.add(name)
        container_port = _int(port.get("containerPort"))
        if container_port == 0:
            errs.required(_child(port_path, "containerPort"))
        elif container_port is not None:
            errs.invalid_each(
                _child(port_path, "containerPort"), container_port, is_valid_port_num(container_port)
            )
        host_port = _int(port.get("hostPort"))
        if host_port:
            errs.invalid_each(_child(port_path, "hostPort"), host_port, is_valid_port_num(host_port))
        protocol = port.get("protocol")
        if protocol == "":
            errs.required(_child(port_path, "protocol"))
        elif isinstance(protocol, str) and protocol not in _PROTOCOLS:
            errs.unsupported(_child(port_path, "protocol"), protocol, _PROTOCOLS)


def _validate_volume_mounts(errs: _Errs, mounts: Any, volumes: Mapping[str, Any], path: str) -> None:
    mount_points: set[str] = set()
    for i, mount in enumerate(_l(mounts)):
        mount = _d(mount)
        mount_path = _index(path, i)
        name = _s(mount.get("name"))
        if not name:
            errs.required(_child(mount_path, "name"))
        if name not in volumes:
            errs.not_found(_child(mount_path, "name"), name)
        target = _s(mount.get("mountPath"))
        if not target:
            errs.required(_child(mount_path, "mountPath"))
        if target and target in mount_points:
            errs.invalid(_child(mount_path, "mountPath"), target, "must be unique")
        mount_points.add(target)
        sub_path = _s(mount.get("subPath"))
        if sub_path:
            _validate_local_descending_path(errs, sub_path, _child(mount_path, "subPath"))
        sub_path_expr = _s(mount.get("subPathExpr"))
        if sub_path_expr:
            if sub_path:
                errs.invalid(
                    _child(mount_path, "subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                )
            _validate_local_descending_path(errs, sub_path_expr, _child(mount_path, "subPathExpr"))
        propagation = mount.get("mountPropagation")
        if isinstance(propagation, str) and propagation not in ("None", "HostToContainer", "Bidirectional"):
            errs.unsupported(
                _child(mount_path, "mountPropagation"),
                propagation,
                ("Bidirectional", "HostToContainer", "None"),
            )


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _validate_container_resource_name(errs: _Errs, name: str, path: str) -> None:
    msgs = is_qualified_name(name)
    if msgs:
        errs.invalid_each(path, name, msgs)
        return
    if "/" not in name:
        if (
            name not in _STANDARD_RESOURCES
            and not _is_hugepages(name)
            and not name.startswith("requests.hugepages-")
        ):
            errs.invalid(path, name, "must be a standard resource type or fully qualified")
        if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
            errs.invalid(path, name, "must be a standard resource for containers")


def _overcommit_allowed(name: str) -> bool:
    """Only native (unprefixed or kubernetes.io/) non-hugepages resources may overcommit."""
    native = "/" not in name or name.startswith("kubernetes.io/")
    return native and not _is_hugepages(name)


def _validate_resources(errs: _Errs, resources: Any, path: str) -> None:
    resources = _d(resources)
    limits_path, requests_path = _child(path, "limits"), _child(path, "requests")
    parsed: dict[str, dict[str, Decimal]] = {"limits": {}, "requests": {}}
    for section, section_path in (("limits", limits_path), ("requests", requests_path)):
        for name, value in _d(resources.get(section)).items():
            item_path = _key(section_path, name)
            _validate_container_resource_name(errs, name, item_path)
            try:
                amount = _parse_quantity(value)
            except ValueError as exc:
                errs.invalid(item_path, value, str(exc))
                continue
            except TypeError:
                continue
            if amount < 0:
                errs.invalid(item_path, _canonical_quantity(value), _NONNEGATIVE)
            elif (
                not _overcommit_allowed(name)
                and not _is_hugepages(name)
                and amount != amount.to_integral_value()
            ):
                errs.invalid(item_path, _canonical_quantity(value), "must be an integer")
            parsed[section][name] = amount
    limits, requests = parsed["limits"], parsed["requests"]
    raw_limits, raw_requests = _d(resources.get("limits")), _d(resources.get("requests"))
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None:
            if request != limit and not _overcommit_allowed(name):
                errs.invalid(
                    requests_path,
                    _canonical_quantity(raw_requests[name]),
                    f"must be equal to {name} limit of {_canonical_quantity(raw_limits[name])}",
                )
            elif request > limit:
                errs.invalid(
                    requests_path,
                    _canonical_quantity(raw_requests[name]),
                    f"must be less than or equal to {name} limit of {_canonical_quantity(raw_limits[name])}",
                )
        elif not _overcommit_allowed(name):
            errs.required(limits_path, "Limit must be set for non overcommitable resources")


def _validate_handler(
    errs: _Errs, handler: Any, path: str, kinds: tuple[str, ...], grace: int | None
) -> None:
    handler = _d(handler)
    count = 0
    for kind in kinds:
        body = handler.get(kind)
        if body is None:
            continue
        kind_path = _child(path, kind)
        if count:
            errs.forbidden(kind_path, "may not specify more than 1 handler type")
            continue
        count += 1
        body = _d(body)
        if kind == "exec":
            if not _l(body.get("command")):
                errs.required(_child(kind_path, "command"))
        elif kind == "httpGet":
            if body.get("path") == "":
                errs.required(_child(kind_path, "path"))
            _validate_port_num_or_name(errs, body.get("port"), _child(kind_path, "port"))
            scheme = body.get("scheme")
            if isinstance(scheme, str) and scheme not in ("HTTP", "HTTPS"):
                errs.unsupported(_child(kind_path, "scheme"), scheme, ("HTTP", "HTTPS"))
            for header in _l(body.get("httpHeaders")):
                header_name = _s(_d(header).get("name"))
                errs.invalid_each(
                    _child(kind_path, "httpHeaders"), header_name, is_http_header_name(header_name)
                )
        elif kind == "tcpSocket":
            _validate_port_num_or_name(errs, body.get("port"), _child(kind_path, "port"))
        elif kind == "grpc":
            port = _int(body.get("port"))
            if port is not None:
                errs.invalid_each(_child(kind_path, "port"), port, is_valid_port_num(port))
        elif kind == "sleep":
            seconds = _int(body.get("seconds"))
            if seconds is not None and grace is not None and not 0 <= seconds <= grace:
                errs.invalid(
                    kind_path,
                    seconds,
                    f"must be non-negative and less than terminationGracePeriodSeconds ({grace})",
                )
    if count == 0:
        errs.required(path, "must specify a handler type")


_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


def _validate_probe(errs: _Errs, probe: Any, path: str, kind: str, grace: int | None) -> None:
    if not isinstance(probe, dict):
        return
    _validate_handler(errs, probe, path, _PROBE_HANDLERS, grace)
    for name in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        errs.nonnegative(probe.get(name), _child(path, name))
    grace_override = _int(probe.get("terminationGracePeriodSeconds"))
    if grace_override is not None and grace_override <= 0:
        errs.invalid(_child(path, "terminationGracePeriodSeconds"), grace_override, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe"):
        success = _int(probe.get("successThreshold"))
        if success is not None and success != 1:
            errs.invalid(_child(path, "successThreshold"), success, "must be 1")
    elif kind == "readinessProbe" and probe.get("terminationGracePeriodSeconds") is not None:
        errs.invalid(
            _child(path, "terminationGracePeriodSeconds"),
            probe.get("terminationGracePeriodSeconds"),
            "must not be set for readinessProbes",
        )


def _validate_lifecycle(errs: _Errs, lifecycle: Any, path: str, grace: int | None) -> None:
    lifecycle = _d(lifecycle)
    for hook in ("postStart", "preStop"):
        if isinstance(lifecycle.get(hook), dict):
            _validate_handler(errs, lifecycle[hook], _child(path, hook), _LIFECYCLE_HANDLERS, grace)


def _validate_id_range(errs: _Errs, value: Any, path: str) -> None:
    number = _int(value)
    if number is not None and not 0 <= number <= _MAX_UINT32:
        errs.invalid(path, number, inclusive_range_error(0, _MAX_UINT32))


def _validate_security_context(errs: _Errs, context: Any, path: str) -> None:
    context = _d(context)
    for name in ("runAsUser", "runAsGroup"):
        _validate_id_range(errs, context.get(name), _child(path, name))
    if context.get("privileged") is True and context.get("allowPrivilegeEscalation") is False:
        errs.invalid(
            path,
            go_repr(context, "core.SecurityContext"),
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        )
    proc_mount = context.get("procMount")
    if isinstance(proc_mount, str) and proc_mount not in ("Default", "Unmasked"):
        errs.unsupported(_child(path, "procMount"), proc_mount, ("Default", "Unmasked"))


def _validate_container_common(
    errs: _Errs, container: dict[str, Any], volumes: Mapping[str, Any], path: str
) -> None:
    name = _s(container.get("name"))
    if not name:
        errs.required(_child(path, "name"))
    else:
        errs.invalid_each(_child(path, "name"), name, is_dns1123_label(name))
    if not _s(container.get("image")):
        errs.required(_child(path, "image"))
    policy = container.get("terminationMessagePolicy")
    if policy == "":
        errs.required(_child(path, "terminationMessagePolicy"))
    elif isinstance(policy, str) and policy not in ("File", "FallbackToLogsOnError"):
        errs.unsupported(_child(path, "terminationMessagePolicy"), policy, ("File", "FallbackToLogsOnError"))
    _validate_container_ports(errs, container.get("ports"), _child(path, "ports"))
    _validate_env(errs, container.get("env"), _child(path, "env"))
    _validate_env_from(errs, container.get("envFrom"), _child(path, "envFrom"))
    _validate_volume_mounts(errs, container.get("volumeMounts"), volumes, _child(path, "volumeMounts"))
    pull = container.get("imagePullPolicy")
    if pull == "":
        errs.required(_child(path, "imagePullPolicy"))
    elif isinstance(pull, str) and pull not in _PULL_POLICIES:
        errs.unsupported(_child(path, "imagePullPolicy"), pull, _PULL_POLICIES)
    _validate_resources(errs, container.get("resources"), _child(path, "resources"))
    _validate_security_context(errs, container.get("securityContext"), _child(path, "securityContext"))


def _check_host_port_conflicts(errs: _Errs, containers: list[dict[str, Any]], path: str) -> None:
    seen: set[str] = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(_l(container.get("ports"))):
            port = _d(port)
            host_port = _int(port.get("hostPort"))
            if not host_port:
                continue
            key = f"{_s(port.get('protocol')) or 'TCP'}/{_s(port.get('hostIP'))}/{host_port}"
            if key in seen:
                errs.duplicate(_child(_index(_child(_index(path, ci), "ports"), pi), "hostPort"), key)
            seen.add(key)


def _validate_containers(
    errs: _Errs, containers: Any, volumes: Mapping[str, Any], path: str, grace: int | None
) -> list[dict[str, Any]]:
    items = [_d(c) for c in _l(containers)]
    if not items:
        errs.required(path)
        return items
    names: set[str] = set()
    for i, container in enumerate(items):
        container_path = _index(path, i)
        _validate_container_common(errs, container, volumes, container_path)
        name = _s(container.get("name"))
        if name in names:
            errs.duplicate(_child(container_path, "name"), name)
        else:
            names.add(name)
        if container.get("lifecycle") is not None:
            _validate_lifecycle(errs, container["lifecycle"], _child(container_path, "lifecycle"), grace)
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            _validate_probe(errs, container.get(probe), _child(container_path, probe), probe, grace)
        if container.get("restartPolicy") is not None:
            errs.forbidden(_child(container_path, "restartPolicy"), "may not be set for non-init containers")
    _check_host_port_conflicts(errs, items, path)
    return items


def _validate_init_containers(
    errs: _Errs,
    containers: Any,
    regular: list[dict[str, Any]],
    volumes: Mapping[str, Any],
    path: str,
    grace: int | None,
) -> list[dict[str, Any]]:
    items = [_d(c) for c in _l(containers)]
    names = {_s(c.get("name")) for c in regular}
    for i, container in enumerate(items):
        container_path = _index(path, i)
        _validate_container_common(errs, container, volumes, container_path)
        restart = container.get("restartPolicy")
        if isinstance(restart, str) and restart != "Always":
            errs.unsupported(_child(container_path, "restartPolicy"), restart, ("Always",))
        name = _s(container.get("name"))
        if name in names:
            errs.duplicate(_child(container_path, "name"), name)
        elif name:
            names.add(name)
        _check_host_port_conflicts(errs, [container], path)
        if restart == "Always":
            if container.get("lifecycle") is not None:
                _validate_lifecycle(errs, container["lifecycle"], _child(container_path, "lifecycle"), grace)
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                _validate_probe(errs, container.get(probe), _child(container_path, probe), probe, grace)
        else:
            for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(field) is not None:
                    errs.forbidden(
                        _child(container_path, field),
                        "may not be set for init containers without restartPolicy=Always",
                    )
    return items


def _validate_tolerations(errs: _Errs, tolerations: Any, path: str) -> None:
    for i, toleration in enumerate(_l(tolerations)):
        toleration = _d(toleration)
        tol_path = _index(path, i)
        key = _s(toleration.get("key"))
        operator = _s(toleration.get("operator"))
        value = _s(toleration.get("value"))
        effect = _s(toleration.get("effect"))
        if key:
            errs.invalid_each(_child(tol_path, "key"), key, is_qualified_name(key))
        if not key and operator != "Exists":
            errs.invalid(
                _child(tol_path, "operator"),
                operator,
                'operator must be Exists when `key` is empty, which means "match all values and all keys"',
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.invalid(
                _child(tol_path, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            )
        if operator in ("Equal", ""):
            msgs = is_valid_label_value(value)
            if msgs:
                errs.invalid(_child(tol_path, "operator"), value, ";".join(msgs))
        elif operator == "Exists":
            if value:
                errs.invalid(
                    _child(tol_path, "operator"), value, "value must be empty when `operator` is 'Exists'"
                )
        else:
            errs.unsupported(_child(tol_path, "operator"), operator, ("Equal", "Exists"))
        if effect and effect not in _TAINT_EFFECTS:
            errs.unsupported(_child(tol_path, "effect"), effect, _TAINT_EFFECTS)


def _validate_node_selector_requirement(errs: _Errs, requirement: Any, path: str) -> None:
    requirement = _d(requirement)
    operator = _s(requirement.get("operator"))
    values = _l(requirement.get("values"))
    if operator in ("In", "NotIn"):
        if not values:
            errs.required(_child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.forbidden(
                _child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            )
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            errs.required(
                _child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"
            )
    else:
        errs.invalid(_child(path, "operator"), operator, "not a valid selector operator")
    key = _s(requirement.get("key"))
    errs.invalid_each(_child(path, "key"), key, is_qualified_name(key))


def _validate_node_selector_term(errs: _Errs, term: Any, path: str) -> None:
    term = _d(term)
    for i, requirement in enumerate(_l(term.get("matchExpressions"))):
        _validate_node_selector_requirement(errs, requirement, _index(_child(path, "matchExpressions"), i))
    for i, requirement in enumerate(_l(term.get("matchFields"))):
        requirement_path = _index(_child(path, "matchFields"), i)
        _validate_node_selector_requirement(errs, requirement, requirement_path)


def _validate_pod_affinity_term(errs: _Errs, term: Any, path: str) -> None:
    term = _d(term)
    _validate_label_selector(errs, term.get("labelSelector"), _child(path, "labelSelector"))
    _validate_label_selector(errs, term.get("namespaceSelector"), _child(path, "namespaceSelector"))
    for namespace in _l(term.get("namespaces")):
        if isinstance(namespace, str):
            errs.invalid_each(_child(path, "namespace"), namespace, is_dns1123_label(namespace))
    topology_key = _s(term.get("topologyKey"))
    if not topology_key:
        errs.required(_child(path, "topologyKey"), "can not be empty")
    errs.invalid_each(_child(path, "topologyKey"), topology_key, is_qualified_name(topology_key))


def _validate_affinity(errs: _Errs, affinity: Any, path: str) -> None:
    affinity = _d(affinity)
    node = affinity.get("nodeAffinity")
    if isinstance(node, dict):
        node_path = _child(path, "nodeAffinity")
        required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
        if isinstance(required, dict):
            required_path = _child(node_path, "requiredDuringSchedulingIgnoredDuringExecution")
            terms = _l(required.get("nodeSelectorTerms"))
            if not terms:
                errs.required(
                    _child(required_path, "nodeSelectorTerms"), "must have at least one node selector term"
                )
            for i, term in enumerate(terms):
                _validate_node_selector_term(
                    errs, term, _index(_child(required_path, "nodeSelectorTerms"), i)
                )
        preferred_path = _child(node_path, "preferredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(_l(node.get("preferredDuringSchedulingIgnoredDuringExecution"))):
            term = _d(term)
            weight = _int(term.get("weight"))
            if weight is not None and not 1 <= weight <= 100:
                errs.invalid(
                    _child(_index(preferred_path, i), "weight"), weight, "must be in the range 1-100"
                )
            _validate_node_selector_term(
                errs, term.get("preference"), _child(_index(preferred_path, i), "preference")
            )
    for kind in ("podAffinity", "podAntiAffinity"):
        pod = affinity.get(kind)
        if not isinstance(pod, dict):
            continue
        kind_path = _child(path, kind)
        required_path = _child(kind_path, "requiredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(_l(pod.get("requiredDuringSchedulingIgnoredDuringExecution"))):
            _validate_pod_affinity_term(errs, term, _index(required_path, i))
        preferred_path = _child(kind_path, "preferredDuringSchedulingIgnoredDuringExecution")
        for i, weighted in enumerate(_l(pod.get("preferredDuringSchedulingIgnoredDuringExecution"))):
            weighted = _d(weighted)
            weight = _int(weighted.get("weight"))
            if weight is not None and not 1 <= weight <= 100:
                errs.invalid(
                    _child(_index(preferred_path, i), "weight"), weight, "must be in the range 1-100"
                )
            _validate_pod_affinity_term(
                errs, weighted.get("podAffinityTerm"), _child(_index(preferred_path, i), "podAffinityTerm")
            )


def _validate_dns_config(errs: _Errs, dns_config: Any, dns_policy: Any, path: str) -> None:
    if dns_policy == "None":
        if not isinstance(dns_config, dict):
            errs.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")
            return
        if not _l(dns_config.get("nameservers")):
            errs.required(
                _child(path, "nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )
            return
    if not isinstance(dns_config, dict):
        return
    nameservers = _l(dns_config.get("nameservers"))
    if len(nameservers) > 3:
        errs.invalid(
            _child(path, "nameservers"),
            go_repr(nameservers, "strings"),
            "must not have more than 3 nameservers",
        )
    for i, server in enumerate(nameservers):
        _validate_ip(errs, server, _index(_child(path, "nameservers"), i))
    searches = _l(dns_config.get("searches"))
    if len(searches) > 32:
        errs.invalid(
            _child(path, "searches"), go_repr(searches, "strings"), "must not have more than 32 search paths"
        )
    for i, search in enumerate(searches):
        if isinstance(search, str) and search != ".":
            search = search.removesuffix(".")
            errs.invalid_each(
                _index(_child(path, "searches"), i), search, is_dns1123_subdomain(search.lstrip("_"))
            )
    for i, option in enumerate(_l(dns_config.get("options"))):
        if not _s(_d(option).get("name")):
            errs.required(_index(_child(path, "options"), i), "must not be empty")


def _validate_topology_spread(errs: _Errs, constraints: Any, path: str) -> None:
    seen: set[tuple[str, str]] = set()
    for i, constraint in enumerate(_l(constraints)):
        constraint = _d(constraint)
        constraint_path = _index(path, i)
        max_skew = _int(constraint.get("maxSkew"))
        if max_skew is not None and max_skew <= 0:
            errs.invalid(_child(constraint_path, "maxSkew"), max_skew, "must be greater than zero")
        topology_key = _s(constraint.get("topologyKey"))
        if not topology_key:
            errs.required(_child(constraint_path, "topologyKey"), "can not be empty")
        else:
            errs.invalid_each(
                _child(constraint_path, "topologyKey"), topology_key, is_qualified_name(topology_key)
            )
        when = constraint.get("whenUnsatisfiable")
        if isinstance(when, str) and when not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.unsupported(
                _child(constraint_path, "whenUnsatisfiable"), when, ("DoNotSchedule", "ScheduleAnyway")
            )
        pair = (topology_key, _s(when))
        if pair in seen:
            errs.duplicate(
                _child(constraint_path, "{topologyKey, whenUnsatisfiable}"), f"{{{topology_key}, {_s(when)}}}"
            )
        seen.add(pair)
        _validate_label_selector(
            errs, constraint.get("labelSelector"), _child(constraint_path, "labelSelector")
        )


def _validate_pod_spec(
    errs: _Errs,
    spec: Any,
    path: str,
    *,
    is_pod: bool,
    extra_volumes: Iterable[str] = (),
) -> None:
    spec = _d(spec)
    grace = _int(spec.get("terminationGracePeriodSeconds"))
    volumes: dict[str, Any] = dict(_validate_volumes(errs, spec.get("volumes"), _child(path, "volumes")))
    for name in extra_volumes:
        volumes.setdefault(name, {"name": name, "persistentVolumeClaim": {"claimName": name}})
    containers = _validate_containers(
        errs, spec.get("containers"), volumes, _child(path, "containers"), grace
    )
    init_containers = _validate_init_containers(
        errs, spec.get("initContainers"), containers, volumes, _child(path, "initContainers"), grace
    )
    all_names = {_s(c.get("name")) for c in containers + init_containers}
    for i, container in enumerate(_l(spec.get("ephemeralContainers"))):
        container = _d(container)
        container_path = _index(_child(path, "ephemeralContainers"), i)
        _validate_container_common(errs, container, volumes, container_path)
        name = _s(container.get("name"))
        if name in all_names:
            errs.duplicate(_child(container_path, "name"), name)
        all_names.add(name)
    if spec.get("hostNetwork") is True:
        for i, container in enumerate(containers):
            for j, port in enumerate(_l(container.get("ports"))):
                port = _d(port)
                host_port, container_port = _int(port.get("hostPort")) or 0, _int(port.get("containerPort"))
                if (is_pod or host_port != 0) and host_port != container_port:
                    port_path = _index(_child(_index(_child(path, "containers"), i), "ports"), j)
                    errs.invalid(
                        _child(port_path, "hostPort"),
                        host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
    restart = spec.get("restartPolicy")
    if restart == "":
        errs.required(_child(path, "restartPolicy"))
    elif isinstance(restart, str) and restart not in _RESTART_POLICIES:
        errs.unsupported(_child(path, "restartPolicy"), restart, _RESTART_POLICIES)
    dns_policy = spec.get("dnsPolicy")
    if dns_policy == "":
        errs.required(_child(path, "dnsPolicy"))
    elif isinstance(dns_policy, str) and dns_policy not in _DNS_POLICIES:
        errs.unsupported(_child(path, "dnsPolicy"), dns_policy, _DNS_POLICIES)
    errs.extend(validate_labels(spec.get("nodeSelector"), _child(path, "nodeSelector")))
    context = _d(spec.get("securityContext"))
    context_path = _child(path, "securityContext")
    for name in ("runAsUser", "runAsGroup", "fsGroup"):
        _validate_id_range(errs, context.get(name), _child(context_path, name))
    for i, group in enumerate(_l(context.get("supplementalGroups"))):
        _validate_id_range(errs, group, _index(_child(context_path, "supplementalGroups"), i))
    # v1 keeps shareProcessNamespace/hostPID in the PodSpec; Kubernetes reports the pair
    # at the internal (securityContext) path.
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        errs.invalid(
            _child(context_path, "shareProcessNamespace"),
            True,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        )
    _validate_affinity(errs, spec.get("affinity"), _child(path, "affinity"))
    _validate_dns_config(errs, spec.get("dnsConfig"), dns_policy, _child(path, "dnsConfig"))
    for i, gate in enumerate(_l(spec.get("readinessGates"))):
        condition = _s(_d(gate).get("conditionType"))
        errs.invalid_each(
            _child(_index(_child(path, "readinessGates"), i), "conditionType"),
            condition,
            is_qualified_name(condition),
        )
    gates_seen: set[str] = set()
    for i, gate in enumerate(_l(spec.get("schedulingGates"))):
        gate_name = _s(_d(gate).get("name"))
        gate_path = _index(_child(path, "schedulingGates"), i)
        errs.invalid_each(gate_path, gate_name, is_qualified_name(gate_name))
        if gate_name in gates_seen:
            errs.duplicate(gate_path, gate_name)
        gates_seen.add(gate_name)
    _validate_topology_spread(
        errs, spec.get("topologySpreadConstraints"), _child(path, "topologySpreadConstraints")
    )
    for name in ("serviceAccountName", "nodeName", "priorityClassName"):
        value = _s(spec.get(name))
        if value:
            errs.invalid_each(_child(path, name), value, is_dns1123_subdomain(value))
    deadline = _int(spec.get("activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.invalid(_child(path, "activeDeadlineSeconds"), deadline, inclusive_range_error(1, _MAX_INT32))
    for name in ("hostname", "subdomain"):
        value = _s(spec.get(name))
        if value:
            errs.invalid_each(_child(path, name), value, is_dns1123_label(value))
    _validate_tolerations(errs, spec.get("tolerations"), _child(path, "tolerations"))
    for i, alias in enumerate(_l(spec.get("hostAliases"))):
        alias = _d(alias)
        alias_path = _index(_child(path, "hostAliases"), i)
        _validate_ip(errs, alias.get("ip"), _child(alias_path, "ip"))
        for j, hostname in enumerate(_l(alias.get("hostnames"))):
            if isinstance(hostname, str):
                errs.invalid_each(
                    _index(_child(alias_path, "hostnames"), j), hostname, is_dns1123_subdomain(hostname)
                )
    preemption = spec.get("preemptionPolicy")
    if preemption == "":
        errs.required(_child(path, "preemptionPolicy"))
    elif isinstance(preemption, str) and preemption not in ("PreemptLowerPriority", "Never"):
        errs.unsupported(_child(path, "preemptionPolicy"), preemption, ("PreemptLowerPriority", "Never"))
    os_name = _d(spec.get("os")).get("name")
    if isinstance(os_name, str) and os_name not in ("linux", "windows"):
        errs.unsupported(_child(_child(path, "os"), "name"), os_name, ("linux", "windows"))


def _validate_pod_template(
    errs: _Errs, template: Any, path: str, *, extra_volumes: Iterable[str] = ()
) -> None:
    """ValidatePodTemplateSpec: template labels/annotations and the pod spec."""
    template = _d(template)
    meta = _d(template.get("metadata"))
    meta_path = _child(path, "metadata")
    errs.extend(validate_labels(meta.get("labels"), _child(meta_path, "labels")))
    errs.extend(validate_annotations(meta.get("annotations"), _child(meta_path, "annotations")))
    spec = template.get("spec")
    _validate_pod_spec(errs, spec, _child(path, "spec"), is_pod=False, extra_volumes=extra_volumes)
    if _l(_d(spec).get("ephemeralContainers")):
        errs.forbidden(
            _child(path, "spec.ephemeralContainers"), "ephemeral containers not allowed in pod template"
        )


# --- per-kind validators -----------------------------------------------------------------------


def _validate_pod(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    _validate_pod_spec(errs, spec, "spec", is_pod=True)
    for field in ("containers", "initContainers"):
        for i, container in enumerate(_l(spec.get(field))):
            image = _s(_d(container).get("image"))
            if image != image.strip():
                errs.invalid(
                    f"spec.{field}[{i}].image", image, "must not have leading or trailing whitespace"
                )
    if _s(spec.get("nodeName")) and _l(spec.get("schedulingGates")):
        errs.forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared")


def _validate_pod_create(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    _validate_pod(errs, obj, api_version)
    if old is None and _l(_d(obj.get("spec")).get("ephemeralContainers")):
        # Ephemeral containers are added through the ephemeralcontainers subresource only.
        errs.forbidden("spec.ephemeralContainers", "cannot be set on create")


def _template_restart_policy_always(errs: _Errs, template: Any, path: str) -> None:
    spec = _d(_d(template).get("spec"))
    restart = spec.get("restartPolicy")
    if isinstance(restart, str) and restart != "Always":
        errs.unsupported(_child(path, "spec.restartPolicy"), restart, ("Always",))


def _validate_replica_workload(errs: _Errs, obj: dict[str, Any], kind_word: str) -> None:
    """The part Deployment, ReplicaSet and StatefulSet share: replicas, selector, template."""
    spec = _d(obj.get("spec"))
    errs.nonnegative(spec.get("replicas"), "spec.replicas")
    errs.nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = spec.get("selector")
    if selector is None:
        errs.required("spec.selector")
    elif isinstance(selector, dict):
        _validate_label_selector(errs, selector, "spec.selector")
        if _selector_is_empty(selector):
            errs.invalid(
                "spec.selector", go_repr(selector, "selector"), f"empty selector is invalid for {kind_word}"
            )
    if isinstance(selector, dict) and not _selector_parses(selector):
        errs.invalid("spec.selector", go_repr(selector, "selector"), "invalid label selector")
    _validate_selector_matches_template(errs, selector, spec.get("template"), "spec.template")


def _validate_deployment(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    _validate_replica_workload(errs, obj, "deployment")
    _validate_pod_template(errs, spec.get("template"), "spec.template")
    _template_restart_policy_always(errs, spec.get("template"), "spec.template")
    if _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds") is not None:
        errs.invalid(
            "spec.template.spec.activeDeadlineSeconds",
            _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds"),
            "must not be specified",
        )
    strategy = _d(spec.get("strategy"))
    strategy_type = strategy.get("type")
    if strategy_type == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden(
                "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
            )
    elif strategy_type == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, dict):
            surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
            _validate_positive_int_or_percent(errs, unavailable, "spec.strategy.rollingUpdate.maxUnavailable")
            _validate_positive_int_or_percent(errs, surge, "spec.strategy.rollingUpdate.maxSurge")
            if (
                unavailable is not None
                and surge is not None
                and _int_or_percent_value(unavailable) == 0
                and _int_or_percent_value(surge) == 0
            ):
                errs.invalid(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    unavailable,
                    "may not be 0 when `maxSurge` is 0",
                )
            _is_not_more_than_100_percent(errs, unavailable, "spec.strategy.rollingUpdate.maxUnavailable")
    elif isinstance(strategy_type, str):
        errs.unsupported("spec.strategy.type", strategy_type, ("Recreate", "RollingUpdate"))
    errs.nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = _int(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        errs.nonnegative(deadline, "spec.progressDeadlineSeconds")
        if deadline <= (_int(spec.get("minReadySeconds")) or 0):
            errs.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")


def _validate_replica_set(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    _validate_replica_workload(errs, obj, "deployment")  # sic: Kubernetes says "deployment" here too
    _validate_pod_template(errs, spec.get("template"), "spec.template")
    _template_restart_policy_always(errs, spec.get("template"), "spec.template")
    if _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds") is not None:
        errs.invalid(
            "spec.template.spec.activeDeadlineSeconds",
            _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds"),
            "must not be specified",
        )


def _validate_stateful_set(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    policy = spec.get("podManagementPolicy")
    if policy == "":
        errs.required("spec.podManagementPolicy")
    elif isinstance(policy, str) and policy not in ("OrderedReady", "Parallel"):
        errs.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
    strategy = _d(spec.get("updateStrategy"))
    strategy_type = strategy.get("type")
    if strategy_type == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.invalid(
                "spec.updateStrategy.rollingUpdate",
                go_repr(strategy.get("rollingUpdate"), "apps.RollingUpdateStatefulSetStrategy"),
                "only allowed for updateStrategy 'RollingUpdate'",
            )
    elif strategy_type == "RollingUpdate":
        rolling = _d(strategy.get("rollingUpdate"))
        errs.nonnegative(rolling.get("partition"), "spec.updateStrategy.rollingUpdate.partition")
        if rolling.get("maxUnavailable") is not None:
            unavailable = rolling["maxUnavailable"]
            _validate_positive_int_or_percent(
                errs, unavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable"
            )
            if _int_or_percent_value(unavailable) == 0:
                errs.invalid(
                    "spec.updateStrategy.rollingUpdate.maxUnavailable", unavailable, "must be greater than 0"
                )
            _is_not_more_than_100_percent(
                errs, unavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable"
            )
    elif strategy_type == "":
        errs.required("spec.updateStrategy")
    elif isinstance(strategy_type, str):
        errs.invalid(
            "spec.updateStrategy",
            go_repr(strategy, "apps.StatefulSetUpdateStrategy"),
            "must be 'RollingUpdate' or 'OnDelete'",
        )
    retention = _d(spec.get("persistentVolumeClaimRetentionPolicy"))
    for name in ("whenDeleted", "whenScaled"):
        value = retention.get(name)
        if isinstance(value, str) and value not in ("Retain", "Delete"):
            errs.unsupported(f"spec.persistentVolumeClaimRetentionPolicy.{name}", value, ("Retain", "Delete"))
    ordinals = _d(spec.get("ordinals"))
    errs.nonnegative(ordinals.get("start"), "spec.ordinals.start")
    errs.nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    _validate_replica_workload(errs, obj, "statefulset")
    claim_names = [
        _s(_d(_d(claim).get("metadata")).get("name")) for claim in _l(spec.get("volumeClaimTemplates"))
    ]
    _validate_pod_template(
        errs, spec.get("template"), "spec.template", extra_volumes=[n for n in claim_names if n]
    )
    _template_restart_policy_always(errs, spec.get("template"), "spec.template")
    if _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds") is not None:
        errs.forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        )


def _validate_daemon_set(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    selector = spec.get("selector")
    if selector is None:
        errs.required("spec.selector")
    else:
        _validate_label_selector(errs, selector, "spec.selector")
        _validate_selector_matches_template(errs, selector, spec.get("template"), "spec.template")
        if isinstance(selector, dict) and _selector_is_empty(selector):
            errs.invalid(
                "spec.selector", go_repr(selector, "selector"), "empty selector is invalid for daemonset"
            )
    _validate_pod_template(errs, spec.get("template"), "spec.template")
    _template_restart_policy_always(errs, spec.get("template"), "spec.template")
    deadline = _d(_d(spec.get("template")).get("spec")).get("activeDeadlineSeconds")
    if deadline is not None:
        errs.invalid(
            "spec.template.spec.activeDeadlineSeconds",
            deadline,
            "activeDeadlineSeconds in DaemonSet is not Supported",
        )
    errs.nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs.nonnegative(spec.get("templateGeneration"), "spec.templateGeneration")
    errs.nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    strategy = _d(spec.get("updateStrategy"))
    strategy_type = strategy.get("type")
    if strategy_type == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, dict):
            path = "spec.updateStrategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _validate_positive_int_or_percent(errs, unavailable, f"{path}.maxUnavailable")
            _validate_positive_int_or_percent(errs, surge, f"{path}.maxSurge")
            _is_not_more_than_100_percent(errs, unavailable, f"{path}.maxUnavailable")
            _is_not_more_than_100_percent(errs, surge, f"{path}.maxSurge")
            has_unavailable = _int_or_percent_value(unavailable) != 0
            has_surge = _int_or_percent_value(surge) != 0
            if has_unavailable and has_surge:
                errs.invalid(f"{path}.maxSurge", surge, "may not be set when maxUnavailable is non-zero")
            elif not has_unavailable and not has_surge and (unavailable is not None or surge is not None):
                errs.required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0")
    elif isinstance(strategy_type, str) and strategy_type != "OnDelete":
        errs.unsupported("spec.updateStrategy", strategy_type, ("RollingUpdate", "OnDelete"))


_MAX_PARALLELISM_INDEXED = 100_000
_POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")


def _validate_job_spec(errs: _Errs, spec: dict[str, Any], path: str) -> None:
    for name in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        errs.nonnegative(spec.get(name), _child(path, name))
    mode = spec.get("completionMode")
    indexed = mode == "Indexed"
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        errs.required(_child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified")
    if spec.get("backoffLimitPerIndex") is not None and not indexed:
        errs.invalid(
            _child(path, "backoffLimitPerIndex"),
            spec["backoffLimitPerIndex"],
            "requires indexed completion mode",
        )
    if isinstance(mode, str) and mode not in ("NonIndexed", "Indexed"):
        errs.unsupported(_child(path, "completionMode"), mode, ("NonIndexed", "Indexed"))
    if indexed:
        completions = _int(spec.get("completions"))
        parallelism = _int(spec.get("parallelism"))
        if spec.get("completions") is None:
            errs.required(_child(path, "completions"), "when completion mode is Indexed")
        if parallelism is not None and parallelism > _MAX_PARALLELISM_INDEXED:
            errs.invalid(
                _child(path, "parallelism"),
                parallelism,
                f"must be less than or equal to {_MAX_PARALLELISM_INDEXED} when completion mode is Indexed",
            )
        max_failed = _int(spec.get("maxFailedIndexes"))
        if completions is not None and max_failed is not None and max_failed > completions:
            errs.invalid(
                _child(path, "maxFailedIndexes"), max_failed, "must be less than or equal to completions"
            )
    template = _d(spec.get("template"))
    template_path = _child(path, "template")
    restart = _d(template.get("spec")).get("restartPolicy")
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for i, rule in enumerate(_l(policy.get("rules"))):
            rule = _d(rule)
            rule_path = _index(_child(_child(path, "podFailurePolicy"), "rules"), i)
            action = rule.get("action")
            if isinstance(action, str) and action not in _POD_FAILURE_ACTIONS:
                errs.unsupported(_child(rule_path, "action"), action, _POD_FAILURE_ACTIONS)
            if action == "FailIndex" and spec.get("backoffLimitPerIndex") is None:
                errs.invalid(
                    _child(rule_path, "action"), action, "requires the backoffLimitPerIndex to be set"
                )
            exit_codes = rule.get("onExitCodes")
            if isinstance(exit_codes, dict) and rule.get("onPodConditions") is not None:
                errs.invalid(
                    rule_path,
                    go_repr(rule, "batch.PodFailurePolicyRule"),
                    "specifying both OnExitCodes and OnPodConditions is not supported",
                )
            if isinstance(exit_codes, dict):
                operator = exit_codes.get("operator")
                if isinstance(operator, str) and operator not in ("In", "NotIn"):
                    errs.unsupported(
                        _child(_child(rule_path, "onExitCodes"), "operator"), operator, ("In", "NotIn")
                    )
                values = [v for v in _l(exit_codes.get("values")) if _int(v) is not None]
                if not values:
                    errs.invalid(
                        _child(_child(rule_path, "onExitCodes"), "values"),
                        go_repr([], "[]int32"),
                        "at least one value is required",
                    )
                if operator == "In" and 0 in values:
                    errs.invalid(
                        _child(_child(rule_path, "onExitCodes"), "values"),
                        0,
                        "must not be 0 for the In operator",
                    )
    _validate_pod_template(errs, template, template_path)
    restart_path = _child(template_path, "spec.restartPolicy")
    if restart in ("Always", ""):
        errs.required(restart_path, 'valid values: "OnFailure", "Never"')
    elif isinstance(restart, str) and restart not in ("OnFailure", "Never"):
        errs.unsupported(restart_path, restart, ("OnFailure", "Never"))
    elif isinstance(policy, dict) and restart not in (None, "Never"):
        errs.invalid(restart_path, restart, 'only "Never" is supported when podFailurePolicy is specified')
    replacement = spec.get("podReplacementPolicy")
    if isinstance(replacement, str):
        allowed = ("Failed",) if isinstance(policy, dict) else ("TerminatingOrFailed", "Failed")
        if replacement not in allowed:
            errs.unsupported(_child(path, "podReplacementPolicy"), replacement, allowed)


def _validate_job(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    meta = _d(obj.get("metadata"))
    _validate_job_spec(errs, spec, "spec")
    selector = spec.get("selector")
    manual = spec.get("manualSelector") is True
    if selector is None and manual:
        errs.required("spec.selector")
    if isinstance(selector, dict):
        _validate_label_selector(errs, selector, "spec.selector")
        if _selector_parses(selector) and not _selector_matches(
            selector, _d(_d(spec.get("template")).get("metadata")).get("labels")
        ):
            errs.invalid(
                "spec.template.metadata.labels",
                go_repr(_d(_d(spec.get("template")).get("metadata")).get("labels"), "labels"),
                "`selector` does not match template `labels`",
            )
        uid = _s(meta.get("uid"))
        if (
            not manual
            and uid
            and _d(selector.get("matchLabels")).get("batch.kubernetes.io/controller-uid") != uid
        ):
            errs.invalid("spec.selector", go_repr(selector, "selector"), "`selector` not auto-generated")


_CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES = (
    {},
    {},
    {},
    {
        m: i + 1
        for i, m in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
        )
    },
    {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
)
_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+")


def _cron_value(text: str, field: int) -> int:
    names = _CRON_NAMES[field]
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def _check_cron_field(text: str, field: int) -> None:
    """robfig/cron's getRange, with its error wording."""
    low_bound, high_bound = _CRON_BOUNDS[field]
    for part in text.split(","):
        range_and_step = part.split("/")
        low_and_high = range_and_step[0].split("-")
        if low_and_high[0] in ("*", "?"):
            start, end = low_bound, high_bound
        else:
            start = _cron_value(low_and_high[0], field)
            if len(low_and_high) == 1:
                end = start
            elif len(low_and_high) == 2:
                end = _cron_value(low_and_high[1], field)
            else:
                raise ValueError(f"too many hyphens: {part}")
        if len(range_and_step) == 2:
            step = range_and_step[1]
            if not step.isdigit():
                raise ValueError(
                    f'failed to parse int from {step}: strconv.Atoi: parsing "{step}": invalid syntax'
                )
            if int(step) == 0:
                raise ValueError(f"step of range should be a positive number: {part}")
        elif len(range_and_step) > 2:
            raise ValueError(f"too many slashes: {part}")
        if start < low_bound:
            raise ValueError(f"beginning of range ({start}) below minimum ({low_bound}): {part}")
        if end > high_bound:
            raise ValueError(f"end of range ({end}) above maximum ({high_bound}): {part}")
        if start > end:
            raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {part}")


def _parse_cron_schedule(schedule: str) -> str | None:
    """None if ``cron.ParseStandard`` accepts ``schedule``, else its error text."""
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        zone, _, text = text.partition(" ")
        try:
            zoneinfo.ZoneInfo(zone.split("=", 1)[1])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"provided bad location {zone.split('=', 1)[1]}: unknown time zone {zone.split('=', 1)[1]}"
        text = text.strip()
    if text.startswith("@"):
        if text in _CRON_DESCRIPTORS:
            return None
        if text.startswith("@every "):
            duration = text[len("@every ") :].strip()
            if _GO_DURATION.fullmatch(duration):
                return None
            return f'failed to parse duration {text}: time: invalid duration "{duration}"'
        return f"unrecognized descriptor: {text}"
    fields = text.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for field, value in enumerate(fields):
            _check_cron_field(value, field)
    except ValueError as exc:
        return str(exc)
    try:
        from croniter import croniter

        if not croniter.is_valid(text):
            return f"invalid schedule: {text}"
    except ImportError:  # pragma: no cover - croniter is a dependency
        pass
    return None


def _validate_time_zone(errs: _Errs, time_zone: Any, path: str) -> None:
    if time_zone is None or not isinstance(time_zone, str):
        return
    if not time_zone:
        errs.invalid(path, time_zone, "timeZone must be nil or non-empty string")
        return
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not re.fullmatch(r"[A-Za-z\.\-_0-9+]{1,14}", part):
            errs.invalid(path, time_zone, f"unknown time zone {time_zone}")
            return
    if time_zone.lower() == "local":
        errs.invalid(
            path,
            time_zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        )
        return
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        errs.invalid(path, time_zone, f"unknown time zone {time_zone}")


def _validate_cron_job(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    old_spec = _d(old.get("spec")) if old is not None else None
    name = _s(_d(obj.get("metadata")).get("name"))
    if len(name) > 52:
        errs.invalid("metadata.name", name, "must be no more than 52 characters")
    schedule = spec.get("schedule")
    if not schedule:
        errs.required("spec.schedule")
    elif isinstance(schedule, str):
        problem = _parse_cron_schedule(schedule)
        if problem:
            errs.invalid("spec.schedule", schedule, problem)
        allow_tz = isinstance(old_spec, dict) and "TZ" in _s(old_spec.get("schedule"))
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            errs.invalid(
                "spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            )
        elif not allow_tz and "TZ" in schedule:
            errs.invalid(
                "spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            )
    errs.nonnegative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds")
    if not isinstance(old_spec, dict) or old_spec.get("timeZone") != spec.get("timeZone"):
        _validate_time_zone(errs, spec.get("timeZone"), "spec.timeZone")
    policy = spec.get("concurrencyPolicy")
    if policy == "":
        errs.required("spec.concurrencyPolicy")
    elif isinstance(policy, str) and policy not in ("Allow", "Forbid", "Replace"):
        errs.unsupported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace"))
    template = _d(spec.get("jobTemplate"))
    template_meta = _d(template.get("metadata"))
    errs.extend(validate_labels(template_meta.get("labels"), "spec.jobTemplate.metadata.labels"))
    errs.extend(
        validate_annotations(template_meta.get("annotations"), "spec.jobTemplate.metadata.annotations")
    )
    job_spec = _d(template.get("spec"))
    _validate_job_spec(errs, job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        errs.invalid(
            "spec.jobTemplate.spec.selector",
            go_repr(job_spec["selector"], "selector"),
            "`selector` will be auto-generated",
        )
    if job_spec.get("manualSelector") is True:
        errs.unsupported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
    errs.nonnegative(spec.get("successfulJobsHistoryLimit"), "spec.successfulJobsHistoryLimit")
    errs.nonnegative(spec.get("failedJobsHistoryLimit"), "spec.failedJobsHistoryLimit")


_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_NODE_PORT_RANGE = (30000, 32767)
_TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")


def _service_cluster_ips(spec: dict[str, Any]) -> list[str]:
    ips = [ip for ip in _l(spec.get("clusterIPs")) if isinstance(ip, str)]
    cluster_ip = _s(spec.get("clusterIP"))
    if not ips and cluster_ip:
        ips = [cluster_ip]
    return ips


def _is_headless(spec: dict[str, Any]) -> bool:
    ips = _service_cluster_ips(spec)
    return bool(ips) and ips[0] == "None"


def _go_service_port(port: dict[str, Any]) -> _GoLiteral:
    protocol = _s(port.get("protocol"))
    number = _int(port.get("port")) or 0
    return _GoLiteral(
        f'core.ServicePort{{Name:"", Protocol:{_go_quote(protocol)}, AppProtocol:(*string)(nil), Port:{number}, '
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        {"protocol": protocol, "port": number},
    )


def _validate_service(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    service_type = spec.get("type")
    headless = _is_headless(spec)
    ports = [_d(p) for p in _l(spec.get("ports"))]
    if not ports and not headless and service_type != "ExternalName":
        errs.required("spec.ports")
    if service_type in ("LoadBalancer", "NodePort") and headless:
        errs.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {service_type} services")
    if service_type == "ExternalName":
        if _service_cluster_ips(spec):
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if _l(spec.get("ipFamilies")):
            errs.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.get("ipFamilyPolicy") is not None:
            errs.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = _s(spec.get("externalName")).removesuffix(".")
        if cname:
            errs.invalid_each("spec.externalName", cname, is_dns1123_subdomain(cname))
        else:
            errs.required("spec.externalName")
    names: set[str] = set()
    for i, port in enumerate(ports):
        port_path = f"spec.ports[{i}]"
        name = _s(port.get("name"))
        if len(ports) > 1 and not name:
            errs.required(_child(port_path, "name"))
        elif name:
            errs.invalid_each(_child(port_path, "name"), name, is_dns1123_label(name))
            if name in names:
                errs.duplicate(_child(port_path, "name"), name)
            else:
                names.add(name)
        number = _int(port.get("port"))
        if number is not None:
            errs.invalid_each(_child(port_path, "port"), number, is_valid_port_num(number))
        protocol = port.get("protocol")
        if protocol == "":
            errs.required(_child(port_path, "protocol"))
        elif isinstance(protocol, str) and protocol not in _PROTOCOLS:
            errs.unsupported(_child(port_path, "protocol"), protocol, _PROTOCOLS)
        if port.get("targetPort") is not None:
            _validate_port_num_or_name(errs, port["targetPort"], _child(port_path, "targetPort"))
        app_protocol = port.get("appProtocol")
        if isinstance(app_protocol, str):
            errs.invalid_each(_child(port_path, "appProtocol"), app_protocol, is_qualified_name(app_protocol))
        node_port = _int(port.get("nodePort"))
        if node_port:
            if service_type == "ClusterIP":
                errs.forbidden(_child(port_path, "nodePort"), "may not be used when `type` is 'ClusterIP'")
            elif not _NODE_PORT_RANGE[0] <= node_port <= _NODE_PORT_RANGE[1]:
                errs.invalid(
                    _child(port_path, "nodePort"),
                    node_port,
                    "provided port is not in the valid range. The range of valid ports is "
                    f"{_NODE_PORT_RANGE[0]}-{_NODE_PORT_RANGE[1]}",
                )
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    affinity = spec.get("sessionAffinity")
    if affinity == "":
        errs.required("spec.sessionAffinity")
    elif isinstance(affinity, str) and affinity not in ("ClientIP", "None"):
        errs.unsupported("spec.sessionAffinity", affinity, ("ClientIP", "None"))
    if affinity == "ClientIP":
        timeout = _d(_d(_d(spec.get("sessionAffinityConfig")).get("clientIP"))).get("timeoutSeconds")
        if timeout is not None and (_int(timeout) is None or not 0 < timeout <= 86400):
            errs.invalid(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                timeout,
                "must be greater than 0 and less than 86400",
            )
    elif affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    _validate_service_ips(errs, spec)
    for i, ip in enumerate(_l(spec.get("externalIPs"))):
        _validate_ip(errs, ip, f"spec.externalIPs[{i}]")
    if service_type == "":
        errs.required("spec.type")
    elif isinstance(service_type, str) and service_type not in _SERVICE_TYPES:
        errs.unsupported("spec.type", service_type, _SERVICE_TYPES)
    node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        protocol = _s(port.get("protocol")) or "TCP"
        node_port = _int(port.get("nodePort"))
        if node_port:
            if (protocol, node_port) in node_ports:
                errs.duplicate(f"spec.ports[{i}].nodePort", node_port)
            node_ports.add((protocol, node_port))
        number = _int(port.get("port"))
        if number is not None:
            if (protocol, number) in seen_ports:
                errs.duplicate(f"spec.ports[{i}]", _go_service_port(port))
            seen_ports.add((protocol, number))
    ranges = _l(spec.get("loadBalancerSourceRanges"))
    if ranges:
        if service_type != "LoadBalancer":
            errs.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
        for i, cidr in enumerate(ranges):
            _validate_cidr(errs, _s(cidr).strip(), f"spec.LoadBalancerSourceRanges[{i}]")
    if spec.get("allocateLoadBalancerNodePorts") is not None and service_type != "LoadBalancer":
        errs.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    externally_accessible = service_type in ("LoadBalancer", "NodePort") or (
        service_type == "ClusterIP" and bool(_l(spec.get("externalIPs")))
    )
    etp = spec.get("externalTrafficPolicy")
    if not externally_accessible:
        if etp:
            errs.invalid(
                "spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"
            )
    elif isinstance(etp, str) and etp not in ("Cluster", "Local"):
        errs.unsupported("spec.externalTrafficPolicy", etp, ("Cluster", "Local"))
    health_port = _int(spec.get("healthCheckNodePort"))
    if health_port and not (service_type == "LoadBalancer" and etp == "Local"):
        errs.invalid(
            "spec.healthCheckNodePort",
            health_port,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        )
    itp = spec.get("internalTrafficPolicy")
    if isinstance(itp, str) and itp not in ("Cluster", "Local"):
        errs.unsupported("spec.internalTrafficPolicy", itp, ("Cluster", "Local"))
    distribution = spec.get("trafficDistribution")
    if isinstance(distribution, str) and distribution not in _TRAFFIC_DISTRIBUTIONS:
        errs.unsupported("spec.trafficDistribution", distribution, _TRAFFIC_DISTRIBUTIONS)


def _validate_service_ips(errs: _Errs, spec: dict[str, Any]) -> None:
    cluster_ip = _s(spec.get("clusterIP"))
    cluster_ips = [ip for ip in _l(spec.get("clusterIPs")) if isinstance(ip, str)]
    if cluster_ip and cluster_ips and cluster_ips[0] != cluster_ip:
        errs.invalid("spec.clusterIPs", go_repr(cluster_ips, "strings"), "first value must match `clusterIP`")
    for i, ip in enumerate(cluster_ips or ([cluster_ip] if cluster_ip else [])):
        if ip == "None":
            if i > 0:
                errs.invalid(
                    f"spec.clusterIPs[{i}]",
                    ip,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            continue
        if not _is_ip(ip):
            errs.invalid(f"spec.clusterIPs[{i}]", ip, "must be empty, 'None', or a valid IP address")
    for i, family in enumerate(_l(spec.get("ipFamilies"))):
        if isinstance(family, str) and family not in ("IPv4", "IPv6"):
            errs.unsupported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6"))
    policy = spec.get("ipFamilyPolicy")
    if isinstance(policy, str) and policy not in ("SingleStack", "PreferDualStack", "RequireDualStack"):
        errs.unsupported(
            "spec.ipFamilyPolicy", policy, ("PreferDualStack", "RequireDualStack", "SingleStack")
        )


_MAX_SECRET_SIZE = 1024 * 1024


_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = (ord("\n"), ord("\r"))


def _base64_error(text: str) -> str | None:
    """Go's ``base64.StdEncoding`` decode error for ``text``, or None when it decodes.

    Follows ``decodeQuantum`` so the offset matches the API server's
    ``illegal base64 data at input byte N`` (newlines are skipped, padding is required).
    """
    src = text.encode()
    n, si = len(src), 0

    def corrupt(offset: int) -> str:
        return f"illegal base64 data at input byte {offset}"

    while True:
        j = 0
        while j < 4:
            if si == n:
                return None if j == 0 else corrupt(si - j)
            char = src[si]
            si += 1
            if char in _BASE64_ALPHABET:
                j += 1
                continue
            if char in _NEWLINES:
                continue
            if char != ord("=") or j < 2:
                return corrupt(si - 1)
            if j == 2:
                while si < n and src[si] in _NEWLINES:
                    si += 1
                if si == n:
                    return corrupt(n)
                if src[si] != ord("="):
                    return corrupt(si - 1)
                si += 1
            while si < n and src[si] in _NEWLINES:
                si += 1
            return corrupt(si) if si < n else None


def _validate_config_map(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    total = 0
    data, binary = _d(obj.get("data")), _d(obj.get("binaryData"))
    for key, value in data.items():
        errs.invalid_each(f"data[{key}]", key, is_config_map_key(key))
        if key in binary:
            errs.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        total += len(value.encode()) if isinstance(value, str) else 0
    for key, value in binary.items():
        errs.invalid_each(f"binaryData[{key}]", key, is_config_map_key(key))
        if isinstance(value, str):
            problem = _base64_error(value)
            if problem:
                errs.append(FieldError(f"binaryData[{key}]", CauseType.INVALID, problem))
            total += len(value) * 3 // 4
    if total > _MAX_SECRET_SIZE:
        errs.too_long("", _MAX_SECRET_SIZE)


def _validate_secret(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    data = _d(obj.get("data"))
    total = 0
    for key, value in data.items():
        errs.invalid_each(f"data[{key}]", key, is_config_map_key(key))
        if isinstance(value, str):
            problem = _base64_error(value)
            if problem:
                errs.append(FieldError(f"data[{key}]", CauseType.INVALID, problem))
            total += len(value) * 3 // 4
    for key, value in _d(obj.get("stringData")).items():
        errs.invalid_each(f"data[{key}]", key, is_config_map_key(key))
        total += len(value.encode()) if isinstance(value, str) else 0
    if total > _MAX_SECRET_SIZE:
        errs.too_long("data", _MAX_SECRET_SIZE)
    keys = set(data) | set(_d(obj.get("stringData")))
    secret_type = _s(obj.get("type"))
    annotations = _d(_d(obj.get("metadata")).get("annotations"))
    if secret_type == "kubernetes.io/service-account-token":
        if not _s(annotations.get("kubernetes.io/service-account.name")):
            errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif secret_type == "kubernetes.io/dockercfg":
        if ".dockercfg" not in keys:
            errs.required("data[.dockercfg]")
    elif secret_type == "kubernetes.io/dockerconfigjson":
        if ".dockerconfigjson" not in keys:
            errs.required("data[.dockerconfigjson]")
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in keys and "password" not in keys:
            errs.required("data[username]")
            errs.required("data[password]")
    elif secret_type == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey") and not _d(obj.get("stringData")).get("ssh-privatekey"):
            errs.required("data[ssh-privatekey]")
    elif secret_type == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in keys:
                errs.required(f"data[{key}]")


def _validate_finalizer_names(errs: _Errs, finalizers: Any, path: str) -> None:
    for finalizer in _l(finalizers):
        if not isinstance(finalizer, str):
            continue
        errs.invalid_each(path, finalizer, is_qualified_name(finalizer))
        if "/" not in finalizer and finalizer not in _STANDARD_FINALIZERS:
            errs.invalid(
                path, finalizer, "name is neither a standard finalizer name nor is it fully qualified"
            )


def _validate_namespace(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    _validate_finalizer_names(errs, _d(obj.get("spec")).get("finalizers"), "spec.finalizers")


def _validate_node(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    unique: set[tuple[str, str]] = set()
    for i, taint in enumerate(_l(spec.get("taints"))):
        taint = _d(taint)
        taint_path = f"spec.taints[{i}]"
        key, value, effect = _s(taint.get("key")), _s(taint.get("value")), _s(taint.get("effect"))
        errs.invalid_each(_child(taint_path, "key"), key, is_qualified_name(key))
        msgs = is_valid_label_value(value)
        if msgs:
            errs.invalid(_child(taint_path, "value"), value, ";".join(msgs))
        if not effect:
            errs.required(_child(taint_path, "effect"))
        elif effect not in _TAINT_EFFECTS:
            errs.unsupported(_child(taint_path, "effect"), effect, _TAINT_EFFECTS)
        if (key, effect) in unique:
            errs.duplicate(
                taint_path, go_repr(taint, "core.Taint"), "taints must be unique by key and effect pair"
            )
        unique.add((key, effect))
    pod_cidrs = [c for c in _l(spec.get("podCIDRs")) if isinstance(c, str)]
    if spec.get("podCIDR"):
        _validate_cidr(errs, spec.get("podCIDR"), "spec.podCIDR")
    for i, cidr in enumerate(pod_cidrs):
        _validate_cidr(errs, cidr, f"spec.podCIDRs[{i}]")
    if len(pod_cidrs) > 2:
        errs.invalid(
            "spec.podCIDRs",
            go_repr(pod_cidrs, "strings"),
            "may specify no more than one CIDR for each IP family",
        )


def _validate_scale_target_ref(errs: _Errs, ref: Any, path: str) -> None:
    ref = _d(ref)
    for name in ("kind", "name"):
        value = _s(ref.get(name))
        if not value:
            errs.required(_child(path, name))
        else:
            errs.invalid_each(_child(path, name), value, is_valid_path_segment_name(value))


_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
_METRIC_TARGET_TYPES = ("AverageValue", "Utilization", "Value")


def _validate_hpa(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    min_replicas = _int(spec.get("minReplicas"))
    max_replicas = _int(spec.get("maxReplicas"))
    if min_replicas is not None and min_replicas < 1:
        errs.invalid("spec.minReplicas", min_replicas, "must be greater than or equal to 1")
    if max_replicas is not None and max_replicas < 1:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than 0")
    if min_replicas is not None and max_replicas is not None and max_replicas < min_replicas:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`")
    _validate_scale_target_ref(errs, spec.get("scaleTargetRef"), "spec.scaleTargetRef")
    if api_version == "autoscaling/v1":
        target = _int(spec.get("targetCPUUtilizationPercentage"))
        if target is not None and target < 1:
            errs.invalid("spec.targetCPUUtilizationPercentage", target, "must be greater than 0")
        return
    for i, metric in enumerate(_l(spec.get("metrics"))):
        metric = _d(metric)
        metric_path = f"spec.metrics[{i}]"
        metric_type = metric.get("type")
        if not metric_type:
            errs.required(_child(metric_path, "type"), "must specify a metric source type")
            continue
        if metric_type not in _METRIC_TYPES:
            errs.unsupported(_child(metric_path, "type"), metric_type, _METRIC_TYPES)
            continue
        source_key = metric_type[0].lower() + metric_type[1:]
        source = metric.get(source_key)
        if not isinstance(source, dict):
            errs.required(
                _child(metric_path, source_key),
                f"must populate information for the given metric source (type {metric_type})",
            )
            continue
        source_path = _child(metric_path, source_key)
        if metric_type in ("Resource", "ContainerResource") and not _s(source.get("name")):
            errs.required(_child(source_path, "name"), "must specify a resource name")
        target = _d(source.get("target"))
        target_type = target.get("type")
        target_path = _child(source_path, "target")
        if not target_type:
            errs.required(_child(target_path, "type"), "must specify a metric target type")
        elif target_type not in _METRIC_TARGET_TYPES:
            errs.unsupported(_child(target_path, "type"), target_type, _METRIC_TARGET_TYPES)
        utilization = _int(target.get("averageUtilization"))
        if utilization is not None and utilization < 1:
            errs.invalid(_child(target_path, "averageUtilization"), utilization, "must be greater than 0")
        if target_type == "Utilization" and target.get("averageUtilization") is None:
            errs.required(
                _child(target_path, "averageUtilization"),
                "must set either a target raw value or a target utilization",
            )


def _validate_pdb(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    spec = _d(obj.get("spec"))
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.invalid(
            "spec",
            go_repr(spec, "policy.PodDisruptionBudgetSpec"),
            "minAvailable and maxUnavailable cannot be both set",
        )
    for name, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            _validate_positive_int_or_percent(errs, value, f"spec.{name}")
            _is_not_more_than_100_percent(errs, value, f"spec.{name}")
    _validate_label_selector(errs, spec.get("selector"), "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if isinstance(policy, str) and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errs.unsupported("spec.unhealthyPodEvictionPolicy", policy, ("AlwaysAllow", "IfHealthyBudget"))


_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")


def _validate_pvc_spec(errs: _Errs, spec: Any, path: str) -> None:
    spec = _d(spec)
    modes = _l(spec.get("accessModes"))
    if not modes:
        errs.required(_child(path, "accessModes"), "at least 1 access mode is required")
    for mode in modes:
        if isinstance(mode, str) and mode not in _ACCESS_MODES:
            errs.unsupported(_child(path, "accessModes"), mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and len(set(modes)) > 1:
        errs.forbidden(_child(path, "accessModes"), "may not use ReadWriteOncePod with other access modes")
    _validate_label_selector(errs, spec.get("selector"), _child(path, "selector"))
    storage = _d(_d(spec.get("resources")).get("requests")).get("storage")
    storage_path = _key(_child(path, "resources"), "storage")
    if storage is None:
        errs.required(storage_path)
    else:
        try:
            amount = _parse_quantity(storage)
        except ValueError as exc:
            errs.invalid(storage_path, storage, str(exc))
        else:
            if amount <= 0:
                errs.invalid(storage_path, _canonical_quantity(storage), "must be greater than zero")
    mode = spec.get("volumeMode")
    if isinstance(mode, str) and mode not in ("Block", "Filesystem"):
        errs.unsupported(_child(path, "volumeMode"), mode, ("Block", "Filesystem"))


def _validate_pvc(
    errs: _Errs, obj: dict[str, Any], api_version: str, old: dict[str, Any] | None = None
) -> None:
    _validate_pvc_spec(errs, obj.get("spec"), "spec")


_VALIDATORS: dict[str, Callable[[_Errs, dict[str, Any], str, dict[str, Any] | None], None]] = {
    "Pod": _validate_pod_create,
    "Deployment": _validate_deployment,
    "ReplicaSet": _validate_replica_set,
    "StatefulSet": _validate_stateful_set,
    "DaemonSet": _validate_daemon_set,
    "Job": _validate_job,
    "CronJob": _validate_cron_job,
    "Service": _validate_service,
    "ConfigMap": _validate_config_map,
    "Secret": _validate_secret,
    "Namespace": _validate_namespace,
    "Node": _validate_node,
    "HorizontalPodAutoscaler": _validate_hpa,
    "PodDisruptionBudget": _validate_pdb,
    "PersistentVolumeClaim": _validate_pvc,
}


# --- updates -------------------------------------------------------------------------------


def _normalized(value: Any, parent: str = "") -> Any:
    """A comparable form with Go's semantics: empty and absent are equal, quantities by value."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if parent in ("requests", "limits") and isinstance(item, str | int | float):
                result[key] = _canonical_quantity(item)
                continue
            normalized = _normalized(item, key)
            if normalized in (None, "", [], {}, False):
                continue
            result[key] = normalized
        return result
    if isinstance(value, list):
        return [_normalized(item, parent) for item in value]
    return value


def _semantic_equal(a: Any, b: Any) -> bool:
    return _normalized(a) == _normalized(b)


def _diff_lines(old: Any, new: Any, path: str, out: list[str]) -> None:
    if len(out) > 20:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff_lines(old.get(key), new.get(key), _child(path, key), out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _diff_lines(a, b, _index(path, i), out)
        return
    if old != new:
        if old is not None:
            out.append(f"- {path}: {json.dumps(old, sort_keys=True)}")
        if new is not None:
            out.append(f"+ {path}: {json.dumps(new, sort_keys=True)}")


def _spec_diff(old: Any, new: Any, path: str) -> str:
    lines: list[str] = []
    _diff_lines(_normalized(old), _normalized(new), path, lines)
    return "\n".join(lines)


def _immutable(errs: _Errs, new: Any, old: Any, path: str, rendered: Any = None) -> None:
    if not _semantic_equal(new, old):
        errs.invalid(path, rendered if rendered is not None else new, _IMMUTABLE)


_UPDATABLE_POD_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def _toleration_matches_ignoring_seconds(old: dict[str, Any], new: dict[str, Any]) -> bool:
    a = {k: v for k, v in old.items() if k != "tolerationSeconds"}
    b = {k: v for k, v in new.items() if k != "tolerationSeconds"}
    return _semantic_equal(a, b)


def _validate_pod_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    new_spec, old_spec = _d(obj.get("spec")), _d(old.get("spec"))
    for field in ("containers", "initContainers"):
        new_containers, old_containers = _l(new_spec.get(field)), _l(old_spec.get(field))
        if len(new_containers) != len(old_containers):
            errs.forbidden(f"spec.{field}", "pod updates may not add or remove containers")
            return
        for i, container in enumerate(new_containers):
            image = _s(_d(container).get("image"))
            if not image:
                errs.required(f"spec.{field}[{i}].image")
            elif image != image.strip():
                errs.invalid(
                    f"spec.{field}[{i}].image", image, "must not have leading or trailing whitespace"
                )
    new_deadline, old_deadline = (
        _int(new_spec.get("activeDeadlineSeconds")),
        _int(old_spec.get("activeDeadlineSeconds")),
    )
    if new_deadline is not None:
        if not 0 <= new_deadline <= _MAX_INT32:
            errs.invalid("spec.activeDeadlineSeconds", new_deadline, inclusive_range_error(0, _MAX_INT32))
            return
        if old_deadline is not None and old_deadline < new_deadline:
            errs.invalid(
                "spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value"
            )
            return
    elif old_deadline is not None:
        errs.invalid(
            "spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"
        )
    new_tolerations = [_d(t) for t in _l(new_spec.get("tolerations"))]
    for old_toleration in _l(old_spec.get("tolerations")):
        if not any(_toleration_matches_ignoring_seconds(_d(old_toleration), t) for t in new_tolerations):
            errs.forbidden(
                "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
            )
            break
    old_gates = {_s(_d(g).get("name")) for g in _l(old_spec.get("schedulingGates"))}
    for i, gate in enumerate(_l(new_spec.get("schedulingGates"))):
        gate_name = _s(_d(gate).get("name"))
        if gate_name not in old_gates:
            errs.forbidden(
                f"spec.schedulingGates[{i}].name",
                f"only deletion is allowed, but found new scheduling gate '{gate_name}'",
            )
    if _semantic_equal(new_spec, old_spec):
        return
    munged = dict(new_spec)
    for field in ("containers", "initContainers"):
        old_containers = _l(old_spec.get(field))
        if field in munged:
            munged[field] = [
                {**_d(c), "image": _d(old_containers[i]).get("image")} if i < len(old_containers) else c
                for i, c in enumerate(_l(munged[field]))
            ]
    for field in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged.pop(field, None)
        if field in old_spec:
            munged[field] = old_spec[field]
    old_grace, new_grace = (
        _int(old_spec.get("terminationGracePeriodSeconds")),
        _int(munged.get("terminationGracePeriodSeconds")),
    )
    if old_grace is not None and old_grace < 0 and new_grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if not _semantic_equal(munged, old_spec):
        diff = _spec_diff(old_spec, munged, "spec")
        errs.forbidden(
            "spec", f"pod updates may not change fields other than {','.join(_UPDATABLE_POD_FIELDS)}\n{diff}"
        )


def _validate_selector_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    new_selector = _d(obj.get("spec")).get("selector")
    old_selector = _d(old.get("spec")).get("selector")
    _immutable(errs, new_selector, old_selector, "spec.selector", go_repr(new_selector, "selector"))


_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _validate_stateful_set_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    _validate_selector_update(errs, obj, old)
    new_spec = {k: v for k, v in _d(obj.get("spec")).items() if k not in (*_STS_MUTABLE, "selector")}
    old_spec = {k: v for k, v in _d(old.get("spec")).items() if k not in (*_STS_MUTABLE, "selector")}
    if not _semantic_equal(new_spec, old_spec):
        errs.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
            "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
            "'minReadySeconds' are forbidden",
        )


def _validate_job_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    spec, old_spec = _d(obj.get("spec")), _d(old.get("spec"))
    indexed = spec.get("completionMode") == "Indexed"
    if not indexed:
        _immutable(errs, spec.get("completions"), old_spec.get("completions"), "spec.completions")
    elif (
        not _semantic_equal(spec.get("completions"), old_spec.get("completions"))
        and spec.get("completions") is not None
        and spec.get("completions") != spec.get("parallelism")
    ):
        errs.invalid(
            "spec.completions",
            spec.get("completions"),
            "can only be modified in tandem with spec.parallelism",
        )
    _validate_selector_update(errs, obj, old)
    template, old_template = _d(spec.get("template")), _d(old_spec.get("template"))
    never_started = old_spec.get("suspend") is True and not _d(old.get("status")).get("startTime")
    if never_started:
        # A suspended Job that never ran may change its scheduling directives.
        old_template = {**old_template, "metadata": {**_d(old_template.get("metadata"))}}
        old_template["spec"] = dict(_d(old_template.get("spec")))
        for field in ("nodeSelector", "tolerations", "affinity", "schedulingGates"):
            old_template["spec"].pop(field, None)
            if field in _d(template.get("spec")):
                old_template["spec"][field] = _d(template.get("spec"))[field]
        for field in ("labels", "annotations"):
            old_template["metadata"].pop(field, None)
            if field in _d(template.get("metadata")):
                old_template["metadata"][field] = _d(template.get("metadata"))[field]
    _immutable(errs, template, old_template, "spec.template", go_repr(template, "core.PodTemplateSpec"))
    for field in (
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
        "podReplacementPolicy",
    ):
        _immutable(errs, spec.get(field), old_spec.get(field), f"spec.{field}")


def _validate_service_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    spec, old_spec = _d(obj.get("spec")), _d(old.get("spec"))
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    if _is_headless(spec) and _is_headless(old_spec):
        return
    new_ips, old_ips = _service_cluster_ips(spec), _service_cluster_ips(old_spec)
    if not new_ips or not old_ips:
        return  # an update that leaves clusterIP out keeps the allocated one
    for i, ip in enumerate(old_ips[: len(new_ips)]):
        if new_ips[i] != ip:
            errs.invalid(f"spec.clusterIPs[{i}]", go_repr(new_ips, "strings"), "may not change once set")


def _validate_immutable_data(
    errs: _Errs, obj: dict[str, Any], old: dict[str, Any], fields: tuple[str, ...]
) -> None:
    if old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        errs.forbidden("immutable", "field is immutable when `immutable` is set")
    for field in fields:
        if not _semantic_equal(obj.get(field), old.get(field)):
            errs.forbidden(field, "field is immutable when `immutable` is set")


def _validate_config_map_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    _validate_immutable_data(errs, obj, old, ("data", "binaryData"))


def _validate_secret_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    new_type, old_type = obj.get("type") or "Opaque", old.get("type") or "Opaque"
    if new_type != old_type:
        errs.invalid("type", new_type, _IMMUTABLE)
    _validate_immutable_data(errs, obj, old, ("data",))


def _validate_pvc_update(errs: _Errs, obj: dict[str, Any], old: dict[str, Any]) -> None:
    spec, old_spec = dict(_d(obj.get("spec"))), dict(_d(old.get("spec")))
    if not _s(old_spec.get("volumeName")):
        old_spec.pop("volumeName", None)
        spec.pop("volumeName", None)
    # Retroactive default StorageClass assignment: an unset class may be set once.
    old_annotations = _d(_d(old.get("metadata")).get("annotations"))
    if (
        old_spec.get("storageClassName") is None
        and "volume.beta.kubernetes.io/storage-class" not in old_annotations
        and _s(spec.get("storageClassName"))
    ):
        old_spec.pop("storageClassName", None)
        spec.pop("storageClassName", None)
    for value in (spec, old_spec):
        value.pop("volumeAttributesClassName", None)
        resources = dict(_d(value.get("resources")))
        resources.pop("requests", None)
        value["resources"] = resources
    if not _semantic_equal(spec, old_spec):
        errs.forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
            + _spec_diff(old_spec, spec, "spec"),
        )


_UPDATE_VALIDATORS: dict[str, Callable[[_Errs, dict[str, Any], dict[str, Any]], None]] = {
    "Pod": _validate_pod_update,
    "Deployment": _validate_selector_update,
    "ReplicaSet": _validate_selector_update,
    "DaemonSet": _validate_selector_update,
    "StatefulSet": _validate_stateful_set_update,
    "Job": _validate_job_update,
    "Service": _validate_service_update,
    "ConfigMap": _validate_config_map_update,
    "Secret": _validate_secret_update,
    "PersistentVolumeClaim": _validate_pvc_update,
}
