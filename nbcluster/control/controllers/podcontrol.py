"""Helpers the workload controllers share (Kubernetes' controller_utils.go). No I/O of their own.

* owner references: :func:`controller_ref`, :func:`controller_of`, and the
  ControllerRefManager's claim — adopt matching orphans, release owned objects that
  stopped matching (:func:`claim_objects`, writes through the API server);
* pods from a template (:func:`pod_from_template`: labels, annotations, finalizers,
  ``generateName: OWNER-``, the controller ownerReference);
* pod state as controllers read it: :func:`is_pod_active`, :func:`is_pod_ready`,
  :func:`is_pod_available` (``minReadySeconds``), :func:`available_in`;
* the ReplicaSet scale-down ranking (``ActivePodsWithRanks``): :func:`rank_pods_for_deletion`,
  :func:`pods_to_delete`;
* :func:`slow_start_batch`, the 1, 2, 4, ... batching of creations.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nbcluster.api.naming import name_is_dns_subdomain
from nbcluster.api.selectors import LabelSelector
from nbcluster.errors import NbClusterError, NotFound
from nbcluster.util.clock import parse_time
from nbcluster.util.jsoncopy import deep_copy

if TYPE_CHECKING:
    from nbcluster.control.apiserver import APIServer

__all__ = [
    "ORPHAN_INDEX",
    "POD_DELETION_COST_ANNOTATION",
    "available_in",
    "claim_objects",
    "controller_of",
    "controller_ref",
    "ensure_orphan_index",
    "epoch",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "label_matcher",
    "orphans",
    "pod_from_template",
    "pod_ready_condition",
    "pods_to_delete",
    "rank_pods_for_deletion",
    "slow_start_batch",
]

Obj = dict[str, Any]

#: Store index of objects without a controller ownerReference, by namespace.
ORPHAN_INDEX = "orphan"

#: Lower cost pods are deleted first on scale-down (beta since 1.22, on by default).
POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"

_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


# -- time ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _epoch_of(text: str) -> float:
    return parse_time(text).timestamp()


def epoch(value: str | datetime | float | None) -> float | None:
    """Seconds since the epoch of a Kubernetes timestamp (cached: timestamps repeat)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return _epoch_of(value)


# -- owner references ------------------------------------------------------------------


def controller_ref(owner: Obj) -> Obj:
    """``metav1.NewControllerRef``: the ownerReference a controller puts on what it makes."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    """``metav1.GetControllerOf``: the ownerReference with ``controller: true``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def _orphan_namespace(obj: Obj) -> list[str]:
    meta = obj["metadata"]
    for ref in meta.get("ownerReferences") or ():
        if ref.get("controller"):
            return []
    return [meta.get("namespace") or ""]


def ensure_orphan_index(api: APIServer, resource: str) -> None:
    """Index ``resource`` objects that no controller owns, so claiming skips a namespace scan."""
    api.store.add_index(api.resource(resource).group_resource, ORPHAN_INDEX, _orphan_namespace)


def orphans(api: APIServer, resource: str, namespace: str) -> list[Obj]:
    """Stored objects of ``resource`` in ``namespace`` without a controller (never mutate them)."""
    group_resource = api.resource(resource).group_resource
    try:
        return api.store.by_index(group_resource, ORPHAN_INDEX, namespace)
    except KeyError:
        ensure_orphan_index(api, resource)
        return api.store.by_index(group_resource, ORPHAN_INDEX, namespace)


def label_matcher(selector: LabelSelector) -> Callable[[Any], bool]:
    """A fast ``labels -> bool`` for ``selector`` (plain ``key=value`` selectors skip the parser's objects)."""
    if selector.selects_nothing:
        return lambda labels: False
    pairs = selector.equality_requirements()
    if len(pairs) != len(selector.requirements):
        return selector.matches
    items = tuple(pairs.items())
    if not items:
        return lambda labels: True
    if len(items) == 1:
        ((key, value),) = items

        def match_one(labels: Any) -> bool:
            return labels is not None and labels.get(key) == value

        return match_one

    def match(labels: Any) -> bool:
        if not labels:
            return False
        for key, value in items:  # noqa: SIM110 - a plain loop beats all() on this hot path
            if labels.get(key) != value:
                return False
        return True

    return match


def _adopt(api: APIServer, resource: str, obj: Obj, owner: Obj) -> Obj | None:
    new = deep_copy(obj)
    refs = [
        r for r in new["metadata"].get("ownerReferences") or () if r.get("uid") != owner["metadata"]["uid"]
    ]
    refs.append(controller_ref(owner))
    new["metadata"]["ownerReferences"] = refs
    try:
        return api.update(new, owned=True)
    except NotFound:
        return None


