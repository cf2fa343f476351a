"""The scheduler's deciding half: which node a Pending pod goes to, and why not. No I/O.

Pure functions over a snapshot of :class:`NodeInfo` objects (one per node, with the
aggregate of the pods already bound there). The scheduler loop that watches the API
server and writes Bindings lives elsewhere; it keeps one ``NodeInfo`` per node up to
date with :meth:`NodeInfo.add_pod` / :meth:`NodeInfo.remove_pod` /
:meth:`NodeInfo.set_node` and calls :func:`schedule` once per pod.

What kube-scheduler does, and what this module does
---------------------------------------------------
Filters run per node in kube-scheduler's default order and stop at the first plugin
that rejects the node (so a node contributes the reason(s) of one plugin only):

1. NodeUnschedulable  ``node(s) were unschedulable`` (``spec.unschedulable`` unless the pod
   tolerates ``node.kubernetes.io/unschedulable:NoSchedule``)
2. NodeName           ``node(s) didn't match the requested node name``
3. TaintToleration    ``node(s) had untolerated taint {key: value}`` (NoSchedule and
   NoExecute; PreferNoSchedule only scores). A node whose Ready condition is not True and
   that carries neither ``node.kubernetes.io/not-ready`` nor ``.../unreachable`` yet is
   treated as carrying the NoSchedule taint the node lifecycle controller would add
   (``not-ready`` for Ready=False or missing, ``unreachable`` for Ready=Unknown); "not
   ready" is not a filter of its own in Kubernetes either.
4. NodeAffinity       ``node(s) didn't match Pod's node affinity/selector``
5. NodePorts          ``node(s) didn't have free ports for the requested pod ports``
6. NodeResourcesFit   ``Too many pods``, ``Insufficient cpu``, ``Insufficient memory``,
   ``Insufficient ephemeral-storage``, ``Insufficient <extended resource>``
7. InterPodAffinity   ``node(s) didn't match pod affinity rules``,
   ``node(s) didn't match pod anti-affinity rules``,
   ``node(s) didn't satisfy existing pods anti-affinity rules`` (required terms only)

The FailedScheduling text is kube-scheduler's ``FitError``:
``0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
2 Insufficient cpu.`` -- one ``"<count> <reason>"`` entry per distinct reason, the entries
sorted as strings (Go's ``sort.Strings``), joined by ", ", closed by ".". With no nodes at
all the text is ``no nodes available to schedule pods``. Not modelled: the
``preemption: ...`` suffix that DefaultPreemption appends (nbcluster has no preemption),
NodeAffinity's PreFilter narrowing for ``matchFields`` (we filter node by node, which yields
the same placement but counts every other node under the affinity reason), volumes,
PodTopologySpread constraints, and the percentage-of-nodes-to-score shortcut (every node is
evaluated, which only makes the choice better).

Scoring (higher wins), with kube-scheduler's default weights:

* NodeResourcesFit/LeastAllocated, weight 1: ``(cpu_score + memory_score) // 2`` with
  ``score = (allocatable - requested) * 100 // allocatable`` over the *non-zero* requests
  (a container that requests no cpu/memory counts as 100m / 200Mi, ``non_zero.go``).
* TaintToleration, weight 3: fewer untolerated PreferNoSchedule taints is better
  (normalised like ``DefaultNormalizeScore(reverse=true)``).
* NodeAffinity, weight 2: sum of the weights of matching preferred terms (normalised).
* Spread tie-break (nbcluster's stand-in for the default PodTopologySpread / selector
  spreading): among nodes with the same best score, prefer the node running the fewest
  pods with the same controller owner (``ownerReferences[controller=true].uid``), then the
  node running the fewest pods, then the smallest node name. kube-scheduler picks randomly
  among equal scores; this keeps the choice deterministic while still placing replicas
  round-robin across equal nodes instead of piling them on the first one.

Cost (measured on the 2-core dev box, CPython 3.11, 1,000 untainted nodes filled up to
100,000 pods by a throwaway bench): a pod with only resource requests costs about 0.3 ms
per :func:`schedule` call (p50 0.25-0.45 ms) while pods come in a few request shapes,
as Deployments produce them, and about 0.75 ms when every pod has a never-seen shape.
The hot loop reads integers precomputed on each ``NodeInfo`` plus a per-node memo of the
score for recent request shapes (dropped whenever that node changes); quantities are
parsed once per pod, never per node, and nothing is deep-copied. Pods with required
(anti-)affinity cost O(pods in the cluster), as in kube-scheduler's PreFilter.

:class:`NodeIndex` (what the scheduler loop uses) gives :func:`schedule`'s node for the
same common case without visiting every node: a heap per request shape and owner, so a
pod costs O(log nodes) -- about 20 us with its ``add_pod`` at 1,000 nodes on the same box,
where the loop over every node cost 0.3-0.4 ms. Requests are memoised per request shape.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbcluster.api.quantities import cpu_millis, memory_bytes
from nbcluster.api.selectors import LabelSelector
from nbcluster.errors import BadRequest

__all__ = [
    "DEFAULT_MAX_PODS",
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "NO_NODES_AVAILABLE",
    "REASON_EXISTING_ANTI_AFFINITY",
    "REASON_NODE_AFFINITY",
    "REASON_NODE_NAME",
    "REASON_NODE_PORTS",
    "REASON_POD_AFFINITY",
    "REASON_POD_ANTI_AFFINITY",
    "REASON_TOO_MANY_PODS",
    "REASON_UNSCHEDULABLE",
    "TAINT_NODE_NOT_READY",
    "TAINT_NODE_UNREACHABLE",
    "TAINT_NODE_UNSCHEDULABLE",
    "NodeIndex",
    "NodeInfo",
    "RequiredNodeAffinity",
    "Resources",
    "ScheduleResult",
    "effective_taints",
    "fit_error_message",
    "no_execute_eviction_delay",
    "pod_requests",
    "required_node_affinity",
    "schedule",
    "tolerates",
    "toleration_tolerates",
    "untolerated_taints",
]

MAX_NODE_SCORE = 100
#: non_zero.go: what a container that requests no cpu / memory counts as when scoring.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
#: Allocatable pods when a node does not say (kubelet's default --max-pods).
DEFAULT_MAX_PODS = 110

TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
LABEL_HOSTNAME = "kubernetes.io/hostname"

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
NO_NODES_AVAILABLE = "no nodes available to schedule pods"

_NO_SCHEDULE = "NoSchedule"
_NO_EXECUTE = "NoExecute"
_PREFER_NO_SCHEDULE = "PreferNoSchedule"
_HARD_EFFECTS = (_NO_SCHEDULE, _NO_EXECUTE)
_BIND_ALL = "0.0.0.0"

_WEIGHT_TAINT = 3
_WEIGHT_NODE_AFFINITY = 2


# ---------------------------------------------------------------------------
# Resources and pod requests
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Resources:
    """A resource vector like the scheduler's ``framework.Resource``.

    ``milli_cpu`` in millicores, ``memory`` and ``ephemeral_storage`` in bytes, ``pods`` a
    count, ``scalar`` extended resources / hugepages (``nvidia.com/gpu``,
    ``hugepages-2Mi``) by name, as integers (``Quantity.Value()``).
    """

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    pods: int = 0
    scalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_list(cls, resource_list: Mapping[str, Any] | None) -> Resources:
        """Parse a ResourceList (``{"cpu": "500m", "memory": "1Gi"}``)."""
        out = cls()
        if resource_list:
            for name, quantity in resource_list.items():
                out._set(name, _resource_value(name, quantity))
        return out

    def copy(self) -> Resources:
        return Resources(self.milli_cpu, self.memory, self.ephemeral_storage, self.pods, dict(self.scalar))

    def get(self, name: str) -> int:
        if name == "cpu":
            return self.milli_cpu
        if name == "memory":
            return self.memory
        if name == "ephemeral-storage":
            return self.ephemeral_storage
        if name == "pods":
            return self.pods
        return self.scalar.get(name, 0)

    def _set(self, name: str, value: int) -> None:
        if name == "cpu":
            self.milli_cpu = value
        elif name == "memory":
            self.memory = value
        elif name == "ephemeral-storage":
            self.ephemeral_storage = value
        elif name == "pods":
            self.pods = value
        elif _is_scalar_resource(name):
            self.scalar[name] = value

    def add(self, other: Resources) -> None:
        """In place: ``self += other``."""
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        self.pods += other.pods
        for name, value in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + value

    def subtract(self, other: Resources) -> None:
        """In place: ``self -= other`` (scalar entries that reach zero are dropped)."""
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory
        self.ephemeral_storage -= other.ephemeral_storage
        self.pods -= other.pods
        for name, value in other.scalar.items():
            left = self.scalar.get(name, 0) - value
            if left:
                self.scalar[name] = left
            else:
                self.scalar.pop(name, None)

    def set_max(self, other: Resources) -> None:
        """In place: every dimension becomes ``max(self, other)``."""
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        self.pods = max(self.pods, other.pods)
        for name, value in other.scalar.items():
            if value > self.scalar.get(name, 0):
                self.scalar[name] = value

    def is_zero(self) -> bool:
        """No cpu, memory, storage or extended resource named (pods do not count)."""
        return not (self.milli_cpu or self.memory or self.ephemeral_storage or self.scalar)


def _is_scalar_resource(name: str) -> bool:
    # schedutil.IsScalarResourceName: extended (domain-prefixed), prefixed native
    # (kubernetes.io/...), hugepages-*, attachable-volumes-*. Other names are ignored.
    if name.startswith("requests."):
        return False
    return "/" in name or name.startswith("hugepages-") or name.startswith("attachable-volumes-")


@functools.lru_cache(maxsize=4096)
def _resource_value(name: str, quantity: str | int | float) -> int:
    """MilliValue() for cpu, Value() (rounded up) for everything else (cached: pods of a
    Deployment repeat the same few quantity strings)."""
    return cpu_millis(quantity) if name == "cpu" else memory_bytes(quantity)


def _container_requests(container: Mapping[str, Any]) -> tuple[Resources, bool, bool]:
    """A container's requests, and whether it names cpu / memory at all."""
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    out = Resources()
    for name, quantity in requests.items():
        out._set(name, _resource_value(name, quantity))
    # SetDefaults_Pod copies a limit into a missing request; applying it here gives the
    # same answer for a pod that was defaulted already and the right one if it was not.
    for name, quantity in limits.items():
        if name not in requests:
            out._set(name, _resource_value(name, quantity))
    return out, ("cpu" in requests or "cpu" in limits), ("memory" in requests or "memory" in limits)


