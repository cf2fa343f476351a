"""ControllerRevision helpers shared by the StatefulSet and DaemonSet controllers. No I/O
beyond the API server.

Kubernetes' ``pkg/controller/history`` and the hashing of ``pkg/controller``:

* a revision stores a *patch* that restores the owner's pod template
  (``{"spec": {"template": {..., "$patch": "replace"}}}``, the controllers' ``getPatch``);
* :func:`hash_revision` is ``HashControllerRevision`` (FNV-1 32 over the patch and the
  collision count, printed through ``rand.SafeEncodeString``), which names StatefulSet
  revisions; DaemonSet revisions are named by ``controller.ComputeHash`` of the
  template (:func:`.hashing.compute_hash`). Kubernetes hashes Go's encoding of the
  object; we hash canonical JSON, so the values differ from a real cluster's but behave
  the same;
* a revision is named ``<owner>-<hash>`` and labelled ``controller-revision-hash:
  <hash>``. StatefulSet pods carry the revision *name* in that label, DaemonSet pods
  the bare hash (as in Kubernetes).

Pod helpers (controller references, readiness, a pod from a template) come from
:mod:`.podcontrol`, ``ComputeHash`` from :mod:`.hashing`; both are shared with the
ReplicaSet and Deployment controllers.
"""

from __future__ import annotations

import json
from typing import Any

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.hashing import safe_encode_string
from nbcluster.control.controllers.podcontrol import controller_of, controller_ref
from nbcluster.errors import AlreadyExists, NotFound
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "REVISION_HASH_LABEL",
    "adopt_revision",
    "create_revision",
    "find_equal_revisions",
    "hash_revision",
    "new_revision",
    "next_revision_number",
    "owned_revisions",
    "revision_name",
    "revision_template",
    "sort_revisions",
    "template_patch",
    "update_revision_number",
]

Obj = dict[str, Any]

#: ``apps.ControllerRevisionHashLabelKey`` / ``DefaultDaemonSetUniqueLabelKey``.
REVISION_HASH_LABEL = "controller-revision-hash"

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
#: ``ControllerRevisionName`` keeps the prefix short enough for a DNS subdomain.
_MAX_PREFIX = 223


# -- hashing ------------------------------------------------------------------


def _fnv1(data: bytes, value: int = _FNV_OFFSET) -> int:
    """FNV-1, 32 bits (Go's ``hash/fnv.New32``, which ``HashControllerRevision`` uses)."""
    for byte in data:
        value = ((value * _FNV_PRIME) & _MASK) ^ byte
    return value


def hash_revision(data: Any, collision_count: int | None = None) -> str:
    """``HashControllerRevision``: FNV-1 over the revision's data, then the probe."""
    value = _fnv1(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    if collision_count is not None:
        value = _fnv1(str(int(collision_count)).encode(), value)
    return safe_encode_string(str(value))


def revision_name(prefix: str, hash_: str) -> str:
    """``ControllerRevisionName``: ``<prefix>-<hash>``, the prefix cut to 223 characters."""
    if len(prefix) > _MAX_PREFIX:
        prefix = prefix[:_MAX_PREFIX]
    return f"{prefix}-{hash_}"


# -- revisions ------------------------------------------------------------------


def template_patch(owner: Obj) -> Obj:
    """The controllers' ``getPatch``: a patch that puts ``owner``'s pod template back.

    The result shares the template with ``owner`` (fine for comparing; deep-copy it
    before storing).
    """
    template = owner["spec"].get("template") or {}
    return {"spec": {"template": {**template, "$patch": "replace"}}}


def revision_template(revision: Obj) -> Obj:
    """The pod template a revision restores (a copy the caller owns)."""
    template = deep_copy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def new_revision(
    owner: Obj, template_labels: dict[str, str] | None, data: Obj, revision: int, collision_count: int | None
) -> Obj:
    """``history.NewControllerRevision``: named ``<owner>-<hash of data>``, owned by ``owner``."""
    hash_ = hash_revision(data, collision_count)
    labels = dict(template_labels or {})
    labels[REVISION_HASH_LABEL] = hash_
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name(owner["metadata"]["name"], hash_),
            "namespace": owner["metadata"].get("namespace", "default"),
            "labels": labels,
            "ownerReferences": [controller_ref(owner)],
        },
        "data": deep_copy(data),
        "revision": int(revision),
    }


def sort_revisions(revisions: list[Obj]) -> list[Obj]:
    """``SortControllerRevisions``: by revision number, then creation time, then name."""
    return sorted(
        revisions,
        key=lambda r: (
            int(r.get("revision", 0)),
            r["metadata"].get("creationTimestamp", ""),
            r["metadata"]["name"],
        ),
    )


def owned_revisions(api: APIServer, owner: Obj) -> list[Obj]:
    """The ControllerRevisions ``owner`` controls, sorted (stored objects: never mutate)."""
    uid = owner["metadata"]["uid"]
    owned = []
    for revision in api.dependents("controllerrevisions.apps", uid):
        ref = controller_of(revision)
        if ref is not None and ref.get("uid") == uid:
            owned.append(revision)
    return sort_revisions(owned)


def next_revision_number(revisions: list[Obj]) -> int:
    """One more than the highest revision number (1 for the first)."""
    return max((int(r.get("revision", 0)) for r in revisions), default=0) + 1


def find_equal_revisions(revisions: list[Obj], needle: Obj) -> list[Obj]:
    """``history.FindEqualRevisions``: every revision whose data equals ``needle``'s."""
    data = needle.get("data")
    return [r for r in revisions if r.get("data") == data]


def create_revision(api: APIServer, owner: Obj, revision: Obj, collision_count: int) -> tuple[Obj, int]:
    """``realHistory.CreateControllerRevision``: create, renaming on hash collisions.

    Returns the stored revision and the collision count that named it. An existing
    revision of that name with the same data is reused (adopted when it has lost its
    owner, e.g. after ``kubectl delete --cascade=orphan``).
    """
    data = revision.get("data")
    while True:
        hash_ = hash_revision(data, collision_count)
        clone = deep_copy(revision)
        clone["metadata"]["name"] = revision_name(owner["metadata"]["name"], hash_)
        clone["metadata"].setdefault("labels", {})[REVISION_HASH_LABEL] = hash_
        try:
            return api.create(clone, owned=True, validate_schema=False), collision_count
        except AlreadyExists:
            existing = api.cached(
                "controllerrevisions.apps", clone["metadata"]["name"], owner["metadata"].get("namespace")
            )
            if existing is None:
                continue  # deleted meanwhile: try the same name again
            if existing.get("data") == data:
                return adopt_revision(api, owner, existing), collision_count
            collision_count += 1


def adopt_revision(api: APIServer, owner: Obj, revision: Obj) -> Obj:
    """``revision`` with ``owner`` as its controller (added when it has none)."""
    ref = controller_of(revision)
    if ref is not None:
        return revision
    new = deep_copy(revision)
    new["metadata"].setdefault("ownerReferences", []).append(controller_ref(owner))
    return api.update(new, owned=True)


def update_revision_number(api: APIServer, revision: Obj, number: int) -> Obj:
    """``UpdateControllerRevision``: give an existing revision a new number (a rollback)."""
    if int(revision.get("revision", 0)) == number:
        return revision
    new = deep_copy(revision)
    new["revision"] = int(number)
    try:
        return api.update(new, owned=True)
    except NotFound:
        return revision