def _release(api: APIServer, resource: str, obj: Obj, owner_uid: str) -> None:
    new = deep_copy(obj)
    refs = [r for r in new["metadata"].get("ownerReferences") or () if r.get("uid") != owner_uid]
    if refs:
        new["metadata"]["ownerReferences"] = refs
    else:
        new["metadata"].pop("ownerReferences", None)
    with contextlib.suppress(NotFound):
        api.update(new, owned=True)


def claim_objects(
    api: APIServer,
    resource: str,
    owner: Obj,
    selector: LabelSelector,
    candidates: Iterable[Obj],
) -> list[Obj]:
    """``ControllerRefManager.Claim*``: the candidates ``owner`` controls after adopting
    matching orphans and releasing owned objects whose labels stopped matching.

    Objects controlled by someone else are ignored. An owner being deleted neither
    adopts nor releases. A Conflict while adopting or releasing propagates (requeue).
    """
    meta = owner["metadata"]
    owner_uid = meta.get("uid")
    owner_deleting = bool(meta.get("deletionTimestamp"))
    namespace = meta.get("namespace", "")
    matches = label_matcher(selector)
    claimed: list[Obj] = []
    for obj in candidates:
        obj_meta = obj["metadata"]
        ref = controller_of(obj)
        if ref is not None:
            if ref.get("uid") != owner_uid:
                continue
            if matches(obj_meta.get("labels")):
                claimed.append(obj)
            elif not owner_deleting:
                _release(api, resource, obj, owner_uid or "")
            continue
        if owner_deleting or obj_meta.get("deletionTimestamp") or not matches(obj_meta.get("labels")):
            continue
        if namespace and obj_meta.get("namespace", "") != namespace:
            continue
        adopted = _adopt(api, resource, obj, owner)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


# -- pods from templates --------------------------------------------------------------------


