"""The StatefulSet controller (Kubernetes' pkg/controller/statefulset). No I/O beyond the API server.

Pods are named ``<set>-<ordinal>`` (from ``spec.ordinals.start``), labelled with the
template's labels plus ``statefulset.kubernetes.io/pod-name``,
``apps.kubernetes.io/pod-index`` and ``controller-revision-hash: <revision name>``;
``spec.hostname`` is the pod name and ``spec.subdomain`` the set's ``serviceName``.
Every ``volumeClaimTemplates`` entry gives each ordinal a claim
``<template>-<set>-<ordinal>``, created before the pod and kept when the pod goes
(``persistentVolumeClaimRetentionPolicy`` Retain by default; Delete is honoured with
ownerReferences that the garbage collector follows).

One sync is Kubernetes' ``updateStatefulSet``:

* ``OrderedReady`` (monotonic): walk ordinals upward; create a missing pod and stop;
  stop at any pod that is terminating, not Running and Ready, or not yet available
  (``minReadySeconds``). Only when every wanted replica is healthy are surplus pods
  (condemned) deleted, highest ordinal first, one at a time, each after it is gone.
* ``Parallel``: create and delete without waiting.
* A Failed or Succeeded pod is deleted and recreated (``RecreatingFailedPod``).
* ``RollingUpdate``: after scaling, delete the highest-ordinal pod not at the update
  revision (down to ``partition``) once every higher one is healthy; the next sync
  recreates it from the new template. ``OnDelete``: pods are replaced only when
  someone deletes them.

Revisions are ControllerRevisions (see :mod:`.history`); the status carries
``currentRevision`` / ``updateRevision`` and the counts, and is written only when it
changed. Old revisions beyond ``revisionHistoryLimit`` that no pod uses are deleted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nbcluster.api.selectors import LabelSelector
from nbcluster.control.controllers.base import Controller, split_key
from nbcluster.control.controllers.history import (
    REVISION_HASH_LABEL,
    create_revision,
    find_equal_revisions,
    new_revision,
    next_revision_number,
    owned_revisions,
    revision_template,
    template_patch,
    update_revision_number,
)
from nbcluster.control.controllers.podcontrol import (
    controller_of,
    controller_ref,
    is_pod_available,
    is_pod_ready,
    pod_from_template,
)
from nbcluster.control.events import EventType
from nbcluster.errors import AlreadyExists, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "POD_INDEX_LABEL",
    "POD_NAME_LABEL",
    "StatefulSetController",
    "claim_name",
    "pod_ordinal",
]

Obj = dict[str, Any]

RESOURCE = "statefulsets.apps"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

_RETAIN = "Retain"
_DELETE = "Delete"


def pod_ordinal(set_name: str, pod_name: str) -> int:
    """The ordinal of ``pod_name`` in the set ``set_name`` (``web-3`` -> 3), or -1."""
    prefix = set_name + "-"
    if not pod_name.startswith(prefix):
        return -1
    rest = pod_name[len(prefix) :]
    if not rest or not rest.isascii() or not rest.isdigit():
        return -1
    return int(rest)


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    """``getPersistentVolumeClaimName``: ``www-web-0``."""
    return f"{template_name}-{set_name}-{ordinal}"


# -- pod state ----------------------------------------------------------------------


def _terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def _running_and_ready(pod: Obj) -> bool:
    return _phase(pod) == "Running" and is_pod_ready(pod)


def _healthy(pod: Obj | None) -> bool:
    return pod is not None and _running_and_ready(pod) and not _terminating(pod)


def _revision_of(pod: Obj) -> str:
    return (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL, "")


@dataclass
class _View:
    """What one sync needs to know about the set, read once."""

    set: Obj
    name: str
    namespace: str
    uid: str
    replicas: int
    start: int
    monotonic: bool
    min_ready: int
    strategy: str
    rolling: Obj | None
    when_deleted: str
    when_scaled: str
    claim_templates: list[Obj]
    current_revision: Obj
    update_revision: Obj
    now: float
    current_template: Obj | None = field(default=None)

    @property
    def partition(self) -> int:
        return int((self.rolling or {}).get("partition") or 0)

    def in_range(self, ordinal: int) -> bool:
        return self.start <= ordinal < self.start + self.replicas

    def available(self, pod: Obj) -> bool:
        return _running_and_ready(pod) and is_pod_available(pod, self.min_ready, self.now)


class StatefulSetController(Controller):
    """Reconciles StatefulSets: ordered pods with stable names and storage."""

    name: ClassVar[str] = "statefulset-controller"
    primary: ClassVar[str] = RESOURCE

    def __init__(self, api: Any, clock: Any, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self._selectors: dict[str, tuple[Any, LabelSelector]] = {}

    # -- handlers -------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.on("pods", self._sets_for_pod, batch_seconds=0.05)

    def _sets_for_pod(self, event: WatchEvent) -> list[str]:
        keys: list[str] = []
        for pod in (event.object, event.old):
            if pod is None:
                continue
            ref = controller_of(pod)
            if ref is not None:
                if ref.get("kind") == "StatefulSet":
                    key = f"{pod['metadata'].get('namespace', '')}/{ref.get('name', '')}"
                    if key not in keys:
                        keys.append(key)
            elif pod is event.object and event.type != "DELETED":
                key = self._adopter_of(pod)
                if key is not None and key not in keys:
                    keys.append(key)
        return keys

    def _adopter_of(self, pod: Obj) -> str | None:
        """The set that would adopt an orphan pod: its name is the pod's minus ``-<n>``."""
        pod_name = pod["metadata"]["name"]
        parent, _, ordinal = pod_name.rpartition("-")
        if not parent or not ordinal.isdigit():
            return None
        namespace = pod["metadata"].get("namespace", "")
        sts = self.api.cached(RESOURCE, parent, namespace)
        if sts is None or not self._selector(sts).matches(pod["metadata"].get("labels")):
            return None
        return f"{namespace}/{parent}"

    def _selector(self, sts: Obj) -> LabelSelector:
        uid = sts["metadata"]["uid"]
        raw = sts["spec"].get("selector")
        cached = self._selectors.get(uid)
        if cached is not None and cached[0] is raw:
            return cached[1]
        selector = LabelSelector.from_dict(raw)
        self._selectors[uid] = (raw, selector)
        return selector

    # -- sync -----------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        sts = self.api.cached(RESOURCE, name, namespace)
        if sts is None:
            return None
        selector = self._selector(sts)
        if selector.is_empty or selector.selects_nothing:
            return None
        pods = self._claim_pods(sts, selector)
        revisions = owned_revisions(self.api, sts)
        current_rev, update_rev, collision_count = self._revisions(sts, revisions)
        view = self._view(sts, current_rev, update_rev)

        status, error = self._update_set(view, pods, collision_count)
        if (
            view.strategy == "RollingUpdate"
            and status.get("updatedReplicas", 0) == status["replicas"]
            and status.get("readyReplicas", 0) == status["replicas"]
        ):
            # completeRollingUpdate
            status["currentReplicas"] = status.get("updatedReplicas", 0)
            status["currentRevision"] = status["updateRevision"]
        _drop_zeros(status)
        self._write_status(sts, status)
        self._truncate_history(view, pods, revisions, status)
        if error is not None:
            raise error
        if view.min_ready > 0 and status.get("readyReplicas", 0) != status.get("availableReplicas", 0):
            return float(view.min_ready)
        return None

    def _view(self, sts: Obj, current_rev: Obj, update_rev: Obj) -> _View:
        spec = sts["spec"]
        meta = sts["metadata"]
        strategy = spec.get("updateStrategy") or {}
        policy = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        replicas = spec.get("replicas")
        return _View(
            set=sts,
            name=meta["name"],
            namespace=meta.get("namespace", "default"),
            uid=meta["uid"],
            replicas=1 if replicas is None else int(replicas),
            start=int((spec.get("ordinals") or {}).get("start") or 0),
            monotonic=spec.get("podManagementPolicy", "OrderedReady") != "Parallel",
            min_ready=int(spec.get("minReadySeconds") or 0),
            strategy=strategy.get("type") or "RollingUpdate",
            rolling=strategy.get("rollingUpdate"),
            when_deleted=policy.get("whenDeleted") or _RETAIN,
            when_scaled=policy.get("whenScaled") or _RETAIN,
            claim_templates=list(spec.get("volumeClaimTemplates") or ()),
            current_revision=current_rev,
            update_revision=update_rev,
            now=self.clock.now().timestamp(),
        )

    # -- pods of the set ---------------------------------------------------------

    def _claim_pods(self, sts: Obj, selector: LabelSelector) -> list[Obj]:
        """``getPodsForStatefulSet``: owned members that match; adopt orphans; release strays."""
        meta = sts["metadata"]
        uid, name, namespace = meta["uid"], meta["name"], meta.get("namespace", "default")
        deleting = bool(meta.get("deletionTimestamp"))
        pods: list[Obj] = []
        for pod in self.api.dependents("pods", uid):
            ref = controller_of(pod)
            if ref is None or ref.get("uid") != uid:
                continue
            if pod_ordinal(name, pod["metadata"]["name"]) >= 0 and selector.matches(
                pod["metadata"].get("labels")
            ):
                pods.append(pod)
            elif not deleting:
                self._release(pod, uid)
        if deleting:
            return pods
        # Orphans a set can adopt carry one of its pod names (e.g. after a delete with
        # --cascade=orphan and a re-apply): look them up by name, not by scanning.
        replicas = sts["spec"].get("replicas")
        start = int((sts["spec"].get("ordinals") or {}).get("start") or 0)
        for ordinal in range(start, start + (1 if replicas is None else int(replicas))):
            pod = self.api.cached("pods", f"{name}-{ordinal}", namespace)
            if (
                pod is not None
                and controller_of(pod) is None
                and not _terminating(pod)
                and selector.matches(pod["metadata"].get("labels"))
            ):
                new = deep_copy(pod)
                new["metadata"].setdefault("ownerReferences", []).append(controller_ref(sts))
                pods.append(self.api.update(new, owned=True))
        return pods

    def _release(self, pod: Obj, uid: str) -> None:
        new = deep_copy(pod)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        with contextlib.suppress(NotFound):
            self.api.update(new, owned=True)

    # -- revisions ------------------------------------------------------------------

    def _revisions(self, sts: Obj, revisions: list[Obj]) -> tuple[Obj, Obj, int]:
        """``getStatefulSetRevisions``: (current, update, collisionCount)."""
        status = sts.get("status") or {}
        collision_count = int(status.get("collisionCount") or 0)
        patch = template_patch(sts)
        equal = find_equal_revisions(revisions, {"data": patch})
        number = next_revision_number(revisions)
        if equal and revisions and equal[-1] is revisions[-1]:
            update_rev = revisions[-1]
        elif equal:
            # The template went back to an older revision: roll back by renumbering it.
            update_rev = update_revision_number(self.api, equal[-1], number)
        else:
            labels = (sts["spec"].get("template") or {}).get("metadata", {}).get("labels")
            candidate = new_revision(sts, labels, patch, number, collision_count)
            update_rev, collision_count = create_revision(self.api, sts, candidate, collision_count)
            revisions.append(update_rev)
        current_name = status.get("currentRevision")
        current_rev = next((r for r in revisions if r["metadata"]["name"] == current_name), update_rev)
        return current_rev, update_rev, collision_count

    def _truncate_history(self, view: _View, pods: list[Obj], revisions: list[Obj], status: Obj) -> None:
        limit = view.set["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        live = {status.get("currentRevision"), status.get("updateRevision")}
        live.update(_revision_of(pod) for pod in pods)
        history = [r for r in revisions if r["metadata"]["name"] not in live]
        for revision in history[: max(0, len(history) - limit)]:
            with contextlib.suppress(NotFound):
                self.api.delete(
                    "controllerrevisions.apps", revision["metadata"]["name"], namespace=view.namespace
                )

    # -- the update ---------------------------------------------------------------

    def _update_set(
        self, view: _View, pods: list[Obj], collision_count: int
    ) -> tuple[Obj, NbClusterError | None]:
        """``updateStatefulSet``: one pass of scaling and updating; returns (status, error)."""
        replicas: list[Obj | None] = [None] * max(0, view.replicas)
        condemned: list[Obj | None] = []
        for pod in pods:
            ordinal = pod_ordinal(view.name, pod["metadata"]["name"])
            if view.in_range(ordinal):
                replicas[ordinal - view.start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=lambda p: pod_ordinal(view.name, p["metadata"]["name"]) if p else -1, reverse=True)

        first_unhealthy: str | None = None
        for index, pod in enumerate(replicas):
            if not _healthy(pod):
                first_unhealthy = f"{view.name}-{view.start + index}"
                break
        if first_unhealthy is None:
            for pod in reversed(condemned):
                if pod is not None and not _healthy(pod):
                    first_unhealthy = pod["metadata"]["name"]
                    break

        error: NbClusterError | None = None
        if not view.set["metadata"].get("deletionTimestamp"):
            try:
                self._scale_and_update(view, replicas, condemned, first_unhealthy)
            except NbClusterError as exc:
                error = exc
        status = self._status(view, [p for p in (*replicas, *condemned) if p is not None], collision_count)
        return status, error

    def _scale_and_update(
        self,
        view: _View,
        replicas: list[Obj | None],
        condemned: list[Obj | None],
        first_unhealthy: str | None,
    ) -> None:
        monotonic = view.monotonic
        for index in range(len(replicas)):
            if self._process_replica(view, replicas, index) and monotonic:
                return
        for pod in condemned:
            # Claims of pods about to go get the retention policy's ownerReferences first.
            if pod is not None:
                self._fix_claims(view, pod)
        for index in range(len(condemned)):
            if self._process_condemned(view, condemned, index, first_unhealthy) and monotonic:
                return
        if view.strategy == "OnDelete":
            return
        update_min = view.partition if view.rolling is not None else 0
        for target in range(len(replicas) - 1, update_min - 1, -1):
            pod = replicas[target]
            if pod is None:
                continue
            if _revision_of(pod) != view.update_revision["metadata"]["name"] and not _terminating(pod):
                replicas[target] = self._delete_pod(view, pod)
                return
            if not _healthy(pod):
                return

    def _process_replica(self, view: _View, replicas: list[Obj | None], index: int) -> bool:
        """``processReplica``: True when the pass must stop (in OrderedReady mode)."""
        ordinal = view.start + index
        pod = replicas[index]
        if pod is not None and _phase(pod) in ("Failed", "Succeeded"):
            if _phase(pod) == "Failed":
                self.events.event(
                    view.set,
                    EventType.WARNING,
                    "RecreatingFailedPod",
                    f"StatefulSet {view.namespace}/{view.name} is recreating failed Pod "
                    f"{pod['metadata']['name']}",
                )
            else:
                self.events.event(
                    view.set,
                    EventType.NORMAL,
                    "RecreatingTerminatedPod",
                    f"StatefulSet {view.namespace}/{view.name} is recreating terminated Pod "
                    f"{pod['metadata']['name']}",
                )
            self._delete_pod(view, pod)
            pod = replicas[index] = None
        if pod is None:
            new = self._new_pod(view, ordinal)
            if self._claims_are_stale(view, new):
                return True
            pod = replicas[index] = self._create_pod(view, new, ordinal)
            if view.monotonic:
                return True
        if _phase(pod) == "Pending":
            self._create_claims(view, pod["metadata"]["name"], ordinal)
        if _terminating(pod) and view.monotonic:
            return True
        if not _running_and_ready(pod) and view.monotonic:
            return True
        if not view.available(pod) and view.monotonic:
            return True
        self._fix_claims(view, pod)
        if _identity_matches(view, pod, ordinal) and _storage_matches(view, pod, ordinal):
            return False
        replicas[index] = self._update_pod(view, pod, ordinal)
        return False

    def _process_condemned(
        self, view: _View, condemned: list[Obj | None], index: int, first_unhealthy: str | None
    ) -> bool:
        """``processCondemned``: delete one surplus pod; True when the pass must stop."""
        pod = condemned[index]
        if pod is None:
            return False
        if _terminating(pod):
            return view.monotonic
        name = pod["metadata"]["name"]
        if view.monotonic and name != first_unhealthy and not view.available(pod):
            return True
        condemned[index] = self._delete_pod(view, pod)
        return True

    # -- pod and claim writes ---------------------------------------------------------

    def _new_pod(self, view: _View, ordinal: int) -> Obj:
        """``newVersionedStatefulSetPod``: below the partition pods keep the current revision."""
        rolling = view.rolling
        status_current = int((view.set.get("status") or {}).get("currentReplicas") or 0)
        use_current = (view.strategy == "RollingUpdate" and rolling is None and ordinal < status_current) or (
            rolling is not None and ordinal < view.partition
        )
        if use_current:
            if view.current_template is None:
                view.current_template = revision_template(view.current_revision)
            template = view.current_template
            revision = view.current_revision["metadata"]["name"]
        else:
            template = view.set["spec"].get("template") or {}
            revision = view.update_revision["metadata"]["name"]
        pod = pod_from_template(template, view.set, controller_ref(view.set))
        name = f"{view.name}-{ordinal}"
        meta = pod["metadata"]
        meta.pop("generateName", None)
        meta["name"] = name
        meta.setdefault("labels", {})
        meta["labels"][POD_NAME_LABEL] = name
        meta["labels"][POD_INDEX_LABEL] = str(ordinal)
        meta["labels"][REVISION_HASH_LABEL] = revision
        pod["spec"]["hostname"] = name
        service = view.set["spec"].get("serviceName")
        if service:
            pod["spec"]["subdomain"] = service
        _update_storage(view, pod, ordinal)
        return pod

    def _create_pod(self, view: _View, pod: Obj, ordinal: int) -> Obj:
        """``CreateStatefulPod``: the claims first, then the pod."""
        name = pod["metadata"]["name"]
        try:
            self._create_claims(view, name, ordinal)
            created = self.api.create(pod, owned=True, validate_schema=False)
        except AlreadyExists:
            raise
        except NbClusterError as exc:
            self.events.event(
                view.set,
                EventType.WARNING,
                "FailedCreate",
                f"create Pod {name} in StatefulSet {view.name} failed error: {exc}",
            )
            raise
        self._fix_claims(view, created)
        self.events.event(
            view.set,
            EventType.NORMAL,
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {view.name} successful",
        )
        return created

    def _delete_pod(self, view: _View, pod: Obj) -> Obj | None:
        """``DeleteStatefulPod``; returns the pod as it is afterwards (None once gone)."""
        name = pod["metadata"]["name"]
        try:
            self.api.delete(
                "pods", name, namespace=view.namespace, preconditions={"uid": pod["metadata"]["uid"]}
            )
        except NotFound:
            return None
        except NbClusterError as exc:
            self.events.event(
                view.set,
                EventType.WARNING,
                "FailedDelete",
                f"delete Pod {name} in StatefulSet {view.name} failed error: {exc}",
            )
            raise
        self.events.event(
            view.set,
            EventType.NORMAL,
            "SuccessfulDelete",
            f"delete Pod {name} in StatefulSet {view.name} successful",
        )
        return self.api.cached("pods", name, view.namespace)

    def _update_pod(self, view: _View, pod: Obj, ordinal: int) -> Obj:
        """``UpdateStatefulPod``: restore the pod's identity labels and claim volumes."""
        new = deep_copy(pod)
        labels = new["metadata"].setdefault("labels", {})
        labels[POD_NAME_LABEL] = new["metadata"]["name"]
        labels[POD_INDEX_LABEL] = str(ordinal)
        name = new["metadata"]["name"]
        try:
            if not _storage_matches(view, new, ordinal):
                _update_storage(view, new, ordinal)
                self._create_claims(view, name, ordinal)
            updated = self.api.update(new, owned=True)
        except NbClusterError as exc:
            self.events.event(
                view.set,
                EventType.WARNING,
                "FailedUpdate",
                f"update Pod {name} in StatefulSet {view.name} failed error: {exc}",
            )
            raise
        self.events.event(
            view.set,
            EventType.NORMAL,
            "SuccessfulUpdate",
            f"update Pod {name} in StatefulSet {view.name} successful",
        )
        return updated

    def _claims_for(self, view: _View, ordinal: int) -> list[Obj]:
        """``getPersistentVolumeClaims``: the claims of one ordinal (new objects)."""
        match_labels = (view.set["spec"].get("selector") or {}).get("matchLabels") or {}
        claims = []
        for template in view.claim_templates:
            claim = deep_copy(template)
            claim.pop("status", None)
            claim["apiVersion"] = "v1"
            claim["kind"] = "PersistentVolumeClaim"
            meta = claim.setdefault("metadata", {})
            meta["name"] = claim_name(meta.get("name", ""), view.name, ordinal)
            meta["namespace"] = view.namespace
            meta["labels"] = {**(meta.get("labels") or {}), **match_labels}
            claims.append(claim)
        return claims

    def _create_claims(self, view: _View, pod_name: str, ordinal: int) -> None:
        """``createPersistentVolumeClaims``: create the ordinal's missing claims."""
        problems: list[str] = []
        for claim in self._claims_for(view, ordinal):
            name = claim["metadata"]["name"]
            existing = self.api.cached("persistentvolumeclaims", name, view.namespace)
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    problems.append(f"pvc {name} is being deleted")
                continue
            refs = _retention_refs([], view, None, in_range=view.in_range(ordinal))
            if refs:
                claim["metadata"]["ownerReferences"] = refs
            try:
                self.api.create(claim, owned=True, validate_schema=False)
            except AlreadyExists as exc:
                problems.append(f"failed to create PVC {name}: {exc}")
                continue
            except NbClusterError as exc:
                problems.append(f"failed to create PVC {name}: {exc}")
                self.events.event(
                    view.set,
                    EventType.WARNING,
                    "FailedCreate",
                    f"create Claim {name} for Pod {pod_name} in StatefulSet {view.name} failed error: {exc}",
                )
                continue
            self.events.event(
                view.set,
                EventType.NORMAL,
                "SuccessfulCreate",
                f"create Claim {name} Pod {pod_name} in StatefulSet {view.name} success",
            )
        if problems:
            raise NbClusterError("; ".join(problems))

    def _claims_are_stale(self, view: _View, pod: Obj) -> bool:
        """``PodClaimIsStale``: with whenScaled=Delete, a claim still owned by an old pod blocks."""
        if view.when_scaled != _DELETE:
            return False
        name = pod["metadata"]["name"]
        uid = pod["metadata"].get("uid")
        ordinal = pod_ordinal(view.name, name)
        for claim in self._claims_for(view, ordinal):
            existing = self.api.cached("persistentvolumeclaims", claim["metadata"]["name"], view.namespace)
            if existing is None:
                continue
            for ref in existing["metadata"].get("ownerReferences") or ():
                if ref.get("kind") == "Pod" and ref.get("name") == name and ref.get("uid") != uid:
                    return True
        return False

    def _fix_claims(self, view: _View, pod: Obj) -> None:
        """``UpdatePodClaimForRetentionPolicy``: ownerReferences as the policy wants them."""
        ordinal = pod_ordinal(view.name, pod["metadata"]["name"])
        in_range = view.in_range(ordinal)
        for template in view.claim_templates:
            name = claim_name((template.get("metadata") or {}).get("name", ""), view.name, ordinal)
            claim = self.api.cached("persistentvolumeclaims", name, view.namespace)
            if claim is None:
                continue
            current = list(claim["metadata"].get("ownerReferences") or ())
            wanted = _retention_refs(current, view, pod, in_range=in_range)
            if wanted == current:
                continue
            new = deep_copy(claim)
            if wanted:
                new["metadata"]["ownerReferences"] = wanted
            else:
                new["metadata"].pop("ownerReferences", None)
            self.api.update(new, owned=True)

    # -- status ---------------------------------------------------------------------

    def _status(self, view: _View, pods: list[Obj], collision_count: int) -> Obj:
        """``updateStatus`` / ``computeReplicaStatus`` over the pods as they are now."""
        count = ready = available = current = updated = 0
        current_name = view.current_revision["metadata"]["name"]
        update_name = view.update_revision["metadata"]["name"]
        for pod in pods:
            count += 1
            if _running_and_ready(pod):
                ready += 1
                if view.available(pod):
                    available += 1
            if not _terminating(pod):
                revision = _revision_of(pod)
                if revision == current_name:
                    current += 1
                if revision == update_name:
                    updated += 1
        status: Obj = {
            "observedGeneration": view.set["metadata"].get("generation", 1),
            "replicas": count,
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": collision_count,
            "availableReplicas": available,
        }
        conditions = (view.set.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        return status

    def _write_status(self, sts: Obj, status: Obj) -> None:
        if (sts.get("status") or {}) == status:
            return
        new = dict(sts)
        new["metadata"] = dict(sts["metadata"])
        new["status"] = status
        self.api.update_status(new, owned=True)


# -- helpers ----------------------------------------------------------------------------


def _drop_zeros(status: Obj) -> None:
    """The status fields Kubernetes marks ``omitempty``."""
    for field_name in ("readyReplicas", "currentReplicas", "updatedReplicas"):
        if not status.get(field_name):
            status.pop(field_name, None)


def _identity_matches(view: _View, pod: Obj, ordinal: int) -> bool:
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    return (
        meta["name"] == f"{view.name}-{ordinal}"
        and meta.get("namespace", "default") == view.namespace
        and labels.get(POD_NAME_LABEL) == meta["name"]
        and labels.get(POD_INDEX_LABEL) == str(ordinal)
    )


def _storage_matches(view: _View, pod: Obj, ordinal: int) -> bool:
    volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or ()}
    for template in view.claim_templates:
        template_name = (template.get("metadata") or {}).get("name", "")
        volume = volumes.get(template_name)
        source = (volume or {}).get("persistentVolumeClaim")
        if not source or source.get("claimName") != claim_name(template_name, view.name, ordinal):
            return False
    return True


def _update_storage(view: _View, pod: Obj, ordinal: int) -> None:
    """``updateStorage``: one claim volume per template, other volumes kept."""
    if not view.claim_templates:
        return
    names = [(t.get("metadata") or {}).get("name", "") for t in view.claim_templates]
    volumes = [
        {"name": n, "persistentVolumeClaim": {"claimName": claim_name(n, view.name, ordinal)}} for n in names
    ]
    volumes.extend(v for v in pod["spec"].get("volumes") or () if v.get("name") not in names)
    pod["spec"]["volumes"] = volumes


def _retention_refs(refs: list[Obj], view: _View, pod: Obj | None, *, in_range: bool) -> list[Obj]:
    """``updateClaimOwnerRefForSetAndPod``: the claim's ownerReferences the policy wants.

    whenDeleted=Delete: the set owns the claim (while its pod is in range when
    whenScaled=Delete too); whenScaled=Delete: a condemned pod owns it, so the
    garbage collector removes the claim with the pod.
    """
    when_deleted = view.when_deleted if view.when_deleted in (_RETAIN, _DELETE) else _RETAIN
    when_scaled = view.when_scaled if view.when_scaled in (_RETAIN, _DELETE) else _RETAIN
    want_set = when_deleted == _DELETE and (when_scaled != _DELETE or in_range)
    want_pod = when_scaled == _DELETE and not in_range
    out = [r for r in refs if r.get("uid") != view.uid]
    if want_set:
        out.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": view.name, "uid": view.uid})
    pod_uid = pod["metadata"].get("uid") if pod is not None else None
    if pod_uid:
        out = [r for r in out if r.get("uid") != pod_uid]
        if want_pod:
            out.append({"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod_uid})
    # Keep the original order when nothing changed.
    if len(out) == len(refs) and all(r in refs for r in out):
        return refs
    return out
