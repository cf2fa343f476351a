"""The Job controller and the TTL-after-finished controller (pkg/controller/job,
pkg/controller/ttlafterfinished). No I/O beyond the API server.

:class:`JobController` runs a Job's pods to completion the way Kubernetes' does:
``completions`` / ``parallelism`` (``active = min(parallelism, remaining)``),
NonIndexed and Indexed completion modes (``JOBNAME-<index>-xxxxx`` pods,
``status.completedIndexes`` as ``"0-2,5"``), ``backoffLimit`` with the exponential
pod-failure backoff (10 s doubling, capped) on the injectable clock,
``backoffLimitPerIndex`` / ``maxFailedIndexes``, ``podFailurePolicy`` (FailJob,
Ignore, Count, FailIndex), ``activeDeadlineSeconds``, ``suspend`` and the terminal
conditions with their interim forms (``SuccessCriteriaMet`` before ``Complete``,
``FailureTarget`` before ``Failed``).

Finalizer tracking (``batch.kubernetes.io/job-tracking`` and
``status.uncountedTerminatedPods``) is skipped on purpose: Kubernetes needs it because
its informers are eventually consistent and pods may vanish before the controller
counts them. Here the cache *is* the store and pod deletions reach our handler
synchronously, so the controller remembers which pods it has counted (a set of uids
per Job) and keeps the final state of pods deleted before it counted them. Likewise
no creation/deletion expectations are needed: our own writes are visible at once.

:class:`TTLAfterFinishedController` deletes finished Jobs whose
``ttlSecondsAfterFinished`` has passed.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from nbcluster.control.controllers.base import Controller, object_key, split_key
from nbcluster.control.controllers.podcontrol import (
    controller_of,
    controller_ref,
    epoch,
    is_pod_ready,
    pod_from_template,
)
from nbcluster.control.events import EventType
from nbcluster.errors import Conflict, Forbidden, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time, parse_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "COMPLETION_INDEX_ENV",
    "COMPLETION_INDEX_KEY",
    "CONTROLLER_UID_LABEL",
    "DEFAULT_POD_FAILURE_BACKOFF",
    "INDEX_FAILURE_COUNT_ANNOTATION",
    "INDEX_IGNORED_FAILURE_COUNT_ANNOTATION",
    "JOB_NAME_LABEL",
    "LEGACY_CONTROLLER_UID_LABEL",
    "LEGACY_JOB_NAME_LABEL",
    "MAX_POD_FAILURE_BACKOFF",
    "JobController",
    "TTLAfterFinishedController",
    "format_indexes",
    "is_job_finished",
    "job_finished_condition",
    "match_pod_failure_policy",
    "parse_indexes",
]

Obj = dict[str, Any]
Intervals = list[tuple[int, int]]

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
#: Annotation and label of an Indexed Job's pod.
COMPLETION_INDEX_KEY = "batch.kubernetes.io/job-completion-index"
#: The variable an Indexed Job's containers find their index in.
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
#: ``spec.managedBy`` value of Jobs this controller reconciles (or none at all).
JOB_CONTROLLER_MANAGER = "kubernetes.io/job-controller"

#: Delay before recreating a failed pod, doubled per failure (job_controller.go).
DEFAULT_POD_FAILURE_BACKOFF = 10.0
#: Cap of that delay: ``MaxJobPodFailureBackOff`` is 10 minutes in the controller
#: (the documentation still says six).
MAX_POD_FAILURE_BACKOFF = 600.0
#: Pod-event syncs are batched this long (``syncJobBatchPeriod``).
SYNC_JOB_BATCH_PERIOD = 1.0
_MAX_INT32 = 2**31 - 1
#: ``names.MaxGeneratedNameLength``: 63 minus the 5-character random suffix.
_MAX_GENERATED_NAME_LENGTH = 58

# Condition types, reasons and messages (batch/v1 types.go, job_controller.go).
COMPLETE, FAILED, FAILURE_TARGET, SUCCESS_CRITERIA_MET, SUSPENDED = (
    "Complete",
    "Failed",
    "FailureTarget",
    "SuccessCriteriaMet",
    "Suspended",
)
_FAILURE_TYPES = (FAILURE_TARGET, FAILED)
_MSG_COMPLETIONS = "Reached expected number of succeeded pods"
_MSG_BACKOFF = "Job has reached the specified backoff limit"
_MSG_DEADLINE = "Job was active longer than specified deadline"
_MSG_MAX_FAILED_INDEXES = "Job has exceeded the specified maximal number of failed indexes"
_MSG_FAILED_INDEXES = "Job has failed indexes"


# -- compressed index lists ("0-2,5") ---------------------------------------------------


def parse_indexes(text: str | None, completions: int) -> Intervals:
    """``parseIndexesFromString``: ``"0-2,5"`` -> [(0, 2), (5, 5)], cut at ``completions``."""
    result: Intervals = []
    if not text:
        return result
    for part in text.split(","):
        bounds = part.split("-")
        try:
            first = int(bounds[0])
            last = int(bounds[1]) if len(bounds) > 1 else first
        except ValueError:
            continue
        if first >= completions:
            break
        last = min(last, completions - 1)
        if result and result[-1][1] == first - 1:
            result[-1] = (result[-1][0], last)
        else:
            result.append((first, last))
    return result


def format_indexes(intervals: Intervals) -> str:
    """The inverse of :func:`parse_indexes`; two neighbours are written ``"3,4"`` as Kubernetes does."""
    parts = []
    for first, last in intervals:
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
    return ",".join(parts)


def _merge(a: Intervals, b: Intervals) -> Intervals:
    result: Intervals = []
    for first, last in sorted(a + b):
        if result and first <= result[-1][1] + 1:
            if last > result[-1][1]:
                result[-1] = (result[-1][0], last)
        else:
            result.append((first, last))
    return result


def _with_indexes(intervals: Intervals, indexes: Iterable[int]) -> Intervals:
    extra = [(ix, ix) for ix in sorted(set(indexes))]
    return _merge(intervals, extra) if extra else list(intervals)


def _has(intervals: Intervals, index: int) -> bool:
    pos = bisect.bisect_right(intervals, (index, _MAX_INT32))
    return pos > 0 and intervals[pos - 1][0] <= index <= intervals[pos - 1][1]


def _total(intervals: Intervals) -> int:
    return sum(last - first + 1 for first, last in intervals)


# -- Job helpers ---------------------------------------------------------------------------


def job_finished_condition(job: Obj) -> Obj | None:
    """The ``Complete`` or ``Failed`` condition with status True, if the Job finished."""
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") in (COMPLETE, FAILED) and cond.get("status") == "True":
            return cond
    return None


def is_job_finished(job: Obj) -> bool:
    return job_finished_condition(job) is not None


@dataclass(frozen=True)
class _Spec:
    """A Job's spec with Kubernetes' defaults applied (SetDefaults_Job), read once."""

    parallelism: int
    completions: int | None
    backoff_limit: int
    indexed: bool
    per_index: int | None
    max_failed_indexes: int | None
    suspend: bool
    deadline: int | None
    policy: Obj | None
    only_replace_failed: bool
    restart_policy: str

    @classmethod
    def of(cls, job: Obj) -> _Spec:
        spec = job.get("spec") or {}
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        if completions is None and parallelism is None:
            completions = parallelism = 1
        per_index = spec.get("backoffLimitPerIndex")
        backoff = spec.get("backoffLimit")
        if backoff is None:
            backoff = _MAX_INT32 if per_index is not None else 6
        policy = spec.get("podFailurePolicy") or None
        replacement = spec.get("podReplacementPolicy") or ("Failed" if policy else "TerminatingOrFailed")
        template_spec = (spec.get("template") or {}).get("spec") or {}
        indexed = spec.get("completionMode") == "Indexed"
        return cls(
            parallelism=int(parallelism if parallelism is not None else 1),
            completions=None if completions is None else int(completions),
            backoff_limit=int(backoff),
            indexed=indexed,
            per_index=int(per_index) if per_index is not None and indexed else None,
            max_failed_indexes=spec.get("maxFailedIndexes"),
            suspend=bool(spec.get("suspend")),
            deadline=spec.get("activeDeadlineSeconds"),
            policy=policy,
            only_replace_failed=replacement == "Failed" or policy is not None,
            restart_policy=template_spec.get("restartPolicy") or "Always",
        )


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def _uid(obj: Obj) -> str:
    return obj["metadata"].get("uid", "")


def _is_terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp")) and _phase(pod) not in ("Succeeded", "Failed")


def _is_pod_failed(pod: Obj, spec: _Spec) -> bool:
    """``isPodFailed``: Failed, or (unless only failed pods are replaced) being deleted."""
    phase = _phase(pod)
    if phase == "Failed":
        return True
    if spec.only_replace_failed:
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"


def _completion_index(pod: Obj) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(COMPLETION_INDEX_KEY)
    if value is None:
        return -1
    try:
        index = int(value)
    except (TypeError, ValueError):
        return -1
    return index if index >= 0 else -1


def _valid_index(pod: Obj, spec: _Spec) -> bool:
    index = _completion_index(pod)
    return index >= 0 and index < (spec.completions or 0)


def _annotation_count(pod: Obj, key: str) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(key)
    try:
        count = int(value) if value is not None else 0
    except ValueError:
        return 0
    return count if 0 <= count <= _MAX_INT32 else 0


def _finish_time(pod: Obj) -> float:
    """``getFinishedTime``: latest container finishedAt, else Ready=False, deletion or creation time."""
    status = pod.get("status") or {}
    latest: float | None = None
    sidecars = {
        c.get("name") for c in pod["spec"].get("initContainers") or () if c.get("restartPolicy") == "Always"
    }
    statuses = list(status.get("containerStatuses") or ())
    statuses += [s for s in status.get("initContainerStatuses") or () if s.get("name") in sidecars]
    for cs in statuses:
        terminated = (cs.get("state") or {}).get("terminated")
        if terminated and terminated.get("finishedAt"):
            moment = epoch(terminated["finishedAt"])
            if moment is not None and (latest is None or moment > latest):
                latest = moment
    if latest is not None:
        return latest
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Ready" and cond.get("status") == "False" and cond.get("lastTransitionTime"):
            return epoch(cond["lastTransitionTime"]) or 0.0
    stamp = pod["metadata"].get("deletionTimestamp") or pod["metadata"].get("creationTimestamp")
    return epoch(stamp) or 0.0


def _restart_count(pod: Obj) -> int:
    status = pod.get("status") or {}
    return sum(
        int(cs.get("restartCount") or 0)
        for cs in list(status.get("initContainerStatuses") or ())
        + list(status.get("containerStatuses") or ())
    )


def _max_restarts(pod: Obj) -> int:
    return max(
        (int(cs.get("restartCount") or 0) for cs in (pod.get("status") or {}).get("containerStatuses") or ()),
        default=0,
    )


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _removal_rank(pod: Obj) -> tuple[Any, ...]:
    """``controller.ActivePods`` order: the first pods are the ones to delete first."""
    ready_since = 0.0
    ready = False
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            ready = True
            ready_since = epoch(cond.get("lastTransitionTime")) or 0.0
    created = epoch(pod["metadata"].get("creationTimestamp"))
    return (
        1 if pod["spec"].get("nodeName") else 0,  # unassigned < assigned
        _PHASE_ORDINAL.get(_phase(pod), 0),  # pending < unknown < running
        1 if ready else 0,  # not ready < ready
        -ready_since if ready else 0.0,  # ready for less time first
        -_max_restarts(pod),  # more restarts first
        -(created if created is not None else float("inf")),  # newer first
    )


# -- pod failure policy ----------------------------------------------------------------------


def _match_exit_codes(pod: Obj, requirement: Obj) -> Obj | None:
    status = pod.get("status") or {}
    name = requirement.get("containerName")
    values = set(requirement.get("values") or ())
    operator = requirement.get("operator")
    for statuses in (status.get("containerStatuses") or (), status.get("initContainerStatuses") or ()):
        for cs in statuses:
            terminated = (cs.get("state") or {}).get("terminated")
            if not terminated or (name and cs.get("name") != name):
                continue
            code = int(terminated.get("exitCode") or 0)
            if code == 0:
                continue
            if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
                return cs
    return None


def _match_pod_conditions(pod: Obj, patterns: Sequence[Obj]) -> Obj | None:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        for pattern in patterns:
            if cond.get("type") == pattern.get("type") and cond.get("status") == (
                pattern.get("status") or "True"
            ):
                return cond
    return None


def match_pod_failure_policy(policy: Obj | None, pod: Obj) -> tuple[str | None, bool, str | None]:
    """``matchPodFailurePolicy``: (FailJob message or None, count the failure?, matched action)."""
    if not policy:
        return None, True, None
    meta = pod["metadata"]
    for index, rule in enumerate(policy.get("rules") or ()):
        action = rule.get("action")
        message: str | None = None
        if rule.get("onExitCodes") is not None:
            cs = _match_exit_codes(pod, rule["onExitCodes"])
            if cs is None:
                continue
            code = cs["state"]["terminated"].get("exitCode")
            message = (
                f"Container {cs.get('name')} for pod {meta.get('namespace')}/{meta['name']} failed with "
                f"exit code {code} matching FailJob rule at index {index}"
            )
        elif rule.get("onPodConditions") is not None:
            cond = _match_pod_conditions(pod, rule["onPodConditions"])
            if cond is None:
                continue
            message = (
                f"Pod {meta.get('namespace')}/{meta['name']} has condition {cond.get('type')} "
                f"matching FailJob rule at index {index}"
            )
        else:
            continue
        if action == "Ignore":
            return None, False, action
        if action in ("FailIndex", "Count"):
            return None, True, action
        if action == "FailJob":
            return message, True, action
    return None, True, None


# -- conditions ---------------------------------------------------------------------------------


def _condition(ctype: str, status: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": ctype,
        "status": status,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _find(conditions: Sequence[Obj], ctype: str) -> Obj | None:
    for cond in conditions:
        if cond.get("type") == ctype:
            return cond
    return None


def _ensure_condition(status: Obj, ctype: str, value: str, reason: str, message: str, now: str) -> bool:
    """``ensureJobConditionStatus``: set or add a condition; never add one that is False."""
    conditions = status.get("conditions") or []
    for i, cond in enumerate(conditions):
        if cond.get("type") == ctype:
            if cond.get("status") != value or cond.get("reason") != reason or cond.get("message") != message:
                conditions[i] = _condition(ctype, value, reason, message, now)
                status["conditions"] = conditions
                return True
            return False
    if value == "False":
        return False
    status["conditions"] = [*conditions, _condition(ctype, value, reason, message, now)]
    return True


def _set_count(status: Obj, name: str, value: int) -> None:
    """int32 fields with ``omitempty``: absent when 0."""
    if value:
        status[name] = value
    else:
        status.pop(name, None)


# -- backoff -------------------------------------------------------------------------------------


def _remaining_backoff(failures: int, last_failure: float | None, now: float) -> float:
    """``getRemainingTimeForFailuresCount``: seconds still to wait before recreating a pod."""
    if failures <= 0 or last_failure is None:
        return 0.0
    delay = DEFAULT_POD_FAILURE_BACKOFF
    for _ in range(1, failures):
        delay *= 2
        if delay >= MAX_POD_FAILURE_BACKOFF:
            delay = MAX_POD_FAILURE_BACKOFF
            break
    elapsed = now - last_failure
    if delay < elapsed:
        return 0.0
    return delay - elapsed


@dataclass
class _Tracking:
    """What the controller remembers about one unfinished Job between syncs."""

    uid: str
    #: Pods whose termination is reflected in the status (or that must never count:
    #: pods this controller deleted itself to scale down or suspend).
    counted: set[str] = field(default_factory=set)
    #: Final state of pods deleted before they were counted.
    gone: dict[str, Obj] = field(default_factory=dict)
    #: The backoff record (``backoffRecord``).
    failures_after_last_success: int = 0
    last_failure_time: float | None = None


@dataclass
class _Ctx:
    """One sync's view of a Job (``syncJobCtx``)."""

    job: Obj
    spec: _Spec
    now: datetime
    pods: list[Obj]
    active_pods: list[Obj]
    succeeded: int = 0
    terminating: int = 0
    ready: int = 0
    succeeded_indexes: Intervals = field(default_factory=list)
    failed_indexes: Intervals | None = None
    delayed: dict[int, Obj] = field(default_factory=dict)
    backoff: tuple[int, float | None] = (0, None)
    requeue: float | None = None
    error: NbClusterError | None = None

    def requeue_after(self, seconds: float) -> None:
        if self.requeue is None or seconds < self.requeue:
            self.requeue = seconds