def _with_defaults(parsed: tuple[Resources, bool, bool], non_zero: bool) -> Resources:
    resources, has_cpu, has_memory = parsed
    if not non_zero or (has_cpu and has_memory):
        return resources.copy()
    out = resources.copy()
    if not has_cpu:
        out.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
    if not has_memory:
        out.memory = DEFAULT_MEMORY_REQUEST
    return out


def _aggregate(
    app: list[tuple[Resources, bool, bool]],
    init: list[tuple[tuple[Resources, bool, bool], bool]],
    pod_level: Mapping[str, int],
    overhead: Resources | None,
    non_zero: bool,
) -> Resources:
    total = Resources()
    for parsed in app:
        total.add(_with_defaults(parsed, non_zero))
    sidecars = Resources()
    init_peak = Resources()
    for parsed, restartable in init:
        reqs = _with_defaults(parsed, non_zero)
        if restartable:
            total.add(reqs)
            sidecars.add(reqs)
            init_peak.set_max(sidecars)
        else:
            reqs.add(sidecars)
            init_peak.set_max(reqs)
    total.set_max(init_peak)
    for name, value in pod_level.items():
        total._set(name, value)
    if overhead is not None:
        total.add(overhead)
    total.pods = 1
    return total


#: Request inputs (``repr`` of every field ``_requests_pair`` reads) -> its answer. The pods of
#: one Deployment share a handful of shapes, so 100,000 pods parse a few quantities, not 200,000.
_REQUESTS_MEMO: dict[str, tuple[Resources, Resources]] = {}
_REQUESTS_MEMO_SIZE = 4096


def _requests_pair(pod: Mapping[str, Any]) -> tuple[Resources, Resources]:
    """(requests, non-zero requests) of a pod, memoised on what they are computed from.

    The answer is shared between pods with the same requests: callers must not mutate it
    (:func:`pod_requests` hands out copies).
    """
    spec = pod.get("spec") or {}
    init_containers = spec.get("initContainers") or ()
    # repr() of JSON-shaped data tells apart every value that parses differently
    # ("1" and 1, 1 and 1.0, True and 1): a faithful key that costs a microsecond.
    key = repr(
        (
            [c.get("resources") for c in spec.get("containers") or ()],
            [(c.get("resources"), c.get("restartPolicy")) for c in init_containers]
            if init_containers
            else None,
            spec.get("resources"),
            spec.get("overhead"),
        )
    )
    pair = _REQUESTS_MEMO.get(key)
    if pair is None:
        if len(_REQUESTS_MEMO) >= _REQUESTS_MEMO_SIZE:
            _REQUESTS_MEMO.clear()
        pair = _REQUESTS_MEMO[key] = _compute_requests_pair(spec)
    return pair


def _compute_requests_pair(spec: Mapping[str, Any]) -> tuple[Resources, Resources]:
    app = [_container_requests(c) for c in spec.get("containers") or ()]
    init = [
        (_container_requests(c), c.get("restartPolicy") == "Always") for c in spec.get("initContainers") or ()
    ]
    pod_level = {
        name: _resource_value(name, quantity)
        for name, quantity in ((spec.get("resources") or {}).get("requests") or {}).items()
        if name in ("cpu", "memory") or name.startswith("hugepages-")
    }
    raw_overhead = spec.get("overhead")
    overhead = Resources.from_list(raw_overhead) if raw_overhead else None
    return (
        _aggregate(app, init, pod_level, overhead, non_zero=False),
        _aggregate(app, init, pod_level, overhead, non_zero=True),
    )


def pod_requests(pod: Mapping[str, Any], *, non_zero: bool = False) -> Resources:
    """The pod's effective requests, as kube-scheduler computes them (``PodRequests``).

    ``max(sum(app containers) + sum(sidecars), each init container's peak)`` where an
    init container's peak is its own request plus the sidecars (init containers with
    ``restartPolicy: Always``) declared before it; then pod-level
    ``spec.resources.requests`` (cpu, memory, hugepages) replace the aggregate, then
    ``spec.overhead`` is added. A request missing from a container falls back to its limit
    (API defaulting). ``pods`` is 1. With ``non_zero`` a container that names no cpu /
    memory counts as 100m / 200Mi (what scoring uses; filtering uses the real requests).
    """
    plain, nz = _requests_pair(pod)
    return (nz if non_zero else plain).copy()


