"""The Deployment controller (Kubernetes' pkg/controller/deployment). No I/O beyond the API server.

A Deployment owns ReplicaSets named ``DEPLOY-<pod-template-hash>`` whose template,
labels and selector carry ``pod-template-hash``. ``sync(key)`` claims the ReplicaSets
matching the selector (adopting orphans, releasing those that stopped matching),
finds the *new* ReplicaSet (template equal to the Deployment's, ignoring the hash)
and the old ones, and then, as Kubernetes does:

* paused, or replicas changed mid-rollout -> ``sync``: proportional scaling over the
  active ReplicaSets (``max-replicas`` / ``desired-replicas`` annotations), cleanup
  when paused, status only;
* ``Recreate`` -> scale every old ReplicaSet to 0, wait until their pods are gone,
  then create / scale up the new one;
* ``RollingUpdate`` -> scale the new ReplicaSet up within ``replicas + maxSurge``
  (surge rounds up), scale old ones down while at least ``replicas - maxUnavailable``
  (unavailable rounds down) stay available, unhealthy old replicas first;
* when complete, delete old zero-replica ReplicaSets beyond ``revisionHistoryLimit``;
* status: replicas, updatedReplicas, readyReplicas, availableReplicas,
  unavailableReplicas, observedGeneration, collisionCount and the Available /
  Progressing / ReplicaFailure conditions, with ``progressDeadlineSeconds`` checked on
  the clock (the sync returns when to look again).

ReplicaSets get the ``deployment.kubernetes.io/revision`` (+ ``revision-history``),
``desired-replicas`` and ``max-replicas`` annotations; the Deployment gets
``deployment.kubernetes.io/revision``. Events: ``ScalingReplicaSet`` "Scaled up replica
set NAME from 0 to 3".

``kubectl rollout undo`` / ``history`` are client-side in kubectl; their pure halves
are :func:`rollback_template` (with :func:`find_revision`, :func:`rollback_annotations`)
and :func:`revision_history`.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, ClassVar

from nbcluster.api.selectors import LabelSelector
from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.base import Controller, object_key, owner_key, split_key
from nbcluster.control.controllers.hashing import compute_hash
from nbcluster.control.controllers.podcontrol import (
    claim_objects,
    controller_of,
    controller_ref,
    ensure_orphan_index,
    epoch,
    orphans,
)
from nbcluster.control.controllers.replicaset import is_namespace_terminating, status_only_change
from nbcluster.control.events import EventRecorder, EventType
from nbcluster.errors import AlreadyExists, BadRequest, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import Clock, format_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "CHANGE_CAUSE_ANNOTATION",
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "POD_TEMPLATE_HASH_LABEL",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "DeploymentController",
    "equal_ignore_hash",
    "find_revision",
    "max_surge",
    "max_unavailable",
    "replica_sets_of",
    "resolve_fenceposts",
    "revision_history",
    "rollback_annotations",
    "rollback_template",
    "scaled_value",
]

Obj = dict[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"

#: Annotations never copied between a Deployment and its ReplicaSets.
SKIPPED_ANNOTATIONS = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        ROLLBACK_TO_ANNOTATION,
    }
)

#: Kubernetes' limit on the length of the revision-history annotation.
MAX_REVISION_HISTORY_CHARS = 2000

_MAX_INT32 = 2**31 - 1

# Condition reasons (pkg/controller/deployment/util).
REPLICASET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


# -- spec helpers ---------------------------------------------------------------------------


def _replicas(obj: Obj | None) -> int:
    if obj is None:
        return 0
    value = obj["spec"].get("replicas", 1)
    return 1 if value is None else int(value)


def _status_int(obj: Obj | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field) or 0)


def _strategy_type(d: Obj) -> str:
    return (d["spec"].get("strategy") or {}).get("type") or "RollingUpdate"


def _is_rolling(d: Obj) -> bool:
    return _strategy_type(d) == "RollingUpdate"


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: ``"25%"`` of ``total``, rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadRequest(f"invalid value for IntOrString: invalid type: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        try:
            percent = int(text[:-1])
        except ValueError:
            raise BadRequest(f'invalid value for IntOrString: invalid value "{value}"') from None
        product = percent * total
        return -((-product) // 100) if round_up else product // 100
    if text.lstrip("-").isdigit():
        return int(text)
    raise BadRequest(f'invalid value for IntOrString: invalid value "{value}"')


def resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: (maxSurge, maxUnavailable); both 0 becomes unavailable 1."""
    s = scaled_value(0 if surge is None else surge, desired, True)
    u = scaled_value(0 if unavailable is None else unavailable, desired, False)
    if s == 0 and u == 0:
        u = 1
    return s, u


def _rolling_params(d: Obj) -> tuple[int | str, int | str]:
    rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = rolling.get("maxSurge")
    unavailable = rolling.get("maxUnavailable")
    return ("25%" if surge is None else surge), ("25%" if unavailable is None else unavailable)


