"""Patching objects: JSON merge patch, JSON patch, strategic merge patch and kubectl's
client-side three-way apply patch. No I/O; inputs are never mutated.

Strategic merge patch follows ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``
(``mergeMap`` / ``mergeSlice`` / ``mergePatchIntoOriginal`` / ``diffMaps`` /
``diffLists``), with the patch metadata given as a flat table instead of Go struct tags:

* ``merge_keys`` maps the dotted path of a list field, indexes dropped, to its
  ``x-kubernetes-patch-merge-key`` (``"spec.template.spec.containers": "name"``,
  ``"spec.template.spec.containers.ports": "containerPort"``). A list whose path is
  absent is replaced wholesale (the default ``replace`` strategy). A path mapped to
  ``""`` is a *merge* list of primitives (``metadata.finalizers``): merged as a set,
  ``$deleteFromPrimitiveList/<field>`` removes values.
* ``retain_keys`` (diffing only) lists the paths whose patch strategy includes
  ``retainKeys``: a map field (``spec.strategy`` of a Deployment) or a list whose
  elements get the directive (the pod ``volumes``).
* Directives: ``$patch: replace|delete`` in maps and list elements, ``$retainKeys``,
  ``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>``, and ``null``
  deleting a key, all as apimachinery applies them. List order follows apimachinery
  exactly, including the order its in-place slice reuse yields when a
  ``$setElementOrder`` list meets ``$patch: delete`` elements (``_merge_slice`` keeps a
  model of the Go backing array for that).

Deliberate differences, all about what Kubernetes' *typed* decoding would do to the
patched JSON before storing it: a value added by a patch (a key absent from the target, a
replaced list, a ``$patch: replace`` map, a new list element) is stored without ``null``
map values and without directive keys (``$retainKeys``, ``$setElementOrder/...``) —
apimachinery strips only ``$patch`` there and lets the typed decoder drop the rest. Patch
strategy ``replace`` for *maps* (``runtime.RawExtension`` fields) is not modelled: maps
always merge. A list of maps with no element or an unsortable order falls back to a
stable order instead of Go's panics and sort quirks.

``three_way_patch`` is ``CreateThreeWayMergePatch(original, modified, current,
overwrite=true)``: deletions (original -> modified) merged with the delta (current ->
modified, without deletions). The ``overwrite=false`` conflict check and kubectl's
JSON-merge-patch fallback for unregistered kinds are left out.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import jsonpatch
import jsonpointer

from nbcluster.errors import BadRequest
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "DEFAULT_MERGE_KEYS",
    "DEFAULT_RETAIN_KEYS",
    "LAST_APPLIED",
    "apply_patch_is_empty",
    "client_side_apply_patch",
    "json_merge_patch",
    "json_patch",
    "last_applied_configuration",
    "merge_keys_for",
    "retain_keys_for",
    "strategic_merge_patch",
    "three_way_patch",
    "two_way_patch",
    "with_last_applied",
]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_DIRECTIVE = "$patch"
_DELETE = "delete"
_REPLACE = "replace"
_MERGE = "merge"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"
_ORDER_PREFIX = "$setElementOrder"

# --- merge keys (x-kubernetes-patch-merge-key of k8s.io/api types) ---------------------

_META_LISTS = {"finalizers": "", "ownerReferences": "uid"}
_POD_SPEC_LISTS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "schedulingGates": "name",
    "resourceClaims": "name",
}
_CONTAINER_LISTS = {
    "ports": "containerPort",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
}
_POD_STATUS_LISTS = {"conditions": "type", "podIPs": "ip", "hostIPs": "ip", "resourceClaimStatuses": "name"}


def _prefixed(prefix: str, table: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}.{k}": v for k, v in table.items()}


def _pod_spec(prefix: str) -> dict[str, str]:
    keys = _prefixed(prefix, _POD_SPEC_LISTS)
    for containers in ("containers", "initContainers", "ephemeralContainers"):
        keys.update(_prefixed(f"{prefix}.{containers}", _CONTAINER_LISTS))
    return keys


def _kind_keys(*, template: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    keys = _prefixed("metadata", _META_LISTS)
    if template is not None:
        keys.update(_prefixed(f"{template}.metadata", _META_LISTS))
        keys.update(_pod_spec(f"{template}.spec"))
    keys.update(extra or {})
    return keys


_CONDITIONS = {"status.conditions": "type"}

#: Merge keys per kind, from the ``patchStrategy``/``patchMergeKey`` tags of k8s.io/api.
#: ``""`` marks a merge list of primitives (``metadata.finalizers``, ``spec.podCIDRs``).
DEFAULT_MERGE_KEYS: dict[str, dict[str, str]] = {
    "Pod": {**_kind_keys(), **_pod_spec("spec"), **_prefixed("status", _POD_STATUS_LISTS)},
    "PodTemplate": _kind_keys(template="template"),
    "ReplicationController": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "ReplicaSet": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "Deployment": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "StatefulSet": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "DaemonSet": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "Job": _kind_keys(template="spec.template", extra=_CONDITIONS),
    "CronJob": _kind_keys(template="spec.jobTemplate.spec.template"),
    "Service": _kind_keys(extra={"spec.ports": "port", **_CONDITIONS}),
    "Node": _kind_keys(extra={"spec.podCIDRs": "", "status.conditions": "type", "status.addresses": "type"}),
    "Namespace": _kind_keys(extra=_CONDITIONS),
    "PersistentVolumeClaim": _kind_keys(extra=_CONDITIONS),
    "HorizontalPodAutoscaler": _kind_keys(extra=_CONDITIONS),
    "PodDisruptionBudget": _kind_keys(extra=_CONDITIONS),
    "ServiceAccount": _kind_keys(extra={"secrets": "name"}),
    "ConfigMap": _kind_keys(),
    "Secret": _kind_keys(),
    "Endpoints": _kind_keys(),
    "Event": _kind_keys(),
}

_VOLUME_RETAIN = ("volumes", "resourceClaims")

#: Paths whose patch strategy includes ``retainKeys`` (used when computing patches).
DEFAULT_RETAIN_KEYS: dict[str, frozenset[str]] = {
    "Pod": frozenset({*(f"spec.{f}" for f in _VOLUME_RETAIN), "status.resourceClaimStatuses"}),
    "PodTemplate": frozenset(f"template.spec.{f}" for f in _VOLUME_RETAIN),
    "ReplicationController": frozenset(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN),
    "ReplicaSet": frozenset(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN),
    "Deployment": frozenset({"spec.strategy", *(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN)}),
    "StatefulSet": frozenset(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN),
    "DaemonSet": frozenset(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN),
    "Job": frozenset(f"spec.template.spec.{f}" for f in _VOLUME_RETAIN),
    "CronJob": frozenset(f"spec.jobTemplate.spec.template.spec.{f}" for f in _VOLUME_RETAIN),
}


def merge_keys_for(kind: str) -> dict[str, str]:
    """The built-in merge keys of ``kind`` (only the metadata lists for kinds not listed)."""
    return dict(DEFAULT_MERGE_KEYS.get(kind) or _kind_keys())


def retain_keys_for(kind: str) -> frozenset[str]:
    """The built-in ``retainKeys`` paths of ``kind``."""
    return DEFAULT_RETAIN_KEYS.get(kind, frozenset())


# --- JSON merge patch (RFC 7386) and JSON patch (RFC 6902) -----------------------------


def _merge_patch_value(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch_value(result.get(key), value)
    return result


def json_merge_patch(target: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 merge patch (``kubectl patch --type merge``): ``null`` deletes, maps merge
    recursively, everything else (lists included) replaces. Returns a new dict."""
    if not isinstance(patch, Mapping):
        raise BadRequest("json: cannot unmarshal patch into Go value of type map[string]interface {}")
    merged = _merge_patch_value(deep_copy(dict(target or {})), dict(patch))
    return deep_copy(merged)