class JobController(Controller):
    """Runs each Job's pods to completion (pkg/controller/job)."""

    name: ClassVar[str] = "job-controller"
    primary: ClassVar[str] = "jobs.batch"
    #: ``MaxPodCreateDeletePerSync``.
    max_pods_per_sync: ClassVar[int] = 500

    def __init__(self, api: Any, clock: Any, *, record_events: bool = True) -> None:
        super().__init__(api, clock, record_events=record_events)
        self._lock = threading.Lock()
        self._tracking: dict[str, _Tracking] = {}

    # -- wiring ------------------------------------------------------------------------------

    def setup(self) -> None:
        self.on(self.primary, self._job_event)
        self.on("pods", self._pod_event)

    def _job_event(self, event: WatchEvent) -> str | None:
        key = object_key(event.object)
        old = event.old
        if (
            event.type == "MODIFIED"
            and old is not None
            and (old["metadata"].get("generation") == event.object["metadata"].get("generation"))
        ):
            # Status-only changes (our own writes, mostly) are batched like pod events.
            self.queue.add_after(key, SYNC_JOB_BATCH_PERIOD)
            return None
        return key

    def _pod_event(self, event: WatchEvent) -> None:
        pod = event.object
        namespace = pod["metadata"].get("namespace", "")
        ref = controller_of(pod)
        if ref is not None and ref.get("kind") == "Job":
            key = f"{namespace}/{ref['name']}"
            if event.type == "DELETED":
                self._remember_deleted(key, ref.get("uid", ""), pod)
            self.queue.add_after(key, SYNC_JOB_BATCH_PERIOD)
        if event.type == "MODIFIED" and event.old is not None:
            old_ref = controller_of(event.old)
            if (
                old_ref is not None
                and old_ref.get("kind") == "Job"
                and old_ref.get("uid") != (ref or {}).get("uid")
            ):
                self.queue.add_after(f"{namespace}/{old_ref['name']}", SYNC_JOB_BATCH_PERIOD)

    def _remember_deleted(self, key: str, job_uid: str, pod: Obj) -> None:
        """A pod of ``key`` left the store: keep its final state if it was never counted."""
        with self._lock:
            tracking = self._tracking.get(key)
            if tracking is None or tracking.uid != job_uid:
                return
            pod_uid = _uid(pod)
            if pod_uid in tracking.counted:
                tracking.counted.discard(pod_uid)
            else:
                tracking.gone[pod_uid] = pod

    def _forget(self, key: str) -> None:
        with self._lock:
            self._tracking.pop(key, None)

    # -- sync -------------------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        job = self.api.cached(self.primary, name, namespace)
        if job is None:
            self._forget(key)
            return None
        managed_by = (job.get("spec") or {}).get("managedBy")
        if managed_by and managed_by != JOB_CONTROLLER_MANAGER:
            return None
        if is_job_finished(job):
            self._forget(key)
            return None
        mode = (job.get("spec") or {}).get("completionMode") or "NonIndexed"
        if mode not in ("NonIndexed", "Indexed"):
            self.events.event(
                job,
                EventType.WARNING,
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )
            return None

        spec = _Spec.of(job)
        now = self.clock.now()
        now_s = now.timestamp()
        now_text = format_time(now)
        job_uid = _uid(job)
        status0 = job.get("status") or {}
        status = deep_copy(status0)
        pods = [
            p for p in self.api.dependents("pods", job_uid) if (controller_of(p) or {}).get("uid") == job_uid
        ]
        tracking, gone = self._tracking_for(key, job_uid, status0, pods, spec)
        counted = tracking.counted

        # One pass over the pods (a Job may have many): who runs, who is ready, who is
        # terminating, and who finished since the last sync (getNewFinishedPods).
        active_pods: list[Obj] = []
        new_succeeded: list[Obj] = []
        new_failed: list[Obj] = []
        terminating = ready = 0
        for pod in pods:
            phase = (pod.get("status") or {}).get("phase")
            deleting = bool(pod["metadata"].get("deletionTimestamp"))
            if phase == "Succeeded" or phase == "Failed":
                pass
            elif deleting:
                terminating += 1
            else:
                active_pods.append(pod)
                if is_pod_ready(pod):
                    ready += 1
                continue
            if pod["metadata"]["uid"] in counted or (spec.indexed and not _valid_index(pod, spec)):
                continue
            if phase == "Succeeded":
                new_succeeded.append(pod)
            elif phase == "Failed" or not spec.only_replace_failed:  # _is_pod_failed
                new_failed.append(pod)
        ctx = _Ctx(
            job=job,
            spec=spec,
            now=now,
            pods=pods,
            active_pods=active_pods,
            terminating=terminating,
            ready=ready,
        )
        for pod in gone:
            if _uid(pod) in counted or (spec.indexed and not _valid_index(pod, spec)):
                continue
            (new_succeeded if _phase(pod) == "Succeeded" else new_failed).append(pod)
        counted_failed = [p for p in new_failed if match_pod_failure_policy(spec.policy, p)[1]]
        ctx.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded)
        failed = int(status.get("failed") or 0) + len(counted_failed)

        if not status.get("startTime") and not spec.suspend:
            status["startTime"] = now_text
        ctx.backoff = self._new_backoff(tracking, new_succeeded, new_failed)

        # Has the Job reached a terminal state?
        conditions = status.get("conditions") or []
        finished: Obj | None = None
        scm = _find(conditions, SUCCESS_CRITERIA_MET)
        if scm is not None and scm.get("status") == "True":
            finished = dict(scm)
        else:
            target = _find(conditions, FAILURE_TARGET)
            if target is not None and target.get("status") == "True":
                finished = _condition(
                    FAILED, "True", target.get("reason", ""), target.get("message", ""), now_text
                )
            else:
                message = self._fail_job_message(spec, [*pods, *gone])
                if message is not None:
                    finished = _condition(FAILURE_TARGET, "True", "PodFailurePolicy", message, now_text)
        if finished is None:
            if failed > spec.backoff_limit or self._past_backoff_limit_on_failure(spec, pods):
                finished = _condition(FAILURE_TARGET, "True", "BackoffLimitExceeded", _MSG_BACKOFF, now_text)
            elif spec.deadline is not None and not spec.suspend and status.get("startTime"):
                left = spec.deadline - (now_s - parse_time(status["startTime"]).timestamp())
                if left <= 0:
                    finished = _condition(FAILURE_TARGET, "True", "DeadlineExceeded", _MSG_DEADLINE, now_text)
                else:
                    ctx.requeue_after(left)

        if spec.indexed:
            completions = spec.completions or 0
            previous = parse_indexes(status.get("completedIndexes"), completions)
            ctx.succeeded_indexes = _with_indexes(
                previous,
                (
                    _completion_index(p)
                    for p in [*pods, *gone]
                    if _phase(p) == "Succeeded" and _valid_index(p, spec)
                ),
            )
            ctx.succeeded = _total(ctx.succeeded_indexes)
            if spec.per_index is not None:
                ctx.failed_indexes = _with_indexes(
                    parse_indexes(status.get("failedIndexes"), completions),
                    [
                        _completion_index(p)
                        for p in pods
                        if _valid_index(p, spec) and self._index_failed(spec, p, False)
                    ]
                    + [
                        _completion_index(p)
                        for p in gone
                        if _valid_index(p, spec) and self._index_failed(spec, p, True)
                    ],
                )
                failed_count = _total(ctx.failed_indexes)
                if finished is None:
                    if spec.max_failed_indexes is not None and failed_count > spec.max_failed_indexes:
                        finished = _condition(
                            FAILURE_TARGET,
                            "True",
                            "MaxFailedIndexesExceeded",
                            _MSG_MAX_FAILED_INDEXES,
                            now_text,
                        )
                    elif failed_count > 0 and failed_count + ctx.succeeded >= completions:
                        finished = _condition(
                            FAILURE_TARGET, "True", "FailedIndexes", _MSG_FAILED_INDEXES, now_text
                        )
                ctx.delayed = self._delayed_per_index(ctx)

        active = len(active_pods)
        killed: list[Obj] = []
        if finished is not None:
            deleted, deleted_ready, still_there, error = self._delete_pods(job, active_pods, count=True)
            if deleted != active:
                finished = None  # not all active pods could be deleted: look again
            active -= deleted
            ctx.terminating += still_there
            ctx.ready -= deleted_ready
            ctx.error = error
            if finished is not None and finished["type"] in _FAILURE_TYPES:
                # When the Job fails, every pod that did not succeed counts as failed.
                seen = {_uid(p) for p in new_failed} | {_uid(p) for p in new_succeeded}
                for pod in pods:
                    pod_uid = _uid(pod)
                    if pod_uid in counted or pod_uid in seen or _phase(pod) == "Succeeded":
                        continue
                    if spec.indexed and not _valid_index(pod, spec):
                        continue
                    killed.append(pod)
                    if match_pod_failure_policy(spec.policy, pod)[1]:
                        failed += 1
        else:
            manage_called = False
            if not job["metadata"].get("deletionTimestamp"):
                active = self._manage(ctx, tracking)
                manage_called = True
            if spec.completions is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= spec.completions and active == 0
            if complete:
                finished = _condition(
                    SUCCESS_CRITERIA_MET, "True", "CompletionsReached", _MSG_COMPLETIONS, now_text
                )
            elif manage_called:
                if spec.suspend:
                    if _ensure_condition(
                        status, SUSPENDED, "True", "JobSuspended", "Job suspended", now_text
                    ):
                        self.events.event(job, EventType.NORMAL, "Suspended", "Job suspended")
                elif _ensure_condition(status, SUSPENDED, "False", "JobResumed", "Job resumed", now_text):
                    self.events.event(job, EventType.NORMAL, "Resumed", "Job resumed")
                    # activeDeadlineSeconds counts continuous activity: restart the clock.
                    status["startTime"] = now_text

        _set_count(status, "active", active)
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        if spec.indexed:
            _set_count(status, "succeeded", ctx.succeeded)
            text = format_indexes(ctx.succeeded_indexes)
            if text:
                status["completedIndexes"] = text
            else:
                status.pop("completedIndexes", None)
            if ctx.failed_indexes is not None:
                status["failedIndexes"] = format_indexes(ctx.failed_indexes)
        else:
            _set_count(status, "succeeded", ctx.succeeded)
        _set_count(status, "failed", failed)

        # Interim conditions first, the terminal one once no pod is terminating.
        if finished is not None and finished["type"] == FAILURE_TARGET:
            _ensure_condition(
                status, FAILURE_TARGET, "True", finished["reason"], finished["message"], now_text
            )
            finished = _condition(FAILED, "True", finished["reason"], finished["message"], now_text)
        elif finished is not None and finished["type"] == SUCCESS_CRITERIA_MET:
            if _find(status.get("conditions") or [], SUCCESS_CRITERIA_MET) is None:
                _ensure_condition(
                    status, SUCCESS_CRITERIA_MET, "True", finished["reason"], finished["message"], now_text
                )
            finished = _condition(
                COMPLETE, "True", finished.get("reason", ""), finished.get("message", ""), now_text
            )
        job_finished = False
        if finished is not None and ctx.terminating == 0:
            _ensure_condition(
                status, finished["type"], "True", finished["reason"], finished["message"], now_text
            )
            if finished["type"] == COMPLETE:
                status["completionTime"] = now_text
            job_finished = True

        written = job
        if status != status0:
            meta = job["metadata"]
            written = self.api.update_status(
                {
                    "apiVersion": job.get("apiVersion", "batch/v1"),
                    "kind": "Job",
                    "metadata": {
                        "name": meta["name"],
                        "namespace": meta.get("namespace", ""),
                        "resourceVersion": meta.get("resourceVersion"),
                    },
                    "status": status,
                },
                owned=True,
            )
        self._commit(tracking, [*new_succeeded, *new_failed, *killed], gone, ctx.backoff)
        if job_finished and finished is not None:
            self._record_finished(written, finished)
            self._forget(key)
        if ctx.error is not None:
            raise ctx.error
        return ctx.requeue

    # -- counting --------------------------------------------------------------------------------

    def _tracking_for(
        self, key: str, job_uid: str, status: Obj, pods: list[Obj], spec: _Spec
    ) -> tuple[_Tracking, list[Obj]]:
        with self._lock:
            tracking = self._tracking.get(key)
            if tracking is None or tracking.uid != job_uid:
                tracking = _Tracking(job_uid)
                self._seed(tracking, status, pods, spec)
                self._tracking[key] = tracking
            return tracking, list(tracking.gone.values())

    @staticmethod
    def _seed(tracking: _Tracking, status: Obj, pods: list[Obj], spec: _Spec) -> None:
        """First sight of a Job (or a restarted controller): its counters already cover the
        terminated pods they can; the most recently finished rest are new."""
        succeeded = sorted((p for p in pods if _phase(p) == "Succeeded"), key=_finish_time)
        if spec.indexed:
            covered = len(succeeded)  # indexed Jobs count by index, which is idempotent
        else:
            covered = min(len(succeeded), int(status.get("succeeded") or 0))
        tracking.counted.update(_uid(p) for p in succeeded[:covered])
        failed = sorted(
            (p for p in pods if _phase(p) != "Succeeded" and _is_pod_failed(p, spec)), key=_finish_time
        )
        counting = []
        for pod in failed:
            if match_pod_failure_policy(spec.policy, pod)[1]:
                counting.append(pod)
            else:
                tracking.counted.add(_uid(pod))  # ignored failures never count
        covered = min(len(counting), int(status.get("failed") or 0))
        tracking.counted.update(_uid(p) for p in counting[:covered])

    def _commit(
        self, tracking: _Tracking, counted_now: list[Obj], gone: list[Obj], backoff: tuple[int, float | None]
    ) -> None:
        with self._lock:
            for pod in counted_now:
                tracking.counted.add(_uid(pod))
            for pod in gone:
                uid = _uid(pod)
                tracking.gone.pop(uid, None)
                tracking.counted.discard(uid)  # it is gone for good: nothing more to remember
            tracking.failures_after_last_success, tracking.last_failure_time = backoff

    @staticmethod
    def _new_backoff(
        tracking: _Tracking, succeeded: list[Obj], failed: list[Obj]
    ) -> tuple[int, float | None]:
        """``newBackoffRecord``: failures since the last success and when the last one was."""
        failures, last = tracking.failures_after_last_success, tracking.last_failure_time
        failed_at = sorted(_finish_time(p) for p in failed)
        if not succeeded:
            if not failed_at:
                return failures, last
            return failures + len(failed_at), failed_at[-1]
        if not failed_at:
            return 0, None
        last_success = max(_finish_time(p) for p in succeeded)
        failures, last = 0, None
        for moment in reversed(failed_at):
            if not moment > last_success:
                break
            if last is None:
                last = moment
            failures += 1
        return failures, last

    @staticmethod
    def _fail_job_message(spec: _Spec, pods: Iterable[Obj]) -> str | None:
        if not spec.policy:
            return None
        for pod in pods:
            if _is_pod_failed(pod, spec):
                message = match_pod_failure_policy(spec.policy, pod)[0]
                if message is not None:
                    return message
        return None

    @staticmethod
    def _past_backoff_limit_on_failure(spec: _Spec, pods: list[Obj]) -> bool:
        """restartPolicy OnFailure: container restarts of running pods count as failures."""
        if spec.restart_policy != "OnFailure":
            return False
        restarts = sum(_restart_count(p) for p in pods if _phase(p) in ("Running", "Pending"))
        if spec.backoff_limit == 0:
            return restarts > 0
        return restarts >= spec.backoff_limit

    @staticmethod
    def _index_failed(spec: _Spec, pod: Obj, gone: bool) -> bool:
        """``isIndexFailed``: the pod's failure exhausts its index's backoffLimitPerIndex."""
        if not (_is_pod_failed(pod, spec) or (gone and _phase(pod) != "Succeeded")):
            return False
        _, count, action = match_pod_failure_policy(spec.policy, pod)
        if action == "FailIndex":
            return True
        return count and _annotation_count(pod, INDEX_FAILURE_COUNT_ANNOTATION) >= (spec.per_index or 0)

    @staticmethod
    def _delayed_per_index(ctx: _Ctx) -> dict[int, Obj]:
        """``getPodsWithDelayedDeletionPerIndex``: per pending index, its last failed pod."""
        active = {_completion_index(p) for p in ctx.active_pods}
        result: dict[int, Obj] = {}
        for pod in ctx.pods:
            if not _is_pod_failed(pod, ctx.spec) or not _valid_index(pod, ctx.spec):
                continue
            index = _completion_index(pod)
            if _has(ctx.succeeded_indexes, index) or _has(ctx.failed_indexes or [], index) or index in active:
                continue
            last = result.get(index)
            if last is None or (
                _absolute_failures(last) <= _absolute_failures(pod)
                and not _finish_time(pod) < _finish_time(last)
            ):
                result[index] = pod
        return result

    # -- manageJob ----------------------------------------------------------------------------------

    def _manage(self, ctx: _Ctx, tracking: _Tracking) -> int:
        """Create or delete pods toward the wanted number of active ones; returns that number."""
        spec, job = ctx.spec, ctx.job
        active = len(ctx.active_pods)
        if spec.suspend:
            victims = self._pods_for_removal(spec, ctx.active_pods, active)
            deleted, deleted_ready, still_there, error = self._delete_pods(
                job, victims, count=False, tracking=tracking
            )
            ctx.terminating += still_there
            ctx.ready -= deleted_ready
            ctx.error = error
            return active - deleted

        if spec.completions is None:
            want = active if ctx.succeeded > 0 else spec.parallelism
        else:
            want = max(0, min(spec.completions - ctx.succeeded, spec.parallelism))
        victims = self._pods_for_removal(spec, ctx.active_pods, max(0, active - want))
        if len(victims) > self.max_pods_per_sync:
            victims = victims[: self.max_pods_per_sync]
            ctx.requeue_after(0.0)  # the rest right after other keys had their turn
        if victims:
            # Deletion takes precedence: either create or delete in one sync, never both.
            deleted, deleted_ready, still_there, error = self._delete_pods(
                job, victims, count=False, tracking=tracking
            )
            ctx.terminating += still_there
            ctx.ready -= deleted_ready
            ctx.error = error
            return active - deleted

        terminating = ctx.terminating if spec.only_replace_failed else 0
        diff = want - terminating - active
        if diff <= 0:
            return active
        if spec.per_index is None:
            remaining = _remaining_backoff(*ctx.backoff, ctx.now.timestamp())
            if remaining > 0:
                ctx.requeue_after(max(remaining, SYNC_JOB_BATCH_PERIOD))
                return active
        if diff > self.max_pods_per_sync:
            diff = self.max_pods_per_sync
            ctx.requeue_after(0.0)  # the rest right after other keys had their turn
        indexes: list[int] | None = None
        if spec.indexed:
            indexes = self._first_pending_indexes(ctx, diff)
            if spec.per_index is not None:
                indexes, remaining = self._indexes_ready_now(ctx, indexes)
                if remaining > 0:
                    ctx.requeue_after(max(remaining, SYNC_JOB_BATCH_PERIOD))
                    return active
            diff = len(indexes)

        template = (job.get("spec") or {}).get("template") or {}
        ref = controller_ref(job)
        labels = self._job_labels(job)
        for i in range(diff):
            index = indexes[i] if indexes is not None else None
            pod = pod_from_template(template, job, ref)
            meta = pod["metadata"]
            meta["labels"] = {**labels, **(meta.get("labels") or {})}
            if index is not None:
                meta["annotations"] = {**(meta.get("annotations") or {}), COMPLETION_INDEX_KEY: str(index)}
                meta["labels"][COMPLETION_INDEX_KEY] = str(index)
                meta["generateName"] = _generate_name_with_index(job["metadata"]["name"], index)
                pod["spec"]["hostname"] = f"{job['metadata']['name']}-{index}"
                _add_completion_index_env(pod["spec"])
                if spec.per_index is not None:
                    failures, ignored = _new_index_failure_counts(spec, ctx.delayed.get(index))
                    meta["annotations"][INDEX_FAILURE_COUNT_ANNOTATION] = str(failures)
                    if ignored > 0:
                        meta["annotations"][INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
            try:
                created = self.api.create(pod, owned=True, validate_schema=False)
            except Forbidden as exc:
                if "being terminated" in str(exc):
                    break  # the namespace goes away: every creation would fail
                self.events.event(job, EventType.WARNING, "FailedCreate", f"Error creating: {exc}")
                ctx.error = exc
                break
            except NbClusterError as exc:
                # Like slow start: after the first failure, the rest is left for the next sync.
                self.events.event(job, EventType.WARNING, "FailedCreate", f"Error creating: {exc}")
                ctx.error = exc
                break
            self.events.event(
                job, EventType.NORMAL, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
            )
            active += 1
        return active

    @staticmethod
    def _job_labels(job: Obj) -> dict[str, str]:
        """The labels the API server's Job strategy puts on the template (kept if missing there)."""
        name, uid = job["metadata"]["name"], job["metadata"].get("uid", "")
        return {
            CONTROLLER_UID_LABEL: uid,
            JOB_NAME_LABEL: name,
            LEGACY_CONTROLLER_UID_LABEL: uid,
            LEGACY_JOB_NAME_LABEL: name,
        }

    @staticmethod
    def _pods_for_removal(spec: _Spec, pods: list[Obj], at_least: int) -> list[Obj]:
        """``activePodsForRemoval``: duplicated or invalid indexes first, then by ActivePods order."""
        remove: list[Obj] = []
        left: list[Obj] = []
        if spec.indexed:
            by_index: dict[int, list[Obj]] = {}
            for pod in pods:
                index = _completion_index(pod)
                if index < 0 or index >= (spec.completions or 0):
                    remove.append(pod)
                else:
                    by_index.setdefault(index, []).append(pod)
            for index in sorted(by_index):
                group = by_index[index]
                if len(group) > 1:
                    group.sort(key=_removal_rank)
                    remove.extend(group[:-1])
                left.append(group[-1])
        else:
            left = list(pods)
        if len(remove) < at_least:
            left.sort(key=_removal_rank)
            remove.extend(left[: at_least - len(remove)])
        return remove

    @staticmethod
    def _first_pending_indexes(ctx: _Ctx, count: int) -> list[int]:
        """``firstPendingIndexes``: the lowest indexes neither running, succeeded nor failed."""
        completions = ctx.spec.completions or 0
        taken = _with_indexes(
            ctx.succeeded_indexes, (i for i in (_completion_index(p) for p in ctx.active_pods) if i >= 0)
        )
        if ctx.spec.only_replace_failed:
            taken = _with_indexes(
                taken, (i for i in (_completion_index(p) for p in ctx.pods if _is_terminating(p)) if i >= 0)
            )
        if ctx.failed_indexes:
            taken = _merge(taken, ctx.failed_indexes)
        result: list[int] = []
        candidate = 0
        for first, last in taken:
            while candidate < completions and len(result) < count and candidate < first:
                result.append(candidate)
                candidate += 1
            candidate = max(candidate, last + 1)
        while candidate < completions and len(result) < count:
            result.append(candidate)
            candidate += 1
        return result

    @staticmethod
    def _indexes_ready_now(ctx: _Ctx, indexes: list[int]) -> tuple[list[int], float]:
        """Per-index backoff: the indexes whose delay has passed, else the shortest delay left."""
        now = ctx.now.timestamp()
        ready: list[int] = []
        shortest: float | None = None
        for index in indexes:
            last = ctx.delayed.get(index)
            remaining = 0.0
            if last is not None:
                remaining = _remaining_backoff(_absolute_failures(last) + 1, _finish_time(last), now)
            if remaining == 0:
                ready.append(index)
            elif shortest is None or remaining < shortest:
                shortest = remaining
        if ready:
            return ready, 0.0
        return ready, shortest or 0.0

    def _delete_pods(
        self, job: Obj, pods: list[Obj], *, count: bool, tracking: _Tracking | None = None
    ) -> tuple[int, int, int, NbClusterError | None]:
        """Delete ``pods``; returns (deleted, of them ready, of them still terminating, first error).

        ``count=False`` marks them as never to be counted as failures (scale-down,
        suspend), as Kubernetes does by removing the tracking finalizer first.
        """
        deleted = deleted_ready = still_there = 0
        error: NbClusterError | None = None
        for pod in pods:
            meta = pod["metadata"]
            if not count and tracking is not None:
                with self._lock:
                    tracking.counted.add(meta["uid"])
            try:
                after = self.api.delete(
                    "pods", meta["name"], namespace=meta.get("namespace"), preconditions={"uid": meta["uid"]}
                )
            except NotFound:
                after = None
            except NbClusterError as exc:
                if not count and tracking is not None:
                    with self._lock:
                        tracking.counted.discard(meta["uid"])
                self.events.event(job, EventType.WARNING, "FailedDelete", f"Error deleting: {exc}")
                if error is None:
                    error = exc
                continue
            else:
                self.events.event(job, EventType.NORMAL, "SuccessfulDelete", f"Deleted pod: {meta['name']}")
            deleted += 1
            if is_pod_ready(pod):
                deleted_ready += 1
            if after is not None and self.api.cached("pods", meta["name"], meta.get("namespace")) is not None:
                still_there += 1
        return deleted, deleted_ready, still_there, error

    def _record_finished(self, job: Obj, condition: Obj) -> None:
        if condition["type"] == COMPLETE:
            completions = (job.get("spec") or {}).get("completions")
            if completions is not None and int((job.get("status") or {}).get("succeeded") or 0) > completions:
                self.events.event(
                    job,
                    EventType.WARNING,
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.events.event(job, EventType.NORMAL, "Completed", "Job completed")
        else:
            self.events.event(job, EventType.WARNING, condition["reason"], condition["message"])


def _absolute_failures(pod: Obj) -> int:
    return _annotation_count(pod, INDEX_FAILURE_COUNT_ANNOTATION) + _annotation_count(
        pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION
    )


def _new_index_failure_counts(spec: _Spec, replaced: Obj | None) -> tuple[int, int]:
    """``getNewIndexFailureCounts``: the failure counters the replacement pod of an index carries."""
    if replaced is None:
        return 0, 0
    failures = _annotation_count(replaced, INDEX_FAILURE_COUNT_ANNOTATION)
    ignored = _annotation_count(replaced, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)
    if match_pod_failure_policy(spec.policy, replaced)[1]:
        failures += 1
    else:
        ignored += 1
    return failures, ignored


def _add_completion_index_env(pod_spec: Obj) -> None:
    """``addCompletionIndexEnvVariables``: JOB_COMPLETION_INDEX from the index label (downward API)."""
    source = {"fieldRef": {"fieldPath": f"metadata.labels['{COMPLETION_INDEX_KEY}']"}}
    for group in ("initContainers", "containers"):
        for container in pod_spec.get(group) or ():
            env = container.setdefault("env", [])
            if not any(var.get("name") == COMPLETION_INDEX_ENV for var in env):
                env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": deep_copy(source)})


def _generate_name_with_index(job_name: str, index: int) -> str:
    """``podGenerateNameWithIndex``: ``JOB-<index>-``, the job name cut to fit 58 characters."""
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > _MAX_GENERATED_NAME_LENGTH:
        prefix = job_name[: _MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


# -- TTL after finished -------------------------------------------------------------------------------


def _needs_cleanup(job: Obj) -> bool:
    return (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and is_job_finished(job)


class TTLAfterFinishedController(Controller):
    """Deletes Jobs ``ttlSecondsAfterFinished`` after they finished (pkg/controller/ttlafterfinished)."""

    name: ClassVar[str] = "ttl-after-finished-controller"
    primary: ClassVar[str] = "jobs.batch"
    #: Kubernetes' controller deletes with Foreground propagation; ours lets the
    #: garbage collector remove the pods in the background.
    propagation_policy: ClassVar[str] = "Background"

    def setup(self) -> None:
        self.on(self.primary, self._job_event)

    @staticmethod
    def _job_event(event: WatchEvent) -> str | None:
        job = event.object
        if event.type == "DELETED" or job["metadata"].get("deletionTimestamp") or not _needs_cleanup(job):
            return None
        return object_key(job)

    def initial_keys(self) -> list[str]:
        return [object_key(job) for job in self.api.cached_list(self.primary) if _needs_cleanup(job)]

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        job = self.api.cached(self.primary, name, namespace)
        if job is None or job["metadata"].get("deletionTimestamp") or not _needs_cleanup(job):
            return None
        condition = job_finished_condition(job)
        finished_at = (condition or {}).get("lastTransitionTime")
        if not finished_at:
            return None
        ttl = int(job["spec"]["ttlSecondsAfterFinished"])
        expire_at = parse_time(finished_at) + timedelta(seconds=ttl)
        left = (expire_at - self.clock.now()).total_seconds()
        if left > 0:
            return left
        # NotFound: gone already; Conflict: replaced by a new Job of the same name.
        with contextlib.suppress(NotFound, Conflict):
            self.api.delete(
                self.primary,
                name,
                namespace=namespace,
                propagation_policy=self.propagation_policy,
                preconditions={"uid": _uid(job)},
            )
        return None
