"""Strict OpenAPI schema checks of objects, ``kubectl explain`` data and patch merge keys.

Reads the JSON schemas shipped by the ``kubernetes-validate`` package (the
``v1.NN.0-local-strict`` folder of one Kubernetes version; package data, read once per
process and cached, no other I/O). ``validate_schema`` reports what the API server's
strict decoder would refuse before any semantic validation runs:

* unknown fields -> ``unknown field "spec.containers[0].imag"`` (CauseType.UNKNOWN_FIELD),
* wrong JSON types -> ``Invalid type: expected integer, got string`` (CauseType.TYPE),
* enums (apiVersion / kind) -> ``Unsupported value`` with the supported values,
* required properties -> ``Required value``.

All problems are reported at once. ``status`` is not checked (users paste it).
IntOrString fields accept ints and strings and Quantity fields ints, floats and strings.

The Kubernetes version defaults to the newest the installed package ships; set
``NBCLUSTER_SCHEMA_VERSION=1.33`` (or call :func:`set_schema_version`) to pin another.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbcluster.errors import BadRequest, CauseType, FieldError

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError as JsonSchemaError

__all__ = [
    "available_versions",
    "explain",
    "patch_merge_keys",
    "schema_version",
    "set_schema_version",
    "validate_schema",
]

_PACKAGE = "kubernetes_validate"
_SCHEMA_ROOT = "kubernetes-json-schema"
_ENV_VERSION = "NBCLUSTER_SCHEMA_VERSION"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_REF_PREFIX = "#/$defs/"

_lock = threading.RLock()
_version: str | None = None


# --- which Kubernetes version --------------------------------------------------------


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@lru_cache(maxsize=1)
def _schema_root() -> Path:
    # find_spec locates the package without importing it: kubernetes_validate/__init__
    # imports jsonschema (see _import_jsonschema for why that matters).
    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the kubernetes-validate package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _SCHEMA_ROOT


@lru_cache(maxsize=1)
def available_versions() -> tuple[str, ...]:
    """``("1.28", ..., "1.37")``: the versions whose strict schemas the package ships."""
    root = _schema_root()
    found = set()
    for entry in root.iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if match:
            found.add(f"{match.group(1)}.{match.group(2)}")
    return tuple(sorted(found, key=_version_key))


def _normalize_version(version: str) -> str:
    text = version.strip().lstrip("v")
    parts = text.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise ValueError(f"not a Kubernetes version: {version!r}")
    wanted = f"{int(parts[0])}.{int(parts[1])}"
    if wanted not in available_versions():
        raise ValueError(
            f"kubernetes-validate ships no schemas for Kubernetes {wanted} "
            f"(available: {', '.join(available_versions())})"
        )
    return wanted


def schema_version() -> str:
    """The Kubernetes minor version (``"1.37"``) whose schemas are in use."""
    global _version
    with _lock:
        if _version is None:
            env = os.environ.get(_ENV_VERSION)
            _version = _normalize_version(env) if env else available_versions()[-1]
        return _version


def set_schema_version(version: str | None) -> None:
    """Use another Kubernetes version's schemas (``None``: back to the default)."""
    global _version
    with _lock:
        _version = _normalize_version(version) if version is not None else None
        _compiled_validator.cache_clear()


# --- loading ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _definitions(version: str, strict: bool = True) -> dict[str, Any]:
    folder = f"v{version}.0-local-strict" if strict else f"v{version}.0-local"
    path = _schema_root() / folder / "_definitions.json"
    return json.loads(path.read_text(encoding="utf-8"))["$defs"]