def json_patch(target: Mapping[str, Any], operations: list[Mapping[str, Any]]) -> dict[str, Any]:
    """RFC 6902 JSON patch (``kubectl patch --type json``) via the ``jsonpatch`` package.

    Malformed operations, failed ``test`` operations and missing paths raise BadRequest.
    """
    if not isinstance(operations, list):
        raise BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        patch = jsonpatch.JsonPatch([dict(op) for op in operations])
        result = patch.apply(deep_copy(dict(target)), in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise BadRequest(str(exc)) from exc
    except (TypeError, KeyError, IndexError, ValueError, AttributeError) as exc:
        raise BadRequest(f"invalid JSON patch: {exc}") from exc
    if not isinstance(result, dict):
        raise BadRequest("the JSON patch did not produce an object")
    return result


# --- helpers with Go semantics ---------------------------------------------------------


def _kind(value: Any) -> str:
    """The Go type an unstructured value decodes to (numbers: int64 or float64)."""
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "string"


def _go_eq(a: Any, b: Any) -> bool:
    """Go ``==`` on interface values: same dynamic type and equal value."""
    return _kind(a) == _kind(b) and a == b


def _deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual on unstructured values."""
    ka = _kind(a)
    if ka != _kind(b):
        return False
    if ka == "map":
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if ka == "slice":
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _go_str(value: Any) -> str:
    """fmt's ``%v``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_str(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_str(v) for v in value) + "]"
    return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _no_merge_key(item: Any, merge_key: str) -> BadRequest:
    return BadRequest(f"map: {_go_str(item)} does not contain declared merge key: {merge_key}")


def _bad_arg_type(expected: str, actual: Any) -> BadRequest:
    go_types = {
        "map": "map[string]interface {}",
        "slice": "[]interface {}",
        "nil": "<nil>",
        "bool": "bool",
        "int64": "int64",
        "float64": "float64",
        "string": "string",
    }
    return BadRequest(f"expected a {go_types[expected]}, but received a {go_types[_kind(actual)]}")


def _extract_key(key: str, prefix: str) -> str:
    parts = key.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        if prefix == _DELETE_PREFIX:
            raise BadRequest("invalid patch format of primitive list")
        raise BadRequest("invalid patch format of setElementOrder list")
    return parts[1]


def _is_directive_key(key: str) -> bool:
    return (
        key in (_DIRECTIVE, _RETAIN_KEYS)
        or key.startswith(_DELETE_PREFIX + "/")
        or key.startswith(_ORDER_PREFIX + "/")
    )


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """apimachinery's removeDirectives: drop maps carrying ``$patch`` (returns keep=False)."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        out: dict[str, Any] = {}
        for k, v in value.items():
            cleaned, keep = _remove_directives(v)
            if keep:
                out[k] = cleaned
        return out, True
    if isinstance(value, list):
        items: list[Any] = []
        for v in value:
            cleaned, keep = _remove_directives(v)
            if keep:
                items.append(cleaned)
        return items, True
    return value, True


def _sanitize(value: Any) -> tuple[Any, bool]:
    """What a stored object keeps of a value a patch adds: removeDirectives, then no
    ``null`` map values (discardNullValuesFromPatch) and no directive keys."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        out: dict[str, Any] = {}
        for k, v in value.items():
            if v is None or _is_directive_key(k):
                continue
            cleaned, keep = _sanitize(v)
            if keep:
                out[k] = cleaned
        return out, True
    if isinstance(value, list):
        items: list[Any] = []
        for v in value:
            cleaned, keep = _sanitize(v)
            if keep:
                items.append(cleaned)
        return items, True
    return value, True


def _element_kind(*lists: list[Any] | None) -> str | None:
    """sliceElementType: the one element kind of all lists (None when they are empty)."""
    found: str | None = None
    for items in lists:
        for v in items or ():
            kind = _kind(v)
            if kind == "slice":
                raise BadRequest("lists of lists are not supported")
            if found is None:
                found = kind
            elif kind != found:
                raise BadRequest(f"list element types are not identical: {_go_str(list(lists))}")
    return found


def _dedupe(items: list[Any]) -> list[Any]:
    """deduplicateScalars, with its swap-the-last-element order."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _sort_scalars(items: Iterable[Any]) -> list[Any]:
    return sorted(items, key=_go_str)


def _merge_key_of(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise _bad_arg_type("map", item)
    if merge_key not in item:
        raise _no_merge_key(item, merge_key)
    return item[merge_key]


def _index(items: list[Any], value: Any, merge_key: str, kind: str | None) -> int:
    if kind == "map":
        wanted = value.get(merge_key) if isinstance(value, dict) else None
        for i, item in enumerate(items):
            if _go_eq(wanted, item.get(merge_key) if isinstance(item, dict) else None):
                return i
        return -1
    for i, item in enumerate(items):
        if _go_eq(value, item):
            return i
    return -1


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    """findMapInSliceBasedOnKeyValue."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"value for key {i} is not a map.")
        if merge_key in item and _go_eq(item[merge_key], value):
            return i
    return None


def _normalize_slice_order(
    to_sort: list[Any], order: list[Any], merge_key: str, kind: str | None
) -> list[Any]:
    to_delete: list[Any] = []
    if kind == "map":
        for item in (*to_sort, *order):
            _merge_key_of(item, merge_key)
        keep = [v for v in to_sort if v.get(_DIRECTIVE) != _DELETE]
        to_delete = [v for v in to_sort if v.get(_DIRECTIVE) == _DELETE]
        to_sort = keep

    def position(item: Any) -> int:
        i = _index(order, item, merge_key, kind)
        return i if i >= 0 else len(order)

    return sorted(to_sort, key=position) + to_delete


def _merge_sorted_slice(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, kind: str | None
) -> list[Any]:
    """mergeSortedSlice: interleave server-only items (left) into patch items (right)."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_element_order(
    patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    kind: str | None,
) -> list[Any]:
    patch = _normalize_slice_order(patch, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted_slice(server_only, patch, server_order, merge_key, kind)


def _partition_maps(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in items:
        value = _merge_key_of(item, merge_key)
        (inside if _find_by_key(by, merge_key, value) is not None else outside).append(item)
    return inside, outside


def _partition_primitives(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in items:
        (inside if any(_go_eq(item, b) for b in by) else outside).append(item)
    return inside, outside


# --- applying a strategic merge patch (mergeMap with or without parallel lists) --------


@dataclass(frozen=True)
class _Schema:
    merge_keys: Mapping[str, str]
    retain_keys: frozenset[str] = frozenset()


def _merge_map(
    original: dict[str, Any] | None, patch: dict[str, Any], path: str, schema: _Schema, parallel: bool
) -> dict[str, Any]:
    """mergeMap. ``parallel`` is MergeParallelList + IgnoreUnmatchedNulls (applying a patch
    to an object); without it two patches are merged into one (CreateThreeWayMergePatch)."""
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == _REPLACE:
            rest = {k: v for k, v in patch.items() if k != _DIRECTIVE}
            return _sanitize(rest)[0] if parallel else rest
        if directive == _DELETE:
            return {}
        raise BadRequest(f"unknown patch type: {_go_str(directive)} in map: {_go_str(patch)}")
    if original is None:
        original = {}
    _apply_retain_keys(original, patch, parallel)
    _merge_patch_into_original(original, patch, path, schema, parallel)
    # Deletion lists after the other keys, so that adding to and deleting from one
    # primitive list in the same patch does not depend on key order.
    for key, patch_value in sorted(patch.items(), key=lambda kv: kv[0].startswith(_DELETE_PREFIX)):
        is_delete_list = False
        if key.startswith(_DELETE_PREFIX):
            if not parallel:
                original[key] = patch_value
                continue
            key = _extract_key(key, _DELETE_PREFIX)
            is_delete_list = True
        if patch_value is None:
            original.pop(key, None)
            if parallel:
                continue
        clean = _sanitize if parallel else _remove_directives
        if key not in original:
            if not is_delete_list:
                value, keep = clean(patch_value)
                if keep:
                    original[key] = value
            continue
        current = original[key]
        kind = _kind(current)
        if kind != _kind(patch_value):
            if not is_delete_list:
                value, keep = clean(patch_value)
                if keep:
                    original[key] = value
                else:
                    del original[key]
            continue
        child = _join(path, key)
        if kind == "map":
            original[key] = _merge_map(current, patch_value, child, schema, parallel)
        elif kind == "slice":
            original[key] = _merge_slice_handler(
                current, patch_value, child, schema, parallel, is_delete_list
            )[0]
        else:
            original[key] = patch_value
    return original


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any], parallel: bool) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not parallel:
        if _RETAIN_KEYS in original:
            if not _deep_equal(original[_RETAIN_KEYS], retain):
                raise BadRequest(
                    f"{_go_str(original[_RETAIN_KEYS])} and {_go_str(retain)} are not deep equal: "
                    "this may happen when calculating the 3-way diff patch"
                )
        else:
            original[_RETAIN_KEYS] = retain
        return
    if not isinstance(retain, list):
        raise BadRequest("invalid patch format of retainKeys")
    kept = [k for k in retain if isinstance(k, str)]
    for key, value in patch.items():
        if value is None or key.startswith(_DELETE_PREFIX) or key.startswith(_ORDER_PREFIX):
            continue
        if key not in kept:
            raise BadRequest("invalid patch format of retainKeys")
    for key in list(original):
        if key not in kept:
            del original[key]


def _validate_patch_with_set_order(patch_list: list[Any] | None, order: list[Any], merge_key: str) -> None:
    if not order or not patch_list:
        return
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise _bad_arg_type("map", item)
        non_delete = [v for v in patch_list if v.get(_DIRECTIVE) != _DELETE]
    else:
        non_delete = list(patch_list)
    p = s = 0
    while p < len(non_delete) and s < len(order):
        if isinstance(non_delete[p], dict) and _DIRECTIVE in non_delete[p]:
            p += 1
            continue
        if merge_key:
            equal = _go_eq(_merge_key_of(non_delete[p], merge_key), _merge_key_of(order[s], merge_key))
        else:
            equal = _go_eq(non_delete[p], order[s])
        if equal:
            p += 1
        s += 1
    if p < len(non_delete) and s >= len(order):
        raise BadRequest(
            f"The order in patch list:\n{_go_str(patch_list)}\n doesn't match {_ORDER_PREFIX} list:\n"
            f"{_go_str(order)}\n"
        )


def _merge_patch_into_original(
    original: dict[str, Any], patch: dict[str, Any], path: str, schema: _Schema, parallel: bool
) -> None:
    """mergePatchIntoOriginal: merge each ``$setElementOrder/<field>`` with its list and
    sort it (precedence: $setElementOrder > order in the patch > order in the live list)."""
    for key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not parallel:
            if key in original:
                if not _deep_equal(original[key], order):
                    raise BadRequest("invalid patch format of setElementOrder list")
            else:
                original[key] = order
        if not isinstance(order, list):
            raise _bad_arg_type("slice", order)
        field = _extract_key(key, _ORDER_PREFIX)
        child = _join(path, field)
        found_original, found_patch = field in original, field in patch
        original_list = original.get(field)
        patch_list = patch.get(field)
        if found_original and not isinstance(original_list, list):
            raise _bad_arg_type("slice", original_list)
        if found_patch and not isinstance(patch_list, list):
            raise _bad_arg_type("slice", patch_list)
        declared = schema.merge_keys.get(child)
        merge_key = declared or ""
        _validate_patch_with_set_order(patch_list, order, merge_key)
        view = original_list or []
        if found_original and not found_patch:
            merged = original_list
        elif found_patch and not found_original:
            merged = (_sanitize if parallel else _remove_directives)(patch_list)[0]
        elif found_original and found_patch:
            merged, view = _merge_slice_handler(original_list, patch_list, child, schema, parallel, False)
        else:
            continue
        patch.pop(field, None)
        kind = _element_kind(original_list, patch_list)
        if declared is None or kind is None:
            original[field] = merged  # a replace list, or nothing to order
            continue
        if merge_key:
            inside, outside = _partition_maps(merged, order, merge_key)
        else:
            inside, outside = _partition_primitives(merged, order)
        original[field] = _normalize_element_order(inside, outside, order, view, merge_key, kind)


def _merge_slice_handler(
    original: list[Any], patch: list[Any], path: str, schema: _Schema, parallel: bool, is_delete_list: bool
) -> tuple[list[Any], list[Any]]:
    """mergeSliceHandler; also returns the live list as Go's aliased slice header sees it."""
    declared = schema.merge_keys.get(path)
    if declared is not None or is_delete_list:
        return _merge_slice(original, patch, path, declared or "", schema, parallel, is_delete_list)
    return (_sanitize(patch)[0] if parallel else patch), original


def _merge_slice(
    original: list[Any],
    patch: list[Any],
    path: str,
    merge_key: str,
    schema: _Schema,
    parallel: bool,
    is_delete_list: bool,
) -> tuple[list[Any], list[Any]]:
    """mergeSlice. Returns (merged list, view of the original backing array).

    Go deletes ``$patch: delete`` entries by shifting the live slice in place and then
    appends new entries into the freed capacity, so the caller's header over the live
    list (used as the "server order" by mergePatchIntoOriginal) sees the survivors
    followed by the first appended entries. ``backing`` models that array.
    """
    if not original and not patch:
        return original, original
    kind = _element_kind(original, patch)
    if kind != "map":
        if parallel and is_delete_list:
            return [v for v in original if not any(_go_eq(v, d) for d in patch)], original
        merged = _dedupe([*original, *patch])
        inside, outside = _partition_primitives(merged, patch)
        return _normalize_element_order(inside, outside, patch, original, "", kind), original
    if not merge_key:
        raise BadRequest(f"cannot merge lists without merge key for {path}")

    backing = list(original)
    detached = False
    work = list(original)
    plain: list[Any] = []
    replace_all = False
    for item in patch:
        if not isinstance(item, dict):
            raise _bad_arg_type("map", item)
        if _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == _DELETE:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find_by_key(work, merge_key, item[merge_key])) is not None:
                del work[index]
                backing[index : len(work)] = work[index:]
        elif directive == _REPLACE:
            replace_all = True
        elif directive == _MERGE:
            raise BadRequest("merging lists cannot yet be specified in the patch")
        else:
            raise BadRequest(f"unknown patch type: {_go_str(directive)} in map: {_go_str(item)}")
    if replace_all:
        if parallel:
            plain = [cleaned for cleaned, keep in map(_sanitize, plain) if keep]
        work, patch_items, detached = plain, [], True
    else:
        patch_items = plain
    server_order = list(work)

    for item in patch_items:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_by_key(work, merge_key, item[merge_key])
        if index is not None:
            work[index] = _merge_map(work[index], item, path, schema, parallel)
            continue
        if parallel:
            added, keep = _sanitize(item)
            if not keep:
                continue
        else:
            added = item
        work.append(added)
        if not detached:
            if len(work) <= len(backing):
                backing[len(work) - 1] = added
            else:
                detached = True

    inside, outside = _partition_maps(work, patch_items, merge_key)
    merged = _normalize_element_order(inside, outside, patch_items, server_order, merge_key, kind)
    return merged, backing


