"""``kubectl explain KIND[.field]``: documentation of a kind from its OpenAPI schema. No I/O.

The data comes from :func:`nbcluster.api.schema.explain`; the layout is kubectl's
``plaintext`` template (kubectl/pkg/explain/v2/templates/plaintext.tmpl): a
GROUP / KIND / VERSION header, ``FIELD: name <type>`` for a field path, the
description wrapped at 76 columns and indented by 4, then ``FIELDS:`` with one
``name<TAB><type>`` line per field (``-required-`` when required) and its description.
``--recursive`` lists the field tree without descriptions.
"""

from __future__ import annotations

import textwrap
from typing import Any

from nbcluster.api import resources
from nbcluster.api.schema import explain as schema_explain
from nbcluster.errors import BadRequest, UsageError

__all__ = ["explain_text"]

_MAX_DEPTH = 12
_PRIMITIVES = {
    "string",
    "integer",
    "number",
    "boolean",
    "Object",
    "IntOrString",
    "Quantity",
    "Time",
    "MicroTime",
    "RawExtension",
}


def _wrap(text: str, width: int, indent: int) -> str:
    """sprig's ``wrap WIDTH | indent N``: word-wrap each line, keep the line breaks."""
    pad = " " * indent
    out = []
    for line in text.split("\n"):
        wrapped = textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False) or [""]
        out += [pad + part if part else "" for part in wrapped]
    return "\n".join(out)


def _lookup(api_version: str, kind: str, path: str) -> dict[str, Any]:
    try:
        return schema_explain(api_version, kind, path)
    except BadRequest as exc:
        raise UsageError(f"error: {exc}") from None


def explain_text(target: str, *, api_version: str | None = None, recursive: bool = False) -> str:
    """What ``kubectl explain TARGET`` prints; ``target`` is ``RESOURCE[.field.path]``."""
    resource, _, path = target.strip().partition(".")
    info = resources.resolve(resource)
    version = api_version or info.api_version
    data = _lookup(version, info.kind, path)
    group, _, ver = version.rpartition("/")
    lines = []
    if group:
        lines.append(f"GROUP:      {group}")
    lines.append(f"KIND:       {info.kind}")
    lines.append(f"VERSION:    {ver}")
    lines.append("")
    if path:
        name = path.rstrip(".").rsplit(".", 1)[-1]
        lines.append(f"FIELD: {name} <{data['type']}>")
        lines.append("")
    lines.append("DESCRIPTION:")
    lines.append(_wrap(data.get("description") or "<empty>", 76, 4))
    fields = data.get("fields") or {}
    if fields:
        lines.append("")
        lines.append("FIELDS:")
        if recursive:
            lines += _tree(version, info.kind, path, fields, level=1, seen=(data["type"],))
        else:
            for field_name, field in fields.items():
                required = " -required-" if field.get("required") else ""
                lines.append(f"  {field_name}\t<{field['type']}>{required}")
                lines.append(_wrap(field.get("description") or "<no description>", 76, 4))
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _tree(
    version: str, kind: str, path: str, fields: dict[str, Any], *, level: int, seen: tuple[str, ...]
) -> list[str]:
    lines = []
    for field_name, field in fields.items():
        type_name = str(field["type"])
        required = " -required-" if field.get("required") else ""
        lines.append(f"{'  ' * level}{field_name}\t<{type_name}>{required}")
        base = type_name.replace("[]", "").replace("map[string]", "")
        if base in _PRIMITIVES or base in seen or level >= _MAX_DEPTH:
            continue
        sub_path = f"{path}.{field_name}" if path else field_name
        sub = _lookup(version, kind, sub_path)
        if sub.get("fields"):
            lines += _tree(version, kind, sub_path, sub["fields"], level=level + 1, seen=(*seen, base))
    return lines
