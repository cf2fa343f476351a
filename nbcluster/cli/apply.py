"""kubectl's client-side apply, create, replace and delete of manifests. No I/O of its own
(reads files through yamlio).

``apply`` follows kubectl: the object's last applied configuration lives in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation, and a three-way
strategic merge of (last applied, new config, live object) removes fields deleted
from the config while keeping fields set by others (controllers, ``kubectl scale``).
Each document of a multi-document input is applied in order; one that fails changes
nothing and the others still go through, reported together in :class:`ApplyFailed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nbcluster.api import resources
from nbcluster.api.conversion import from_storage_version
from nbcluster.api.merge import client_side_apply_patch, merge_keys_for, retain_keys_for, with_last_applied
from nbcluster.api.yamlio import Document, load_documents, load_path
from nbcluster.control.apiserver import APIServer
from nbcluster.errors import ApplyFailed, BadRequest, NbClusterError, NotFound
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["Source", "apply", "create", "delete", "documents_from", "object_name", "replace"]

Obj = dict[str, Any]
Source = str | Path | Obj | Iterable[Obj]


def documents_from(
    source: Source, *, recursive: bool = False, source_name: str = "<input>"
) -> list[Document]:
    """Documents from YAML text, a path (file or folder), a dict, or a list of dicts."""
    if isinstance(source, Path):
        return load_path(source, recursive=recursive)
    if isinstance(source, str):
        text = source
        if "\n" not in text and ":" not in text.split("/")[-1] and text.strip():
            path = Path(text).expanduser()
            if path.exists():
                return load_path(path, recursive=recursive)
        return load_documents(text, source=source_name)
    if isinstance(source, dict):
        return [Document(obj=source, index=0, line=1, source=source_name)]
    return [Document(obj=obj, index=i, line=1, source=source_name) for i, obj in enumerate(source)]


def object_name(obj: Obj) -> str:
    """kubectl's ``deployment.apps/web`` naming."""
    info = resources.for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    return f"{info.kubectl_name}/{obj.get('metadata', {}).get('name', '')}"


def _suffix(dry_run: str | None) -> str:
    return {None: "", "none": "", "client": " (dry run)", "server": " (server dry run)"}[dry_run]


def _each(documents: list[Document], action: Any) -> list[str]:
    results: list[str] = []
    failures: list[tuple[int, str, NbClusterError]] = []
    for document in documents:
        what = _describe(document)
        try:
            results.append(action(document.obj))
        except NbClusterError as exc:
            failures.append((document.index, what, exc))
    if failures:
        raise ApplyFailed(results, failures)
    return results


def _describe(document: Document) -> str:
    obj = document.obj
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or "?"
    return f'{obj.get("kind", "?")} "{name}" at {document.source}:{document.line}'


def _target_namespace(obj: Obj, namespace: str | None, default_namespace: str | None) -> str | None:
    """kubectl's rule: an explicit ``-n`` must match the object's namespace; the
    context's default only fills a namespace the object does not name."""
    info = resources.for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if not info.namespaced:
        return None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    given = meta.get("namespace")
    if namespace and given and given != namespace:
        raise BadRequest(
            f'the namespace from the provided object "{given}" does not match the namespace '
            f"\"{namespace}\". You must pass '--namespace={given}' to perform this operation."
        )
    return given or namespace or default_namespace or "default"


def _check_dry_run(dry_run: str | None) -> None:
    if dry_run not in (None, "none", "client", "server"):
        raise BadRequest(f'Invalid dry-run value ({dry_run}). Must be "none", "server", or "client".')


def apply(
    api: APIServer,
    source: Source,
    *,
    namespace: str | None = None,
    default_namespace: str | None = None,
    dry_run: str | None = None,
    recursive: bool = False,
    validate: bool = True,
    source_name: str = "<input>",
) -> list[str]:
    """``kubectl apply``: one ``KIND/NAME created|configured|unchanged`` line per object."""
    _check_dry_run(dry_run)
    documents = documents_from(source, recursive=recursive, source_name=source_name)
    return _each(
        documents,
        lambda obj: _apply_one(
            api, obj, _target_namespace(obj, namespace, default_namespace), dry_run, validate
        ),
    )