@lru_cache(maxsize=8)
def _gvk_index(version: str) -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> definition name, from ``x-kubernetes-group-version-kind``."""
    index: dict[tuple[str, str], str] = {}
    for name, definition in _definitions(version).items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            # The first definition wins: several list/option types share meta GVKs.
            index.setdefault((api_version, gvk["kind"]), name)
    return index


@lru_cache(maxsize=8)
def _validation_defs(version: str) -> dict[str, Any]:
    """The strict definitions, with IntOrString and Quantity made plain unions.

    The shipped ``oneOf: [string|null, integer|null]`` rejects ``null`` (it matches both
    branches) and yields unreadable errors; a single multi-type is what is meant.
    """
    defs = dict(_definitions(version))
    defs[_INT_OR_STRING] = {"type": ["string", "integer", "null"], "x-nbcluster-type": "IntOrString"}
    defs[_QUANTITY] = {"type": ["string", "number", "null"], "x-nbcluster-type": "Quantity"}
    return defs


def _import_jsonschema() -> Any:
    """Import jsonschema without the 2 s it would spend on an unused format checker.

    ``jsonschema._format`` imports the optional ``rfc3987_syntax`` package, which builds
    a lark grammar at import time (~1.9 s measured) just to check the ``iri`` format that
    Kubernetes schemas never use. Hide it while jsonschema is first imported; the module
    stays importable for anyone else afterwards.
    """
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hide = "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes the import fail
    try:
        import jsonschema
    finally:
        if hide and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


@lru_cache(maxsize=256)
def _compiled_validator(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    definition = _gvk_index(version).get((api_version, kind))
    if definition is None:
        return None
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": _REF_PREFIX + definition,
        "$defs": _validation_defs(version),
    }
    return _import_jsonschema().Draft202012Validator(schema)


# --- validate_schema ---------------------------------------------------------------------

_JSON_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _render_path(parts: list[str | int], map_keys: set[int]) -> str:
    """kubectl's field path: ``spec.containers[0].image``, map keys as ``labels[app]``."""
    text = ""
    for position, part in enumerate(parts):
        if isinstance(part, int) or position in map_keys:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _instance_path(error: JsonSchemaError) -> tuple[list[str | int], set[int]]:
    """The instance path of ``error`` and which of its steps are map keys (not fields).

    A step taken through ``additionalProperties`` (a map such as ``labels``) is a key;
    one through ``properties`` is a field; one through ``items`` an index.
    """
    parts = list(error.absolute_path)
    schema_steps = list(error.absolute_schema_path)
    map_keys: set[int] = set()
    index = 0
    i = 0
    # The last schema step names the failing keyword itself; it consumes no instance step.
    while i < len(schema_steps) - 1 and index < len(parts):
        step = schema_steps[i]
        if step == "properties":
            index += 1
            i += 2
            continue
        if step == "additionalProperties":
            map_keys.add(index)
            index += 1
        elif step == "items":
            index += 1
        i += 1
    return parts, map_keys


