"""The ReplicaSet controller (Kubernetes' pkg/controller/replicaset). No I/O beyond the API server.

``sync(key)`` claims the ReplicaSet's pods (its own, found through the owner index,
plus matching orphans in the namespace it adopts; owned pods whose labels stopped
matching are released), creates missing pods from the template in slow-start batches
(1, 2, 4, ...; at most ``burst_replicas`` per sync, as Kubernetes' 500), deletes
surplus pods in the order of ``ActivePodsWithRanks`` (unscheduled, pending, not ready,
cheaper, doubled-up, recently ready, restarting, young pods first), and writes
``status`` (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
observedGeneration, the ReplicaFailure condition) when it changed. Terminating and
finished pods do not count.

Unlike Kubernetes the status counts the pods as they are after this sync's creations
and deletions: our cache is the store itself, so there are no expectations to wait for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from nbcluster.api.selectors import LabelSelector, selector_from_set
from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.base import Controller, object_key, owner_key, split_key
from nbcluster.control.controllers.podcontrol import (
    claim_objects,
    controller_of,
    controller_ref,
    ensure_orphan_index,
    epoch,
    is_pod_active,
    label_matcher,
    orphans,
    pod_from_template,
    pods_to_delete,
    slow_start_batch,
)
from nbcluster.control.events import EventType
from nbcluster.errors import AlreadyExists, BadRequest, Forbidden, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import Clock, format_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["BURST_REPLICAS", "ReplicaSetController", "is_namespace_terminating", "status_only_change"]

Obj = dict[str, Any]

#: Most pods one sync creates or deletes (Kubernetes' ``BurstReplicas``).
BURST_REPLICAS = 500

#: Tries at a pod whose generated name collides (the API server's RetryGenerateName uses 7).
GENERATE_NAME_ATTEMPTS = 8

_FINISHED = ("Succeeded", "Failed")

#: Kubernetes' ``SlowStartInitialBatchSize``.
SLOW_START_INITIAL_BATCH_SIZE = 1


def is_namespace_terminating(exc: BaseException) -> bool:
    """The API server's refusal to create in a terminating namespace (nothing to report)."""
    return isinstance(exc, Forbidden) and "because it is being terminated" in str(exc)


def status_only_change(event: WatchEvent) -> bool:
    """A MODIFIED event that changed nothing but status (e.g. our own status write)."""
    old = event.old
    if event.type != "MODIFIED" or old is None:
        return False
    new_meta, old_meta = event.object["metadata"], old["metadata"]
    if new_meta.get("generation") != old_meta.get("generation"):
        return False
    if len(new_meta) != len(old_meta):
        return False
    for key, value in new_meta.items():
        if key != "resourceVersion" and old_meta.get(key) != value:
            return False
    return event.object.get("spec") is old.get("spec") or event.object.get("spec") == old.get("spec")


class _Matchers:
    """A ReplicaSet's parsed selector and fast matchers (its identity marks cached pod facts)."""

    __slots__ = ("fully", "match", "raw_selector", "selector", "template_labels", "uid")

    def __init__(
        self, uid: str, raw_selector: Any, template_labels: dict[str, str], selector: LabelSelector
    ) -> None:
        self.uid = uid
        self.raw_selector = deep_copy(raw_selector)
        self.template_labels = template_labels
        self.selector = selector
        self.match: Callable[[Any], bool] = label_matcher(selector)
        self.fully: Callable[[Any], bool] = label_matcher(selector_from_set(template_labels))


#: Pod events within this many seconds make one ReplicaSet sync (status recount).
POD_EVENT_BATCH_SECONDS = 0.05