def strategic_merge_patch(
    target: Mapping[str, Any] | None, patch: Mapping[str, Any], merge_keys: Mapping[str, str] | None
) -> dict[str, Any]:
    """Apply a strategic merge patch (``kubectl patch --type strategic``, the API server's
    StrategicMergePatch). Returns a new dict; raises BadRequest for malformed patches."""
    if not isinstance(patch, Mapping):
        raise BadRequest("invalid JSON document")
    schema = _Schema(merge_keys or {})
    result = _merge_map(deep_copy(dict(target or {})), deep_copy(dict(patch)), "", schema, True)
    return result


# --- computing patches (diffMaps / diffLists) -----------------------------------------


@dataclass(frozen=True)
class _DiffOptions:
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    set_element_order: bool = True
    build_retain_keys: bool = False


def _diff_maps(
    original: Mapping[str, Any], modified: Mapping[str, Any], path: str, schema: _Schema, opts: _DiffOptions
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    retain: list[Any] = []
    for key, modified_value in modified.items():
        if opts.build_retain_keys and modified_value is not None:
            retain.append(key)
        if key not in original:
            if not opts.ignore_changes_and_additions:
                patch[key] = deep_copy(modified_value)
            continue
        original_value = original[key]
        if key == _DIRECTIVE:
            if not isinstance(original_value, str) or not isinstance(modified_value, str):
                raise BadRequest(f"invalid value for special key: {_DIRECTIVE}")
            if original_value != modified_value:
                patch[key] = modified_value
            continue
        if _kind(original_value) != _kind(modified_value):
            if not opts.ignore_changes_and_additions:
                patch[key] = deep_copy(modified_value)
            continue
        child = _join(path, key)
        if isinstance(original_value, dict):
            sub = replace(opts, build_retain_keys=child in schema.retain_keys)
            value = _diff_maps(original_value, modified_value, child, schema, sub)
            if value:
                patch[key] = value
        elif isinstance(original_value, list):
            merge_key = schema.merge_keys.get(child)
            if merge_key is None:
                _replace_if_not_equal(patch, key, original_value, modified_value, opts)
                continue
            sub = replace(opts, build_retain_keys=child in schema.retain_keys)
            additions, deletions, order = _diff_lists(
                original_value, modified_value, child, merge_key, schema, sub
            )
            if additions:
                patch[key] = additions
            if deletions:
                patch[f"{_DELETE_PREFIX}/{key}"] = deletions
            if order:
                patch[f"{_ORDER_PREFIX}/{key}"] = order
        else:
            _replace_if_not_equal(patch, key, original_value, modified_value, opts)
    if not opts.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    has_new_field = any(v is not None and k not in modified for k, v in original.items())
    if retain and (patch or has_new_field):
        patch[_RETAIN_KEYS] = _sort_scalars(retain)
    return patch


def _replace_if_not_equal(
    patch: dict[str, Any], key: str, original: Any, modified: Any, opts: _DiffOptions
) -> None:
    if opts.ignore_changes_and_additions or _deep_equal(original, modified):
        return
    patch[key] = deep_copy(modified)


def _diff_lists(
    original: list[Any], modified: list[Any], path: str, merge_key: str, schema: _Schema, opts: _DiffOptions
) -> tuple[list[Any], list[Any], list[Any]]:
    """diffLists: (patch list, $deleteFromPrimitiveList list, $setElementOrder list)."""
    if not original:
        if not modified or opts.ignore_changes_and_additions:
            return [], [], []
        return deep_copy(modified), [], []
    kind = _element_kind(original, modified)
    if kind == "map":
        patch_list, delete_list = _diff_lists_of_maps(original, modified, path, merge_key, schema, opts)
        patch_list = _normalize_slice_order(patch_list, modified, merge_key, kind)
        order_same = len(original) == len(modified) and all(
            _go_eq(_merge_key_of(o, merge_key), _merge_key_of(m, merge_key))
            for o, m in zip(original, modified)
        )
        patch_list += delete_list
        order: list[Any] = []
        if opts.set_element_order and (
            (not opts.ignore_changes_and_additions and (patch_list or not order_same))
            or (not opts.ignore_deletions and patch_list)
        ):
            order = [{merge_key: m[merge_key]} for m in modified]
        return patch_list, [], order
    additions, deletions = _diff_lists_of_scalars(original, modified, opts)
    additions = _normalize_slice_order(additions, modified, merge_key, kind)
    order = []
    if opts.set_element_order and (
        (not opts.ignore_deletions and deletions)
        or (not opts.ignore_changes_and_additions and not _deep_equal(original, modified))
    ):
        order = deep_copy(modified)
    return additions, deletions, order


def _diff_lists_of_scalars(
    original: list[Any], modified: list[Any], opts: _DiffOptions
) -> tuple[list[Any], list[Any]]:
    old = _sort_scalars(original)
    new = _sort_scalars(modified)
    additions: list[Any] = []
    deletions: list[Any] = []
    i = j = 0
    while i < len(old) or j < len(new):
        if i < len(old) and j < len(new) and _go_str(old[i]) == _go_str(new[j]):
            i += 1
            j += 1
        elif i >= len(old) or (j < len(new) and _go_str(old[i]) > _go_str(new[j])):
            if not opts.ignore_changes_and_additions:
                additions.append(new[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append(old[i])
            i += 1
    return additions, _dedupe(deletions)


def _diff_lists_of_maps(
    original: list[Any], modified: list[Any], path: str, merge_key: str, schema: _Schema, opts: _DiffOptions
) -> tuple[list[Any], list[Any]]:
    def by_key(items: list[Any]) -> list[Any]:
        for item in items:
            _merge_key_of(item, merge_key)
        return sorted(items, key=lambda m: _go_str(m[merge_key]))

    old, new = by_key(original), by_key(modified)
    patch: list[Any] = []
    deletions: list[Any] = []
    i = j = 0
    while i < len(old) or j < len(new):
        old_key = _go_str(old[i][merge_key]) if i < len(old) else None
        new_key = _go_str(new[j][merge_key]) if j < len(new) else None
        if old_key is not None and new_key is not None and old_key == new_key:
            value = _diff_maps(old[i], new[j], path, schema, opts)
            if value:
                value[merge_key] = new[j][merge_key]
                patch.append(value)
            i += 1
            j += 1
        elif old_key is None or (new_key is not None and old_key > new_key):
            if not opts.ignore_changes_and_additions:
                patch.append(deep_copy(new[j]))
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append({_DIRECTIVE: _DELETE, merge_key: old[i][merge_key]})
            i += 1
    return patch, deletions


def two_way_patch(
    original: Mapping[str, Any] | None,
    modified: Mapping[str, Any],
    merge_keys: Mapping[str, str] | None,
    *,
    retain_keys: Collection[str] = (),
) -> dict[str, Any]:
    """CreateTwoWayMergePatch: the strategic merge patch turning ``original`` into ``modified``
    (what ``kubectl edit`` or ``kubectl set image`` send)."""
    schema = _Schema(merge_keys or {}, frozenset(retain_keys))
    return _diff_maps(dict(original or {}), dict(modified), "", schema, _DiffOptions())


def three_way_patch(
    original: Mapping[str, Any] | None,
    modified: Mapping[str, Any],
    current: Mapping[str, Any],
    merge_keys: Mapping[str, str] | None,
    *,
    retain_keys: Collection[str] = (),
) -> dict[str, Any]:
    """kubectl apply's CreateThreeWayMergePatch (overwrite on).

    ``original`` is the last applied configuration (``None`` on the first apply),
    ``modified`` the new configuration, ``current`` the live object. Fields in
    ``original`` but missing from ``modified`` are deleted (``null``; list elements by
    merge key with ``$patch: delete``; primitives with ``$deleteFromPrimitiveList``);
    fields whose value differs between ``current`` and ``modified`` are set; fields only
    in ``current`` (defaults, controllers, ``kubectl scale``, other people's labels) are
    left alone. Merge lists carry ``$setElementOrder`` so the live order follows the config.
    """
    schema = _Schema(merge_keys or {}, frozenset(retain_keys))
    before = dict(original or {})
    after = dict(modified)
    live = dict(current or {})
    delta = _diff_maps(live, after, "", schema, _DiffOptions(ignore_deletions=True))
    deletions = _diff_maps(before, after, "", schema, _DiffOptions(ignore_changes_and_additions=True))
    return _merge_map(deletions, delta, "", schema, False)


def apply_patch_is_empty(patch: Mapping[str, Any] | None) -> bool:
    """True when applying ``patch`` changes nothing (kubectl prints ``unchanged``)."""
    if not patch:
        return True
    return all(isinstance(v, Mapping) and apply_patch_is_empty(v) for v in patch.values())


# --- kubectl client-side apply ---------------------------------------------------------


def _go_json(value: Any) -> str:
    """encoding/json as kubectl writes the annotation: sorted keys, compact, HTML-escaped."""

    def normalize(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: normalize(x) for k, x in v.items()}
        if isinstance(v, list):
            return [normalize(x) for x in v]
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
            return int(v)
        return v

    text = json.dumps(normalize(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text + "\n"


def last_applied_configuration(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The configuration recorded by the last ``kubectl apply`` (``None`` when never applied)."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadRequest("invalid JSON document") from exc
    if not isinstance(value, dict):
        raise BadRequest("invalid JSON document")
    return value


def with_last_applied(config: Mapping[str, Any]) -> dict[str, Any]:
    """kubectl's GetModifiedConfiguration: a copy of ``config`` whose annotations carry
    the configuration itself (serialized without that annotation, ``annotations: {}``
    included, as kubectl does)."""
    obj = deep_copy(dict(config))
    metadata = obj["metadata"] = dict(obj.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    metadata["annotations"] = annotations
    recorded = _go_json(obj)
    metadata["annotations"] = {**annotations, LAST_APPLIED: recorded}
    return obj


def client_side_apply_patch(
    current: Mapping[str, Any],
    config: Mapping[str, Any],
    merge_keys: Mapping[str, str] | None,
    *,
    retain_keys: Collection[str] = (),
) -> dict[str, Any]:
    """The patch ``kubectl apply`` sends for ``config`` against the live ``current``:
    original = current's last-applied annotation, modified = config + its annotation."""
    return three_way_patch(
        last_applied_configuration(current),
        with_last_applied(config),
        current,
        merge_keys,
        retain_keys=retain_keys,
    )
