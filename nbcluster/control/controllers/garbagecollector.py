"""The garbage collector: deletes dependents whose owners are gone; runs foreground
and orphan deletion. No I/O beyond the API server.

Like Kubernetes' GraphBuilder it keeps a graph of every object by uid and of
owner uid -> dependents, fed by one subscription to all resources. Keys are
``dependent|<uid>`` (check that object's owners) and ``owner|<uid>`` (an owner in
foreground or orphan deletion).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from nbcluster.api import resources
from nbcluster.control.controllers.base import Controller
from nbcluster.errors import NbClusterError, NotFound, UnknownResource
from nbcluster.store import WatchEvent
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["GarbageCollector"]

Obj = dict[str, Any]
Ref = tuple[str, str, str]  # (resource, namespace, name)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class GarbageCollector(Controller):
    name: ClassVar[str] = "garbage-collector-controller"
    primary: ClassVar[str] = ""

    def __init__(self, api: Any, clock: Any, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self._where: dict[str, Ref] = {}
        self._owners_of: dict[str, tuple[str, ...]] = {}
        self._dependents: dict[str, set[str]] = {}
        #: uids of objects being deleted with the orphan or foregroundDeletion finalizer
        self._special: set[str] = set()

    def setup(self) -> None:
        with self.api.store.lock:
            for info in resources.RESOURCES:
                for obj in self.api.store.list(info.group_resource)[0]:
                    self._observe(info.group_resource, obj, deleted=False)
            self._unsubscribe.append(self.api.store.subscribe(None, self._on_event))

    def initial_keys(self) -> list[str]:
        keys = [f"dependent|{uid}" for uid, owners in self._owners_of.items() if owners]
        for uid, (resource, namespace, name) in self._where.items():
            obj = self.api.store.get(resource, namespace, name)
            if obj is not None and _in_special_deletion(obj):
                keys.append(f"owner|{uid}")
        return keys

    # -- the graph -----------------------------------------------------------

    def _on_event(self, event: WatchEvent) -> None:
        obj = event.object
        old = event.old
        if event.type == "MODIFIED" and old is not None:
            meta = obj["metadata"]
            uid = meta.get("uid")
            refs = meta.get("ownerReferences")
            old_refs = old["metadata"].get("ownerReferences")
            if uid and uid in self._where and (refs is old_refs or refs == old_refs):
                # Most changes (status, a pod's binding) leave the graph as it is: the
                # owners are the same and a uid never moves. Only deletion state matters.
                if _in_special_deletion(obj):
                    self._special.add(uid)
                    self.queue.add(f"owner|{uid}")
                else:
                    self._special.discard(uid)
                for owner in self._owners_of.get(uid, ()):
                    if owner in self._special:
                        self.queue.add(f"owner|{owner}")
                return
        uid = self._observe(event.resource, obj, deleted=event.type == "DELETED")
        if uid is None:
            return
        if event.type == "DELETED":
            for dependent in self._dependents.get(uid, ()):
                self.queue.add(f"dependent|{dependent}")
            return
        if self._owners_of.get(uid):
            old_refs = (event.old or {}).get("metadata", {}).get("ownerReferences")
            refs = event.object["metadata"].get("ownerReferences")
            if (event.type == "ADDED" or old_refs != refs) and not self._owners_live(event.object):
                self.queue.add(f"dependent|{uid}")
        if _in_special_deletion(event.object):
            self.queue.add(f"owner|{uid}")
        # A dependent of an owner in foreground deletion went away or changed.
        for owner in self._owners_of.get(uid, ()):
            if owner in self._special:
                self.queue.add(f"owner|{owner}")

    def _owners_live(self, obj: Obj) -> bool:
        """Every owner of ``obj`` is in the graph, where its reference points, and not being
        deleted with a finalizer of ours: a ``dependent|`` check would find nothing to do
        (and a later change of an owner enqueues one), as Kubernetes' graph builder only
        looks at dependents of owners it does not know."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        for ref in meta.get("ownerReferences") or ():
            uid = ref.get("uid")
            where = self._where.get(uid) if uid else None
            if where is None or uid in self._special:
                return False
            try:
                info = resources.for_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
            except UnknownResource:
                return False
            if where != (info.group_resource, namespace if info.namespaced else "", ref.get("name", "")):
                return False
        return True

    def _observe(self, resource: str, obj: Obj, *, deleted: bool) -> str | None:
        meta = obj["metadata"]
        uid = meta.get("uid")
        if not uid:
            return None
        owners = tuple(ref["uid"] for ref in meta.get("ownerReferences") or () if ref.get("uid"))
        previous = self._owners_of.get(uid, ())
        for owner in previous:
            if owner not in owners or deleted:
                deps = self._dependents.get(owner)
                if deps is not None:
                    deps.discard(uid)
                    if not deps:
                        del self._dependents[owner]
        if deleted:
            self._where.pop(uid, None)
            self._owners_of.pop(uid, None)
            self._special.discard(uid)
            # Dependents of this uid wait for their check; owner entries go once they are gone.
            for owner in previous:
                if owner in self._special:
                    self.queue.add(f"owner|{owner}")
            return uid
        if _in_special_deletion(obj):
            self._special.add(uid)
        else:
            self._special.discard(uid)
        self._where[uid] = (resource, meta.get("namespace", ""), meta["name"])
        if owners:
            self._owners_of[uid] = owners
            for owner in owners:
                self._dependents.setdefault(owner, set()).add(uid)
        else:
            self._owners_of.pop(uid, None)
        return uid

    # -- sync ----------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        role, _, uid = key.partition("|")
        if role == "dependent":
            self._sync_dependent(uid)
        elif role == "owner":
            self._sync_owner(uid)
        return None

    def _lookup(self, uid: str) -> Obj | None:
        ref = self._where.get(uid)
        if ref is None:
            return None
        obj = self.api.store.get(*ref)
        if obj is None or obj["metadata"].get("uid") != uid:
            return None
        return obj

    def _owner_exists(self, dependent: Obj, owner_ref: Obj) -> Obj | None:
        try:
            info = resources.for_kind(owner_ref.get("apiVersion", ""), owner_ref.get("kind", ""))
        except UnknownResource:
            return None
        namespace = dependent["metadata"].get("namespace", "") if info.namespaced else ""
        owner = self.api.store.get(info.group_resource, namespace, owner_ref.get("name", ""))
        if owner is None or owner["metadata"].get("uid") != owner_ref.get("uid"):
            return None
        return owner

    def _sync_dependent(self, uid: str) -> None:
        obj = self._lookup(uid)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        if not refs:
            return
        resource, namespace, name = self._where[uid]
        present, missing, waiting_foreground = [], [], False
        for ref in refs:
            owner = self._owner_exists(obj, ref)
            if owner is None:
                missing.append(ref)
            else:
                present.append(ref)
                if FOREGROUND in (owner["metadata"].get("finalizers") or []) and owner["metadata"].get(
                    "deletionTimestamp"
                ):
                    waiting_foreground = True
        if not missing and not waiting_foreground:
            return
        if present and not waiting_foreground:
            # Some owners remain: drop only the dangling references (k8s patches them away).
            new = deep_copy(obj)
            new["metadata"]["ownerReferences"] = present
            self.api.update(new, owned=True)
            return
        if obj["metadata"].get("deletionTimestamp"):
            return
        if waiting_foreground:
            # Owners that are not being deleted keep the dependent; drop the others' references.
            alive = [r for r in present if not _deleting(self._owner_exists(obj, r))]
            if alive:
                new = deep_copy(obj)
                new["metadata"]["ownerReferences"] = alive
                self.api.update(new, owned=True)
                return
        policy = "Foreground" if waiting_foreground else "Background"
        with contextlib.suppress(NotFound):
            self.api.delete(
                resource,
                name,
                namespace=namespace or None,
                propagation_policy=policy,
                preconditions={"uid": uid},
            )

    def _sync_owner(self, uid: str) -> None:
        owner = self._lookup(uid)
        if owner is None or not owner["metadata"].get("deletionTimestamp"):
            return
        resource, namespace, name = self._where[uid]
        finalizers = owner["metadata"].get("finalizers") or []
        dependents = [d for d in (self._lookup(dep) for dep in list(self._dependents.get(uid, ()))) if d]
        if ORPHAN in finalizers:
            for dependent in dependents:
                new = deep_copy(dependent)
                new["metadata"]["ownerReferences"] = [
                    r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
                ]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                try:
                    self.api.update(new, owned=True)
                except NotFound:
                    continue
            self.api.remove_finalizer(resource, name, ORPHAN, namespace=namespace or None)
            return
        if FOREGROUND in finalizers:
            blocking = []
            for dependent in dependents:
                dep_resource, dep_ns, dep_name = self._where[dependent["metadata"]["uid"]]
                blocks = any(
                    r.get("uid") == uid and r.get("blockOwnerDeletion")
                    for r in dependent["metadata"].get("ownerReferences") or []
                )
                if blocks:
                    blocking.append(dependent)
                if not dependent["metadata"].get("deletionTimestamp"):
                    # Foreground goes down the tree only where there is a tree below.
                    has_own = bool(self._dependents.get(dependent["metadata"]["uid"]))
                    with contextlib.suppress(NbClusterError):
                        self.api.delete(
                            dep_resource,
                            dep_name,
                            namespace=dep_ns or None,
                            propagation_policy="Foreground" if has_own else "Background",
                        )
            if not blocking:
                self.api.remove_finalizer(resource, name, FOREGROUND, namespace=namespace or None)


def _deleting(obj: Obj | None) -> bool:
    return bool(obj and obj["metadata"].get("deletionTimestamp"))


def _in_special_deletion(obj: Obj) -> bool:
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp"):
        return False
    finalizers = meta.get("finalizers") or ()
    return ORPHAN in finalizers or FOREGROUND in finalizers
