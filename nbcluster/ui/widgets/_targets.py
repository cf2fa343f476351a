"""Small helpers shared by the widgets: ``TYPE/NAME`` targets and pod selectors. No I/O."""

from __future__ import annotations

from typing import Any

from nbcluster.api.resources import ResourceInfo, resolve
from nbcluster.errors import UsageError

__all__ = ["label_selector_of", "parse_target", "short_name"]

Obj = dict[str, Any]


def parse_target(target: str | tuple[str, str]) -> tuple[ResourceInfo, str]:
    """``"deploy/web"`` (or ``("deployment", "web")``) -> (ResourceInfo, "web")."""
    if isinstance(target, tuple):
        kind, name = target
    else:
        kind, sep, name = str(target).partition("/")
        if not sep or not kind or not name:
            raise UsageError(f'error: expected TYPE/NAME (e.g. deploy/web), got "{target}"')
    return resolve(kind), name


def short_name(info: ResourceInfo, name: str) -> str:
    """How the widgets title a target: ``deploy/web`` (kubectl's shortest name for the kind)."""
    word = info.short_names[0] if info.short_names else info.singular
    return f"{word}/{name}"


def label_selector_of(obj: Obj) -> dict[str, Any] | None:
    """The pods' selector of a workload or Service, as a metav1.LabelSelector dict (None: none)."""
    selector = (obj.get("spec") or {}).get("selector")
    if not selector or not isinstance(selector, dict):
        return None
    if "matchLabels" in selector or "matchExpressions" in selector:
        return selector
    return {"matchLabels": selector}  # ReplicationController / Service: a plain map