def pod_from_template(template: Obj, owner: Obj, ref: Obj | None = None, *, copy_spec: bool = True) -> Obj:
    """``controller.GetPodFromTemplate``: a new Pod (``generateName: OWNER-``) the caller owns.

    ``copy_spec=False`` leaves the template's own ``spec`` in the pod, for a caller that
    hands it straight to ``APIServer.create(..., template_spec=template["spec"])`` (which
    copies it) and changes nothing in it.
    """
    tmeta = template.get("metadata") or {}
    owner_meta = owner["metadata"]
    prefix = f"{owner_meta['name']}-"
    if name_is_dns_subdomain(prefix, True):
        prefix = owner_meta["name"]
    metadata: Obj = {"generateName": prefix}
    if owner_meta.get("namespace"):
        metadata["namespace"] = owner_meta["namespace"]
    if tmeta.get("labels"):
        metadata["labels"] = dict(tmeta["labels"])
    if tmeta.get("annotations"):
        metadata["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        metadata["finalizers"] = list(tmeta["finalizers"])
    if ref is not None:
        metadata["ownerReferences"] = [dict(ref)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": deep_copy(template.get("spec") or {}) if copy_spec else template.get("spec") or {},
    }


# -- pod state ----------------------------------------------------------------------------


def is_pod_active(pod: Obj) -> bool:
    """Not Succeeded, not Failed, not being deleted."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def pod_ready_condition(pod: Obj) -> Obj | None:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return cond
    return None


def is_pod_ready(pod: Obj) -> bool:
    cond = pod_ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime | float) -> bool:
    """Ready, and (with ``minReadySeconds``) ready since strictly more than that long."""
    cond = pod_ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return False
    if not min_ready_seconds:
        return True
    since = epoch(cond.get("lastTransitionTime"))
    now_s = epoch(now)
    return since is not None and now_s is not None and since + min_ready_seconds < now_s


def available_in(pod: Obj, min_ready_seconds: int, now: datetime | float) -> float | None:
    """Seconds until a ready pod becomes available; None when not ready or already available."""
    if not min_ready_seconds:
        return None
    cond = pod_ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    since = epoch(cond.get("lastTransitionTime"))
    now_s = epoch(now)
    if since is None or now_s is None:
        return None
    remaining = since + min_ready_seconds - now_s
    return remaining if remaining >= 0 else None


# -- scale-down ranking ----------------------------------------------------------------------


def _deletion_cost(pod: Obj) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(POD_DELETION_COST_ANNOTATION)
    if value is None:
        return 0
    try:
        cost = int(str(value).strip())
    except ValueError:
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


def _max_restarts(pod: Obj) -> int:
    return max(
        (int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or ()),
        default=0,
    )


class _Ranked:
    """A pod with the fields ``ActivePodsWithRanks.Less`` reads, computed once."""

    __slots__ = (
        "assigned",
        "cost",
        "created",
        "node",
        "phase",
        "pod",
        "rank",
        "ready",
        "ready_time",
        "restarts",
        "uid",
    )

    def __init__(self, pod: Obj, rank: int) -> None:
        self.pod = pod
        self.node = pod["spec"].get("nodeName") or ""
        self.assigned = bool(self.node)
        self.phase = _PHASE_ORDINAL.get((pod.get("status") or {}).get("phase", ""), 0)
        cond = pod_ready_condition(pod)
        self.ready = cond is not None and cond.get("status") == "True"
        self.ready_time = epoch(cond.get("lastTransitionTime")) if self.ready and cond else None
        self.cost = _deletion_cost(pod)
        self.rank = rank
        self.restarts = _max_restarts(pod)
        self.created = epoch(pod["metadata"].get("creationTimestamp"))
        self.uid = pod["metadata"].get("uid", "")


def _log_rank(t: float, now: float) -> int:
    nanos = round((now - t) * 1e9)
    return nanos.bit_length() - 1 if nanos > 0 else -1


def _after_or_zero(t1: float | None, t2: float | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _less(a: _Ranked, b: _Ranked, now: float | None) -> bool:
    # 1. Unassigned < assigned.
    if a.node != b.node and (not a.assigned or not b.assigned):
        return not a.assigned
    # 2. Pending < Unknown < Running.
    if a.phase != b.phase:
        return a.phase < b.phase
    # 3. Not ready < ready.
    if a.ready != b.ready:
        return not a.ready
    # 4. Lower pod-deletion-cost first.
    if a.cost != b.cost:
        return a.cost < b.cost
    # 5. Doubled up (more related pods on the same node) first.
    if a.rank != b.rank:
        return a.rank > b.rank
    # 6. Ready for a shorter time first (logarithmic buckets, then UID).
    if a.ready and b.ready and a.ready_time != b.ready_time:
        if now is None or a.ready_time is None or b.ready_time is None:
            return _after_or_zero(a.ready_time, b.ready_time)
        diff = _log_rank(a.ready_time, now) - _log_rank(b.ready_time, now)
        if diff == 0:
            return a.uid < b.uid
        return diff < 0
    # 7. More container restarts first.
    if a.restarts != b.restarts:
        return a.restarts > b.restarts
    # 8. Newer first (logarithmic buckets, then UID); no creation time first of all.
    if a.created != b.created:
        if now is None or a.created is None or b.created is None:
            return _after_or_zero(a.created, b.created)
        diff = _log_rank(a.created, now) - _log_rank(b.created, now)
        if diff == 0:
            return a.uid < b.uid
        return diff < 0
    return False


def _ranked(pods: Sequence[Obj], related_pods: Iterable[Obj]) -> list[_Ranked]:
    on_node: dict[str, int] = {}
    for pod in related_pods:
        if is_pod_active(pod):
            node = pod["spec"].get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    return [_Ranked(pod, on_node.get(pod["spec"].get("nodeName") or "", 0)) for pod in pods]


def _key(now: float | None) -> Callable[[_Ranked], Any]:
    def cmp(a: _Ranked, b: _Ranked) -> int:
        if _less(a, b, now):
            return -1
        if _less(b, a, now):
            return 1
        return 0

    return functools.cmp_to_key(cmp)


def rank_pods_for_deletion(
    pods: Sequence[Obj], related_pods: Iterable[Obj] = (), now: datetime | float | None = None
) -> list[Obj]:
    """``pods`` sorted the way a ReplicaSet prefers to delete them (first = first to go).

    ``related_pods`` are the active pods of every ReplicaSet with the same controller;
    a pod's rank is how many of them share its node (doubled-up pods go first).
    """
    now_s = epoch(now)
    return [r.pod for r in sorted(_ranked(pods, related_pods), key=_key(now_s))]


def pods_to_delete(
    pods: Sequence[Obj], count: int, related_pods: Iterable[Obj] = (), now: datetime | float | None = None
) -> list[Obj]:
    """``getPodsToDelete``: the ``count`` pods to delete first (all of them when count >= len)."""
    if count <= 0:
        return []
    if count >= len(pods):
        return list(pods)
    now_s = epoch(now)
    return [r.pod for r in heapq.nsmallest(count, _ranked(pods, related_pods), key=_key(now_s))]


# -- batching ---------------------------------------------------------------------------


def slow_start_batch(
    count: int, initial_batch_size: int, fn: Callable[[], None]
) -> tuple[int, NbClusterError | None]:
    """``slowStartBatch``: call ``fn`` ``count`` times in batches of 1, 2, 4, ...

    A batch is attempted whole; the first batch with a failure stops the run. Returns
    the number of successes and the first error (None when all succeeded).
    """
    remaining = count
    successes = 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        first_error: NbClusterError | None = None
        failed = 0
        for _ in range(batch):
            try:
                fn()
            except NbClusterError as exc:
                failed += 1
                if first_error is None:
                    first_error = exc
        successes += batch - failed
        if first_error is not None:
            return successes, first_error
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None
