"""The HorizontalPodAutoscaler controller (``autoscaling/v2``). No I/O of its own.

Follows ``pkg/controller/podautoscaler`` (horizontal.go, replica_calculator.go):

* Every :attr:`~HorizontalPodAutoscalerController.sync_period` seconds (15 s, the
  ``--horizontal-pod-autoscaler-sync-period``; changes to an HPA wait for the next
  period, as the HPA's fixed-interval queue makes them) the target's scale subresource is
  read (``scaleTargetRef`` apiVersion + kind mapped to a resource -- a reference without
  apiVersion names the core group, as Kubernetes' REST mapper reads it), and each metric
  proposes ``ceil(current ratio x pods)``:

  - ``Resource`` cpu/memory (``Utilization`` of the pods' requests, or ``AverageValue``)
    and ``ContainerResource``, from the metrics source's PodMetrics;
  - ``Pods`` metrics (``requests_per_second``: the proxy's per-pod request rate).

  Within the 10 % tolerance nothing changes; pods being deleted or failed are ignored;
  pending and (for CPU, within the 5 min initialization period) not-yet-ready pods and
  pods without metrics are handled as ``groupPods`` does (0 % on a scale-up, 100 % of the
  request on a scale-down, never flipping the direction).
* The largest proposal wins; it is bounded by min/max replicas and the scale-up rate
  (2x or +4 without ``behavior``; the ``behavior`` policies with it) and stabilised:
  scale-down takes the highest recommendation of the last 300 s
  (``behavior.scaleDown.stabilizationWindowSeconds`` when set), scale-up the lowest of
  ``behavior.scaleUp.stabilizationWindowSeconds``.
* Status: ``currentReplicas``, ``desiredReplicas``, ``currentMetrics``, ``lastScaleTime``
  and the conditions AbleToScale / ScalingActive / ScalingLimited with Kubernetes'
  reasons and messages; events ``SuccessfulRescale`` ("New size: 4; reason: cpu resource
  utilization (percentage of request) above target"), ``FailedGetScale``,
  ``FailedGetResourceMetric``, ``FailedComputeMetricsReplicas`` and the rest, worded as
  Kubernetes words them. A status is written only when it changed.

Not done: Object and External metrics (they fail with ``FailedGetObjectMetric`` /
``FailedGetExternalMetric``: no such metrics API here), a Pods metric's ``selector``, the
"pods controlled by multiple HPAs" check, and per-HPA tolerances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from nbcluster.api import resources
from nbcluster.api.quantities import format_quantity, parse_quantity
from nbcluster.api.selectors import LabelSelector
from nbcluster.control.apiserver import Selector
from nbcluster.control.controllers.base import Controller, split_key
from nbcluster.control.events import EventType
from nbcluster.errors import NbClusterError
from nbcluster.util.clock import Clock, format_time, parse_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "HorizontalPodAutoscalerController",
    "MetricError",
    "convert_desired_replicas_with_rules",
]

Obj = dict[str, Any]

#: Without ``behavior``: scale up to at most max(2 x current, 4) at once.
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0


class MetricError(Exception):
    """A metric could not give a proposal; ``condition`` is what ScalingActive becomes."""

    def __init__(self, message: str, condition: tuple[str, str, str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.condition = condition


@dataclass
class _Recommendation:
    replicas: int
    at: float


@dataclass
class _ScaleEvent:
    change: int
    at: float
    outdated: bool = False


def _milli(value: Any) -> int:
    """Quantity.MilliValue(): thousandths, rounded up."""
    return math.ceil(parse_quantity(value) * 1000)


def _milli_quantity(value: int) -> str:
    return format_quantity(Decimal(value) / 1000, "DecimalSI")


def _condition(pod: Obj, kind: str) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return condition
    return None


def convert_desired_replicas_with_rules(
    current: int, desired: int, min_replicas: int, max_replicas: int
) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: bounds and the 2x/+4 scale-up limit (no behavior)."""
    scale_up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if max_replicas > scale_up_limit:
        maximum = scale_up_limit
        reason = "ScaleUpLimit"
        message = "the desired replica count is increasing faster than the maximum scale rate"
    else:
        maximum = max_replicas
        reason = "TooManyReplicas"
        message = "the desired replica count is more than the maximum replica count"
    if desired < min_replicas:
        return (
            min_replicas,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    if desired > maximum:
        return maximum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


class HorizontalPodAutoscalerController(Controller):
    name: ClassVar[str] = "horizontal-pod-autoscaler"
    primary: ClassVar[str] = "horizontalpodautoscalers.autoscaling"

    def __init__(
        self,
        api: Any,
        clock: Clock,
        metrics: Any = None,
        *,
        record_events: bool = True,
        sync_period: float = 15.0,
        downscale_stabilization: float = 300.0,
        tolerance: float = 0.1,
        cpu_initialization_period: float = 300.0,
        delay_of_initial_readiness_status: float = 30.0,
    ) -> None:
        super().__init__(api, clock, record_events=record_events)
        self.metrics = metrics
        self.sync_period = sync_period
        self.downscale_stabilization = downscale_stabilization
        self.tolerance = tolerance
        self.cpu_initialization_period = cpu_initialization_period
        self.delay_of_initial_readiness_status = delay_of_initial_readiness_status
        self.recommendations: dict[str, list[_Recommendation]] = {}
        self.scale_up_events: dict[str, list[_ScaleEvent]] = {}
        self.scale_down_events: dict[str, list[_ScaleEvent]] = {}

    def setup(self) -> None:
        # The HPA queue delays every add by the resync period (NewDefaultHPARateLimiter).
        self.on(self.primary, self._enqueue)

    def _enqueue(self, event: Any) -> None:
        meta = event.object["metadata"]
        self.queue.add_after(f"{meta.get('namespace', '')}/{meta['name']}", self.sync_period)

    # -- sync ------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        stored = self.api.cached(self.primary, name, namespace)
        if stored is None:
            self.recommendations.pop(key, None)
            self.scale_up_events.pop(key, None)
            self.scale_down_events.pop(key, None)
            return None
        hpa = deep_copy(stored)
        original = deep_copy(stored.get("status") or {})
        hpa["status"] = dict(hpa.get("status") or {})
        self._reconcile(key, hpa)
        if hpa["status"] != original:
            self.api.update_status(hpa, owned=True)
        return self.sync_period

    def _reconcile(self, key: str, hpa: Obj) -> None:
        spec = hpa.get("spec") or {}
        namespace = hpa["metadata"]["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        kind, target = ref.get("kind", ""), ref.get("name", "")
        api_version = ref.get("apiVersion") or ""
        if api_version.count("/") > 1:
            self._failed_get_scale(hpa, f"unexpected GroupVersion string: {api_version}")
            return
        group = api_version.rpartition("/")[0]
        info = next(
            (i for i in resources.all_resources() if i.group == group and i.kind == kind),
            None,
        )
        if info is None:
            self._failed_get_scale(hpa, f'no matches for kind "{kind}" in group "{group}"')
            return
        try:
            scale = self.api.get_scale(info, target, namespace=namespace)
        except NbClusterError as exc:
            self._failed_get_scale(hpa, str(exc))
            return
        self._set(
            hpa,
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        current = int(scale["spec"].get("replicas") or 0)
        self.recommendations.setdefault(key, [_Recommendation(current, self.clock.monotonic())])
        min_replicas = spec.get("minReplicas")
        min_replicas = 1 if min_replicas is None else int(min_replicas)
        max_replicas = int(spec.get("maxReplicas") or 0)
        statuses: list[Obj] = []
        desired = 0
        reason = ""
        rescale = True
        if current == 0 and min_replicas != 0:
            desired = 0
            rescale = False
            self._set(
                hpa,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > max_replicas:
            reason = "Current number of replicas above Spec.MaxReplicas"
            desired = max_replicas
        elif current < min_replicas:
            reason = "Current number of replicas below Spec.MinReplicas"
            desired = min_replicas
        else:
            proposal, metric, statuses, error = self._compute_for_metrics(hpa, scale)
            if error is not None and proposal == -1:
                self._set_status(hpa, current, hpa["status"].get("desiredReplicas", 0), statuses, False)
                self.events.event(hpa, EventType.WARNING, "FailedComputeMetricsReplicas", error)
                return
            rescale_metric = ""
            if proposal > desired:
                desired = proposal
                rescale_metric = metric
            if desired > current:
                reason = f"{rescale_metric} above target"
            if desired < current:
                reason = "All metrics below target"
            if spec.get("behavior") is None:
                desired = self._normalize(hpa, key, current, desired, min_replicas, max_replicas)
            else:
                desired = self._normalize_with_behaviors(
                    hpa, key, current, desired, min_replicas, max_replicas
                )
            rescale = desired != current
        if rescale:
            try:
                self.api.scale(info, target, desired, namespace=namespace)
            except NbClusterError as exc:
                self.events.event(
                    hpa,
                    EventType.WARNING,
                    "FailedRescale",
                    f"New size: {desired}; reason: {reason}; error: {exc}",
                )
                self._set(
                    hpa,
                    "AbleToScale",
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {exc}",
                )
                self._set_status(hpa, current, hpa["status"].get("desiredReplicas", 0), statuses, False)
                return
            self._set(
                hpa,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
            self.events.event(
                hpa, EventType.NORMAL, "SuccessfulRescale", f"New size: {desired}; reason: {reason}"
            )
            self._store_scale_event(spec.get("behavior"), key, current, desired)
        else:
            desired = current
        self._set_status(hpa, current, desired, statuses, rescale)

    def _failed_get_scale(self, hpa: Obj, error: str) -> None:
        self.events.event(hpa, EventType.WARNING, "FailedGetScale", error)
        self._set(
            hpa,
            "AbleToScale",
            "False",
            "FailedGetScale",
            f"the HPA controller was unable to get the target's current scale: {error}",
        )

    # -- status ------------------------------------------------------------------------

    def _set(self, hpa: Obj, kind: str, status: str, reason: str, message: str) -> None:
        """setCondition: add or update; lastTransitionTime moves only when the status does."""
        conditions = [dict(c) for c in hpa["status"].get("conditions") or ()]
        for condition in conditions:
            if condition.get("type") == kind:
                break
        else:
            condition = {"type": kind}
            conditions.append(condition)
        if condition.get("status") != status:
            condition["lastTransitionTime"] = format_time(self.clock.now())
        condition["status"] = status
        condition["reason"] = reason
        condition["message"] = message
        hpa["status"]["conditions"] = conditions

    def _set_status(self, hpa: Obj, current: int, desired: int, statuses: list[Obj], rescale: bool) -> None:
        old = hpa["status"]
        status: Obj = {}
        if old.get("lastScaleTime"):
            status["lastScaleTime"] = old["lastScaleTime"]
        if rescale:
            status["lastScaleTime"] = format_time(self.clock.now())
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if statuses:
            status["currentMetrics"] = statuses
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        hpa["status"] = status

    # -- metrics -------------------------------------------------------------------------

    def _compute_for_metrics(self, hpa: Obj, scale: Obj) -> tuple[int, str, list[Obj], str | None]:
        selector_text = (scale.get("status") or {}).get("selector") or ""
        if not selector_text:
            self.events.event(hpa, EventType.WARNING, "SelectorRequired", "selector is required")
            self._set(
                hpa,
                "ScalingActive",
                "False",
                "InvalidSelector",
                "the HPA target's scale is missing a selector",
            )
            return -1, "", [], "selector is required"
        try:
            selector = LabelSelector.parse(selector_text)
        except NbClusterError as exc:
            message = f"couldn't convert selector into a corresponding internal selector object: {exc}"
            self.events.event(hpa, EventType.WARNING, "InvalidSelector", message)
            self._set(hpa, "ScalingActive", "False", "InvalidSelector", message)
            return -1, "", [], message
        spec_replicas = int(scale["spec"].get("replicas") or 0)
        specs = (hpa.get("spec") or {}).get("metrics") or [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
        statuses: list[Obj] = [{"type": ""} for _ in specs]
        replicas = 0
        metric = ""
        invalid = 0
        first_error: MetricError | None = None
        for index, metric_spec in enumerate(specs):
            try:
                proposal, name, status = self._compute_for_metric(hpa, metric_spec, spec_replicas, selector)
            except MetricError as exc:
                if invalid == 0:
                    first_error = exc
                invalid += 1
                continue
            statuses[index] = status
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        error = None
        if first_error is not None:
            error = f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: {first_error.message}"
        if invalid >= len(specs) or (invalid > 0 and replicas < spec_replicas):
            assert first_error is not None
            if first_error.condition is not None:
                self._set(hpa, *first_error.condition)
            return -1, "", statuses, error
        self._set(
            hpa,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {metric}",
        )
        return replicas, metric, statuses, error

    def _unable(self, hpa: Obj, reason: str, error: str) -> tuple[str, str, str, str]:
        """getUnableComputeReplicaCountCondition: a Warning event and the ScalingActive condition."""
        self.events.event(hpa, EventType.WARNING, reason, error)
        return ("ScalingActive", "False", reason, f"the HPA was unable to compute the replica count: {error}")

    def _compute_for_metric(
        self, hpa: Obj, spec: Obj, current: int, selector: LabelSelector
    ) -> tuple[int, str, Obj]:
        kind = spec.get("type")
        namespace = hpa["metadata"]["namespace"]
        if kind in ("Resource", "ContainerResource"):
            source = spec.get("resource" if kind == "Resource" else "containerResource") or {}
            resource = source.get("name", "")
            container = source.get("container", "") if kind == "ContainerResource" else ""
            reason = "FailedGetResourceMetric" if kind == "Resource" else "FailedGetContainerResourceMetric"
            try:
                proposal, name, current_status = self._resource(
                    current, source.get("target") or {}, resource, namespace, selector, container
                )
            except MetricError as exc:
                condition = self._unable(hpa, reason, exc.message)
                if kind == "Resource":
                    raise MetricError(
                        f"failed to get {resource} resource metric value: {exc.message}", condition
                    ) from None
                raise MetricError(
                    f"failed to get {container} container metric value: {exc.message}", condition
                ) from None
            if kind == "Resource":
                status = {"type": "Resource", "resource": {"name": resource, "current": current_status}}
            else:
                status = {
                    "type": "ContainerResource",
                    "containerResource": {
                        "name": resource,
                        "container": container,
                        "current": current_status,
                    },
                }
            return proposal, name, status
        if kind == "Pods":
            source = spec.get("pods") or {}
            metric = (source.get("metric") or {}).get("name", "")
            target = (source.get("target") or {}).get("averageValue")
            try:
                if target is None:
                    raise MetricError("invalid pods metric source: no average value target was set")
                proposal, usage = self._pods_metric(current, _milli(target), metric, namespace, selector)
            except MetricError as exc:
                condition = self._unable(hpa, "FailedGetPodsMetric", exc.message)
                raise MetricError(f"failed to get pods metric value: {exc.message}", condition) from None
            identifier: Obj = {"name": metric}
            if (source.get("metric") or {}).get("selector") is not None:
                identifier["selector"] = source["metric"]["selector"]
            status = {
                "type": "Pods",
                "pods": {"metric": identifier, "current": {"averageValue": _milli_quantity(usage)}},
            }
            return proposal, f"pods metric {metric}", status
        if kind == "Object":
            metric = ((spec.get("object") or {}).get("metric") or {}).get("name", "")
            error = (
                f"unable to get metric {metric}: no custom metrics API (custom.metrics.k8s.io) is served here"
            )
            condition = self._unable(hpa, "FailedGetObjectMetric", error)
            raise MetricError(f"failed to get object metric value: {error}", condition)
        if kind == "External":
            metric = ((spec.get("external") or {}).get("metric") or {}).get("name", "")
            error = (
                f"unable to get external metric {namespace}/{metric}: no external metrics API is served here"
            )
            condition = self._unable(hpa, "FailedGetExternalMetric", error)
            raise MetricError(f"failed to get {metric} external metric value: {error}", condition)
        error = f'unknown metric source type "{kind}"'
        condition = self._unable(hpa, "InvalidMetricSourceType", error)
        raise MetricError(error, condition)

    # -- the replica calculator ----------------------------------------------------------

    def _pods(self, namespace: str, selector: LabelSelector) -> list[Obj]:
        return self.api.cached_list("pods", namespace, Selector(selector))

    def _resource_metrics(
        self, resource: str, namespace: str, selector: LabelSelector, container: str
    ) -> dict[str, tuple[int, datetime, float]]:
        if self.metrics is None:
            raise MetricError(
                "unable to fetch metrics from resource metrics API: the server could not find the "
                "requested resource (get pods.metrics.k8s.io)"
            )
        out: dict[str, tuple[int, datetime, float]] = {}
        for usage in self.metrics.pod_metrics(namespace, selector):
            total = 0
            found = False
            for c in usage.containers:
                if container and c.name != container:
                    continue
                found = True
                total += c.cpu_millis if resource == "cpu" else c.memory_bytes * 1000
            if container and not found:
                continue
            out[usage.name] = (total, usage.timestamp, usage.window)
        if not out:
            raise MetricError("no metrics returned from resource metrics API")
        return out

    def _resource(
        self,
        current: int,
        target: Obj,
        resource: str,
        namespace: str,
        selector: LabelSelector,
        container: str,
    ) -> tuple[int, str, Obj]:
        if target.get("averageValue") is not None:
            try:
                metrics = self._resource_metrics(resource, namespace, selector, container)
            except MetricError as exc:
                raise MetricError(
                    f"failed to get {resource} usage: unable to get metrics for resource {resource}: {exc.message}"
                ) from None
            try:
                proposal, usage = self._plain(
                    metrics, current, _milli(target["averageValue"]), namespace, selector, resource
                )
            except MetricError as exc:
                raise MetricError(f"failed to get {resource} usage: {exc.message}") from None
            return proposal, f"{resource} resource", {"averageValue": _milli_quantity(usage)}
        utilization_target = target.get("averageUtilization")
        if utilization_target is None:
            raise MetricError(
                "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set"
            )
        try:
            proposal, utilization, raw = self._resource_replicas(
                current, int(utilization_target), resource, namespace, selector, container
            )
        except MetricError as exc:
            raise MetricError(f"failed to get {resource} utilization: {exc.message}") from None
        name = f"{resource} resource utilization (percentage of request)"
        if container:
            name = f"{resource} container resource utilization (percentage of request)"
        return proposal, name, {"averageUtilization": utilization, "averageValue": _milli_quantity(raw)}

    def _group_pods(
        self, pods: list[Obj], metrics: dict[str, tuple[int, datetime, float]], resource: str
    ) -> tuple[int, set[str], set[str], set[str]]:
        """groupPods: (ready count, unready, missing, ignored)."""
        ready = 0
        unready: set[str] = set()
        missing: set[str] = set()
        ignored: set[str] = set()
        now = self.clock.now()
        for pod in pods:
            name = pod["metadata"]["name"]
            status = pod.get("status") or {}
            if pod["metadata"].get("deletionTimestamp") or status.get("phase") == "Failed":
                ignored.add(name)
                continue
            if status.get("phase") == "Pending":
                unready.add(name)
                continue
            metric = metrics.get(name)
            if metric is None:
                missing.add(name)
                continue
            if resource == "cpu":
                condition = _condition(pod, "Ready")
                start = status.get("startTime")
                if condition is None or not start:
                    is_unready = True
                else:
                    started = parse_time(start)
                    transition = parse_time(condition.get("lastTransitionTime") or start)
                    if started + timedelta(seconds=self.cpu_initialization_period) > now:
                        is_unready = condition.get("status") == "False" or metric[1] < transition + timedelta(
                            seconds=metric[2]
                        )
                    else:
                        is_unready = (
                            condition.get("status") == "False"
                            and started + timedelta(seconds=self.delay_of_initial_readiness_status)
                            > transition
                        )
                if is_unready:
                    unready.add(name)
                    continue
            ready += 1
        return ready, unready, missing, ignored

    def _requests(self, pods: list[Obj], resource: str, container: str) -> dict[str, int]:
        requests: dict[str, int] = {}
        for pod in pods:
            spec = pod["spec"]
            containers = list(spec.get("containers") or ())
            containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
            total = 0
            found = False
            for c in containers:
                if container and c["name"] != container:
                    continue
                found = True
                request = ((c.get("resources") or {}).get("requests") or {}).get(resource)
                if request is None:
                    raise MetricError(
                        f"missing request for {resource} in container {c['name']} of Pod {pod['metadata']['name']}"
                    )
                total += _milli(request)
                if container:
                    break
            if container and not found:
                raise MetricError(f"container {container} not found in Pod {pod['metadata']['name']}")
            requests[pod["metadata"]["name"]] = total
        return requests

    def _within(self, ratio: float) -> bool:
        return 1.0 - self.tolerance <= ratio <= 1.0 + self.tolerance

    @staticmethod
    def _utilization_ratio(
        values: dict[str, int], requests: dict[str, int], target: int
    ) -> tuple[float, int, int]:
        metrics_total = requests_total = entries = 0
        for name, value in values.items():
            if name not in requests:
                continue
            metrics_total += value
            requests_total += requests[name]
            entries += 1
        if requests_total == 0:
            raise MetricError("no metrics returned matched known pods")
        utilization = (metrics_total * 100) // requests_total
        return utilization / target, utilization, metrics_total // entries

    def _resource_replicas(
        self,
        current: int,
        target: int,
        resource: str,
        namespace: str,
        selector: LabelSelector,
        container: str,
    ) -> tuple[int, int, int]:
        """GetResourceReplicas: (replicas, utilization %, raw average milli-value)."""
        try:
            metrics = self._resource_metrics(resource, namespace, selector, container)
        except MetricError as exc:
            raise MetricError(f"unable to get metrics for resource {resource}: {exc.message}") from None
        pods = self._pods(namespace, selector)
        if not pods:
            raise MetricError("no pods returned by selector while calculating replica count")
        ready, unready, missing, ignored = self._group_pods(pods, metrics, resource)
        values = {name: m[0] for name, m in metrics.items() if name not in ignored and name not in unready}
        if not values:
            raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
        requests = self._requests(pods, resource, container)
        ratio, utilization, raw = self._utilization_ratio(values, requests, target)
        scale_up_with_unready = bool(unready) and ratio > 1.0
        if not scale_up_with_unready and not missing:
            if self._within(ratio):
                return current, utilization, raw
            return math.ceil(ratio * ready), utilization, raw
        if missing:
            if ratio < 1.0:
                fallback = max(100, target)
                for name in missing:
                    values[name] = requests.get(name, 0) * fallback // 100
            elif ratio > 1.0:
                for name in missing:
                    values[name] = 0
        if scale_up_with_unready:
            for name in unready:
                values[name] = 0
        new_ratio, _u, _r = self._utilization_ratio(values, requests, target)
        if self._within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
            return current, utilization, raw
        replicas = math.ceil(new_ratio * len(values))
        if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
            return current, utilization, raw
        return replicas, utilization, raw

    def _pods_metric(
        self, current: int, target: int, metric: str, namespace: str, selector: LabelSelector
    ) -> tuple[int, int]:
        """GetMetricReplicas: (replicas, average milli-value)."""
        if self.metrics is None:
            raise MetricError(f"unable to get metric {metric}: no custom metrics API is served here")
        try:
            raw = self.metrics.pods_metric(metric, namespace, selector)
        except NbClusterError as exc:
            raise MetricError(f"unable to get metric {metric}: {exc}") from None
        if not raw:
            raise MetricError(f"unable to get metric {metric}: no metrics returned from custom metrics API")
        return self._plain(raw, current, target, namespace, selector, "")

    def _plain(
        self,
        metrics: dict[str, tuple[int, datetime, float]],
        current: int,
        target: int,
        namespace: str,
        selector: LabelSelector,
        resource: str,
    ) -> tuple[int, int]:
        """calcPlainMetricReplicas."""
        pods = self._pods(namespace, selector)
        if not pods:
            raise MetricError("no pods returned by selector while calculating replica count")
        ready, unready, missing, ignored = self._group_pods(pods, metrics, resource)
        values = {name: m[0] for name, m in metrics.items() if name not in ignored and name not in unready}
        if not values:
            raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
        usage = sum(values.values()) // len(values)
        ratio = usage / target
        scale_up_with_unready = bool(unready) and ratio > 1.0
        if not scale_up_with_unready and not missing:
            if self._within(ratio):
                return current, usage
            return math.ceil(ratio * ready), usage
        if missing and ratio != 1.0:
            for name in missing:
                # a scale-down counts missing pods at the target, a scale-up at zero
                values[name] = target if ratio < 1.0 else 0
        if scale_up_with_unready:
            for name in unready:
                values[name] = 0
        new_ratio = (sum(values.values()) // len(values)) / target
        if self._within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
            return current, usage
        replicas = math.ceil(new_ratio * len(values))
        if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
            return current, usage
        return replicas, usage

    # -- normalization -----------------------------------------------------------------

    def _normalize(
        self, hpa: Obj, key: str, current: int, desired: int, min_replicas: int, max_replicas: int
    ) -> int:
        """normalizeDesiredReplicas (no behavior): the downscale window, then the rules."""
        stabilized = self._stabilize(key, desired)
        if stabilized != desired:
            self._set(
                hpa,
                "AbleToScale",
                "True",
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        else:
            self._set(hpa, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        replicas, reason, message = convert_desired_replicas_with_rules(
            current, stabilized, min_replicas, max_replicas
        )
        self._set(hpa, "ScalingLimited", "False" if replicas == stabilized else "True", reason, message)
        return replicas

    def _stabilize(self, key: str, desired: int) -> int:
        now = self.clock.monotonic()
        cutoff = now - self.downscale_stabilization
        best = desired
        old_index = None
        recs = self.recommendations.setdefault(key, [])
        for index, rec in enumerate(recs):
            if rec.at < cutoff:
                old_index = index
            elif rec.replicas > best:
                best = rec.replicas
        if old_index is not None:
            recs[old_index] = _Recommendation(desired, now)
        else:
            recs.append(_Recommendation(desired, now))
        return best

    def _normalize_with_behaviors(
        self, hpa: Obj, key: str, current: int, desired: int, min_replicas: int, max_replicas: int
    ) -> int:
        behavior = hpa["spec"]["behavior"]
        up = dict(behavior.get("scaleUp") or {})
        down = dict(behavior.get("scaleDown") or {})
        if down.get("stabilizationWindowSeconds") is None:
            down["stabilizationWindowSeconds"] = int(self.downscale_stabilization)
        if up.get("stabilizationWindowSeconds") is None:
            up["stabilizationWindowSeconds"] = 0
        stabilized, reason, message = self._stabilize_with_behaviors(key, current, desired, up, down)
        if stabilized != desired:
            self._set(hpa, "AbleToScale", "True", reason, message)
        else:
            self._set(hpa, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        replicas, reason, message = self._behavior_rate(
            key, current, stabilized, min_replicas, max_replicas, up, down
        )
        self._set(hpa, "ScalingLimited", "False" if replicas == stabilized else "True", reason, message)
        return replicas

    def _stabilize_with_behaviors(
        self, key: str, current: int, desired: int, up: Obj, down: Obj
    ) -> tuple[int, str, str]:
        now = self.clock.monotonic()
        up_cutoff = now - float(up["stabilizationWindowSeconds"])
        down_cutoff = now - float(down["stabilizationWindowSeconds"])
        up_rec = down_rec = desired
        old_index = None
        recs = self.recommendations.setdefault(key, [])
        for index, rec in enumerate(recs):
            if rec.at > up_cutoff:
                up_rec = min(rec.replicas, up_rec)
            if rec.at > down_cutoff:
                down_rec = max(rec.replicas, down_rec)
            if rec.at < up_cutoff and rec.at < down_cutoff:
                old_index = index
        recommendation = current
        if recommendation < up_rec:
            recommendation = up_rec
        if recommendation > down_rec:
            recommendation = down_rec
        if old_index is not None:
            recs[old_index] = _Recommendation(desired, now)
        else:
            recs.append(_Recommendation(desired, now))
        if desired >= current:
            return (
                recommendation,
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
        return (
            recommendation,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )

    def _change_in_period(self, period: float, events: list[_ScaleEvent]) -> int:
        cutoff = self.clock.monotonic() - period
        return sum(e.change for e in events if e.at > cutoff)

    def _behavior_rate(
        self, key: str, current: int, desired: int, min_replicas: int, max_replicas: int, up: Obj, down: Obj
    ) -> tuple[int, str, str]:
        """convertDesiredReplicasWithBehaviorRate."""
        ups = self.scale_up_events.get(key, [])
        downs = self.scale_down_events.get(key, [])
        if desired > current:
            limit = self._scale_up_limit(current, ups, downs, up)
            limit = max(limit, current)
            if max_replicas > limit:
                maximum, reason = limit, "ScaleUpLimit"
                message = "the desired replica count is increasing faster than the maximum scale rate"
            else:
                maximum, reason = max_replicas, "TooManyReplicas"
                message = "the desired replica count is more than the maximum replica count"
            if desired > maximum:
                return maximum, reason, message
        elif desired < current:
            limit = self._scale_down_limit(current, ups, downs, down)
            limit = min(limit, current)
            if min_replicas < limit:
                minimum, reason = limit, "ScaleDownLimit"
                message = "the desired replica count is decreasing faster than the maximum scale rate"
            else:
                minimum, reason = min_replicas, "TooFewReplicas"
                message = "the desired replica count is less than the minimum replica count"
            if desired < minimum:
                return minimum, reason, message
        return desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def _scale_up_limit(
        self, current: int, ups: list[_ScaleEvent], downs: list[_ScaleEvent], rules: Obj
    ) -> int:
        policy = rules.get("selectPolicy") or "Max"
        if policy == "Disabled":
            return current
        pick = min if policy == "Min" else max
        result: int | None = None
        for rule in rules.get("policies") or ():
            period = float(rule.get("periodSeconds") or 0)
            start = current - self._change_in_period(period, ups) + self._change_in_period(period, downs)
            if rule.get("type") == "Pods":
                proposed = start + int(rule.get("value") or 0)
            else:
                proposed = math.ceil(start * (1 + int(rule.get("value") or 0) / 100))
            result = proposed if result is None else pick(result, proposed)
        return current if result is None else result

    def _scale_down_limit(
        self, current: int, ups: list[_ScaleEvent], downs: list[_ScaleEvent], rules: Obj
    ) -> int:
        policy = rules.get("selectPolicy") or "Max"
        if policy == "Disabled":
            return current
        pick = max if policy == "Min" else min
        result: int | None = None
        for rule in rules.get("policies") or ():
            period = float(rule.get("periodSeconds") or 0)
            start = current - self._change_in_period(period, ups) + self._change_in_period(period, downs)
            if rule.get("type") == "Pods":
                proposed = start - int(rule.get("value") or 0)
            else:
                proposed = int(start * (1 - int(rule.get("value") or 0) / 100))
            result = proposed if result is None else pick(result, proposed)
        return current if result is None else result

    def _store_scale_event(self, behavior: Obj | None, key: str, previous: int, new: int) -> None:
        if behavior is None:
            return
        now = self.clock.monotonic()
        if new > previous:
            rules = behavior.get("scaleUp") or {}
            events = self.scale_up_events.setdefault(key, [])
            change = new - previous
        else:
            rules = behavior.get("scaleDown") or {}
            events = self.scale_down_events.setdefault(key, [])
            change = previous - new
        longest = max((float(p.get("periodSeconds") or 0) for p in rules.get("policies") or ()), default=0.0)
        outdated = None
        for index, event in enumerate(events):
            if event.at < now - longest:
                event.outdated = True
            if event.outdated:
                outdated = index
        if outdated is not None:
            events[outdated] = _ScaleEvent(change, now)
        else:
            events.append(_ScaleEvent(change, now))
