"""The DaemonSet controller (Kubernetes' pkg/controller/daemon). No I/O beyond the API server.

One pod per eligible node. A node is eligible (``NodeShouldRunDaemonPod``) when the
template's ``nodeName`` (if any) names it, the template's ``nodeSelector`` and required
node affinity match it, and its NoSchedule / NoExecute taints are tolerated by the
template's tolerations plus the ones the controller adds to every daemon pod
(``node.kubernetes.io/not-ready`` and ``unreachable`` NoExecute without a time limit,
``disk-pressure``, ``memory-pressure``, ``pid-pressure``, ``unschedulable`` NoSchedule,
and ``network-unavailable`` NoSchedule for ``hostNetwork`` pods). A pod already on a
node that now has an untolerated NoSchedule taint keeps running; one that no longer
matches, or meets an untolerated NoExecute taint, is deleted.

Pods are not bound here: each is pinned to its node with required node affinity on
``metadata.name`` (``matchFields``, as Kubernetes does since 1.12) and the ordinary
scheduler binds it. Pods are labelled ``controller-revision-hash: <hash>`` (and
``pod-template-generation`` when the set carries the
``deprecated.daemonset.template.generation`` annotation).

``RollingUpdate`` replaces old pods while at most ``maxUnavailable`` are unavailable,
or, with ``maxSurge``, starts the new pod next to the old one and deletes the old
when the new is available. ``OnDelete`` waits for someone to delete old pods. Failed
daemon pods are deleted (``FailedDaemonPod``) with a per-node backoff and recreated.

The eligibility rules and the plans (which nodes need a pod, which pods go) are pure
functions over the cached objects; :class:`DaemonSetController` does the writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from nbcluster.api.selectors import LabelSelector
from nbcluster.control.controllers.base import Controller, object_key, split_key
from nbcluster.control.controllers.deployment import scaled_value
from nbcluster.control.controllers.hashing import compute_hash
from nbcluster.control.controllers.history import (
    REVISION_HASH_LABEL,
    adopt_revision,
    owned_revisions,
    revision_name,
    template_patch,
    update_revision_number,
)
from nbcluster.control.controllers.podcontrol import (
    claim_objects,
    controller_of,
    controller_ref,
    is_pod_available,
    is_pod_ready,
    label_matcher,
    orphans,
    pod_from_template,
)
from nbcluster.control.events import EventType
from nbcluster.control.scheduling import required_node_affinity, tolerates
from nbcluster.errors import AlreadyExists, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "BURST_REPLICAS",
    "TEMPLATE_GENERATION_ANNOTATION",
    "TEMPLATE_GENERATION_LABEL",
    "DaemonSetController",
    "add_daemon_tolerations",
    "node_should_run",
    "pin_to_node",
    "target_node_name",
]

Obj = dict[str, Any]

RESOURCE = "daemonsets.apps"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
#: The most pods one sync creates or deletes (``burstReplicas`` of kube-controller-manager).
BURST_REPLICAS = 250
#: ``failedPodsBackoff``: 1 s doubling to 15 min per (DaemonSet, node).
_BACKOFF_INITIAL = 1.0
_BACKOFF_MAX = 15 * 60.0

_NO_SCHEDULE = "NoSchedule"
_NO_EXECUTE = "NoExecute"


# -- eligibility (pure) ------------------------------------------------------------------


def _daemon_tolerations(host_network: bool) -> list[Obj]:
    tolerations: list[Obj] = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": _NO_EXECUTE},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": _NO_EXECUTE},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": _NO_SCHEDULE},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": _NO_SCHEDULE},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": _NO_SCHEDULE},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": _NO_SCHEDULE},
    ]
    if host_network:
        tolerations.append(
            {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": _NO_SCHEDULE}
        )
    return tolerations


def _same_toleration(a: Obj, b: Obj) -> bool:
    """``Toleration.MatchToleration``: same key, operator, value and effect."""
    return all((a.get(k) or "") == (b.get(k) or "") for k in ("key", "operator", "value", "effect"))


def add_daemon_tolerations(spec: Obj) -> None:
    """``AddOrUpdateDaemonPodTolerations``: add the DaemonSet tolerations to a pod spec in place."""
    tolerations = list(spec.get("tolerations") or [])
    for wanted in _daemon_tolerations(bool(spec.get("hostNetwork"))):
        for index, existing in enumerate(tolerations):
            if _same_toleration(existing, wanted):
                tolerations[index] = dict(wanted)
                break
        else:
            tolerations.append(dict(wanted))
    spec["tolerations"] = tolerations


def pin_to_node(affinity: Obj | None, node_name: str) -> Obj:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: required node affinity on ``metadata.name``.

    Any required node selector terms are replaced (they matched this node when the
    controller chose it); preferred terms and pod (anti-)affinity are kept.
    """
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    affinity = dict(affinity or {})
    node_affinity = dict(affinity.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    affinity["nodeAffinity"] = node_affinity
    return affinity


def target_node_name(pod: Obj) -> str | None:
    """``GetTargetNodeName``: ``spec.nodeName``, else the node its affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for expression in term.get("matchFields") or ():
            if expression.get("key") == "metadata.name" and expression.get("operator") == "In":
                values = expression.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


@dataclass
class _Eligibility:
    """The parts of a DaemonSet's template that decide where its pods go, parsed once."""

    node_name: str
    affinity: Any
    tolerations: list[Obj]

    @classmethod
    def of(cls, ds: Obj) -> _Eligibility:
        spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        tolerations = {
            "tolerations": list(spec.get("tolerations") or []),
            "hostNetwork": spec.get("hostNetwork"),
        }
        add_daemon_tolerations(tolerations)
        return cls(spec.get("nodeName") or "", required_node_affinity(spec), tolerations["tolerations"])


def node_should_run(node: Obj, ds: Obj | _Eligibility) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (should run a new pod, may keep running an existing one)."""
    rules = ds if isinstance(ds, _Eligibility) else _Eligibility.of(ds)
    meta = node["metadata"]
    name = meta["name"]
    if rules.node_name and rules.node_name != name:
        return False, False
    if rules.affinity is not None and not rules.affinity.matches(meta.get("labels") or {}, name):
        return False, False
    fits = True
    keeps = True
    for taint in (node.get("spec") or {}).get("taints") or ():
        effect = taint.get("effect")
        if effect not in (_NO_SCHEDULE, _NO_EXECUTE) or tolerates(rules.tolerations, taint):
            continue
        fits = False
        if effect == _NO_EXECUTE:
            keeps = False
    if fits:
        return True, True
    return False, keeps


def _pod_order(pod: Obj) -> tuple[int, str, str]:
    """``podByCreationTimestampAndPhase``: scheduled first, then oldest, then by name."""
    return (
        0 if pod["spec"].get("nodeName") else 1,
        pod["metadata"].get("creationTimestamp", ""),
        pod["metadata"]["name"],
    )


def _terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or ""


@dataclass
class _View:
    """One sync's reading of a DaemonSet."""

    ds: Obj
    name: str
    namespace: str
    uid: str
    hash: str
    generation: str | None
    min_ready: int
    now: float
    rules: _Eligibility
    collision_count: int

    def updated(self, pod: Obj) -> bool:
        """``IsPodUpdated``: the pod carries the current hash (or template generation)."""
        labels = pod["metadata"].get("labels") or {}
        if self.hash and labels.get(REVISION_HASH_LABEL) == self.hash:
            return True
        return self.generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == self.generation

    def available(self, pod: Obj) -> bool:
        return is_pod_available(pod, self.min_ready, self.now)


def _find_updated_pods(view: _View, pods: Iterable[Obj]) -> tuple[Obj | None, Obj | None, bool]:
    """``findUpdatedPodsOnNode``: (new pod, old pod, ok) among a node's live pods."""
    new_pod = old_pod = None
    for pod in pods:
        if _terminating(pod):
            continue
        if view.updated(pod):
            if new_pod is not None:
                return None, None, False
            new_pod = pod
        else:
            if old_pod is not None:
                return None, None, False
            old_pod = pod
    return new_pod, old_pod, True


class DaemonSetController(Controller):
    """Reconciles DaemonSets: one pod per eligible node."""

    name: ClassVar[str] = "daemonset-controller"
    primary: ClassVar[str] = RESOURCE

    def __init__(self, api: Any, clock: Any, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self._selectors: dict[str, tuple[Any, LabelSelector]] = {}
        #: (DaemonSet uid, node) -> (delay, last attempt): backoff for deleting failed pods.
        self._backoff: dict[tuple[str, str], tuple[float, float]] = {}

    # -- handlers -------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.on("pods", self._sets_for_pod, batch_seconds=0.05)
        self.on("nodes", self._sets_for_node)

    def _all_keys(self) -> list[str]:
        return [object_key(ds) for ds in self.api.cached_list(RESOURCE)]

    def _sets_for_node(self, event: WatchEvent) -> list[str]:
        if event.type == "MODIFIED" and event.old is not None and not _node_changed(event.old, event.object):
            return []
        return self._all_keys()

    def _sets_for_pod(self, event: WatchEvent) -> list[str]:
        keys: list[str] = []
        for pod in (event.object, event.old):
            if pod is None:
                continue
            namespace = pod["metadata"].get("namespace", "")
            ref = controller_of(pod)
            if ref is not None:
                if ref.get("kind") == "DaemonSet":
                    key = f"{namespace}/{ref.get('name', '')}"
                    if key not in keys:
                        keys.append(key)
            elif pod is event.object and event.type != "DELETED" and not _terminating(pod):
                labels = pod["metadata"].get("labels")
                for ds in self.api.cached_list(RESOURCE, namespace):
                    key = object_key(ds)
                    if key not in keys and self._selector(ds).matches(labels):
                        keys.append(key)
        return keys

    def _selector(self, ds: Obj) -> LabelSelector:
        uid = ds["metadata"]["uid"]
        raw = ds["spec"].get("selector")
        cached = self._selectors.get(uid)
        if cached is not None and cached[0] is raw:
            return cached[1]
        selector = LabelSelector.from_dict(raw)
        self._selectors[uid] = (raw, selector)
        return selector

    # -- sync -----------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        ds = self.api.cached(RESOURCE, name, namespace)
        if ds is None:
            return None
        selector = self._selector(ds)
        if selector.is_empty:
            self.events.event(
                ds,
                EventType.WARNING,
                "SelectingAll",
                "This daemon set is selecting all pods. A non-empty selector is required.",
            )
            return None
        if ds["metadata"].get("deletionTimestamp"):
            # Its revisions may be gone already: Kubernetes leaves the status alone too.
            return None
        nodes = self.api.cached_list("nodes")
        current, old, collision_count = self._construct_history(ds)
        view = self._view(ds, current, collision_count)

        requeue: float | None = None
        error: NbClusterError | None = None
        changed = True
        node_pods: dict[str, list[Obj]] = {}
        try:
            node_pods = self._node_pods(view, selector, adopt=True)
            changed, requeue = self._manage(view, nodes, node_pods)
            strategy = (ds["spec"].get("updateStrategy") or {}).get("type") or "RollingUpdate"
            if not changed and strategy == "RollingUpdate":
                # Like Kubernetes' expectations: roll only once the last changes are seen.
                changed = self._rolling_update(view, nodes, node_pods)
            self._cleanup_history(view, old, selector)
        except NbClusterError as exc:
            error = exc
        if changed or error is not None:
            node_pods = self._node_pods(view, selector, adopt=False)
        status_requeue = self._update_status(view, nodes, node_pods)
        if error is not None:
            raise error
        delays = [d for d in (requeue, status_requeue) if d is not None]
        return min(delays) if delays else None

    def _view(self, ds: Obj, current: Obj, collision_count: int) -> _View:
        meta = ds["metadata"]
        generation = (meta.get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
        return _View(
            ds=ds,
            name=meta["name"],
            namespace=meta.get("namespace", "default"),
            uid=meta["uid"],
            hash=(current["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL, ""),
            generation=str(generation) if generation is not None else None,
            min_ready=int(ds["spec"].get("minReadySeconds") or 0),
            now=self.clock.now().timestamp(),
            rules=_Eligibility.of(ds),
            collision_count=collision_count,
        )

    # -- pods of the set ---------------------------------------------------------

    def _node_pods(
        self, view: _View, selector: LabelSelector, *, adopt: bool, include_deleted_terminal: bool = False
    ) -> dict[str, list[Obj]]:
        """``getNodesToDaemonPods``: the set's pods by the node they are for."""
        owned = self.api.dependents("pods", view.uid)
        if adopt:
            # Candidates: what we own plus the namespace's orphans (an index lookup).
            candidates = {p["metadata"]["uid"]: p for p in owned}
            for pod in orphans(self.api, "pods", view.namespace):
                candidates.setdefault(pod["metadata"]["uid"], pod)
            pods = claim_objects(self.api, "pods", view.ds, selector, candidates.values())
        else:
            matches = label_matcher(selector)
            pods = [
                p
                for p in owned
                if (controller_of(p) or {}).get("uid") == view.uid and matches(p["metadata"].get("labels"))
            ]
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            if not include_deleted_terminal and _terminating(pod) and _phase(pod) in ("Succeeded", "Failed"):
                continue
            node_name = target_node_name(pod)
            if node_name is not None:
                by_node.setdefault(node_name, []).append(pod)
        return by_node

    # -- manage: one pod per eligible node ------------------------------------------

    def _manage(
        self, view: _View, nodes: list[Obj], node_pods: dict[str, list[Obj]]
    ) -> tuple[bool, float | None]:
        """``manage``: create missing daemon pods, delete surplus and failed ones."""
        needing: list[str] = []
        doomed: list[Obj] = []
        requeue: float | None = None
        surge = _surge_allowed(view.ds)
        for node in nodes:
            node_name = node["metadata"]["name"]
            should_run, should_continue = node_should_run(node, view.rules)
            pods = node_pods.get(node_name)
            if should_run and not pods:
                needing.append(node_name)
            elif should_continue and pods:
                running: list[Obj] = []
                for pod in pods:
                    if _terminating(pod):
                        continue
                    phase = _phase(pod)
                    if phase == "Failed":
                        delay = self._failed_pod_backoff(view, node_name)
                        if delay is not None:
                            requeue = delay if requeue is None else min(requeue, delay)
                            continue
                        self.events.event(
                            view.ds,
                            EventType.WARNING,
                            "FailedDaemonPod",
                            f"Found failed daemon pod {view.namespace}/{pod['metadata']['name']} "
                            f"on node {node_name}, will try to kill it",
                        )
                        doomed.append(pod)
                    elif phase == "Succeeded":
                        doomed.append(pod)
                    else:
                        running.append(pod)
                running.sort(key=_pod_order)
                if not surge:
                    doomed.extend(running[1:])
                    continue
                if not running:
                    if should_run:
                        needing.append(node_name)
                    continue
                doomed.extend(self._surge_excess(view, running))
            elif not should_continue and pods:
                doomed.extend(p for p in pods if not _terminating(p))
        known = {node["metadata"]["name"] for node in nodes}
        for node_name, pods in node_pods.items():
            if node_name not in known:
                # Unscheduled pods for nodes that are gone: nobody else will remove them.
                doomed.extend(p for p in pods if not p["spec"].get("nodeName") and not _terminating(p))
        return self._sync_nodes(view, doomed, needing), requeue

    def _surge_excess(self, view: _View, running: list[Obj]) -> list[Obj]:
        """With maxSurge a node keeps at most its oldest new pod and, while that is not
        available and the old one is ready, its oldest old pod."""
        excess: list[Obj] = []
        oldest_new = oldest_old = None
        for pod in running:
            if view.updated(pod):
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            excess.append(pod)
        if (
            oldest_new is not None
            and oldest_old is not None
            and (not is_pod_ready(oldest_old) or view.available(oldest_new))
        ):
            excess.append(oldest_old)
        return excess

    def _failed_pod_backoff(self, view: _View, node_name: str) -> float | None:
        """Seconds left in the backoff for deleting a failed pod there, or None (go ahead)."""
        key = (view.uid, node_name)
        now = self.clock.monotonic()
        entry = self._backoff.get(key)
        if entry is not None:
            delay, last = entry
            if now - last < delay:
                return delay - (now - last)
            delay = _BACKOFF_INITIAL if now - last > 2 * _BACKOFF_MAX else min(delay * 2, _BACKOFF_MAX)
        else:
            delay = _BACKOFF_INITIAL
        self._backoff[key] = (delay, now)
        return None

    def _sync_nodes(self, view: _View, doomed: list[Obj], needing: list[str]) -> bool:
        """``syncNodes``: create pods for ``needing`` nodes, delete ``doomed`` pods (bursts of 250)."""
        error: NbClusterError | None = None
        if needing:
            template = self._pod_template(view)
            for node_name in needing[:BURST_REPLICAS]:
                pod = pod_from_template(template, view.ds, controller_ref(view.ds))
                pod["spec"]["affinity"] = pin_to_node(pod["spec"].get("affinity"), node_name)
                try:
                    created = self.api.create(pod, owned=True, validate_schema=False)
                except NbClusterError as exc:
                    self.events.event(view.ds, EventType.WARNING, "FailedCreate", f"Error creating: {exc}")
                    error = exc
                    break
                self.events.event(
                    view.ds,
                    EventType.NORMAL,
                    "SuccessfulCreate",
                    f"Created pod: {created['metadata']['name']}",
                )
        for pod in doomed[:BURST_REPLICAS]:
            name = pod["metadata"]["name"]
            try:
                self.api.delete(
                    "pods", name, namespace=view.namespace, preconditions={"uid": pod["metadata"]["uid"]}
                )
            except NotFound:
                continue
            except NbClusterError as exc:
                self.events.event(view.ds, EventType.WARNING, "FailedDelete", f"Error deleting: {exc}")
                error = error or exc
                continue
            self.events.event(view.ds, EventType.NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")
        if error is not None:
            raise error
        return bool(needing or doomed)

    def _pod_template(self, view: _View) -> Obj:
        """``CreatePodTemplate``: the template plus daemon tolerations and revision labels."""
        template = view.ds["spec"].get("template") or {}
        meta = dict(template.get("metadata") or {})
        labels = dict(meta.get("labels") or {})
        if view.generation is not None:
            labels[TEMPLATE_GENERATION_LABEL] = view.generation
        if view.hash:
            labels[REVISION_HASH_LABEL] = view.hash
        meta["labels"] = labels
        spec = dict(template.get("spec") or {})
        add_daemon_tolerations(spec)
        return {"metadata": meta, "spec": spec}

    # -- rolling update -------------------------------------------------------------

    def _rolling_update(self, view: _View, nodes: list[Obj], node_pods: dict[str, list[Obj]]) -> bool:
        """``rollingUpdate``: replace old pods within maxUnavailable / maxSurge."""
        by_name = {node["metadata"]["name"]: node for node in nodes}
        node_pods = dict(node_pods)
        desired = 0
        for node in nodes:
            if node_should_run(node, view.rules)[0]:
                desired += 1
                node_pods.setdefault(node["metadata"]["name"], [])
        rolling = (view.ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        max_unavailable = scaled_value(rolling.get("maxUnavailable", 1), desired, True)
        max_surge = scaled_value(rolling.get("maxSurge", 0), desired, True)
        if desired > 0 and max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1
        if max_surge == 0:
            return self._roll_without_surge(view, node_pods, max_unavailable)
        return self._roll_with_surge(view, by_name, node_pods, max_surge, desired)

    def _roll_without_surge(self, view: _View, node_pods: dict[str, list[Obj]], max_unavailable: int) -> bool:
        unavailable = 0
        replacements: list[Obj] = []
        candidates: list[Obj] = []
        for node_name in sorted(node_pods):
            new_pod, old_pod, ok = _find_updated_pods(view, node_pods[node_name])
            if not ok or (new_pod is None) == (old_pod is None):
                # The manage loop creates or trims pods here: count the node as unavailable.
                unavailable += 1
            elif new_pod is not None:
                if not view.available(new_pod):
                    unavailable += 1
            elif old_pod is not None:
                if not view.available(old_pod):
                    replacements.append(old_pod)
                    unavailable += 1
                elif unavailable < max_unavailable:
                    candidates.append(old_pod)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return self._sync_nodes(view, replacements + candidates[:room], [])

    def _roll_with_surge(
        self,
        view: _View,
        nodes: dict[str, Obj],
        node_pods: dict[str, list[Obj]],
        max_surge: int,
        desired: int,
    ) -> bool:
        doomed: list[Obj] = []
        sunset: list[Obj] = []
        candidates: list[str] = []
        allowed: list[str] = []
        surging = 0
        available = 0
        for node_name in sorted(node_pods):
            new_pod, old_pod, ok = _find_updated_pods(view, node_pods[node_name])
            if not ok:
                surging += 1
                continue
            if old_pod is not None:
                available += view.available(old_pod)
            elif new_pod is not None:
                available += view.available(new_pod)
            if old_pod is None:
                continue
            if new_pod is None:
                node = nodes.get(node_name)
                if node is None or not node_should_run(node, view.rules)[0]:
                    sunset.append(old_pod)
                elif not view.available(old_pod):
                    allowed.append(node_name)
                elif surging < max_surge:
                    candidates.append(node_name)
                continue
            if not view.available(new_pod):
                surging += 1
                continue
            doomed.append(old_pod)
        # Pods on nodes that no longer want one go only while enough others are available.
        deletable = min(available - desired, len(sunset))
        if deletable > 0:
            doomed.extend(sunset[:deletable])
        room = max(0, min(max_surge - surging, len(candidates)))
        return self._sync_nodes(view, doomed, allowed + candidates[:room])

    # -- history --------------------------------------------------------------------

    def _construct_history(self, ds: Obj) -> tuple[Obj, list[Obj], int]:
        """``constructHistory``: (current revision, old revisions, collision count)."""
        collision_count = int((ds.get("status") or {}).get("collisionCount") or 0)
        patch = template_patch(ds)
        current: list[Obj] = []
        old: list[Obj] = []
        for revision in owned_revisions(self.api, ds):
            if REVISION_HASH_LABEL not in (revision["metadata"].get("labels") or {}):
                new = deep_copy(revision)
                new["metadata"].setdefault("labels", {})[REVISION_HASH_LABEL] = new["metadata"]["name"]
                revision = self.api.update(new, owned=True)
            (current if revision.get("data") == patch else old).append(revision)
        number = max((int(r.get("revision", 0)) for r in old), default=0) + 1
        if not current:
            revision, collision_count = self._snapshot(ds, patch, number, collision_count)
            return revision, old, collision_count
        keep = self._dedup(ds, current)
        return (
            update_revision_number(self.api, keep, number) if int(keep.get("revision", 0)) < number else keep,
            old,
            collision_count,
        )

    def _snapshot(self, ds: Obj, patch: Obj, number: int, collision_count: int) -> tuple[Obj, int]:
        """``snapshot``: store the template as revision ``<ds>-<hash>``; bump collisionCount on a clash."""
        meta = ds["metadata"]
        template = ds["spec"].get("template") or {}
        while True:
            hash_ = compute_hash(template, collision_count)
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels[REVISION_HASH_LABEL] = hash_
            revision: Obj = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {
                    "name": revision_name(meta["name"], hash_),
                    "namespace": meta.get("namespace", "default"),
                    "labels": labels,
                    "ownerReferences": [controller_ref(ds)],
                },
                "data": deep_copy(patch),
                "revision": number,
            }
            if meta.get("annotations"):
                revision["metadata"]["annotations"] = dict(meta["annotations"])
            try:
                return self.api.create(revision, owned=True, validate_schema=False), collision_count
            except AlreadyExists:
                existing = self.api.cached(
                    "controllerrevisions.apps", revision["metadata"]["name"], meta.get("namespace")
                )
                if existing is None:
                    continue
                if existing.get("data") == patch:
                    return adopt_revision(self.api, ds, existing), collision_count
                collision_count += 1

    def _dedup(self, ds: Obj, current: list[Obj]) -> Obj:
        """``dedupCurHistories``: keep the highest-numbered equal revision, relabel pods, drop the rest."""
        if len(current) == 1:
            return current[0]
        keep = max(current, key=lambda r: int(r.get("revision", 0)))
        keep_hash = (keep["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL)
        namespace = ds["metadata"].get("namespace")
        for revision in current:
            if revision is keep:
                continue
            old_hash = (revision["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL)
            for pod in self.api.dependents("pods", ds["metadata"]["uid"]):
                if (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) == old_hash:
                    new = deep_copy(pod)
                    new["metadata"]["labels"][REVISION_HASH_LABEL] = keep_hash
                    self.api.update(new, owned=True)
            with contextlib.suppress(NotFound):
                self.api.delete("controllerrevisions.apps", revision["metadata"]["name"], namespace=namespace)
        return keep

    def _cleanup_history(self, view: _View, old: list[Obj], selector: LabelSelector) -> None:
        """``cleanupHistory``: keep ``revisionHistoryLimit`` old revisions no live pod uses."""
        limit = view.ds["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        to_kill = len(old) - limit
        if to_kill <= 0:
            return
        live = {
            (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL)
            for pods in self._node_pods(view, selector, adopt=False, include_deleted_terminal=True).values()
            for pod in pods
        }
        for revision in sorted(old, key=lambda r: int(r.get("revision", 0))):
            if to_kill <= 0:
                break
            if (revision["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) in live:
                continue
            with contextlib.suppress(NotFound):
                self.api.delete(
                    "controllerrevisions.apps", revision["metadata"]["name"], namespace=view.namespace
                )
            to_kill -= 1

    # -- status ---------------------------------------------------------------------

    def _update_status(self, view: _View, nodes: list[Obj], node_pods: dict[str, list[Obj]]) -> float | None:
        """``updateDaemonSetStatus``: count per node; write only when something changed."""
        desired = scheduled = misscheduled = ready = updated = available = 0
        for node in nodes:
            pods = node_pods.get(node["metadata"]["name"])
            if node_should_run(node, view.rules)[0]:
                desired += 1
                if not pods:
                    continue
                scheduled += 1
                pod = min(pods, key=_pod_order)
                if is_pod_ready(pod):
                    ready += 1
                    if view.available(pod):
                        available += 1
                if view.updated(pod):
                    updated += 1
            elif pods:
                misscheduled += 1
        ds = view.ds
        old = ds.get("status") or {}
        status: Obj = {
            "currentNumberScheduled": scheduled,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
        }
        generation = ds["metadata"].get("generation")
        if generation:
            status["observedGeneration"] = generation
        for field_name, value in (
            ("updatedNumberScheduled", updated),
            ("numberAvailable", available),
            ("numberUnavailable", desired - available),
        ):
            if value:
                status[field_name] = value
        if view.collision_count or "collisionCount" in old:
            status["collisionCount"] = view.collision_count
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if status != old:
            new = dict(ds)
            new["metadata"] = dict(ds["metadata"])
            new["status"] = status
            self.api.update_status(new, owned=True)
        if view.min_ready > 0 and ready != available:
            return float(view.min_ready)
        return None


# -- helpers ----------------------------------------------------------------------------


def _surge_allowed(ds: Obj) -> bool:
    """``AllowsSurge``: a RollingUpdate whose maxSurge is not zero."""
    strategy = ds["spec"].get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return False
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge")
    return scaled_value(surge, 1, True) != 0


def _node_changed(old: Obj, new: Obj) -> bool:
    """``!shouldIgnoreNodeUpdate``: anything but heartbeats (labels, spec, condition statuses)."""
    if old["metadata"].get("labels") != new["metadata"].get("labels"):
        return True
    if old.get("spec") != new.get("spec"):
        return True

    def conditions(node: Obj) -> list[tuple[Any, Any]]:
        return [(c.get("type"), c.get("status")) for c in (node.get("status") or {}).get("conditions") or ()]

    return conditions(old) != conditions(new)