def _apply_one(api: APIServer, obj: Obj, namespace: str | None, dry_run: str | None, validate: bool) -> str:
    info = resources.for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    modified = deep_copy(obj)
    meta = modified.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be a mapping")
    name = meta.get("name")
    label = f"{info.kubectl_name}/{name or meta.get('generateName', '')}"
    if not name and meta.get("generateName"):
        raise BadRequest("cannot use generate name with apply")
    if info.namespaced and namespace and not meta.get("namespace"):
        meta["namespace"] = namespace
    current = api.cached(info, name or "", meta.get("namespace") or namespace) if name else None
    suffix = _suffix(dry_run)
    if current is None:
        modified = with_last_applied(modified)
        if dry_run == "client":
            # kubectl validates locally on client dry-run; we can do the whole check server-side.
            api.create(modified, namespace=namespace, dry_run=True, validate_schema=validate)
            return f"{label} created{suffix}"
        api.create(modified, namespace=namespace, dry_run=dry_run == "server", validate_schema=validate)
        return f"{label} created{suffix}"
    # Compare in the manifest's own version (an autoscaling/v1 HPA against the v1 view).
    current_view = from_storage_version(current, str(obj.get("apiVersion")))
    patch = client_side_apply_patch(
        current_view, modified, merge_keys_for(info.kind), retain_keys=retain_keys_for(info.kind)
    )
    if not patch:
        return f"{label} unchanged{suffix}"
    if dry_run == "client":
        return f"{label} configured{suffix}"
    api.patch(
        info,
        name or "",
        patch,
        namespace=current["metadata"].get("namespace"),
        patch_type="strategic",
        dry_run=dry_run == "server",
        validate_schema=validate,
        api_version=str(obj.get("apiVersion")),
    )
    return f"{label} configured{suffix}"


def create(
    api: APIServer,
    source: Source,
    *,
    namespace: str | None = None,
    default_namespace: str | None = None,
    dry_run: str | None = None,
    recursive: bool = False,
    validate: bool = True,
    source_name: str = "<input>",
) -> list[str]:
    """``kubectl create -f``: fails with AlreadyExists where the object exists."""
    _check_dry_run(dry_run)
    documents = documents_from(source, recursive=recursive, source_name=source_name)

    def one(obj: Obj) -> str:
        created = api.create(
            obj,
            namespace=_target_namespace(obj, namespace, default_namespace),
            dry_run=dry_run in ("client", "server"),
            validate_schema=validate,
        )
        return f"{object_name(created)} created{_suffix(dry_run)}"

    return _each(documents, one)


def replace(
    api: APIServer,
    source: Source,
    *,
    namespace: str | None = None,
    default_namespace: str | None = None,
    dry_run: str | None = None,
    recursive: bool = False,
    validate: bool = True,
    source_name: str = "<input>",
) -> list[str]:
    """``kubectl replace -f``: the object as given replaces the live one."""
    _check_dry_run(dry_run)
    documents = documents_from(source, recursive=recursive, source_name=source_name)

    def one(obj: Obj) -> str:
        obj = deep_copy(obj)
        info = resources.for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.setdefault("metadata", {})
        if info.namespaced:
            meta["namespace"] = _target_namespace(obj, namespace, default_namespace)
        api.update(obj, dry_run=dry_run in ("client", "server"), validate_schema=validate, owned=True)
        return f"{info.kubectl_name}/{meta.get('name')} replaced{_suffix(dry_run)}"

    return _each(documents, one)


def delete(
    api: APIServer,
    source: Source,
    *,
    namespace: str | None = None,
    default_namespace: str | None = None,
    recursive: bool = False,
    ignore_not_found: bool = False,
    cascade: str = "background",
    grace_period: int | None = None,
    dry_run: str | None = None,
    source_name: str = "<input>",
) -> list[str]:
    """``kubectl delete -f``: ``KIND/NAME deleted`` per object."""
    _check_dry_run(dry_run)
    documents = documents_from(source, recursive=recursive, source_name=source_name)
    policy = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}.get(cascade)
    if policy is None:
        raise BadRequest(
            f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan".'
        )

    def one(obj: Obj) -> str:
        info = resources.for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        ns = _target_namespace(obj, namespace, default_namespace)
        try:
            api.delete(
                info,
                name,
                namespace=ns,
                propagation_policy=policy,
                grace_period_seconds=grace_period,
                dry_run=dry_run in ("client", "server"),
            )
        except NotFound:
            if ignore_not_found:
                return ""
            raise
        return f'{info.kubectl_name} "{name}" deleted{_suffix(dry_run)}'

    return [line for line in _each(documents, one) if line]