def max_surge(d: Obj) -> int:
    """``MaxSurge``: extra pods a rolling update may run (0 for Recreate)."""
    if not _is_rolling(d):
        return 0
    surge, unavailable = _rolling_params(d)
    return resolve_fenceposts(surge, unavailable, _replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    """``MaxUnavailable``: pods a rolling update may have unavailable (0 for Recreate)."""
    replicas = _replicas(d)
    if not _is_rolling(d) or replicas == 0:
        return 0
    surge, unavailable = _rolling_params(d)
    return min(resolve_fenceposts(surge, unavailable, replicas)[1], replicas)


def _progress_deadline(d: Obj) -> int | None:
    value = d["spec"].get("progressDeadlineSeconds", 600)
    if value is None or int(value) == _MAX_INT32:
        return None
    return int(value)


def _revision_history_limit(d: Obj) -> int | None:
    value = d["spec"].get("revisionHistoryLimit", 10)
    if value is None or int(value) == _MAX_INT32:
        return None
    return int(value)


def _revision(obj: Obj) -> int | None:
    value = (obj["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _max_revision(rss: list[Obj]) -> int:
    return max((r for r in (_revision(rs) for rs in rss) if r is not None), default=0)


def _created_key(obj: Obj) -> tuple[float, str]:
    """``ReplicaSetsByCreationTimestamp``: creation time, then name."""
    return (epoch(obj["metadata"].get("creationTimestamp")) or 0.0, obj["metadata"]["name"])


def _by_revision_key(obj: Obj) -> tuple[int, float, str]:
    """``ReplicaSetsByRevision`` (unparseable revisions fall back on creation time)."""
    created, name = _created_key(obj)
    revision = _revision(obj)
    return (revision if revision is not None else -1, created, name)


def _go_round(value: float) -> int:
    """Go's ``math.Round``: halves away from zero."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


# -- template equality ----------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _semantic_equal(a: Any, b: Any) -> bool:
    """Deep equality where a missing field, ``null``, ``{}`` and ``[]`` are all alike."""
    if a is b or a == b:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            va, vb = a.get(key), b.get(key)
            if _is_empty(va) and _is_empty(vb):
                continue
            if not _semantic_equal(va, vb):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_semantic_equal(x, y) for x, y in zip(a, b))
    return _is_empty(a) and _is_empty(b)


def _without_hash(template: Obj) -> Obj:
    meta = template.get("metadata") or {}
    labels = meta.get("labels") or {}
    if POD_TEMPLATE_HASH_LABEL not in labels:
        return template
    stripped = {k: v for k, v in labels.items() if k != POD_TEMPLATE_HASH_LABEL}
    return {**template, "metadata": {**meta, "labels": stripped}}


def equal_ignore_hash(template1: Obj | None, template2: Obj | None) -> bool:
    """``EqualIgnoreHash``: pod templates equal once ``pod-template-hash`` is dropped."""
    return _semantic_equal(_without_hash(template1 or {}), _without_hash(template2 or {}))


# -- conditions -------------------------------------------------------------------------------


def _condition(conditions: list[Obj], type_: str) -> Obj | None:
    for cond in conditions:
        if cond.get("type") == type_:
            return cond
    return None


def _new_condition(type_: str, status: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _set_condition(status: Obj, condition: Obj) -> None:
    """``SetDeploymentCondition``: same status and reason -> unchanged; same status keeps
    its lastTransitionTime."""
    conditions = status.get("conditions") or []
    current = _condition(conditions, condition["type"])
    if (
        current is not None
        and current.get("status") == condition["status"]
        and current.get("reason") == condition["reason"]
    ):
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    status["conditions"] = [c for c in conditions if c.get("type") != condition["type"]] + [condition]


def _remove_condition(status: Obj, type_: str) -> None:
    conditions = status.get("conditions")
    if conditions and any(c.get("type") == type_ for c in conditions):
        remaining = [c for c in conditions if c.get("type") != type_]
        if remaining:
            status["conditions"] = remaining
        else:
            del status["conditions"]


# -- the controller ---------------------------------------------------------------------------


class DeploymentController(Controller):
    """Rolls Deployments out through ReplicaSets."""

    name: ClassVar[str] = "deployment-controller"
    primary: ClassVar[str] = "deployments.apps"

    def __init__(self, api: APIServer, clock: Clock, *, record_events: bool = True) -> None:
        super().__init__(api, clock, record_events=record_events)
        self._selectors: dict[str, tuple[Any, LabelSelector | None]] = {}
        ensure_orphan_index(api, "replicasets.apps")

    # -- event handlers ----------------------------------------------------------------

    def setup(self) -> None:
        self.on(self.primary, self._deployment_event)
        self.on("replicasets.apps", self._replicaset_event, batch_seconds=0.05)
        self.on("pods", self._pod_event, batch_seconds=0.05)

    def _deployment_event(self, event: WatchEvent) -> str | None:
        if event.type == "DELETED":
            self._selectors.pop(event.object["metadata"].get("uid", ""), None)
        elif status_only_change(event):
            return None
        return object_key(event.object)

    def _replicaset_event(self, event: WatchEvent) -> list[str] | str | None:
        rs = event.object
        key = owner_key(rs, "Deployment")
        old = event.old if event.type == "MODIFIED" else None
        if old is not None:
            if old["metadata"].get("resourceVersion") == rs["metadata"].get("resourceVersion"):
                return None
            old_key = owner_key(old, "Deployment")
            keys = [old_key] if old_key and old_key != key else []
            if key is not None:
                return [*keys, key]
            if old_key is not None or (old["metadata"].get("labels") or {}) != (
                rs["metadata"].get("labels") or {}
            ):
                keys += self._matching_keys(rs)
            return keys
        if key is not None:
            return key
        if event.type == "DELETED":
            return None
        return self._matching_keys(rs)

    def _pod_event(self, event: WatchEvent) -> str | None:
        """A Recreate rollout waits for old pods to be gone: a pod deletion may unblock it."""
        if event.type != "DELETED":
            return None
        pod = event.object
        rs_key = owner_key(pod, "ReplicaSet")
        if rs_key is None:
            return None
        namespace, name = split_key(rs_key)
        rs = self.api.cached("replicasets.apps", name, namespace)
        if rs is None:
            return None
        d_key = owner_key(rs, "Deployment")
        if d_key is None:
            return None
        d_ns, d_name = split_key(d_key)
        d = self.api.cached(self.primary, d_name, d_ns)
        if d is None or _strategy_type(d) != "Recreate":
            return None
        return d_key

    def _matching_keys(self, rs: Obj) -> list[str]:
        """Deployments whose selector matches an orphan ReplicaSet (getDeploymentsForReplicaSet)."""
        meta = rs["metadata"]
        labels = meta.get("labels")
        if not labels:
            return []
        keys = []
        for d in self.api.cached_list(self.primary, meta.get("namespace", "")):
            selector = self.selector(d)
            if selector is not None and not selector.is_empty and selector.matches(labels):
                keys.append(object_key(d))
        return keys

    def selector(self, d: Obj) -> LabelSelector | None:
        """The parsed ``spec.selector`` of a Deployment (cached; None when it does not parse)."""
        uid = d["metadata"].get("uid", "")
        raw = d["spec"].get("selector")
        cached = self._selectors.get(uid)
        if cached is not None and cached[0] == raw:
            return cached[1]
        try:
            selector: LabelSelector | None = LabelSelector.from_dict(raw)
        except BadRequest:
            selector = None
        if len(self._selectors) > 50_000:
            self._selectors.clear()
        self._selectors[uid] = (raw, selector)
        return selector

    # -- sync ------------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        d = self.api.cached(self.primary, name, namespace)
        if d is None:
            return None
        return _DeploymentSync(self.api, self.events, self.clock, d, self.selector(d)).run()


class _DeploymentSync:
    """One sync of one Deployment: the working state the Go functions pass around.

    ``d`` is the cached Deployment (read-only); ``annotations`` and ``status`` are this
    sync's working copies, written back once at the end when they changed.
    ``rss`` always holds the latest version of every claimed ReplicaSet.
    """

    def __init__(
        self, api: APIServer, events: EventRecorder, clock: Clock, d: Obj, selector: LabelSelector | None
    ) -> None:
        self.api = api
        self.events = events
        self.d = d
        self.selector = selector
        self.now_dt = clock.now()
        self.now = self.now_dt.timestamp()
        self.now_text = format_time(self.now_dt)
        self.replicas = _replicas(d)
        self.namespace = d["metadata"].get("namespace", "")
        self.base_annotations: dict[str, str] = dict(d["metadata"].get("annotations") or {})
        self.annotations = dict(self.base_annotations)
        self.base_status: Obj = d.get("status") or {}
        self.status: Obj = deep_copy(self.base_status)
        self.rss: list[Obj] = []
        self.new_uid: str | None = None
        self.requeue: float | None = None

    # -- plumbing ----------------------------------------------------------------------

    def run(self) -> float | None:
        try:
            self._run()
        except BaseException:
            with contextlib.suppress(NbClusterError):
                self.flush()
            raise
        self.flush()
        return self.requeue

    def flush(self) -> None:
        """Write the Deployment's revision annotation and status if they changed."""
        meta = self.d["metadata"]
        resource_version = meta.get("resourceVersion", "")
        if self.annotations != self.base_annotations:
            updated = deep_copy(self.d)
            updated.pop("status", None)
            if self.annotations:
                updated["metadata"]["annotations"] = dict(self.annotations)
            else:
                updated["metadata"].pop("annotations", None)
            stored = self.api.update(updated, owned=True)
            resource_version = stored["metadata"]["resourceVersion"]
            self.base_annotations = dict(self.annotations)
        if self.status != self.base_status:
            status = deep_copy(self.status)
            self.api.update_status(
                {
                    "apiVersion": self.d.get("apiVersion", "apps/v1"),
                    "kind": self.d.get("kind", "Deployment"),
                    "metadata": {
                        "name": meta["name"],
                        "namespace": self.namespace,
                        "resourceVersion": resource_version,
                    },
                    "status": status,
                },
                owned=True,
            )
            self.base_status = self.status

    def new_rs(self) -> Obj | None:
        if self.new_uid is None:
            return None
        for rs in self.rss:
            if rs["metadata"]["uid"] == self.new_uid:
                return rs
        return None

    def old_rss(self) -> list[Obj]:
        return [rs for rs in self.rss if rs["metadata"]["uid"] != self.new_uid]

    def all_rss(self) -> list[Obj]:
        """Old ReplicaSets then the new one (``append(oldRSs, newRS)``)."""
        new = self.new_rs()
        return self.old_rss() + ([new] if new is not None else [])

    def _replace(self, stored: Obj) -> None:
        uid = stored["metadata"]["uid"]
        for index, rs in enumerate(self.rss):
            if rs["metadata"]["uid"] == uid:
                self.rss[index] = stored
                return
        self.rss.append(stored)

    def _latest(self, rs: Obj) -> Obj:
        uid = rs["metadata"]["uid"]
        for current in self.rss:
            if current["metadata"]["uid"] == uid:
                return current
        return rs

    def _event(self, type_: EventType, reason: str, message: str) -> None:
        self.events.event(self.d, type_, reason, message)

    # -- syncDeployment ------------------------------------------------------------------

    def _run(self) -> None:
        d = self.d
        raw_selector = d["spec"].get("selector")
        if self.selector is None:
            return
        if (
            isinstance(raw_selector, dict)
            and not raw_selector.get("matchLabels")
            and not raw_selector.get("matchExpressions")
        ):
            self._event(
                EventType.WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            generation = d["metadata"].get("generation", 0)
            if int(self.status.get("observedGeneration") or 0) < generation:
                self.status["observedGeneration"] = generation
            return
        self.rss = self._claim_replica_sets()
        self._find_new()
        if d["metadata"].get("deletionTimestamp"):
            self._get_new_rs(create=False)
            self._sync_deployment_status()
            return
        self._check_paused_conditions()
        if d["spec"].get("paused"):
            self._sync()
            return
        if self._is_scaling_event():
            self._sync()
            return
        if _strategy_type(d) == "Recreate":
            self._rollout_recreate()
        else:
            self._rollout_rolling()

    def _claim_replica_sets(self) -> list[Obj]:
        assert self.selector is not None
        uid = self.d["metadata"]["uid"]
        candidates = list(self.api.dependents("replicasets.apps", uid))
        if not self.d["metadata"].get("deletionTimestamp"):
            seen = {rs["metadata"]["uid"] for rs in candidates}
            for rs in orphans(self.api, "replicasets.apps", self.namespace):
                if rs["metadata"]["uid"] not in seen:
                    candidates.append(rs)
        return claim_objects(self.api, "replicasets.apps", self.d, self.selector, candidates)

    def _find_new(self) -> None:
        """``FindNewReplicaSet``: the oldest ReplicaSet whose template equals the Deployment's."""
        template = self.d["spec"].get("template")
        self.new_uid = None
        for rs in sorted(self.rss, key=_created_key):
            if equal_ignore_hash(rs["spec"].get("template"), template):
                self.new_uid = rs["metadata"]["uid"]
                return

    def _check_paused_conditions(self) -> None:
        if _progress_deadline(self.d) is None:
            return
        cond = _condition(self.status.get("conditions") or [], "Progressing")
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused_exists = cond is not None and cond.get("reason") == PAUSED
        paused = bool(self.d["spec"].get("paused"))
        if paused and not paused_exists:
            _set_condition(
                self.status,
                _new_condition("Progressing", "Unknown", PAUSED, "Deployment is paused", self.now_text),
            )
        elif not paused and paused_exists:
            _set_condition(
                self.status,
                _new_condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", self.now_text),
            )

    def _is_scaling_event(self) -> bool:
        self._get_new_rs(create=False)
        for rs in self.all_rss():
            if _replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
            try:
                value = int(desired) if desired is not None else None
            except ValueError:
                value = None
            if value is not None and value != self.replicas:
                return True
        return False

    # -- the new ReplicaSet ------------------------------------------------------------------

    def _set_deployment_revision(self, revision: str) -> None:
        if self.annotations.get(REVISION_ANNOTATION) != revision:
            self.annotations[REVISION_ANNOTATION] = revision

    def _set_new_rs_annotations(
        self, rs_annotations: dict[str, str], new_revision: str, exists: bool
    ) -> bool:
        """``SetNewReplicaSetAnnotations`` on ``rs_annotations`` (mutated); True when changed."""
        changed = False
        for key, value in self.annotations.items():
            if key in SKIPPED_ANNOTATIONS or rs_annotations.get(key) == value:
                continue
            rs_annotations[key] = value
            changed = True
        old_revision = rs_annotations.get(REVISION_ANNOTATION)
        had_revision = old_revision is not None
        if old_revision:
            try:
                old_value = int(old_revision)
            except ValueError:
                return False
        else:
            old_value = 0
        new_value = int(new_revision)
        if old_value < new_value:
            rs_annotations[REVISION_ANNOTATION] = new_revision
            changed = True
        if had_revision and old_value < new_value and old_revision:
            history = rs_annotations.get(REVISION_HISTORY_ANNOTATION, "")
            revisions = history.split(",") if history else []
            if not revisions:
                rs_annotations[REVISION_HISTORY_ANNOTATION] = old_revision
            else:
                total = len(history) + len(old_revision) + 1
                start = 0
                while total > MAX_REVISION_HISTORY_CHARS and start < len(revisions):
                    total -= len(revisions[start]) + 1
                    start += 1
                if total <= MAX_REVISION_HISTORY_CHARS:
                    rs_annotations[REVISION_HISTORY_ANNOTATION] = ",".join([*revisions[start:], old_revision])
        if not exists and self._set_replicas_annotations(rs_annotations):
            changed = True
        return changed

    def _set_replicas_annotations(self, rs_annotations: dict[str, str]) -> bool:
        desired = str(self.replicas)
        maximum = str(self.replicas + max_surge(self.d))
        changed = False
        if rs_annotations.get(DESIRED_REPLICAS_ANNOTATION) != desired:
            rs_annotations[DESIRED_REPLICAS_ANNOTATION] = desired
            changed = True
        if rs_annotations.get(MAX_REPLICAS_ANNOTATION) != maximum:
            rs_annotations[MAX_REPLICAS_ANNOTATION] = maximum
            changed = True
        return changed

    def _get_new_rs(self, create: bool) -> Obj | None:
        """``getNewReplicaSet``: sync the new ReplicaSet's annotations, or create it."""
        d = self.d
        existing = self.new_rs()
        new_revision = str(_max_revision(self.old_rss()) + 1)
        has_deadline = _progress_deadline(d) is not None
        min_ready = int(d["spec"].get("minReadySeconds") or 0)
        if existing is not None:
            annotations = dict(existing["metadata"].get("annotations") or {})
            changed = self._set_new_rs_annotations(annotations, new_revision, exists=True)
            if changed or int(existing["spec"].get("minReadySeconds") or 0) != min_ready:
                updated = deep_copy(existing)
                updated["metadata"]["annotations"] = annotations
                updated["spec"]["minReadySeconds"] = min_ready
                existing = self.api.update(updated, owned=True)
                self._replace(existing)
            self._set_deployment_revision(
                (existing["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "")
            )
            if has_deadline and _condition(self.status.get("conditions") or [], "Progressing") is None:
                _set_condition(
                    self.status,
                    _new_condition(
                        "Progressing",
                        "True",
                        FOUND_NEW_RS,
                        f'Found new replica set "{existing["metadata"]["name"]}"',
                        self.now_text,
                    ),
                )
            return existing
        if not create:
            return None

        template = deep_copy(d["spec"].get("template") or {})
        collision_count = self.status.get("collisionCount")
        pod_hash = compute_hash(d["spec"].get("template") or {}, collision_count)
        tmeta = template.setdefault("metadata", {})
        labels = dict(tmeta.get("labels") or {})
        labels[POD_TEMPLATE_HASH_LABEL] = pod_hash
        tmeta["labels"] = labels
        selector = deep_copy(d["spec"].get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH_LABEL: pod_hash}
        name = f"{d['metadata']['name']}-{pod_hash}"
        new_rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": dict(labels),
                "ownerReferences": [controller_ref(d)],
            },
            "spec": {"replicas": 0, "minReadySeconds": min_ready, "selector": selector, "template": template},
        }
        new_replicas = self._new_rs_new_replicas([*self.old_rss(), new_rs], new_rs)
        new_rs["spec"]["replicas"] = new_replicas
        new_annotations: dict[str, str] = {}
        self._set_new_rs_annotations(new_annotations, new_revision, exists=False)
        new_rs["metadata"]["annotations"] = new_annotations

        already_exists = False
        try:
            created = self.api.create(new_rs, owned=True, validate_schema=False)
        except AlreadyExists:
            found = self.api.cached("replicasets.apps", name, self.namespace)
            if found is None:
                raise
            ref = controller_of(found)
            if (
                ref is not None
                and ref.get("uid") == d["metadata"]["uid"]
                and equal_ignore_hash(d["spec"].get("template"), found["spec"].get("template"))
            ):
                created = found
                already_exists = True
            else:
                # A hash collision: bump collisionCount and try again with another hash.
                self.status["collisionCount"] = int(collision_count or 0) + 1
                self.flush()
                raise
        except NbClusterError as exc:
            if is_namespace_terminating(exc):
                raise
            message = f'Failed to create new replica set "{name}": {exc}'
            if has_deadline:
                _set_condition(
                    self.status,
                    _new_condition("Progressing", "False", FAILED_RS_CREATE, message, self.now_text),
                )
            self._event(EventType.WARNING, FAILED_RS_CREATE, message)
            raise
        if not already_exists and new_replicas > 0:
            self._event(
                EventType.NORMAL,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {new_replicas}",
            )
        self._replace(created)
        self.new_uid = created["metadata"]["uid"]
        self._set_deployment_revision(new_revision)
        if not already_exists and has_deadline:
            _set_condition(
                self.status,
                _new_condition(
                    "Progressing", "True", NEW_RS_CREATED, f'Created new replica set "{name}"', self.now_text
                ),
            )
        return created

    def _new_rs_new_replicas(self, all_rss: list[Obj], new_rs: Obj) -> int:
        """``NewRSNewReplicas``: how far the new ReplicaSet may grow now."""
        strategy = _strategy_type(self.d)
        if strategy == "RollingUpdate":
            surge, _unavailable = _rolling_params(self.d)
            max_total = self.replicas + scaled_value(surge, self.replicas, True)
            current = sum(_replicas(rs) for rs in all_rss)
            if current >= max_total:
                return _replicas(new_rs)
            scale_up = min(max_total - current, self.replicas - _replicas(new_rs))
            return _replicas(new_rs) + scale_up
        if strategy == "Recreate":
            return self.replicas
        raise BadRequest(f"deployment type {strategy} isn't supported")

    # -- scaling ---------------------------------------------------------------------------

    def _scale_and_record(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        """``scaleReplicaSetAndRecordEvent``."""
        rs = self._latest(rs)
        current = _replicas(rs)
        if current == new_scale:
            return False, rs
        return self._scale_replica_set(rs, new_scale, "up" if current < new_scale else "down")

    def _scale_replica_set(self, rs: Obj, new_scale: int, operation: str) -> tuple[bool, Obj]:
        """``scaleReplicaSet``: set replicas and the desired/max annotations; event when resized."""
        rs = self._latest(rs)
        old_scale = _replicas(rs)
        size_changes = old_scale != new_scale
        annotations = dict(rs["metadata"].get("annotations") or {})
        annotations_change = self._set_replicas_annotations(annotations)
        if not size_changes and not annotations_change:
            return False, rs
        updated = deep_copy(rs)
        updated["spec"]["replicas"] = new_scale
        updated["metadata"]["annotations"] = annotations
        stored = self.api.update(updated, owned=True)
        self._replace(stored)
        if size_changes:
            self._event(
                EventType.NORMAL,
                "ScalingReplicaSet",
                f"Scaled {operation} replica set {stored['metadata']['name']} from {old_scale} to {new_scale}",
            )
        return size_changes, stored

    def _find_active_or_latest(self) -> Obj | None:
        new = self.new_rs()
        old = sorted(self.old_rss(), key=_created_key, reverse=True)
        if new is None and not old:
            return None
        active = [rs for rs in [*old, new] if rs is not None and _replicas(rs) > 0]
        if not active:
            return new if new is not None else old[0]
        if len(active) == 1:
            return active[0]
        return None

    def _is_saturated(self, rs: Obj | None) -> bool:
        if rs is None:
            return False
        try:
            desired = int((rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION, ""))
        except ValueError:
            return False
        return (
            _replicas(rs) == self.replicas
            and desired == self.replicas
            and _status_int(rs, "availableReplicas") == self.replicas
        )

    def _scale(self) -> None:
        """``scale``: bring the active ReplicaSets to the new size, proportionally mid-rollout."""
        target = self._find_active_or_latest()
        if target is not None:
            if _replicas(target) != self.replicas:
                self._scale_and_record(target, self.replicas)
            return
        if self._is_saturated(self.new_rs()):
            for old in self.old_rss():
                if _replicas(old) > 0:
                    self._scale_and_record(old, 0)
            return
        if not _is_rolling(self.d):
            return
        active = [rs for rs in self.all_rss() if _replicas(rs) > 0]
        allowed = self.replicas + max_surge(self.d) if self.replicas > 0 else 0
        to_add = allowed - sum(_replicas(rs) for rs in active)
        operation = ""
        if to_add > 0:
            # ReplicaSetsBySizeNewer: larger first; equal sizes newer first.
            active.sort(key=_created_key, reverse=True)
            active.sort(key=lambda rs: -_replicas(rs))
            operation = "up"
        elif to_add < 0:
            # ReplicaSetsBySizeOlder: larger first; equal sizes older first.
            active.sort(key=_created_key)
            active.sort(key=lambda rs: -_replicas(rs))
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in active:
            name = rs["metadata"]["name"]
            if to_add != 0:
                proportion = self._proportion(rs, to_add, added)
                sizes[name] = _replicas(rs) + proportion
                added += proportion
            else:
                sizes[name] = _replicas(rs)
        for index, rs in enumerate(active):
            name = rs["metadata"]["name"]
            if index == 0 and to_add != 0:
                sizes[name] = max(0, sizes[name] + to_add - added)
            self._scale_replica_set(rs, sizes[name], operation)

    def _proportion(self, rs: Obj, to_add: int, added: int) -> int:
        """``GetProportion``: this ReplicaSet's share of the replicas to add (or remove)."""
        if _replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        fraction = self._fraction(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _fraction(self, rs: Obj) -> int:
        """``getReplicaSetFraction``."""
        size = _replicas(rs)
        if self.replicas == 0:
            return -size
        d_max = self.replicas + max_surge(self.d)
        try:
            before = int((rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS_ANNOTATION, ""))
        except ValueError:
            before = 0
        if before == 0:
            before = _status_int(self.d, "replicas")
        if before == 0:
            return 0
        return _go_round(size * d_max / before) - size

    # -- sync / rollouts ------------------------------------------------------------------------

    def _sync(self) -> None:
        """``sync``: scaling and status only (paused, or a scaling event)."""
        self._get_new_rs(create=False)
        self._scale()
        if self.d["spec"].get("paused"):
            self._cleanup()
        self._sync_deployment_status()

    def _rollout_rolling(self) -> None:
        self._get_new_rs(create=True)
        if self._reconcile_new_rs():
            self._sync_rollout_status()
            return
        if self._reconcile_old_rss():
            self._sync_rollout_status()
            return
        if self._complete(self.status):
            self._cleanup()
        self._sync_rollout_status()

    def _reconcile_new_rs(self) -> bool:
        new = self.new_rs()
        if new is None:
            return False
        if _replicas(new) == self.replicas:
            return False
        if _replicas(new) > self.replicas:
            return self._scale_and_record(new, self.replicas)[0]
        count = self._new_rs_new_replicas(self.all_rss(), new)
        return self._scale_and_record(new, count)[0]

    def _reconcile_old_rss(self) -> bool:
        new = self.new_rs()
        old_active = [rs for rs in self.old_rss() if _replicas(rs) > 0]
        if sum(_replicas(rs) for rs in old_active) == 0:
            return False
        all_pods = sum(_replicas(rs) for rs in self.all_rss())
        min_available = self.replicas - max_unavailable(self.d)
        new_unavailable = _replicas(new) - _status_int(new, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = self._cleanup_unhealthy_replicas(old_active, max_scaled_down)
        old_active = [self._latest(rs) for rs in old_active]
        scaled = self._scale_down_old_for_rolling_update(old_active)
        return cleaned + scaled > 0

    def _cleanup_unhealthy_replicas(self, old_rss: list[Obj], max_cleanup: int) -> int:
        total = 0
        for rs in sorted(old_rss, key=_created_key):
            if total >= max_cleanup:
                break
            rs = self._latest(rs)
            replicas = _replicas(rs)
            available = _status_int(rs, "availableReplicas")
            if replicas == 0 or replicas == available:
                continue
            count = min(max_cleanup - total, replicas - available)
            new_count = replicas - count
            if new_count > replicas:
                raise BadRequest(
                    f"when cleaning up unhealthy replicas, got invalid request to scale down "
                    f"{self.namespace}/{rs['metadata']['name']} {replicas} -> {new_count}"
                )
            self._scale_and_record(rs, new_count)
            total += count
        return total

    def _scale_down_old_for_rolling_update(self, old_rss: list[Obj]) -> int:
        min_available = self.replicas - max_unavailable(self.d)
        new = self.new_rs()
        available = sum(_status_int(rs, "availableReplicas") for rs in [*old_rss, new] if rs is not None)
        if available <= min_available:
            return 0
        to_scale_down = available - min_available
        total = 0
        for rs in sorted(old_rss, key=_created_key):
            if total >= to_scale_down:
                break
            rs = self._latest(rs)
            replicas = _replicas(rs)
            if replicas == 0:
                continue
            count = min(replicas, to_scale_down - total)
            self._scale_and_record(rs, replicas - count)
            total += count
        return total

    def _rollout_recreate(self) -> None:
        new = self._get_new_rs(create=False)
        scaled_down = False
        for old in self.old_rss():
            if _replicas(old) > 0 and self._scale_and_record(old, 0)[0]:
                scaled_down = True
        if scaled_down:
            self._sync_rollout_status()
            return
        if self._old_pods_running():
            self._sync_rollout_status()
            return
        if new is None:
            new = self._get_new_rs(create=True)
        if new is not None:
            self._scale_and_record(new, self.replicas)
        if self._complete(self.status):
            self._cleanup()
        self._sync_rollout_status()

    def _old_pods_running(self) -> bool:
        old = self.old_rss()
        if sum(_status_int(rs, "replicas") for rs in old) > 0:
            return True
        for rs in old:
            uid = rs["metadata"]["uid"]
            for pod in self.api.dependents("pods", uid):
                ref = controller_of(pod)
                if ref is None or ref.get("uid") != uid:
                    continue
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    def _cleanup(self) -> None:
        """``cleanupDeployment``: delete the oldest zero-size ReplicaSets beyond revisionHistoryLimit."""
        limit = _revision_history_limit(self.d)
        if limit is None:
            return
        alive = [rs for rs in self.old_rss() if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - limit
        if diff <= 0:
            return
        for rs in sorted(alive, key=_by_revision_key)[:diff]:
            if (
                _status_int(rs, "replicas") != 0
                or _replicas(rs) != 0
                or int(rs["metadata"].get("generation") or 0) > _status_int(rs, "observedGeneration")
                or rs["metadata"].get("deletionTimestamp")
            ):
                continue
            with contextlib.suppress(NotFound):
                self.api.delete("replicasets.apps", rs["metadata"]["name"], namespace=self.namespace)
            self.rss = [r for r in self.rss if r["metadata"]["uid"] != rs["metadata"]["uid"]]

    # -- status -------------------------------------------------------------------------------

    def _complete(self, status: Obj) -> bool:
        """``DeploymentComplete``."""
        return (
            int(status.get("updatedReplicas") or 0) == self.replicas
            and int(status.get("replicas") or 0) == self.replicas
            and int(status.get("availableReplicas") or 0) == self.replicas
            and int(status.get("observedGeneration") or 0) >= int(self.d["metadata"].get("generation") or 0)
        )

    def _calculate_status(self) -> Obj:
        all_rss = self.all_rss()
        new = self.new_rs()
        available = sum(_status_int(rs, "availableReplicas") for rs in all_rss)
        unavailable = max(0, sum(_replicas(rs) for rs in all_rss) - available)
        status: Obj = {}
        values = (
            ("observedGeneration", int(self.d["metadata"].get("generation") or 0)),
            ("replicas", sum(_status_int(rs, "replicas") for rs in all_rss)),
            ("updatedReplicas", _status_int(new, "replicas")),
            ("readyReplicas", sum(_status_int(rs, "readyReplicas") for rs in all_rss)),
            ("availableReplicas", available),
            ("unavailableReplicas", unavailable),
        )
        for field, value in values:
            if value:
                status[field] = value
        conditions = [dict(c) for c in self.status.get("conditions") or ()]
        if conditions:
            status["conditions"] = conditions
        if self.status.get("collisionCount") is not None:
            status["collisionCount"] = self.status["collisionCount"]
        if available >= self.replicas - max_unavailable(self.d):
            _set_condition(
                status,
                _new_condition(
                    "Available", "True", MIN_AVAILABLE, "Deployment has minimum availability.", self.now_text
                ),
            )
        else:
            _set_condition(
                status,
                _new_condition(
                    "Available",
                    "False",
                    MIN_UNAVAILABLE,
                    "Deployment does not have minimum availability.",
                    self.now_text,
                ),
            )
        return status

    def _sync_deployment_status(self) -> None:
        self.status = self._calculate_status()

    def _progressing(self, new_status: Obj) -> bool:
        """``DeploymentProgressing``: any sign of progress since the last status."""
        old = self.status

        def get(status: Obj, field: str) -> int:
            return int(status.get(field) or 0)

        old_old = get(old, "replicas") - get(old, "updatedReplicas")
        new_old = get(new_status, "replicas") - get(new_status, "updatedReplicas")
        return (
            get(new_status, "updatedReplicas") > get(old, "updatedReplicas")
            or new_old < old_old
            or get(new_status, "readyReplicas") > get(old, "readyReplicas")
            or get(new_status, "availableReplicas") > get(old, "availableReplicas")
        )

    def _timed_out(self, new_status: Obj, deadline: int) -> bool:
        """``DeploymentTimedOut``."""
        cond = _condition(new_status.get("conditions") or [], "Progressing")
        if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
            return False
        if cond.get("reason") == TIMED_OUT:
            return True
        since = epoch(cond.get("lastUpdateTime"))
        return since is not None and since + deadline < self.now

    def _sync_rollout_status(self) -> None:
        new_status = self._calculate_status()
        deadline = _progress_deadline(self.d)
        new = self.new_rs()
        d_name = self.d["metadata"]["name"]
        if deadline is None:
            _remove_condition(new_status, "Progressing")
        current = _condition(self.status.get("conditions") or [], "Progressing")
        complete_rollout = (
            int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == NEW_RS_AVAILABLE
        )
        if deadline is not None and not complete_rollout:
            if self._complete(new_status):
                message = (
                    f'ReplicaSet "{new["metadata"]["name"]}" has successfully progressed.'
                    if new is not None
                    else f'Deployment "{d_name}" has successfully progressed.'
                )
                _set_condition(
                    new_status,
                    _new_condition("Progressing", "True", NEW_RS_AVAILABLE, message, self.now_text),
                )
            elif self._progressing(new_status):
                message = (
                    f'ReplicaSet "{new["metadata"]["name"]}" is progressing.'
                    if new is not None
                    else f'Deployment "{d_name}" is progressing.'
                )
                condition = _new_condition("Progressing", "True", REPLICASET_UPDATED, message, self.now_text)
                if current is not None:
                    if current.get("status") == "True":
                        condition["lastTransitionTime"] = current.get("lastTransitionTime")
                    _remove_condition(new_status, "Progressing")
                _set_condition(new_status, condition)
            elif self._timed_out(new_status, deadline):
                message = (
                    f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.'
                    if new is not None
                    else f'Deployment "{d_name}" has timed out progressing.'
                )
                _set_condition(
                    new_status, _new_condition("Progressing", "False", TIMED_OUT, message, self.now_text)
                )
        failures = self._replica_failures(new)
        if failures:
            _set_condition(new_status, failures[0])
        else:
            _remove_condition(new_status, "ReplicaFailure")
        self.status = new_status
        self.requeue = self._requeue_stuck(new_status, deadline)

    def _replica_failures(self, new: Obj | None) -> list[Obj]:
        def converted(rs: Obj) -> list[Obj]:
            out = []
            for cond in (rs.get("status") or {}).get("conditions") or ():
                if cond.get("type") == "ReplicaFailure":
                    out.append(
                        {
                            "type": "ReplicaFailure",
                            "status": cond.get("status"),
                            "lastUpdateTime": cond.get("lastTransitionTime"),
                            "lastTransitionTime": cond.get("lastTransitionTime"),
                            "reason": cond.get("reason"),
                            "message": cond.get("message"),
                        }
                    )
            return out

        if new is not None:
            found = converted(new)
            if found:
                return found
        return [c for rs in self.all_rss() for c in converted(rs)]

    def _requeue_stuck(self, status: Obj, deadline: int | None) -> float | None:
        """``requeueStuckDeployment``: when to check the progress deadline again."""
        cond = _condition(status.get("conditions") or [], "Progressing")
        if deadline is None or cond is None:
            return None
        if self._complete(status) or cond.get("reason") == TIMED_OUT:
            return None
        since = epoch(cond.get("lastUpdateTime"))
        if since is None:
            return None
        after = since + deadline - self.now
        if after < 1:
            return 1.0
        # A second more, so the deadline has surely passed when we look.
        return after + 1.0


# -- rollout history and undo (kubectl's client-side halves) -----------------------------------


def replica_sets_of(api: APIServer, deployment: Obj) -> tuple[Obj | None, list[Obj]]:
    """``deploymentutil.GetAllReplicaSets``: (the new ReplicaSet or None, the old ones).

    Only ReplicaSets the Deployment controls and its selector matches, as kubectl lists them.
    """
    meta = deployment["metadata"]
    uid = meta.get("uid", "")
    try:
        selector = LabelSelector.from_dict(deployment["spec"].get("selector"))
    except BadRequest:
        return None, []
    owned = []
    for rs in api.dependents("replicasets.apps", uid):
        ref = controller_of(rs)
        if ref is not None and ref.get("uid") == uid and selector.matches(rs["metadata"].get("labels")):
            owned.append(rs)
    owned.sort(key=_created_key)
    template = deployment["spec"].get("template")
    new = next((rs for rs in owned if equal_ignore_hash(rs["spec"].get("template"), template)), None)
    old = [rs for rs in owned if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
    return new, old


def revision_history(api: APIServer, deployment: Obj) -> list[tuple[int, Obj, str | None]]:
    """``kubectl rollout history``: (revision, ReplicaSet, change-cause) by revision."""
    new, old = replica_sets_of(api, deployment)
    history: dict[int, tuple[Obj, str | None]] = {}
    for rs in [*old, *([new] if new is not None else [])]:
        revision = _revision(rs)
        if revision is None:
            continue
        cause = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION) or None
        history[revision] = (rs, cause)
    return [(revision, rs, cause) for revision, (rs, cause) in sorted(history.items())]


def find_revision(api: APIServer, deployment: Obj, to_revision: int | None) -> Obj:
    """The ReplicaSet of ``to_revision`` (None or 0: the previous revision), like kubectl."""
    new, old = replica_sets_of(api, deployment)
    all_rss = [*old, *([new] if new is not None else [])]
    wanted = int(to_revision or 0)
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in all_rss:
        revision = _revision(rs)
        if revision is None:
            continue
        if wanted == 0:
            if latest[0] < revision:
                previous = latest
                latest = (revision, rs)
            elif previous[0] < revision:
                previous = (revision, rs)
        elif wanted == revision:
            return rs
    if wanted > 0:
        raise NotFound(f"unable to find specified revision {wanted} in history")
    if previous[1] is None:
        raise NotFound(f'no rollout history found for deployment "{deployment["metadata"]["name"]}"')
    return previous[1]


def rollback_template(api: APIServer, deployment: Obj, to_revision: int | None) -> Obj:
    """``kubectl rollout undo``: the pod template to put back into the Deployment.

    The template of the ReplicaSet of ``to_revision`` (None or 0: the previous one)
    without its ``pod-template-hash`` label. Raises NotFound ``unable to find specified
    revision N in history`` and BadRequest for a paused Deployment, as kubectl does.
    Compare with :func:`equal_ignore_hash` to report kubectl's "skipped rollback".
    """
    if deployment["spec"].get("paused"):
        raise BadRequest(
            "you cannot rollback a paused deployment; resume it first with "
            "'kubectl rollout resume' and try again"
        )
    rs = find_revision(api, deployment, to_revision)
    template = deep_copy(rs["spec"].get("template") or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels and POD_TEMPLATE_HASH_LABEL in labels:
        del labels[POD_TEMPLATE_HASH_LABEL]
    return template


def rollback_annotations(deployment: Obj, rs: Obj) -> dict[str, str]:
    """The Deployment annotations kubectl's undo writes: its own skipped ones + the ReplicaSet's others."""
    current = deployment["metadata"].get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in SKIPPED_ANNOTATIONS}
    for key, value in (rs["metadata"].get("annotations") or {}).items():
        if key not in SKIPPED_ANNOTATIONS:
            annotations[key] = value
    return annotations
