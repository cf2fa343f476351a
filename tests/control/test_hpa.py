"""The HorizontalPodAutoscaler controller: seed a store, sync once, check what Kubernetes would do.

Pods carry their usage in the simulated metrics source (annotations or ``set_load``); the
target is a Deployment whose scale subresource the controller reads and writes. The last
test applies the shared ``controllers__hpa-rs.yaml`` to a running simulated cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from nbcluster import Cluster
from nbcluster.api.yamlio import load_path
from nbcluster.cli import apply as apply_verbs
from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.hpa import (
    HorizontalPodAutoscalerController,
    convert_desired_replicas_with_rules,
)
from nbcluster.control.metrics import ANNOTATION_CPU, ANNOTATION_RPS, MetricsSource
from nbcluster.util.clock import ManualClock, format_time
from tests.examples import EXAMPLES_DIR

Obj = dict[str, Any]
KEY = "default/web"
EXAMPLES = EXAMPLES_DIR
CPU_REASON = "cpu resource utilization (percentage of request) above target"


class Bed:
    def __init__(self, api: APIServer, clock: ManualClock) -> None:
        self.api = api
        self.clock = clock
        self.metrics = MetricsSource(api, clock)
        self.hpa = HorizontalPodAutoscalerController(api, clock, self.metrics)
        self.count = 0

    def deployment(self, replicas: int, *, cpu: str | None = "100m") -> None:
        container: Obj = {"name": "app", "image": "nginx"}
        if cpu:
            container["resources"] = {"requests": {"cpu": cpu}}
        self.api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}},
                },
            }
        )
        for _ in range(replicas):
            self.pod(cpu=cpu)

    def pod(
        self,
        *,
        cpu: str | None = "100m",
        usage: str | None = None,
        phase: str = "Running",
        ready: bool = True,
        age: float = 600.0,
        ready_for: float = 600.0,
        annotations: dict[str, str] | None = None,
    ) -> str:
        self.count += 1
        name = f"web-{self.count}"
        container: Obj = {"name": "app", "image": "nginx"}
        if cpu:
            container["resources"] = {"requests": {"cpu": cpu}}
        notes = dict(annotations or {})
        if usage is not None:
            notes[ANNOTATION_CPU] = usage
        self.api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": "default",
                    "labels": {"app": "web"},
                    "annotations": notes,
                },
                "spec": {"containers": [container]},
            }
        )
        pod = self.api.get("pods", name, namespace="default")
        now = self.clock.now()
        pod["status"] = {
            "phase": phase,
            "startTime": format_time(now - timedelta(seconds=age)),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": format_time(now - timedelta(seconds=ready_for)),
                }
            ],
        }
        self.api.update_status(pod)
        return name

    def autoscaler(self, *, min_replicas: int = 1, max_replicas: int = 10, **spec: Any) -> None:
        body: Obj = {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        }
        body.update(spec)
        self.api.create(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "web"},
                "spec": body,
            }
        )

    def sync(self) -> Obj:
        assert self.hpa.sync(KEY) == 15.0
        return self.api.get("horizontalpodautoscalers", "web", namespace="default")

    def replicas(self) -> int:
        return int(self.api.get("deployments", "web", namespace="default")["spec"]["replicas"])

    def load(self, usage: str) -> None:
        self.metrics.clear_load()
        self.metrics.set_load("app=web", cpu=usage)

    def events(self) -> list[tuple[str, str, str]]:
        items = self.api.list("events", namespace="default")["items"]
        items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
        return [
            (e["type"], e["reason"], e["message"])
            for e in items
            if e["source"]["component"] == "horizontal-pod-autoscaler"
        ]


def condition(hpa: Obj, kind: str) -> tuple[str, str, str]:
    for c in hpa["status"]["conditions"]:
        if c["type"] == kind:
            return c["status"], c["reason"], c["message"]
    raise AssertionError(f"no {kind} condition")


@pytest.fixture
def bed(api: APIServer, clock: ManualClock) -> Bed:
    return Bed(api, clock)


# -- the algorithm --------------------------------------------------------------------------


def test_scale_up_to_ceil_of_current_times_ratio_with_kubernetes_status_and_event(bed: Bed) -> None:
    bed.deployment(3)
    bed.load("90m")  # 90 % of the 100m request, target 50 %: ceil(3 x 1.8) = 6
    bed.autoscaler()
    hpa = bed.sync()
    assert bed.replicas() == 6
    status = hpa["status"]
    assert status["currentReplicas"] == 3 and status["desiredReplicas"] == 6
    assert status["lastScaleTime"] == format_time(bed.clock.now())
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "90m"}},
        }
    ]
    assert condition(hpa, "AbleToScale") == (
        "True",
        "SucceededRescale",
        "the HPA controller was able to update the target scale to 6",
    )
    assert condition(hpa, "ScalingActive") == (
        "True",
        "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
    )
    assert condition(hpa, "ScalingLimited") == (
        "False",
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
    assert [c["type"] for c in status["conditions"]] == ["AbleToScale", "ScalingActive", "ScalingLimited"]
    assert bed.events() == [("Normal", "SuccessfulRescale", f"New size: 6; reason: {CPU_REASON}")]


def test_ten_percent_tolerance(bed: Bed) -> None:
    bed.deployment(3)
    bed.load("54m")  # ratio 1.08: inside the tolerance
    bed.autoscaler()
    hpa = bed.sync()
    assert bed.replicas() == 3 and "lastScaleTime" not in hpa["status"]
    assert hpa["status"]["desiredReplicas"] == 3
    assert condition(hpa, "AbleToScale")[1] == "ReadyForNewScale"
    bed.load("56m")  # ratio 1.12: ceil(3 x 1.12) = 4
    bed.sync()
    assert bed.replicas() == 4


def test_a_status_that_did_not_change_is_not_written_again(bed: Bed) -> None:
    bed.deployment(2)
    bed.load("50m")
    bed.autoscaler()
    first = bed.sync()
    second = bed.sync()
    assert first["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]


def test_max_replicas_and_the_scale_up_rate_limit(bed: Bed) -> None:
    bed.deployment(3)
    bed.load("90m")
    bed.autoscaler(max_replicas=4)
    hpa = bed.sync()
    assert bed.replicas() == 4
    assert condition(hpa, "ScalingLimited") == (
        "True",
        "TooManyReplicas",
        "the desired replica count is more than the maximum replica count",
    )
    assert convert_desired_replicas_with_rules(1, 20, 1, 10) == (
        4,
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    assert convert_desired_replicas_with_rules(5, 20, 1, 100)[0] == 10


def test_below_min_replicas_scales_up_without_metrics(bed: Bed) -> None:
    bed.deployment(1)
    bed.autoscaler(min_replicas=3)
    hpa = bed.sync()
    assert bed.replicas() == 3
    assert bed.events() == [
        (
            "Normal",
            "SuccessfulRescale",
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas",
        )
    ]
    assert "currentMetrics" not in hpa["status"]


def test_scale_down_waits_for_the_default_300s_stabilisation_window(bed: Bed) -> None:
    bed.deployment(4)
    bed.load("10m")  # 10 %: ceil(4 x 0.2) = 1
    bed.autoscaler()
    hpa = bed.sync()
    assert bed.replicas() == 4
    assert condition(hpa, "AbleToScale") == (
        "True",
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent recommendation",
    )
    bed.clock.advance(290)
    bed.sync()
    assert bed.replicas() == 4
    bed.clock.advance(15)
    hpa = bed.sync()
    assert bed.replicas() == 1
    assert bed.events()[-1] == (
        "Normal",
        "SuccessfulRescale",
        "New size: 1; reason: All metrics below target",
    )


def test_behavior_stabilization_window_is_honoured(bed: Bed) -> None:
    bed.deployment(4)
    bed.load("10m")
    bed.autoscaler(behavior={"scaleDown": {"stabilizationWindowSeconds": 30}})
    bed.sync()
    assert bed.replicas() == 4
    bed.clock.advance(31)
    hpa = bed.sync()
    assert bed.replicas() == 1
    assert condition(hpa, "ScalingLimited")[1] == "DesiredWithinRange"


def test_behavior_scale_up_policies_limit_the_rate(bed: Bed) -> None:
    bed.deployment(2)
    bed.load("500m")  # 1000 %: wants 20
    bed.autoscaler(
        max_replicas=20,
        behavior={"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}},
    )
    hpa = bed.sync()
    assert bed.replicas() == 3
    assert condition(hpa, "ScalingLimited") == (
        "True",
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    bed.clock.advance(15)
    bed.sync()
    assert bed.replicas() == 3  # one pod per 60 s: the period has not passed


def test_unready_pods_count_as_idle_on_a_scale_up(bed: Bed) -> None:
    bed.deployment(2)
    bed.load("100m")  # the two ready pods run at 100 % (target 50 %)
    bed.pod(phase="Pending", ready=False)
    bed.pod(ready=True, age=5, ready_for=2)  # just started: its first window is not counted
    bed.api.scale("deployments", "web", 4, namespace="default")
    bed.autoscaler()
    hpa = bed.sync()
    # (100 + 100 + 0 + 0) / 400 = 50 %: no change
    assert bed.replicas() == 4 and hpa["status"]["desiredReplicas"] == 4
    assert hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 100


def test_requests_per_second_as_a_pods_metric(bed: Bed) -> None:
    bed.deployment(2)
    bed.metrics.set_load("app=web", requests_per_second=30)
    bed.autoscaler(
        metrics=[
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "requests_per_second"},
                    "target": {"type": "AverageValue", "averageValue": "10"},
                },
            }
        ]
    )
    hpa = bed.sync()
    assert bed.replicas() == 4  # ceil(2 x 3) = 6, bounded by the 2x rate
    assert hpa["status"]["currentMetrics"] == [
        {
            "type": "Pods",
            "pods": {"metric": {"name": "requests_per_second"}, "current": {"averageValue": "30"}},
        }
    ]
    assert bed.events()[-1][2] == "New size: 4; reason: pods metric requests_per_second above target"


def test_split_load_converges(bed: Bed) -> None:
    bed.deployment(2)
    bed.metrics.set_load("app=web", requests_per_second=120, split=True)  # 60 per pod
    bed.autoscaler(
        metrics=[
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "requests_per_second"},
                    "target": {"type": "AverageValue", "averageValue": "20"},
                },
            }
        ]
    )
    bed.sync()
    assert bed.replicas() == 4
    for _ in range(2):
        bed.pod()
    bed.clock.advance(15)
    bed.sync()  # 30 per pod on 4 pods: ceil(4 x 1.5) = 6
    assert bed.replicas() == 6


def test_annotation_usage_and_multiple_metrics_take_the_largest(bed: Bed) -> None:
    bed.api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "x"}]},
                },
            },
        }
    )
    bed.pod(usage="60m", annotations={ANNOTATION_RPS: "1"})
    bed.pod(usage="60m", annotations={ANNOTATION_RPS: "1"})
    bed.autoscaler(
        metrics=[
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "requests_per_second"},
                    "target": {"type": "AverageValue", "averageValue": "1"},
                },
            },
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
            },
        ]
    )
    hpa = bed.sync()
    assert bed.replicas() == 3  # ceil(2 x 60 / 50) = 3 beats 2
    assert hpa["status"]["currentMetrics"][0]["pods"]["current"]["averageValue"] == "1"


# -- what goes wrong, as Kubernetes says it -----------------------------------------------------


def test_missing_cpu_requests(bed: Bed) -> None:
    bed.deployment(1, cpu=None)
    bed.load("50m")
    bed.autoscaler()
    hpa = bed.sync()
    status, reason, message = condition(hpa, "ScalingActive")
    error = "failed to get cpu utilization: missing request for cpu in container app of Pod web-1"
    assert (status, reason) == ("False", "FailedGetResourceMetric")
    assert message == f"the HPA was unable to compute the replica count: {error}"
    assert bed.events() == [
        ("Warning", "FailedGetResourceMetric", error),
        (
            "Warning",
            "FailedComputeMetricsReplicas",
            f"invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: {error}",
        ),
    ]
    assert hpa["status"]["currentMetrics"] == [{"type": ""}]
    assert hpa["status"]["currentReplicas"] == 1


def test_no_metrics_yet_for_pods_in_their_first_window(bed: Bed) -> None:
    bed.api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "x"}]},
                },
            },
        }
    )
    bed.pod(age=1, ready_for=1)
    bed.autoscaler()
    hpa = bed.sync()
    assert condition(hpa, "ScalingActive")[2].endswith(
        "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)"
    )


def test_a_target_without_api_version_is_looked_up_in_the_core_group(bed: Bed) -> None:
    bed.deployment(1)
    bed.autoscaler(scaleTargetRef={"kind": "Deployment", "name": "web"})
    hpa = bed.sync()
    assert condition(hpa, "AbleToScale") == (
        "False",
        "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: no matches for kind "Deployment" in group ""',
    )
    assert bed.events() == [("Warning", "FailedGetScale", 'no matches for kind "Deployment" in group ""')]


def test_a_missing_target(bed: Bed) -> None:
    bed.autoscaler()
    hpa = bed.sync()
    assert condition(hpa, "AbleToScale")[2].endswith('deployments.apps "web" not found')


def test_zero_replicas_disables_scaling(bed: Bed) -> None:
    bed.deployment(0)
    bed.autoscaler()
    hpa = bed.sync()
    assert condition(hpa, "ScalingActive") == (
        "False",
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )
    assert bed.replicas() == 0


def test_a_deleted_autoscaler_forgets_its_recommendations(bed: Bed) -> None:
    bed.deployment(2)
    bed.load("50m")
    bed.autoscaler()
    bed.sync()
    assert KEY in bed.hpa.recommendations
    bed.api.delete("horizontalpodautoscalers", "web", namespace="default")
    assert bed.hpa.sync(KEY) is None
    assert KEY not in bed.hpa.recommendations


# -- the shared manifest on a running simulated cluster -----------------------------------------


def _until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _hpa_condition(c: Cluster, namespace: str, kind: str) -> tuple[str, str, str] | None:
    hpa = c.api.cached("horizontalpodautoscalers", "frontend-scaler", namespace)
    for item in ((hpa or {}).get("status") or {}).get("conditions") or ():
        if item["type"] == kind:
            return item["status"], item["reason"], item["message"]
    return None


def test_shared_hpa_rs_manifest_on_a_simulated_cluster_with_a_set_load() -> None:
    clock = ManualClock()
    with Cluster("hpa-rs", runtime="simulated", nodes=1, clock=clock) as c:
        # As shipped: scaleTargetRef has no apiVersion, which Kubernetes reads as the core
        # group, where there is no ReplicaSet (kubernetes/website#52537 added apps/v1).
        c.apply(EXAMPLES / "controllers__frontend.yaml")
        c.apply(EXAMPLES / "controllers__hpa-rs.yaml")
        c.wait("pods", selector="tier=frontend", condition="Ready", count=3)
        clock.advance(15)
        status = _until(lambda: _hpa_condition(c, "default", "AbleToScale"), "the HPA's first sync")
        assert status == (
            "False",
            "FailedGetScale",
            'the HPA controller was unable to get the target\'s current scale: no matches for kind "ReplicaSet" in group ""',
        )
        # The same files with apiVersion: apps/v1 and a CPU request, under a set load.
        c.kubectl("create namespace fixed")
        docs = [d.obj for d in load_path(EXAMPLES / "controllers__frontend.yaml")]
        docs[0]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m"}}
        hpa = next(d.obj for d in load_path(EXAMPLES / "controllers__hpa-rs.yaml"))
        hpa["spec"]["scaleTargetRef"]["apiVersion"] = "apps/v1"
        apply_verbs.apply(c.api, [*docs, hpa], default_namespace="fixed")
        c.wait("pods", namespace="fixed", selector="tier=frontend", condition="Ready", count=3)
        c.plane.metrics.set_load("tier=frontend", namespace="fixed", cpu="240m", split=True)  # 80 % each
        clock.advance(15)
        _until(
            lambda: (
                (c.api.cached("replicasets", "frontend", "fixed") or {}).get("spec", {}).get("replicas") == 5
            ),
            "ceil(3 x 80 / 50) = 5 replicas",
        )
        events = c.kubectl("events -n fixed --for hpa/frontend-scaler")
        assert f"New size: 5; reason: {CPU_REASON}" in list(events["MESSAGE"])
        c.wait("pods", namespace="fixed", selector="tier=frontend", condition="Ready", count=5)
        clock.advance(15)  # the same total load on 5 pods: 48 % each, inside the tolerance
        _until(
            lambda: (
                _hpa_condition(c, "fixed", "AbleToScale")
                == ("True", "ReadyForNewScale", "recommended size matches current size")
            ),
            "a steady HPA",
        )
        table = c.kubectl("get hpa -n fixed")
        assert table["TARGETS"][0] == "cpu: 48%/50%" and table["REPLICAS"][0] == "5"


# -- kubectl describe hpa -----------------------------------------------------------------


def test_describe_shows_metrics_behavior_replicas_conditions_and_events_like_kubectl(bed: Bed) -> None:
    from nbcluster.cli.describe import describe

    bed.deployment(3)
    bed.load("90m")
    scale_down = {
        "stabilizationWindowSeconds": 30,
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
    }
    bed.autoscaler(behavior={"scaleDown": scale_down})
    page = describe(bed.api, bed.sync(), now=bed.clock.now())
    # kubectl's layout (describeHorizontalPodAutoscalerV2), tabwriter columns included.
    column = len("  resource cpu on pods  (as a percentage of request):  ")
    assert page.splitlines()[5:] == [
        "Reference:".ljust(column) + "Deployment/web",
        "Metrics:".ljust(column) + "( current / target )",
        "  resource cpu on pods  (as a percentage of request):  90% (90m) / 50%",
        "Min replicas:".ljust(column) + "1",
        "Max replicas:".ljust(column) + "10",
        "Behavior:",
        "  Scale Up:",
        "    Stabilization Window: 0 seconds",
        "    Select Policy: Max",
        "    Policies:",
        "      - Type: Pods     Value: 4    Period: 15 seconds",
        "      - Type: Percent  Value: 100  Period: 15 seconds",
        "  Scale Down:",
        "    Stabilization Window: 30 seconds",
        "    Select Policy: Max",
        "    Policies:",
        "      - Type: Pods  Value: 1  Period: 60 seconds",
        "Deployment pods:    3 current / 6 desired",
        "Conditions:",
        "  Type            Status  Reason              Message",
        "  ----            ------  ------              -------",
        "  AbleToScale     True    SucceededRescale    the HPA controller was able to update the target scale to 6",
        "  ScalingActive   True    ValidMetricFound    the HPA was able to successfully calculate a replica count "
        "from cpu resource utilization (percentage of request)",
        "  ScalingLimited  False   DesiredWithinRange  the desired count is within the acceptable range",
        "Events:",
        "  Type    Reason             Age   From                       Message",
        "  ----    ------             ----  ----                       -------",
        f"  Normal  SuccessfulRescale  0s    horizontal-pod-autoscaler  New size: 6; reason: {CPU_REASON}",
    ]