def _describe_types(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    names = [n for n in names if n != "null"] or ["null"]
    names.sort(key=lambda n: _JSON_TYPE_ORDER.index(n) if n in _JSON_TYPE_ORDER else 99)
    return " or ".join(names)


def _convert(error: JsonSchemaError) -> Iterator[FieldError]:
    parts, map_keys = _instance_path(error)
    path = _render_path(parts, map_keys)
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for key in error.instance:
            if key not in known:
                yield FieldError(_render_path([*parts, key], map_keys), CauseType.UNKNOWN_FIELD)
    elif keyword == "type":
        detail = f"expected {_describe_types(error.validator_value)}, got {_json_type(error.instance)}"
        if _is_scalar(error.instance):
            yield FieldError(path, CauseType.TYPE, detail, error.instance)
        else:
            yield FieldError(path, CauseType.TYPE, detail)
    elif keyword == "enum":
        supported = ", ".join(json.dumps(v) for v in error.validator_value)
        yield FieldError(path, CauseType.UNSUPPORTED, f"supported values: {supported}", error.instance)
    elif keyword == "required" and isinstance(error.instance, dict):
        for name in error.validator_value:
            if name not in error.instance:
                yield FieldError(_render_path([*parts, name], map_keys), CauseType.REQUIRED)
    else:
        yield FieldError(path, CauseType.INVALID, error.message)


def validate_schema(obj: dict[str, Any]) -> list[FieldError]:
    """Every schema problem of ``obj`` (its ``status`` excluded); ``[]`` when it is fine.

    Raises :class:`~nbcluster.errors.UnknownResource` for an apiVersion/kind that
    nbcluster does not serve.
    """
    # Measured (Python 3.11, jsonschema 4.26, schemas v1.37, the 75 kubernetes.io example
    # objects, CPU time): ~0.4 ms per object once its (apiVersion, kind) validator is
    # compiled and cached; kubernetes_validate.validate() takes ~20 ms per object as it
    # re-reads the JSON schemas on every call. The first call in a process pays ~0.25 s
    # (jsonschema import + reading _definitions.json), each new kind ~1 ms more.
    if not isinstance(obj, dict):
        return [FieldError("", CauseType.TYPE, f"expected object, got {_json_type(obj)}")]
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    errors: list[FieldError] = []
    if not api_version:
        errors.append(FieldError("apiVersion", CauseType.REQUIRED))
    if not kind:
        errors.append(FieldError("kind", CauseType.REQUIRED))
    if errors:
        return errors
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return [
            FieldError(name, CauseType.TYPE, f"expected string, got {_json_type(obj[name])}")
            for name in ("apiVersion", "kind")
            if not isinstance(obj[name], str)
        ]
    validator = _compiled_validator(schema_version(), api_version, kind)
    if validator is None:
        from nbcluster.api.resources import for_kind

        for_kind(api_version, kind)  # raises UnknownResource worded like kubectl
        return []
    instance = {key: value for key, value in obj.items() if key != "status"}
    seen: set[FieldError] = set()
    for error in validator.iter_errors(instance):
        for field_error in _convert(error):
            if field_error not in seen:
                seen.add(field_error)
                errors.append(field_error)
    errors.sort(key=lambda e: _sort_key(e.path))
    return errors


def _sort_key(path: str) -> list[tuple[int, Any]]:
    # Numeric-aware: containers[2] before containers[10].
    return [(0, int(tok)) if tok.isdigit() else (1, tok) for tok in re.split(r"[.\[\]]+", path) if tok]


# --- explain ---------------------------------------------------------------------------


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        return ref[len(_REF_PREFIX) :]
    return None


def _short_type_name(definition: str) -> str:
    return definition.rsplit(".", 1)[-1]


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Follow a ``$ref`` (keeping the referring node's description)."""
    name = _ref_name(node)
    if name is None:
        return node, None
    target = defs.get(name, {})
    return target, name


def _types(node: dict[str, Any]) -> list[str]:
    value = node.get("type")
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    return [n for n in names if n != "null"]


def _type_label(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """kubectl explain's type words: ``string``, ``[]Container``, ``map[string]string``."""
    target, name = _resolve(node, defs)
    if name is not None:
        short = _short_type_name(name)
        if short in ("IntOrString", "Quantity", "Time", "MicroTime", "RawExtension"):
            return short
        if "object" in _types(target) or "properties" in target:
            return short
        return _type_label(target, defs)
    types = _types(node)
    if "array" in types:
        return "[]" + _type_label(node.get("items", {}), defs)
    if "object" in types:
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return "map[string]" + _type_label(extra, defs)
        return "Object"
    if types:
        return types[0]
    return "Object"


def _object_node(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema a path step descends into (through refs, arrays, maps)."""
    target, _ = _resolve(node, defs)
    for _ in range(8):
        if "array" in _types(target) and isinstance(target.get("items"), dict):
            target, _ = _resolve(target["items"], defs)
            continue
        if (
            "properties" not in target
            and isinstance(target.get("additionalProperties"), dict)
            and _ref_name(target["additionalProperties"])
        ):
            target, _ = _resolve(target["additionalProperties"], defs)
            continue
        break
    return target


def explain(api_version: str, kind: str, field_path: str = "") -> dict[str, Any]:
    """What ``kubectl explain`` prints for ``kind`` at ``field_path`` (``spec.containers``).

    Returns ``{"kind", "apiVersion", "field", "type", "description", "required",
    "fields"}`` where ``fields`` maps each sub-field name (sorted) to ``{"type",
    "description", "required"}``. Raises :class:`~nbcluster.errors.BadRequest`
    (``field "imag" does not exist``) for a path that is not in the schema.
    """
    version = schema_version()
    defs = _definitions(version)
    definition = _gvk_index(version).get((api_version, kind))
    if definition is None:
        from nbcluster.api.resources import for_kind

        for_kind(api_version, kind)
        raise BadRequest(f'no schema for kind "{kind}" in version "{api_version}"')
    node: dict[str, Any] = {"$ref": _REF_PREFIX + definition}
    type_label = kind
    required = False
    description = defs[definition].get("description", "")
    steps = [step for step in re.split(r"\.", field_path.strip().strip(".")) if step] if field_path else []
    for step in steps:
        container = _object_node(node, defs)
        properties = container.get("properties", {})
        if step not in properties:
            raise BadRequest(f'field "{step}" does not exist')
        required = step in container.get("required", ())
        node = properties[step]
        target, _ = _resolve(node, defs)
        description = node.get("description") or target.get("description", "")
        type_label = _type_label(node, defs)
    container = _object_node(node, defs)
    required_names = set(container.get("required", ()))
    fields = {
        name: {
            "type": _type_label(sub, defs),
            "description": sub.get("description") or _resolve(sub, defs)[0].get("description", ""),
            "required": name in required_names,
        }
        for name, sub in sorted(container.get("properties", {}).items())
    }
    return {
        "kind": kind,
        "apiVersion": api_version,
        "field": ".".join(steps),
        "type": type_label,
        "description": description,
        "required": required,
        "fields": fields,
    }


# --- patch merge keys --------------------------------------------------------------------


def patch_merge_keys(api_version: str, kind: str) -> dict[str, str]:
    """Dotted list paths of ``kind`` -> their strategic-merge-patch key.

    ``{"spec.template.spec.containers": "name", "spec.template.spec.containers.ports":
    "containerPort", ...}`` (paths step through lists without indices). Empty for kinds
    without a schema.
    """
    return dict(_merge_keys(schema_version(), api_version, kind))


@lru_cache(maxsize=256)
def _merge_keys(version: str, api_version: str, kind: str) -> tuple[tuple[str, str], ...]:
    definition = _gvk_index(version).get((api_version, kind))
    if definition is None:
        return ()
    strict = _definitions(version, True)
    found: dict[str, str] = {}
    _collect_merge_keys(strict, definition, "", found, frozenset())
    if not found:
        # Older packagings dropped the x-kubernetes-* extensions from the strict folder.
        _collect_merge_keys(_definitions(version, False), definition, "", found, frozenset())
    return tuple(sorted(found.items()))


def _collect_merge_keys(
    defs: dict[str, Any], definition: str, prefix: str, found: dict[str, str], visiting: frozenset[str]
) -> None:
    if definition in visiting:
        return  # recursive types (JSONSchemaProps) have no merge keys worth following
    visiting = visiting | {definition}
    for name, prop in defs.get(definition, {}).get("properties", {}).items():
        if not prefix and name == "status":
            continue
        path = f"{prefix}.{name}" if prefix else name
        key = prop.get("x-kubernetes-patch-merge-key")
        if key:
            found[path] = key
        _descend_merge_keys(defs, prop, path, found, visiting)


def _descend_merge_keys(
    defs: dict[str, Any], node: dict[str, Any], path: str, found: dict[str, str], visiting: frozenset[str]
) -> None:
    ref = _ref_name(node)
    if ref is not None:
        _collect_merge_keys(defs, ref, path, found, visiting)
        return
    items = node.get("items")
    if isinstance(items, dict):
        _descend_merge_keys(defs, items, path, found, visiting)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and _ref_name(extra):
        _descend_merge_keys(defs, extra, path, found, visiting)