class ReplicaSetController(Controller):
    """Keeps ``spec.replicas`` pods of each ReplicaSet alive."""

    name: ClassVar[str] = "replicaset-controller"
    primary: ClassVar[str] = "replicasets.apps"

    def __init__(
        self,
        api: APIServer,
        clock: Clock,
        *,
        burst_replicas: int = BURST_REPLICAS,
        record_events: bool = True,
    ) -> None:
        super().__init__(api, clock, record_events=record_events)
        self.burst_replicas = burst_replicas
        self._selectors: dict[str, _Matchers] = {}
        #: pod uid -> (pod, matchers, state, fully labeled, ready, ready since): what a
        #: sync reads of a pod, kept while the stored pod object stays the same one.
        self._facts: dict[str, tuple[Obj, _Matchers, int, bool, bool, float | None]] = {}
        ensure_orphan_index(api, "pods")

    # -- event handlers ------------------------------------------------------------

    def setup(self) -> None:
        self.on(self.primary, self._replicaset_event)
        self.on("pods", self._pod_event, batch_seconds=POD_EVENT_BATCH_SECONDS)

    def _replicaset_event(self, event: WatchEvent) -> str | None:
        if event.type == "DELETED":
            self._selectors.pop(event.object["metadata"].get("uid", ""), None)
        elif status_only_change(event):
            return None
        return object_key(event.object)

    def _pod_event(self, event: WatchEvent) -> str | list[str] | None:
        pod = event.object
        key = owner_key(pod, "ReplicaSet")
        old = event.old if event.type == "MODIFIED" else None
        if old is not None:
            # Status writes and bindings keep the metadata's ownerReferences list itself.
            same_refs = old["metadata"].get("ownerReferences") is pod["metadata"].get("ownerReferences")
            old_key = key if same_refs else owner_key(old, "ReplicaSet")
            if old_key != key:
                keys = [k for k in (old_key, key) if k]
                if key is None:
                    keys += self._matching_keys(pod)
                return keys
            if key is not None:
                return key
            if (old["metadata"].get("labels") or {}) == (pod["metadata"].get("labels") or {}):
                return None
            return self._matching_keys(pod)
        if key is not None:
            return key
        if event.type == "DELETED":
            return None
        return self._matching_keys(pod)

    def _matching_keys(self, pod: Obj) -> list[str]:
        """Keys of the ReplicaSets whose selector matches an orphan pod (GetPodReplicaSets)."""
        meta = pod["metadata"]
        labels = meta.get("labels")
        if not labels:
            return []
        keys = []
        for rs in self.api.cached_list(self.primary, meta.get("namespace", "")):
            selector = self._selector(rs)
            if selector is not None and not selector.is_empty and selector.matches(labels):
                keys.append(object_key(rs))
        return keys

    def _selector(self, rs: Obj) -> LabelSelector | None:
        """The parsed ``spec.selector`` (None when it does not parse)."""
        matchers = self._matchers(rs)
        return matchers.selector if matchers is not None else None

    def _matchers(self, rs: Obj) -> _Matchers | None:
        """Selector and template-label matchers of a ReplicaSet, cached while they stay the same."""
        uid = rs["metadata"].get("uid", "")
        spec = rs["spec"]
        raw = spec.get("selector")
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        cached = self._selectors.get(uid)
        if cached is not None and cached.raw_selector == raw and cached.template_labels == template_labels:
            return cached
        try:
            selector = LabelSelector.from_dict(raw)
        except BadRequest:
            return None
        if len(self._selectors) > 50_000:
            self._selectors.clear()
        matchers = _Matchers(uid, raw, dict(template_labels), selector)
        self._selectors[uid] = matchers
        return matchers

    # -- sync ------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        rs = self.api.cached(self.primary, name, namespace)
        if rs is None:
            return None
        matchers = self._matchers(rs)
        if matchers is None:
            return None
        if len(self._facts) > 2 * self.api.store.count("pods") + 1024:
            self._facts.clear()
        pods = self._claim_pods(rs, matchers)
        replicas = int(rs["spec"].get("replicas", 1))
        diff = len(pods) - replicas
        manage_error: NbClusterError | None = None
        if not rs["metadata"].get("deletionTimestamp") and diff != 0:
            pods, manage_error = self._manage_replicas(rs, pods, diff)
        requeue = self._update_status(rs, matchers, pods, manage_error, diff)
        if manage_error is not None:
            raise manage_error
        return requeue

    def _pod_facts(
        self, pod: Obj, matchers: _Matchers
    ) -> tuple[Obj, _Matchers, int, bool, bool, float | None]:
        """What a sync needs to know about one pod (cached per stored pod object).

        ``state`` is 1 for an active pod this ReplicaSet controls and whose labels match
        its selector, 2 for one it controls that no longer matches (to release), 0 else.
        """
        meta = pod["metadata"]
        uid = meta.get("uid", "")
        facts = self._facts.get(uid)
        if facts is not None and facts[0] is pod and facts[1] is matchers:
            return facts
        state = 0
        fully = ready = False
        since: float | None = None
        status = pod.get("status") or {}
        if not meta.get("deletionTimestamp") and status.get("phase") not in _FINISHED:
            ref = None
            for owner in meta.get("ownerReferences") or ():
                if owner.get("controller"):
                    ref = owner
                    break
            if ref is not None and ref.get("uid") == matchers.uid:
                labels = meta.get("labels")
                state = 1 if matchers.match(labels) else 2
                fully = matchers.fully(labels)
                for cond in status.get("conditions") or ():
                    if cond.get("type") == "Ready":
                        if cond.get("status") == "True":
                            ready = True
                            since = epoch(cond.get("lastTransitionTime"))
                        break
        facts = (pod, matchers, state, fully, ready, since)
        self._facts[uid] = facts
        return facts

    def _claim_pods(self, rs: Obj, matchers: _Matchers) -> list[Obj]:
        """Active pods this ReplicaSet controls, after adoption and release.

        One pass over the owned pods (the owner index) plus the namespace's orphans
        (the orphan index): no scan of every pod the selector matches.
        """
        meta = rs["metadata"]
        claimed: list[Obj] = []
        contested: list[Obj] = []
        facts_cache = self._facts
        pod_facts = self._pod_facts
        for pod in self.api.dependents("pods", matchers.uid):
            facts = facts_cache.get(pod["metadata"].get("uid", ""))
            if facts is None or facts[0] is not pod or facts[1] is not matchers:
                facts = pod_facts(pod, matchers)
            state = facts[2]
            if state == 1:
                claimed.append(pod)
            elif state == 2:
                contested.append(pod)
        selector = matchers.selector
        if not meta.get("deletionTimestamp") and not selector.is_empty:
            for pod in orphans(self.api, "pods", meta.get("namespace", "")):
                if is_pod_active(pod) and matchers.match(pod["metadata"].get("labels")):
                    contested.append(pod)
        if contested:
            claimed += claim_objects(self.api, "pods", rs, selector, contested)
        return claimed

    def _manage_replicas(
        self, rs: Obj, pods: list[Obj], diff: int
    ) -> tuple[list[Obj], NbClusterError | None]:
        """Create or delete pods toward ``spec.replicas``; the pods afterwards and the first error."""
        if diff < 0:
            return self._create_pods(rs, pods, min(-diff, self.burst_replicas))
        return self._delete_pods(rs, pods, min(diff, self.burst_replicas))

    def _create_pods(self, rs: Obj, pods: list[Obj], count: int) -> tuple[list[Obj], NbClusterError | None]:
        template = rs["spec"].get("template") or {}
        ref = controller_ref(rs)
        created: list[Obj] = []

        def create_one() -> None:
            try:
                if not (template.get("metadata") or {}).get("labels"):
                    raise BadRequest("unable to create pods, no labels")
                # The API server's generated name may collide with an existing pod;
                # Kubernetes' API server retries that (RetryGenerateName), so do we.
                for attempt in range(GENERATE_NAME_ATTEMPTS):
                    try:
                        # template_spec: the API server defaults and validates the
                        # template's spec once, then only each pod's metadata.
                        stored = self.api.create(
                            pod_from_template(template, rs, ref, copy_spec=False),
                            owned=True,
                            validate_schema=False,
                            template_spec=template.get("spec"),
                        )
                        break
                    except AlreadyExists:
                        if attempt == GENERATE_NAME_ATTEMPTS - 1:
                            raise
            except NbClusterError as exc:
                if is_namespace_terminating(exc):
                    return
                self.events.event(rs, EventType.WARNING, "FailedCreate", f"Error creating: {exc}")
                raise
            created.append(stored)
            self.events.event(
                rs, EventType.NORMAL, "SuccessfulCreate", f"Created pod: {stored['metadata']['name']}"
            )

        _successes, error = slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, create_one)
        return pods + created, error

    def _delete_pods(self, rs: Obj, pods: list[Obj], count: int) -> tuple[list[Obj], NbClusterError | None]:
        related = self._related_pods(rs) if count < len(pods) else ()
        victims = pods_to_delete(pods, count, related, self.clock.now())
        gone: set[str] = set()
        error: NbClusterError | None = None
        for pod in victims:
            meta = pod["metadata"]
            try:
                self.api.delete("pods", meta["name"], namespace=meta.get("namespace"))
            except NotFound:
                gone.add(meta.get("uid", ""))
                continue
            except NbClusterError as exc:
                self.events.event(rs, EventType.WARNING, "FailedDelete", f"Error deleting: {exc}")
                error = error or exc
                continue
            gone.add(meta.get("uid", ""))
            self.events.event(rs, EventType.NORMAL, "SuccessfulDelete", f"Deleted pod: {meta['name']}")
        return [p for p in pods if p["metadata"].get("uid", "") not in gone], error

    def _related_pods(self, rs: Obj) -> list[Obj]:
        """Pods of every ReplicaSet sharing this one's controller (getIndirectlyRelatedPods)."""
        ref = controller_of(rs)
        if ref is None or not ref.get("uid"):
            return []
        related: list[Obj] = []
        seen: set[str] = set()
        for sibling in self.api.dependents(self.primary, ref["uid"]):
            sibling_ref = controller_of(sibling)
            if sibling_ref is None or sibling_ref.get("uid") != ref["uid"]:
                continue
            for pod in self.api.dependents("pods", sibling["metadata"].get("uid", "")):
                uid = pod["metadata"].get("uid", "")
                if uid not in seen:
                    seen.add(uid)
                    related.append(pod)
        return related

    # -- status ----------------------------------------------------------------------

    def _update_status(
        self, rs: Obj, matchers: _Matchers, pods: list[Obj], error: NbClusterError | None, diff: int
    ) -> float | None:
        """Write the new status when it changed; seconds until a ready pod turns available."""
        now_dt = self.clock.now()
        now = now_dt.timestamp()
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        fully_labeled = ready = available = 0
        wait: float | None = None
        facts_cache = self._facts
        pod_facts = self._pod_facts
        for pod in pods:
            facts = facts_cache.get(pod["metadata"].get("uid", ""))
            if facts is None or facts[0] is not pod or facts[1] is not matchers:
                facts = pod_facts(pod, matchers)
            if facts[3]:
                fully_labeled += 1
            if not facts[4]:
                continue
            ready += 1
            if not min_ready:
                available += 1
                continue
            since = facts[5]
            if since is None:
                continue
            if since + min_ready < now:
                available += 1
            else:
                remaining = since + min_ready - now
                wait = remaining if wait is None else min(wait, remaining)

        old = rs.get("status") or {}
        conditions = list(old.get("conditions") or [])
        has_failure = any(c.get("type") == "ReplicaFailure" for c in conditions)
        if error is not None and not has_failure:
            reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
            conditions.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": format_time(now_dt),
                    "reason": reason,
                    "message": str(error),
                }
            )
        elif error is None and has_failure:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]

        status: Obj = {"replicas": len(pods)}
        if fully_labeled:
            status["fullyLabeledReplicas"] = fully_labeled
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        generation = rs["metadata"].get("generation")
        if generation:
            status["observedGeneration"] = generation
        if conditions:
            status["conditions"] = conditions
        if status != old:
            meta = rs["metadata"]
            self.api.update_status(
                {
                    "apiVersion": rs.get("apiVersion", "apps/v1"),
                    "kind": rs.get("kind", "ReplicaSet"),
                    "metadata": {
                        "name": meta["name"],
                        "namespace": meta.get("namespace", ""),
                        "resourceVersion": meta.get("resourceVersion", ""),
                    },
                    "status": status,
                },
                owned=True,
            )
        if wait is None or error is not None:
            return None
        # Strictly later than minReadySeconds (IsPodAvailable compares with Before).
        return wait + 0.01