# ---------------------------------------------------------------------------
# Taints and tolerations
# ---------------------------------------------------------------------------


def toleration_tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``: effect (empty = all), key (empty = all), operator.

    ``Equal`` (or no operator) compares values; ``Exists`` matches any value; so
    ``{"operator": "Exists"}`` tolerates every taint.
    """
    effect = toleration.get("effect") or ""
    if effect and effect != (taint.get("effect") or ""):
        return False
    key = toleration.get("key") or ""
    if key and key != (taint.get("key") or ""):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return operator == "Exists"


def tolerates(tolerations: Iterable[Mapping[str, Any]] | None, taint: Mapping[str, Any]) -> bool:
    """Whether any of ``tolerations`` tolerates ``taint``."""
    if not tolerations:
        return False
    return any(toleration_tolerates(t, taint) for t in tolerations)


def untolerated_taints(
    pod: Mapping[str, Any],
    node: Mapping[str, Any],
    effects: Iterable[str] = _HARD_EFFECTS,
) -> list[dict[str, Any]]:
    """The node's ``spec.taints`` with one of ``effects`` that the pod does not tolerate.

    Only the taints written on the node count here (not the ones :func:`effective_taints`
    infers from the Ready condition): this is for the node lifecycle controller and the
    kubelet, which act on what the node object says.
    """
    wanted = set(effects)
    tolerations = (pod.get("spec") or {}).get("tolerations")
    return [
        taint
        for taint in ((node.get("spec") or {}).get("taints") or ())
        if taint.get("effect") in wanted and not tolerates(tolerations, taint)
    ]


def no_execute_eviction_delay(pod: Mapping[str, Any], taints: Iterable[Mapping[str, Any]]) -> float | None:
    """When the taint manager evicts ``pod`` from a node with ``taints``, in seconds.

    ``None``: never (no NoExecute taint, or every one tolerated without a time limit).
    ``0``: now (a NoExecute taint is not tolerated, or a toleration's
    ``tolerationSeconds`` is <= 0). Otherwise the smallest ``tolerationSeconds`` among the
    tolerations used -- like ``GetMatchingTolerations`` each NoExecute taint uses the
    *first* toleration (in pod order) that tolerates it.
    """
    no_execute = [t for t in taints if t.get("effect") == _NO_EXECUTE]
    if not no_execute:
        return None
    tolerations = (pod.get("spec") or {}).get("tolerations") or ()
    used: list[Mapping[str, Any]] = []
    for taint in no_execute:
        match = next((t for t in tolerations if toleration_tolerates(t, taint)), None)
        if match is None:
            return 0.0
        used.append(match)
    delay: float | None = None
    for toleration in used:
        seconds = toleration.get("tolerationSeconds")
        if seconds is None:
            continue
        if seconds <= 0:
            return 0.0
        if delay is None or seconds < delay:
            delay = float(seconds)
    return delay


def _ready_status(node: Mapping[str, Any]) -> str | None:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            status = condition.get("status")
            return status if isinstance(status, str) else None
    return None


def effective_taints(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The node's taints as the scheduler sees them.

    ``spec.taints``, plus the NoSchedule taint the node lifecycle controller adds for a
    node whose Ready condition is not True when the node carries neither
    ``node.kubernetes.io/not-ready`` nor ``node.kubernetes.io/unreachable`` yet
    (``unreachable`` for Ready=Unknown, ``not-ready`` for Ready=False or no Ready condition).
    """
    taints = list((node.get("spec") or {}).get("taints") or ())
    ready = _ready_status(node)
    if ready != "True" and not any(
        t.get("key") in (TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE) for t in taints
    ):
        key = TAINT_NODE_UNREACHABLE if ready == "Unknown" else TAINT_NODE_NOT_READY
        taints.append({"key": key, "effect": _NO_SCHEDULE})
    return taints


def _taint_reason(taint: Mapping[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key') or ''}: {taint.get('value') or ''}}}"


# ---------------------------------------------------------------------------
# Node selectors (nodeSelector, nodeAffinity)
# ---------------------------------------------------------------------------

_INT64 = re.compile(r"[+-]?[0-9]+\Z")


class _InvalidTerm(Exception):
    """A node selector term that cannot be parsed; Kubernetes treats it as matching nothing."""


def _compile_requirement(req: Mapping[str, Any], fields: bool) -> tuple[str, str, Any]:
    key = req.get("key") or ""
    op = req.get("operator") or ""
    values = list(req.get("values") or ())
    if fields:
        if key != "metadata.name" or op not in ("In", "NotIn") or not values:
            raise _InvalidTerm(key)
        return key, op, frozenset(values)
    if op in ("In", "NotIn"):
        if not values:
            raise _InvalidTerm(key)
        return key, op, frozenset(values)
    if op in ("Exists", "DoesNotExist"):
        if values:
            raise _InvalidTerm(key)
        return key, op, None
    if op in ("Gt", "Lt"):
        if len(values) != 1 or not _INT64.match(str(values[0])):
            raise _InvalidTerm(key)
        return key, op, int(values[0])
    raise _InvalidTerm(key)


def _requirement_matches(labels: Mapping[str, str], key: str, op: str, arg: Any) -> bool:
    if op == "In":
        value = labels.get(key)
        return value is not None and value in arg
    if op == "NotIn":
        value = labels.get(key)
        return value is None or value not in arg
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    value = labels.get(key)
    if value is None or not _INT64.match(value):
        return False
    return int(value) > arg if op == "Gt" else int(value) < arg


@dataclass(frozen=True, slots=True)
class _NodeSelectorTerm:
    expressions: tuple[tuple[str, str, Any], ...]
    fields: tuple[tuple[str, str, Any], ...]

    @classmethod
    def compile(cls, term: Mapping[str, Any] | None) -> _NodeSelectorTerm | None:
        """None when the term is empty or invalid (it selects no node)."""
        if not term:
            return None
        expressions = term.get("matchExpressions") or ()
        fields = term.get("matchFields") or ()
        if not expressions and not fields:
            return None
        try:
            return cls(
                tuple(_compile_requirement(r, False) for r in expressions),
                tuple(_compile_requirement(r, True) for r in fields),
            )
        except _InvalidTerm:
            return None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for key, op, arg in self.expressions:
            if not _requirement_matches(labels, key, op, arg):
                return False
        if self.fields:
            node_fields = {"metadata.name": name}
            for key, op, arg in self.fields:
                if not _requirement_matches(node_fields, key, op, arg):
                    return False
        return True


@dataclass(frozen=True, slots=True)
class RequiredNodeAffinity:
    """A pod's ``spec.nodeSelector`` AND (any of its required nodeSelectorTerms), compiled
    (``nodeaffinity.RequiredNodeAffinity``). Build it with :func:`required_node_affinity`."""

    node_selector: tuple[tuple[str, str], ...]
    terms: tuple[_NodeSelectorTerm, ...] | None  # None: no required node affinity

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for key, value in self.node_selector:
            if labels.get(key) != value:
                return False
        if self.terms is None:
            return True
        return any(term.matches(labels, name) for term in self.terms)


def _node_affinity(pod_spec: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((pod_spec.get("affinity") or {}).get("nodeAffinity")) or {}


def required_node_affinity(pod_spec: Mapping[str, Any]) -> RequiredNodeAffinity | None:
    """Compile a pod spec's nodeSelector + required node affinity; None when it has neither.

    ``matches(labels, node_name)`` then answers for one node: In / NotIn / Exists /
    DoesNotExist / Gt / Lt expressions and ``matchFields`` on ``metadata.name``; terms are
    ORed, requirements within a term ANDed, an empty or invalid term matches no node.
    """
    selector = pod_spec.get("nodeSelector") or {}
    required = _node_affinity(pod_spec).get("requiredDuringSchedulingIgnoredDuringExecution")
    if not selector and required is None:
        return None
    terms: tuple[_NodeSelectorTerm, ...] | None = None
    if required is not None:
        compiled = (_NodeSelectorTerm.compile(t) for t in required.get("nodeSelectorTerms") or ())
        terms = tuple(t for t in compiled if t is not None)
    return RequiredNodeAffinity(tuple(selector.items()), terms)


def _preferred_node_affinity(pod_spec: Mapping[str, Any]) -> list[tuple[int, _NodeSelectorTerm]]:
    out = []
    for preferred in _node_affinity(pod_spec).get("preferredDuringSchedulingIgnoredDuringExecution") or ():
        weight = int(preferred.get("weight") or 0)
        term = _NodeSelectorTerm.compile(preferred.get("preference"))
        if weight and term is not None:
            out.append((weight, term))
    return out


# ---------------------------------------------------------------------------
# Inter-pod affinity terms
# ---------------------------------------------------------------------------


def _selector(raw: Mapping[str, Any]) -> LabelSelector:
    try:
        return LabelSelector.from_dict(raw)
    except BadRequest:  # validation keeps these out; a broken selector selects nothing
        return LabelSelector.nothing()


@dataclass(frozen=True, slots=True)
class _AffinityTerm:
    """A processed ``PodAffinityTerm`` (``framework.AffinityTerm``)."""

    namespaces: frozenset[str]
    namespace_selector: LabelSelector | None  # None: no selector (selects nothing)
    selector: LabelSelector | None  # None: no labelSelector (matches no pod)
    topology_key: str

    @classmethod
    def compile(cls, term: Mapping[str, Any], owner_namespace: str) -> _AffinityTerm:
        namespaces = frozenset(term.get("namespaces") or ())
        raw_ns_selector = term.get("namespaceSelector")
        if not namespaces and raw_ns_selector is None:
            namespaces = frozenset((owner_namespace,))
        raw_selector = term.get("labelSelector")
        return cls(
            namespaces,
            None if raw_ns_selector is None else _selector(raw_ns_selector),
            None if raw_selector is None else _selector(raw_selector),
            term.get("topologyKey") or "",
        )

    def matches(self, namespace: str, labels: Mapping[str, str], ns_labels: Mapping[str, str]) -> bool:
        if self.selector is None:
            return False
        if namespace not in self.namespaces and not (
            self.namespace_selector is not None and self.namespace_selector.matches(ns_labels)
        ):
            return False
        return self.selector.matches(labels)


def _required_terms(pod: Mapping[str, Any], kind: str) -> tuple[_AffinityTerm, ...]:
    spec = pod.get("spec") or {}
    raw = ((spec.get("affinity") or {}).get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if not raw:
        return ()
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    return tuple(_AffinityTerm.compile(term, namespace) for term in raw)


# ---------------------------------------------------------------------------
# NodeInfo
# ---------------------------------------------------------------------------


def _pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"


def _controller_uid(pod: Mapping[str, Any]) -> str | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid") or f"{ref.get('kind')}/{ref.get('name')}"
    return None


def _host_ports(pod: Mapping[str, Any]) -> tuple[tuple[str, str, int], ...]:
    """(hostIP, protocol, hostPort) of every container port with a hostPort."""
    out = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if host_port > 0:
                out.append((port.get("hostIP") or _BIND_ALL, port.get("protocol") or "TCP", int(host_port)))
    return tuple(out)


@dataclass(slots=True)
class _PodEntry:
    namespace: str
    labels: Mapping[str, str]
    requests: Resources
    non_zero: Resources
    ports: tuple[tuple[str, str, int], ...]
    owner: str | None
    anti_affinity: tuple[_AffinityTerm, ...]


@dataclass(eq=False, repr=False, slots=True)
class NodeInfo:
    """One node and the pods bound to it: the scheduler cache's ``framework.NodeInfo``.

    Mutate only through :meth:`set_node`, :meth:`add_pod` and :meth:`remove_pod`: they
    keep the precomputed numbers the hot path of :func:`schedule` reads consistent. The
    node dict is kept by reference, never copied or changed. Add only pods that hold
    resources (not Succeeded/Failed ones), as the scheduler cache does.
    """

    node: dict[str, Any]
    requested: Resources = field(init=False)
    non_zero_requested: Resources = field(init=False)
    pod_count: int = field(init=False, default=0)
    pods: dict[str, _PodEntry] = field(init=False)
    #: (protocol, hostPort) -> {hostIP: number of pods using it}
    used_ports: dict[tuple[str, int], dict[str, int]] = field(init=False)
    #: controller owner uid -> number of this node's pods it owns
    owner_counts: dict[str, int] = field(init=False)
    # Derived from the node object by set_node():
    name: str = field(init=False)
    labels: dict[str, str] = field(init=False)
    allocatable: Resources = field(init=False)
    taints: list[dict[str, Any]] = field(init=False)
    unschedulable: bool = field(init=False)
    _hard_taints: tuple[dict[str, Any], ...] = field(init=False)
    _hard_key: tuple[tuple[str, str, str], ...] = field(init=False)
    _prefer_taints: tuple[dict[str, Any], ...] = field(init=False)
    _clear: bool = field(init=False)  # not unschedulable and no taint at all
    _anti_affinity_pods: int = field(init=False, default=0)
    # Hot-path integers: allocatable minus requested, and LeastAllocated's
    # ``(allocatable - non-zero requested) * 100`` numerator over its denominator.
    _free_cpu: int = field(init=False, default=0)
    _free_mem: int = field(init=False, default=0)
    _free_pods: int = field(init=False, default=0)
    _cpu_num: int = field(init=False, default=-1)
    _cpu_den: int = field(init=False, default=1)
    _mem_num: int = field(init=False, default=-1)
    _mem_den: int = field(init=False, default=1)
    # _schedule_fast's memo: request shape id -> rank, for the few shapes last found to
    # fit this node; forgotten whenever the node or its pods change.
    _memo: dict[int, int] = field(init=False)
    # Bumped on every change; the NodeIndex holding this node (if any) hears of each change.
    _version: int = field(init=False, default=0)
    _index: NodeIndex | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.requested = Resources()
        self.non_zero_requested = Resources()
        self.pods = {}
        self.used_ports = {}
        self.owner_counts = {}
        self.set_node(self.node)

    def set_node(self, node: dict[str, Any]) -> None:
        """Replace the node object (labels, taints, allocatable changed); pods stay."""
        self.node = node
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        self.name = meta.get("name") or ""
        labels = dict(meta.get("labels") or {})
        # The kubelet always sets the hostname label; a node object written by hand may not.
        labels.setdefault(LABEL_HOSTNAME, self.name)
        self.labels = labels
        raw_allocatable = status.get("allocatable")
        if raw_allocatable is None:  # SetDefaults_NodeStatus: allocatable defaults to capacity
            raw_allocatable = status.get("capacity")
        allocatable = Resources.from_list(raw_allocatable)
        if "pods" not in (raw_allocatable or {}):
            allocatable.pods = DEFAULT_MAX_PODS
        self.allocatable = allocatable
        self.unschedulable = bool(spec.get("unschedulable"))
        self.taints = effective_taints(node)
        self._hard_taints = tuple(t for t in self.taints if t.get("effect") in _HARD_EFFECTS)
        self._hard_key = tuple(
            (t.get("key") or "", t.get("value") or "", t.get("effect") or "") for t in self._hard_taints
        )
        self._prefer_taints = tuple(t for t in self.taints if t.get("effect") == _PREFER_NO_SCHEDULE)
        self._clear = not self.unschedulable and not self.taints
        self._refresh()

    def _refresh(self) -> None:
        self._memo = {}
        self._version += 1
        if self._index is not None:
            self._index._changed(self)
        allocatable = self.allocatable
        self._free_cpu = allocatable.milli_cpu - self.requested.milli_cpu
        self._free_mem = allocatable.memory - self.requested.memory
        self._free_pods = allocatable.pods - self.pod_count
        # leastRequestedScore(requested, capacity) = (capacity - requested) * 100 // capacity,
        # 0 when requested > capacity or capacity == 0 (a negative numerator stands for that).
        cpu = allocatable.milli_cpu
        if cpu > 0:
            self._cpu_num, self._cpu_den = (cpu - self.non_zero_requested.milli_cpu) * MAX_NODE_SCORE, cpu
        else:
            self._cpu_num, self._cpu_den = -1, 1
        memory = allocatable.memory
        if memory > 0:
            self._mem_num, self._mem_den = (memory - self.non_zero_requested.memory) * MAX_NODE_SCORE, memory
        else:
            self._mem_num, self._mem_den = -1, 1

    def least_allocated_score(self, pod_non_zero: Resources) -> int:
        """NodeResourcesFit's LeastAllocated score (0-100) for a pod with these non-zero requests."""
        x = self._cpu_num - pod_non_zero.milli_cpu * MAX_NODE_SCORE
        y = self._mem_num - pod_non_zero.memory * MAX_NODE_SCORE
        return ((x // self._cpu_den if x >= 0 else 0) + (y // self._mem_den if y >= 0 else 0)) // 2

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        """Account a pod bound to this node (adding the same pod again replaces it)."""
        key = _pod_key(pod)
        if key in self.pods:
            self._remove(key)
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        requests, non_zero = _requests_pair(pod)
        entry = _PodEntry(
            namespace=namespace,
            labels=meta.get("labels") or {},
            requests=requests,
            non_zero=non_zero,
            ports=_host_ports(pod),
            owner=_controller_uid(pod),
            anti_affinity=_required_terms(pod, "podAntiAffinity"),
        )
        self.pods[key] = entry
        self.pod_count += 1
        self.requested.add(entry.requests)
        self.requested.pods = self.pod_count
        self.non_zero_requested.add(entry.non_zero)
        self.non_zero_requested.pods = self.pod_count
        for ip, protocol, port in entry.ports:
            ips = self.used_ports.setdefault((protocol, port), {})
            ips[ip] = ips.get(ip, 0) + 1
        if entry.owner is not None:
            self.owner_counts[entry.owner] = self.owner_counts.get(entry.owner, 0) + 1
        if entry.anti_affinity:
            self._anti_affinity_pods += 1
        self._refresh()

    def remove_pod(self, pod: Mapping[str, Any]) -> bool:
        """Forget a pod (matched by namespace/name); False if it was not on this node."""
        key = _pod_key(pod)
        if key not in self.pods:
            return False
        self._remove(key)
        self._refresh()
        return True

    def _remove(self, key: str) -> None:
        entry = self.pods.pop(key)
        self.pod_count -= 1
        self.requested.subtract(entry.requests)
        self.requested.pods = self.pod_count
        self.non_zero_requested.subtract(entry.non_zero)
        self.non_zero_requested.pods = self.pod_count
        for ip, protocol, port in entry.ports:
            ips = self.used_ports.get((protocol, port))
            if ips is not None and ip in ips:
                ips[ip] -= 1
                if ips[ip] <= 0:
                    del ips[ip]
                if not ips:
                    del self.used_ports[(protocol, port)]
        if entry.owner is not None:
            left = self.owner_counts.get(entry.owner, 0) - 1
            if left > 0:
                self.owner_counts[entry.owner] = left
            else:
                self.owner_counts.pop(entry.owner, None)
        if entry.anti_affinity:
            self._anti_affinity_pods -= 1

    def __repr__(self) -> str:
        return (
            f"NodeInfo(name={self.name!r}, pods={self.pod_count}, "
            f"cpu={self.requested.milli_cpu}m/{self.allocatable.milli_cpu}m, "
            f"memory={self.requested.memory}/{self.allocatable.memory})"
        )

    def has_pod(self, pod: Mapping[str, Any]) -> bool:
        return _pod_key(pod) in self.pods

    def port_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """``HostPortInfo.CheckConflict``: 0.0.0.0 clashes with every address."""
        ips = self.used_ports.get((protocol, port))
        if not ips:
            return False
        return ip == _BIND_ALL or _BIND_ALL in ips or ip in ips


# ---------------------------------------------------------------------------
# schedule()
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleResult:
    """The outcome of one scheduling attempt.

    ``node_name`` is None when no node fits; then ``message`` is the FailedScheduling
    event text and ``reasons`` counts, per reason, the nodes that gave it.
    """

    node_name: str | None
    message: str = ""
    reasons: Mapping[str, int] = field(default_factory=dict)

    @property
    def scheduled(self) -> bool:
        return self.node_name is not None


def fit_error_message(num_nodes: int, reasons: Mapping[str, int]) -> str:
    """kube-scheduler's ``FitError.Error()``: ``0/N nodes are available: <sorted histogram>.``"""
    if num_nodes == 0:
        return NO_NODES_AVAILABLE
    histogram = sorted(f"{count} {reason}" for reason, count in reasons.items())
    message = f"0/{num_nodes} nodes are available:"
    if histogram:
        message += f" {', '.join(histogram)}."
    return message


class _InterPodState:
    """InterPodAffinity's PreFilter state: topology pair counts over the whole snapshot."""

    __slots__ = ("affinity", "affinity_counts", "anti_affinity", "anti_counts", "existing_anti", "self_match")

    def __init__(
        self,
        pod: Mapping[str, Any],
        nodes: Sequence[NodeInfo],
        namespace_labels: Mapping[str, Mapping[str, str]] | None,
        anti_nodes: Iterable[NodeInfo] | None = None,
    ) -> None:
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        labels = meta.get("labels") or {}
        ns_labels_of = namespace_labels or {}
        own_ns_labels = ns_labels_of.get(namespace) or {}
        self.affinity = _required_terms(pod, "podAffinity")
        self.anti_affinity = _required_terms(pod, "podAntiAffinity")
        self.existing_anti: dict[tuple[str, str], int] = {}
        self.affinity_counts: dict[tuple[str, str], int] = {}
        self.anti_counts: dict[tuple[str, str], int] = {}
        # Existing pods whose required anti-affinity selects the incoming pod.
        if anti_nodes is None:
            anti_nodes = [n for n in nodes if n._anti_affinity_pods]
        for ni in anti_nodes:
            for entry in ni.pods.values():
                for term in entry.anti_affinity:
                    if term.matches(namespace, labels, own_ns_labels):
                        value = ni.labels.get(term.topology_key)
                        if value is not None:
                            pair = (term.topology_key, value)
                            self.existing_anti[pair] = self.existing_anti.get(pair, 0) + 1
        # Existing pods selected by the incoming pod's own (anti-)affinity terms.
        if self.affinity or self.anti_affinity:
            for ni in nodes:
                if not ni.pods:
                    continue
                node_labels = ni.labels
                for entry in ni.pods.values():
                    entry_ns_labels = ns_labels_of.get(entry.namespace) or {}
                    if self.affinity and all(
                        t.matches(entry.namespace, entry.labels, entry_ns_labels) for t in self.affinity
                    ):
                        for term in self.affinity:
                            value = node_labels.get(term.topology_key)
                            if value is not None:
                                pair = (term.topology_key, value)
                                self.affinity_counts[pair] = self.affinity_counts.get(pair, 0) + 1
                    for term in self.anti_affinity:
                        if term.matches(entry.namespace, entry.labels, entry_ns_labels):
                            value = node_labels.get(term.topology_key)
                            if value is not None:
                                pair = (term.topology_key, value)
                                self.anti_counts[pair] = self.anti_counts.get(pair, 0) + 1
        # The first pod of a group with affinity to itself may go anywhere.
        self.self_match = bool(self.affinity) and all(
            t.matches(namespace, labels, own_ns_labels) for t in self.affinity
        )

    @property
    def active(self) -> bool:
        return bool(self.affinity or self.anti_affinity or self.existing_anti)

    def check(self, ni: NodeInfo) -> str | None:
        labels = ni.labels
        if self.affinity:
            pods_exist = True
            for term in self.affinity:
                value = labels.get(term.topology_key)
                if value is None:
                    return REASON_POD_AFFINITY
                if self.affinity_counts.get((term.topology_key, value), 0) <= 0:
                    pods_exist = False
            if not pods_exist and (self.affinity_counts or not self.self_match):
                return REASON_POD_AFFINITY
        if self.anti_counts:
            for term in self.anti_affinity:
                value = labels.get(term.topology_key)
                if value is not None and self.anti_counts.get((term.topology_key, value), 0) > 0:
                    return REASON_POD_ANTI_AFFINITY
        if self.existing_anti:
            for (key, value), count in self.existing_anti.items():
                if count > 0 and labels.get(key) == value:
                    return REASON_EXISTING_ANTI_AFFINITY
        return None


def _resource_reasons(request: Resources, ni: NodeInfo, check_resources: bool) -> list[str]:
    """NodeResourcesFit's reasons, in its order (pods, cpu, memory, storage, scalars)."""
    reasons = []
    if ni._free_pods <= 0:
        reasons.append(REASON_TOO_MANY_PODS)
    if not check_resources:
        return reasons
    allocatable = ni.allocatable
    requested = ni.requested
    if request.milli_cpu > ni._free_cpu:
        reasons.append("Insufficient cpu")
    if request.memory > ni._free_mem:
        reasons.append("Insufficient memory")
    if request.ephemeral_storage + requested.ephemeral_storage > allocatable.ephemeral_storage:
        reasons.append("Insufficient ephemeral-storage")
    for name in sorted(request.scalar):
        if request.scalar[name] + requested.scalar.get(name, 0) > allocatable.scalar.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def _normalize(raw: list[int], reverse: bool) -> list[int]:
    """``helper.DefaultNormalizeScore(MaxNodeScore, reverse, scores)``."""
    top = max(raw, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in raw]
    scaled = [MAX_NODE_SCORE * s // top for s in raw]
    return [MAX_NODE_SCORE - s for s in scaled] if reverse else scaled


class _PodContext:
    """Everything about the pod being scheduled that does not depend on the node (PreFilter)."""

    __slots__ = (
        "check_resources",
        "extra_resources",
        "inter_pod",
        "node_name",
        "non_zero",
        "owner",
        "ports",
        "preferred",
        "request",
        "required",
        "slow_static",
        "taint_verdicts",
        "tolerates_unschedulable",
        "tolerations",
    )

    def __init__(
        self,
        pod: Mapping[str, Any],
        nodes: Sequence[NodeInfo],
        namespace_labels: Mapping[str, Mapping[str, str]] | None,
        anti_nodes: Iterable[NodeInfo] | None = None,
    ) -> None:
        spec = pod.get("spec") or {}
        self.request, self.non_zero = _requests_pair(pod)
        self.check_resources = not self.request.is_zero()
        self.extra_resources = bool(self.request.ephemeral_storage or self.request.scalar)
        self.tolerations: Sequence[Mapping[str, Any]] = spec.get("tolerations") or ()
        self.tolerates_unschedulable = tolerates(
            self.tolerations, {"key": TAINT_NODE_UNSCHEDULABLE, "effect": _NO_SCHEDULE}
        )
        self.node_name: str | None = spec.get("nodeName") or None
        self.required = required_node_affinity(spec)
        self.preferred = _preferred_node_affinity(spec)
        self.ports = _host_ports(pod)
        if anti_nodes is not None and not anti_nodes and not (spec.get("affinity") or {}):
            # No pod (anti-)affinity anywhere: InterPodAffinity has nothing to count.
            self.inter_pod: _InterPodState | None = None
        else:
            inter_pod = _InterPodState(pod, nodes, namespace_labels, anti_nodes)
            self.inter_pod = inter_pod if inter_pod.active else None
        self.owner = _controller_uid(pod)
        # Verdicts of the taint filter per distinct set of taints (most nodes share a few).
        self.taint_verdicts: dict[tuple[tuple[str, str, str], ...], str | None] = {}
        self.slow_static = self.node_name is not None or self.required is not None or bool(self.ports)

    @property
    def fast(self) -> bool:
        """Whether :func:`_schedule_fast` can place this pod (nothing that needs the general path)."""
        return not (self.slow_static or self.inter_pod is not None or self.extra_resources or self.preferred)

    def static_reason(self, ni: NodeInfo) -> str | None:
        """NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts."""
        if ni.unschedulable and not self.tolerates_unschedulable:
            return REASON_UNSCHEDULABLE
        if self.node_name is not None and ni.name != self.node_name:
            return REASON_NODE_NAME
        if ni._hard_taints:
            key = ni._hard_key
            if key in self.taint_verdicts:
                verdict = self.taint_verdicts[key]
            else:
                untolerated = next((t for t in ni._hard_taints if not tolerates(self.tolerations, t)), None)
                verdict = self.taint_verdicts[key] = (
                    None if untolerated is None else _taint_reason(untolerated)
                )
            if verdict is not None:
                return verdict
        if self.required is not None and not self.required.matches(ni.labels, ni.name):
            return REASON_NODE_AFFINITY
        if self.ports and ni.used_ports and any(ni.port_conflict(*p) for p in self.ports):
            return REASON_NODE_PORTS
        return None

    def resource_reasons(self, ni: NodeInfo) -> list[str]:
        """NodeResourcesFit (empty when the pod fits)."""
        request = self.request
        if (
            ni._free_pods > 0
            and not (
                self.check_resources and (request.milli_cpu > ni._free_cpu or request.memory > ni._free_mem)
            )
            and not self.extra_resources
        ):
            return []
        return _resource_reasons(request, ni, self.check_resources)

    def tie_key(self, ni: NodeInfo) -> tuple[int, int, str]:
        """Among equal scores: fewest pods of the same owner, then fewest pods, then name."""
        owned = ni.owner_counts.get(self.owner, 0) if self.owner is not None else 0
        return owned, ni.pod_count, ni.name


def _count(reasons: dict[str, int], reason: str) -> None:
    reasons[reason] = reasons.get(reason, 0) + 1


# Request shape (cpu, memory, non-zero cpu, non-zero memory) -> id for NodeInfo._memo.
# Ids are never reused, so forgetting the table (when it grows) cannot alias a stale memo.
_SHAPE_IDS: dict[tuple[int, int, int, int], int] = {}
_NEXT_SHAPE_ID = itertools.count()
_MEMO_PER_NODE = 8
# Rank = score << 42 - owned << 21 - pods: score first, then fewest pods of the same owner,
# then fewest pods (each count stays far below 2**21).
_SCORE_SHIFT = 42
_OWNED_SHIFT = 21
_LOWEST_RANK = -(1 << 62)  # below any rank, even score 0 with many pods


def _schedule_fast(ctx: _PodContext, nodes: Sequence[NodeInfo], reasons: dict[str, int]) -> NodeInfo | None:
    """The common case in one tight loop: a pod without node name, node affinity, host
    ports, extended resources or inter-pod terms, on nodes without PreferNoSchedule taints.

    Each node remembers the fit-and-score of the last few request shapes it was asked
    about until its pods or node object change, so a burst of pods of a few sizes (some
    Deployments scaling up) only computes a score for the node that received the
    previous pod.
    Raises _NeedsGeneral when a node that passes the static filters has a PreferNoSchedule
    taint (its score needs normalising over all feasible nodes).
    """
    request = ctx.request
    check_resources = ctx.check_resources
    req_cpu, req_mem = request.milli_cpu, request.memory
    nz_cpu, nz_mem = ctx.non_zero.milli_cpu, ctx.non_zero.memory
    shape = (req_cpu, req_mem, nz_cpu, nz_mem)
    key = _SHAPE_IDS.get(shape)
    if key is None:
        if len(_SHAPE_IDS) > 4096:
            _SHAPE_IDS.clear()
        key = _SHAPE_IDS[shape] = next(_NEXT_SHAPE_ID)
    p_cpu = nz_cpu * MAX_NODE_SCORE
    p_mem = nz_mem * MAX_NODE_SCORE
    owner = ctx.owner
    best: NodeInfo | None = None
    best_rank = _LOWEST_RANK
    for ni in nodes:
        if not ni._clear:
            reason = ctx.static_reason(ni)
            if reason is not None:
                _count(reasons, reason)
                continue
            if ni._prefer_taints:
                raise _NeedsGeneral
        memo = ni._memo
        rank = memo.get(key)
        if rank is None:
            if ni._free_pods <= 0 or (check_resources and (req_cpu > ni._free_cpu or req_mem > ni._free_mem)):
                for reason in _resource_reasons(request, ni, check_resources):
                    _count(reasons, reason)
                continue
            x = ni._cpu_num - p_cpu
            y = ni._mem_num - p_mem
            score = ((x // ni._cpu_den if x >= 0 else 0) + (y // ni._mem_den if y >= 0 else 0)) // 2
            rank = (score << _SCORE_SHIFT) - ni.pod_count
            if len(memo) >= _MEMO_PER_NODE:
                memo.clear()
            memo[key] = rank
        if rank < best_rank:
            continue  # the owner term only lowers a rank
        if owner is not None:
            owned = ni.owner_counts.get(owner)
            if owned:
                rank -= owned << _OWNED_SHIFT
        if best is None or rank > best_rank or (rank == best_rank and ni.name < best.name):
            best = ni
            best_rank = rank
    return best


class _NeedsGeneral(Exception):
    """The fast path met something that needs normalised scores."""


def _schedule_general(
    ctx: _PodContext, nodes: Sequence[NodeInfo], reasons: dict[str, int]
) -> NodeInfo | None:
    feasible: list[NodeInfo] = []
    scores: list[int] = []
    slow_static = ctx.slow_static
    inter_pod = ctx.inter_pod
    for ni in nodes:
        # Filters, in kube-scheduler's order; the first one that fails names the reason(s).
        if slow_static or not ni._clear:
            reason = ctx.static_reason(ni)
            if reason is not None:
                _count(reasons, reason)
                continue
        failed = ctx.resource_reasons(ni)
        if failed:
            for reason in failed:
                _count(reasons, reason)
            continue
        if inter_pod is not None:
            reason = inter_pod.check(ni)
            if reason is not None:
                _count(reasons, reason)
                continue
        feasible.append(ni)
        scores.append(ni.least_allocated_score(ctx.non_zero))

    if not feasible:
        return None
    if len(feasible) > 1:
        # TaintToleration: fewer untolerated PreferNoSchedule taints is better.
        if any(ni._prefer_taints for ni in feasible):
            prefer = [t for t in ctx.tolerations if (t.get("effect") or "") in ("", _PREFER_NO_SCHEDULE)]
            raw = [sum(1 for t in ni._prefer_taints if not tolerates(prefer, t)) for ni in feasible]
            for i, score in enumerate(_normalize(raw, reverse=True)):
                scores[i] += _WEIGHT_TAINT * score
        # NodeAffinity: preferred terms.
        if ctx.preferred:
            raw = [sum(w for w, term in ctx.preferred if term.matches(ni.labels, ni.name)) for ni in feasible]
            for i, score in enumerate(_normalize(raw, reverse=False)):
                scores[i] += _WEIGHT_NODE_AFFINITY * score
    best_score = max(scores)
    return min((ni for ni, score in zip(feasible, scores) if score == best_score), key=ctx.tie_key)


def schedule(
    pod: Mapping[str, Any],
    nodes: Sequence[NodeInfo],
    *,
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> ScheduleResult:
    """Pick the node for ``pod`` among ``nodes``, or explain why none fits.

    ``namespace_labels`` (namespace name -> its labels) is only consulted by pod
    (anti-)affinity terms with a ``namespaceSelector``. Neither the pod nor the node
    objects are touched (only a private score memo on each ``NodeInfo``): the caller binds
    the pod and then calls ``add_pod`` on the chosen ``NodeInfo``.
    """
    num_nodes = len(nodes)
    if num_nodes == 0:
        return ScheduleResult(None, NO_NODES_AVAILABLE)
    ctx = _PodContext(pod, nodes, namespace_labels)
    reasons: dict[str, int] = {}
    chosen: NodeInfo | None = None
    general = not ctx.fast
    if not general:
        try:
            chosen = _schedule_fast(ctx, nodes, reasons)
        except _NeedsGeneral:
            reasons.clear()
            general = True
    if general:
        chosen = _schedule_general(ctx, nodes, reasons)
    if chosen is None:
        return ScheduleResult(None, fit_error_message(num_nodes, reasons), reasons)
    return ScheduleResult(chosen.name, "", reasons)


# ---------------------------------------------------------------------------
# NodeIndex: the scheduler cache, indexed for the common case
# ---------------------------------------------------------------------------

#: The fast path met a node that needs normalised scores (a PreferNoSchedule taint).
_GENERAL = object()


def _fast_rank(ni: NodeInfo, req_cpu: int, req_mem: int, p_cpu: int, p_mem: int, check: bool) -> int | None:
    """:func:`_schedule_fast`'s rank of a node for one request shape (None: it does not fit)."""
    if ni._free_pods <= 0 or (check and (req_cpu > ni._free_cpu or req_mem > ni._free_mem)):
        return None
    x = ni._cpu_num - p_cpu
    y = ni._mem_num - p_mem
    score = ((x // ni._cpu_den if x >= 0 else 0) + (y // ni._mem_den if y >= 0 else 0)) // 2
    return (score << _SCORE_SHIFT) - ni.pod_count


class _RankHeap:
    """The plain nodes that fit one request shape, ranked for one owner: a lazy min-heap of
    ``(-rank, name, version, node)`` where rank includes the owner-spreading term.

    An entry whose version is not its node's current one is stale (dropped when it reaches
    the top). Nodes in ``dirty`` changed since their last entry: they are re-ranked at the
    next pod of this shape and owner.
    """

    __slots__ = ("dirty", "entries")

    def __init__(self, dirty: set[NodeInfo]) -> None:
        self.entries: list[tuple[int, str, int, NodeInfo]] = []
        self.dirty = dirty


class NodeIndex:
    """The scheduler cache: every :class:`NodeInfo` by name, with an index over them.

    :meth:`schedule` gives exactly :func:`schedule`'s node without visiting every node in the
    common case (no node name, affinity, host ports, extended resources or PreferNoSchedule
    taints involved). Nodes neither tainted nor cordoned ("plain", nearly all of them) sit,
    per request shape and controller owner, in a heap ordered by the fast path's rank
    (LeastAllocated score, then fewest pods of that owner, then fewest pods), then name: its
    top is the answer. A node that changes is re-ranked lazily, at the next pod of each
    shape and owner; the pods of one ReplicaSet come in runs (a sync creates up to 500), so
    a few heaps serve them all and a heap is rebuilt (one pass over the nodes) once per run
    at worst. Tainted or cordoned nodes are looked at one by one, as :func:`schedule` does.
    When no node fits, or the pod needs the general path, :func:`schedule` answers (with its
    message and reasons); a successful answer carries no reasons.

    Change nodes only through :meth:`add` / :meth:`remove` and the NodeInfo's own
    ``set_node`` / ``add_pod`` / ``remove_pod`` (which tell the index). Not thread-safe:
    one scheduler owns it.
    """

    #: (request shape, owner) pairs with a heap of their own; the least recently used go.
    max_heaps = 8

    def __init__(self, nodes: Iterable[NodeInfo] = ()) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self._sorted: list[NodeInfo] | None = None
        self._irregular: dict[str, NodeInfo] = {}  # tainted or cordoned
        self._anti: dict[str, NodeInfo] = {}  # holding pods with required anti-affinity
        self._heaps: dict[tuple[int, int, int, int, str | None], _RankHeap] = {}
        for ni in nodes:
            self.add(ni)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def get(self, name: str) -> NodeInfo | None:
        return self.nodes.get(name)

    def add(self, ni: NodeInfo) -> None:
        """Add (or replace, by name) a node."""
        old = self.nodes.get(ni.name)
        if old is not None and old is not ni:
            self._detach(old)
        self.nodes[ni.name] = ni
        self._sorted = None
        ni._index = self
        ni._version += 1
        self._changed(ni)

    def remove(self, name: str) -> NodeInfo | None:
        ni = self.nodes.pop(name, None)
        if ni is not None:
            self._detach(ni)
            self._sorted = None
        return ni

    def _detach(self, ni: NodeInfo) -> None:
        ni._index = None
        ni._version += 1  # every heap entry of it is stale now
        if self._irregular.get(ni.name) is ni:
            del self._irregular[ni.name]
        if self._anti.get(ni.name) is ni:
            del self._anti[ni.name]
        for heap in self._heaps.values():
            heap.dirty.discard(ni)

    def _changed(self, ni: NodeInfo) -> None:
        """Called by ``ni`` after every change (its version already bumped)."""
        name = ni.name
        if ni._clear:
            self._irregular.pop(name, None)
        else:
            self._irregular[name] = ni
        if ni._anti_affinity_pods:
            self._anti[name] = ni
        else:
            self._anti.pop(name, None)
        for heap in self._heaps.values():
            heap.dirty.add(ni)

    def sorted_nodes(self) -> list[NodeInfo]:
        """Every node, by name (what :func:`schedule` takes)."""
        if self._sorted is None:
            self._sorted = [self.nodes[name] for name in sorted(self.nodes)]
        return self._sorted

    def schedule(
        self, pod: Mapping[str, Any], *, namespace_labels: Mapping[str, Mapping[str, str]] | None = None
    ) -> ScheduleResult:
        """``schedule(pod, sorted_nodes())``'s node, found through the index when possible."""
        nodes = self.sorted_nodes()
        if nodes:
            ctx = _PodContext(pod, nodes, namespace_labels, self._anti.values())
            if ctx.fast:
                chosen = self._schedule_fast(ctx)
                if isinstance(chosen, NodeInfo):
                    return ScheduleResult(chosen.name, "")
        return schedule(pod, nodes, namespace_labels=namespace_labels)

    def _heap(self, key: tuple[int, int, int, int, str | None]) -> _RankHeap:
        heaps = self._heaps
        heap = heaps.pop(key, None)
        if heap is None:
            if len(heaps) >= self.max_heaps:
                del heaps[next(iter(heaps))]
            heap = _RankHeap({ni for ni in self.nodes.values() if ni._clear})
        heaps[key] = heap  # most recently used last
        return heap

    def _schedule_fast(self, ctx: _PodContext) -> NodeInfo | object | None:
        """The node :func:`_schedule_fast` would choose, None, or ``_GENERAL``."""
        request = ctx.request
        check = ctx.check_resources
        req_cpu, req_mem = request.milli_cpu, request.memory
        nz_cpu, nz_mem = ctx.non_zero.milli_cpu, ctx.non_zero.memory
        p_cpu = nz_cpu * MAX_NODE_SCORE
        p_mem = nz_mem * MAX_NODE_SCORE
        owner = ctx.owner
        best: NodeInfo | None = None
        best_key: tuple[int, str] | None = None  # (-rank with the owner term, name): smallest wins
        for ni in self._irregular.values():
            if ctx.static_reason(ni) is not None:
                continue
            if ni._prefer_taints:
                return _GENERAL
            rank = _fast_rank(ni, req_cpu, req_mem, p_cpu, p_mem, check)
            if rank is None:
                continue
            if owner is not None:
                rank -= ni.owner_counts.get(owner, 0) << _OWNED_SHIFT
            key = (-rank, ni.name)
            if best_key is None or key < best_key:
                best, best_key = ni, key
        heap = self._heap((req_cpu, req_mem, nz_cpu, nz_mem, owner))
        entries = heap.entries
        if heap.dirty:
            push = heapq.heappush
            for ni in heap.dirty:
                if ni._clear:
                    rank = _fast_rank(ni, req_cpu, req_mem, p_cpu, p_mem, check)
                    if rank is not None:
                        if owner is not None:
                            owned = ni.owner_counts.get(owner)
                            if owned:
                                rank -= owned << _OWNED_SHIFT
                        push(entries, (-rank, ni.name, ni._version, ni))
            heap.dirty.clear()
            if len(entries) > 2 * len(self.nodes) + 64:
                entries[:] = [e for e in entries if e[2] == e[3]._version]
                heapq.heapify(entries)
        while entries and entries[0][2] != entries[0][3]._version:
            heapq.heappop(entries)
        if entries:
            top = entries[0]
            if best_key is None or (top[0], top[1]) < best_key:
                best = top[3]
        return best
