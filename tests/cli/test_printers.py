"""nbcluster.cli.printers: kubectl's table columns and cells (printers.go, HumanDuration)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from nbcluster.api.resources import RESOURCES, resolve
from nbcluster.cli.printers import (
    STATUS_COLOURS,
    age,
    columns,
    human_duration,
    pod_status_reason,
    row,
    status_colour,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SECOND = 1.0
MINUTE = 60.0
HOUR = 3600.0
DAY = 24 * HOUR
MS = 0.001


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` before NOW (how the API server writes times)."""
    moment = NOW - timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, created: float | None = 3600, **extra) -> dict:
    out = {"name": name, "namespace": "default", **extra}
    if created is not None:
        out["creationTimestamp"] = ago(created)
    return out


def cells(obj: dict, wide: bool = False) -> dict[str, str]:
    info = resolve(obj["kind"])
    header = columns(info, wide=wide)
    values = row(obj, now=NOW, wide=wide)
    assert len(header) == len(values)
    return dict(zip(header, values))


# --------------------------------------------------------------------------- HumanDuration
# apimachinery pkg/util/duration/duration_test.go, TestHumanDuration + TestHumanDurationBoundaries


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (SECOND, "1s"),
        (70 * SECOND, "70s"),
        (190 * SECOND, "3m10s"),
        (70 * MINUTE, "70m"),
        (47 * HOUR, "47h"),
        (49 * HOUR, "2d1h"),
        ((8 * 24 + 2) * HOUR, "8d"),
        (367 * 24 * HOUR, "367d"),
        ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
        ((365 * 8 * 24 + 2) * HOUR, "8y"),
    ],
)
def test_human_duration(seconds: float, want: str):
    assert human_duration(seconds) == want


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (-2 * SECOND, "<invalid>"),
        (-2 * SECOND + 1e-9, "0s"),
        (0, "0s"),
        (SECOND - MS, "0s"),
        (2 * MINUTE - MS, "119s"),
        (2 * MINUTE, "2m"),
        (2 * MINUTE + SECOND, "2m1s"),
        (10 * MINUTE - MS, "9m59s"),
        (10 * MINUTE, "10m"),
        (10 * MINUTE + SECOND, "10m"),
        (3 * HOUR - MS, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + MINUTE, "3h1m"),
        (8 * HOUR - MS, "7h59m"),
        (8 * HOUR, "8h"),
        (8 * HOUR + 59 * MINUTE, "8h"),
        (2 * DAY - MS, "47h"),
        (2 * DAY, "2d"),
        (2 * DAY + HOUR, "2d1h"),
        (8 * DAY - MS, "7d23h"),
        (8 * DAY, "8d"),
        (8 * DAY + 23 * HOUR, "8d"),
        (2 * 365 * DAY - MS, "729d"),
        (2 * 365 * DAY, "2y"),
        (2 * 365 * DAY + 23 * HOUR, "2y"),
        (2 * 365 * DAY + 23 * HOUR + 59 * MINUTE, "2y"),
        (2 * 365 * DAY + DAY - MS, "2y"),
        (2 * 365 * DAY + DAY, "2y1d"),
        (3 * 365 * DAY, "3y"),
        (4 * 365 * DAY, "4y"),
        (5 * 365 * DAY, "5y"),
        (6 * 365 * DAY, "6y"),
        (7 * 365 * DAY, "7y"),
        (8 * 365 * DAY - MS, "7y364d"),
        (8 * 365 * DAY, "8y"),
        (8 * 365 * DAY + 364 * DAY, "8y"),
        (9 * 365 * DAY, "9y"),
    ],
)
def test_human_duration_boundaries(seconds: float, want: str):
    assert human_duration(seconds) == want


def test_age():
    assert age({"metadata": {"creationTimestamp": ago(192)}}, NOW) == "3m12s"
    assert age({"metadata": {"creationTimestamp": ago(52 * HOUR)}}, NOW) == "2d4h"
    assert age({"metadata": {}}, NOW) == "<unknown>"
    # a naive "now" is read as UTC; fractional (MicroTime) stamps parse too
    assert (
        age({"metadata": {"creationTimestamp": "2024-05-01T11:59:55.250000Z"}}, NOW.replace(tzinfo=None))
        == "4s"
    )


# --------------------------------------------------------------------------- columns
# Written out from printers.go's column definitions, upper-cased as kubectl prints them.

EXPECTED_COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "pods": (
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
    ),
    "podtemplates": (["NAME", "CONTAINERS", "IMAGES", "POD LABELS"], []),
    "poddisruptionbudgets": (
        ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"],
        [],
    ),
    "replicationcontrollers": (
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    "replicasets": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "daemonsets": (
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    "jobs": (["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "cronjobs": (
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    "services": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
    "ingresses": (["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], []),
    "ingressclasses": (["NAME", "CONTROLLER", "PARAMETERS", "AGE"], []),
    "statefulsets": (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"]),
    "endpoints": (["NAME", "ENDPOINTS", "AGE"], []),
    "nodes": (
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
    ),
    "events": (
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
    ),
    "namespaces": (["NAME", "STATUS", "AGE"], []),
    "secrets": (["NAME", "TYPE", "DATA", "AGE"], []),
    "serviceaccounts": (["NAME", "SECRETS", "AGE"], []),
    "persistentvolumes": (
        [
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "persistentvolumeclaims": (
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "componentstatuses": (["NAME", "STATUS", "MESSAGE", "ERROR"], []),
    "deployments": (
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    "horizontalpodautoscalers": (
        ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
        [],
    ),
    "configmaps": (["NAME", "DATA", "AGE"], []),
    "networkpolicies": (["NAME", "POD-SELECTOR", "AGE"], []),
    "rolebindings": (["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
    "clusterrolebindings": (["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
    "leases": (["NAME", "HOLDER", "AGE"], []),
    "storageclasses": (
        ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
        [],
    ),
    "controllerrevisions": (["NAME", "CONTROLLER", "REVISION", "AGE"], []),
    "resourcequotas": (["NAME", "REQUEST", "LIMIT", "AGE"], []),
    "priorityclasses": (["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE"], ["PREEMPTIONPOLICY"]),
    "endpointslices": (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
    # no printer in Kubernetes: the API server's default table
    "roles": (["NAME", "CREATED AT"], []),
    "clusterroles": (["NAME", "CREATED AT"], []),
    "limitranges": (["NAME", "CREATED AT"], []),
    "bindings": (["NAME", "CREATED AT"], []),
}


@pytest.mark.parametrize("plural", sorted(EXPECTED_COLUMNS))
def test_columns(plural: str):
    normal, extra = EXPECTED_COLUMNS[plural]
    info = resolve(plural)
    assert columns(info) == normal
    wide = columns(info, wide=True)
    assert [c for c in wide if c not in extra] == normal
    assert [c for c in wide if c in extra] == extra


def test_every_served_kind_has_columns_and_rows_that_line_up():
    assert {r.plural for r in RESOURCES} <= set(EXPECTED_COLUMNS)
    for info in RESOURCES:
        obj = {"apiVersion": info.api_version, "kind": info.kind, "metadata": meta("x")}
        for wide in (False, True):
            assert len(row(obj, now=NOW, wide=wide)) == len(columns(info, wide=wide)), info.kind


def test_unknown_kind_gets_name_and_age():
    from nbcluster.api.resources import ResourceInfo

    crd = ResourceInfo(kind="Widget", plural="widgets", group="example.com", version="v1", namespaced=True)
    assert columns(crd) == ["NAME", "AGE"]
    assert row({"kind": "Widget", "metadata": meta("w", created=90)}, now=NOW) == ["w", "90s"]


def test_created_at_table_prints_rfc3339_utc():
    role = {"kind": "Role", "metadata": {"name": "r", "creationTimestamp": "2024-04-30T10:00:00+02:00"}}
    assert row(role, now=NOW) == ["r", "2024-04-30T08:00:00Z"]


# --------------------------------------------------------------------------- pods
# Pod dicts in the shape the kubelet writes; cases from printers_test.go TestPrintPod*.


def pod(
    name: str = "web",
    *,
    phase: str = "Running",
    containers: int = 1,
    init: list[dict] | None = None,
    statuses: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    conditions: list[dict] | None = None,
    reason: str | None = None,
    deleting: bool = False,
) -> dict:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name),
        "spec": {"containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]},
        "status": {"phase": phase},
    }
    if init is not None:
        obj["spec"]["initContainers"] = init
    if statuses is not None:
        obj["status"]["containerStatuses"] = statuses
    if init_statuses is not None:
        obj["status"]["initContainerStatuses"] = init_statuses
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    if reason is not None:
        obj["status"]["reason"] = reason
    if deleting:
        obj["metadata"]["deletionTimestamp"] = ago(5)
    return obj


def running(ready: bool = True, restarts: int = 0, **extra) -> dict:
    return {
        "name": "c0",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(60)}},
        **extra,
    }


def waiting(reason: str, restarts: int = 0, **extra) -> dict:
    return {
        "name": "c0",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(reason: str | None, exit_code: int = 0, signal: int = 0, restarts: int = 0, **extra) -> dict:
    state: dict = {"exitCode": exit_code}
    if reason is not None:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"name": "c0", "ready": False, "restartCount": restarts, "state": {"terminated": state}, **extra}


def last_terminated(seconds_ago: float) -> dict:
    return {"lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(seconds_ago)}}}


def cond(ctype: str, status: str = "True", reason: str | None = None) -> dict:
    out = {"type": ctype, "status": status}
    if reason:
        out["reason"] = reason
    return out


def pod_row(p: dict) -> list[str]:
    return row(p, now=NOW)[1:4]  # READY, STATUS, RESTARTS


def test_pod_running():
    p = pod(statuses=[running()], conditions=[cond("Ready")])
    assert row(p, now=NOW) == ["web", "1/1", "Running", "0", "60m"]
    assert pod_status_reason(p) == "Running"


def test_pod_restarts_show_when_last_restart_happened():
    p = pod(statuses=[running(restarts=3, **last_terminated(12))])
    assert pod_row(p) == ["1/1", "Running", "3 (12s ago)"]


def test_pod_two_containers_restarts_sum_latest_wins():
    statuses = [
        {**running(restarts=6), **last_terminated(5 * DAY)},
        {**running(restarts=3), **last_terminated(20 * DAY), "name": "c1"},
    ]
    assert pod_row(pod(containers=2, statuses=statuses)) == ["2/2", "Running", "9 (5d ago)"]


def test_pod_container_waiting_reason_overrides_phase():
    statuses = [running(restarts=3), waiting("ContainerWaitingReason", restarts=3, name="c1")]
    assert pod_row(pod(containers=2, phase="podPhase", statuses=statuses)) == [
        "1/2",
        "ContainerWaitingReason",
        "6",
    ]


def test_pod_first_container_wins_over_later_ones():
    statuses = [
        waiting("ContainerWaitingReason", restarts=3),
        terminated("ContainerTerminatedReason", restarts=3),
    ]
    assert pod_row(pod(containers=2, phase="podPhase", statuses=statuses))[1] == "ContainerWaitingReason"


def test_pod_ready_without_running_state_is_not_counted():
    statuses = [running(restarts=3), {"name": "c1", "ready": True, "restartCount": 3, "state": {}}]
    assert pod_row(pod(containers=2, phase="podPhase", statuses=statuses)) == ["1/2", "podPhase", "6"]


def test_pod_reason_from_status_reason():
    p = pod(phase="Failed", reason="Evicted", statuses=[terminated("ContainerStatusUnknown", 137)])
    assert pod_status_reason(p) == "ContainerStatusUnknown"
    assert pod_status_reason(pod(phase="Failed", reason="Evicted")) == "Evicted"


@pytest.mark.parametrize(
    ("state", "want"),
    [
        (waiting("ContainerCreating"), "ContainerCreating"),
        (waiting("CrashLoopBackOff", restarts=4), "CrashLoopBackOff"),
        (waiting("ErrImagePull"), "ErrImagePull"),
        (waiting("ImagePullBackOff"), "ImagePullBackOff"),
        (waiting("CreateContainerConfigError"), "CreateContainerConfigError"),
        (terminated("Completed", 0), "Completed"),
        (terminated("Error", 1), "Error"),
        (terminated("OOMKilled", 137), "OOMKilled"),
        (terminated(None, 3), "ExitCode:3"),
        (terminated(None, 137, signal=9), "Signal:9"),
    ],
)
def test_pod_main_container_states(state: dict, want: str):
    assert pod_status_reason(pod(statuses=[state])) == want


def test_pod_pending_before_any_container_status():
    assert pod_status_reason(pod(phase="Pending")) == "Pending"
    no_status = pod()
    del no_status["status"]
    assert pod_row(no_status) == ["0/1", "Pending", "0"]


def test_pod_completed_container_next_to_running_one():
    statuses = [
        {**terminated("Completed", 0, restarts=3), "ready": True},
        {**running(restarts=3), "name": "c1"},
    ]
    assert pod_row(pod(containers=2, statuses=statuses)) == ["1/2", "NotReady", "6"]
    with_ready = pod(containers=2, statuses=statuses, conditions=[cond("Ready")])
    assert pod_row(with_ready) == ["1/2", "Running", "6"]


def test_pod_succeeded_and_failed():
    assert pod_row(pod(phase="Succeeded", statuses=[terminated("Completed", 0)])) == ["0/1", "Completed", "0"]
    assert pod_row(pod(phase="Failed", statuses=[terminated("Error", 1)])) == ["0/1", "Error", "0"]


def test_pod_terminating():
    assert pod_row(pod(statuses=[running(ready=False)], deleting=True))[1] == "Terminating"
    assert pod_row(pod(phase="Pending", deleting=True)) == ["0/1", "Terminating", "0"]
    # a finished pod keeps its final word while it is being deleted
    done = pod(phase="Succeeded", statuses=[terminated("Completed", 0)], deleting=True)
    assert pod_status_reason(done) == "Completed"


def test_pod_on_a_lost_node():
    assert pod_status_reason(pod(phase="Running", reason="NodeLost")) == "NodeLost"
    assert pod_status_reason(pod(phase="Running", reason="NodeLost", deleting=True)) == "Unknown"


def test_pod_scheduling_gated():
    p = pod(containers=2, phase="Pending", conditions=[cond("PodScheduled", "False", "SchedulingGated")])
    assert pod_row(p) == ["0/2", "SchedulingGated", "0"]


def test_pod_unschedulable_stays_pending():
    p = pod(phase="Pending", conditions=[cond("PodScheduled", "False", "Unschedulable")])
    assert pod_status_reason(p) == "Pending"


# init containers ------------------------------------------------------------------


def init_spec(*names: str, sidecar: tuple[str, ...] = ()) -> list[dict]:
    out = []
    for name in names:
        c = {"name": name, "image": "busybox"}
        if name in sidecar:
            c["restartPolicy"] = "Always"
        out.append(c)
    return out


def init_status(name: str, state: dict, restarts: int = 0, **extra) -> dict:
    return {"name": name, "ready": False, "restartCount": restarts, "state": state, **extra}


def test_init_container_running_counts_progress():
    p = pod(
        phase="Pending",
        init=init_spec("i1"),
        init_statuses=[init_status("i1", {"running": {}}, restarts=3, **last_terminated(10))],
        statuses=[waiting("PodInitializing")],
    )
    assert pod_row(p) == ["0/1", "Init:0/1", "3 (10s ago)"]


def test_second_init_container_of_two():
    p = pod(
        phase="Pending",
        init=init_spec("i1", "i2"),
        init_statuses=[
            init_status("i1", {"terminated": {"exitCode": 0, "reason": "Completed"}}),
            init_status("i2", {"running": {}}, restarts=3, **last_terminated(10)),
        ],
        statuses=[waiting("PodInitializing")],
    )
    assert pod_row(p) == ["0/1", "Init:1/2", "3 (10s ago)"]


def test_init_container_restarts_sum_while_initializing():
    p = pod(
        phase="Pending",
        init=init_spec("i1", "i2"),
        init_statuses=[
            init_status("i1", {"terminated": {"exitCode": 0}}, restarts=2, **last_terminated(120)),
            init_status("i2", {"running": {}}, restarts=3, **last_terminated(10)),
        ],
        statuses=[waiting("PodInitializing")],
    )
    assert pod_row(p) == ["0/1", "Init:1/2", "5 (10s ago)"]


def test_init_restarts_are_forgotten_once_initialized():
    p = pod(
        init=init_spec("i1"),
        init_statuses=[
            init_status("i1", {"terminated": {"exitCode": 0}}, restarts=2, **last_terminated(120))
        ],
        statuses=[{**running(ready=False, restarts=4), **last_terminated(20)}],
    )
    assert pod_row(p) == ["0/1", "Running", "4 (20s ago)"]


@pytest.mark.parametrize(
    ("state", "want"),
    [
        ({"waiting": {"reason": "CrashLoopBackOff"}}, "Init:CrashLoopBackOff"),
        ({"waiting": {"reason": "ImagePullBackOff"}}, "Init:ImagePullBackOff"),
        ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Init:Error"),
        ({"terminated": {"exitCode": 2}}, "Init:ExitCode:2"),
        ({"terminated": {"exitCode": 137, "signal": 9}}, "Init:Signal:9"),
        ({"waiting": {"reason": "PodInitializing"}}, "Init:0/1"),
        ({"waiting": {}}, "Init:0/1"),
    ],
)
def test_init_container_failures(state: dict, want: str):
    p = pod(
        phase="Pending",
        init=init_spec("i1"),
        init_statuses=[init_status("i1", state, restarts=1)],
        statuses=[waiting("PodInitializing")],
    )
    assert pod_status_reason(p) == want


def test_pod_initializing_after_init_done():
    p = pod(
        phase="Pending",
        init=init_spec("i1"),
        init_statuses=[init_status("i1", {"terminated": {"exitCode": 0, "reason": "Completed"}})],
        statuses=[waiting("PodInitializing")],
        conditions=[cond("Initialized")],
    )
    assert pod_row(p) == ["0/1", "PodInitializing", "0"]


# restartable init containers (sidecars): printers_test.go TestPrintPodWithRestartableInitContainer


def test_sidecar_running_but_not_started():
    p = pod(
        phase="Pending",
        init=init_spec("s1", "s2", sidecar=("s1", "s2")),
        init_statuses=[
            init_status("s1", {"running": {}}, restarts=3, started=False, **last_terminated(10)),
            init_status("s2", {"waiting": {}}, started=False),
        ],
        statuses=[{"name": "c0", "ready": False, "restartCount": 0, "state": {"waiting": {}}}],
        conditions=[cond("Initialized", "False")],
    )
    assert pod_row(p) == ["0/3", "Init:0/2", "3 (10s ago)"]


def test_sidecar_started_second_not_yet():
    p = pod(
        phase="Pending",
        init=init_spec("s1", "s2", sidecar=("s1", "s2")),
        init_statuses=[
            init_status("s1", {"running": {}}, restarts=3, started=True, **last_terminated(10)),
            init_status("s2", {"running": {}}, started=False),
        ],
        statuses=[{"name": "c0", "ready": False, "restartCount": 0, "state": {"waiting": {}}}],
        conditions=[cond("Initialized", "False")],
    )
    assert pod_row(p) == ["0/3", "Init:1/2", "3 (10s ago)"]


def test_sidecars_started_and_main_running():
    p = pod(
        init=init_spec("s1", "s2", sidecar=("s1", "s2")),
        init_statuses=[
            init_status("s1", {"running": {}}, restarts=3, started=True, **last_terminated(10)),
            init_status("s2", {"running": {}}, started=True),
        ],
        statuses=[{**running(restarts=4), **last_terminated(20)}],
        conditions=[cond("Initialized")],
    )
    assert pod_row(p) == ["1/3", "Running", "7 (10s ago)"]


def test_sidecar_ready_counts_towards_ready():
    p = pod(
        init=init_spec("s1", sidecar=("s1",)),
        init_statuses=[init_status("s1", {"running": {}}, started=True, ready=True)],
        statuses=[running()],
        conditions=[cond("Initialized"), cond("Ready")],
    )
    assert pod_row(p) == ["2/2", "Running", "0"]


def test_sidecars_failed_after_main_completed():
    p = pod(
        phase="Succeeded",
        init=init_spec("s1", "s2", sidecar=("s1", "s2")),
        init_statuses=[
            init_status(
                "s1",
                {"terminated": {"exitCode": 137, "reason": "Error"}},
                restarts=3,
                started=False,
                **last_terminated(10),
            ),
            init_status("s2", {"terminated": {"exitCode": 137, "reason": "Error"}}, started=False),
        ],
        statuses=[{**terminated("Completed", 0, restarts=4), **last_terminated(20)}],
        conditions=[cond("Initialized")],
    )
    assert pod_row(p) == ["0/3", "Completed", "7 (10s ago)"]


def test_statuses_for_containers_not_in_spec():
    p = pod(
        init=[{"name": "init1", "image": "i"}, {"name": "sidecar1", "image": "s", "restartPolicy": "Always"}],
        init_statuses=[{"name": "initinvalid"}, {"name": "init1"}, {"name": "sidecar1"}],
        statuses=[{"name": "containerinvalid"}, {"name": "c0"}],
    )
    assert pod_row(p) == ["0/2", "Init:0/2", "0"]


def test_pod_wide():
    p = pod(containers=2, phase="podPhase", statuses=[running(restarts=3), {"name": "c1", "restartCount": 3}])
    p["spec"]["nodeName"] = "test1"
    p["spec"]["readinessGates"] = [{"conditionType": "c1"}, {"conditionType": "c2"}, {"conditionType": "c3"}]
    p["status"]["conditions"] = [cond("c1", "False"), cond("c2", "True")]
    p["status"]["podIPs"] = [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}]
    p["status"]["podIP"] = "1.1.1.1"
    p["status"]["nominatedNodeName"] = "node1"
    assert row(p, now=NOW, wide=True) == [
        "web",
        "1/2",
        "podPhase",
        "6",
        "60m",
        "1.1.1.1",
        "test1",
        "node1",
        "1/3",
    ]
    bare = pod(phase="Pending")
    assert row(bare, now=NOW, wide=True)[5:] == ["<none>", "<none>", "<none>", "<none>"]
    only_pod_ip = pod(statuses=[running()])
    only_pod_ip["status"]["podIP"] = "10.244.0.5"
    assert cells(only_pod_ip, wide=True)["IP"] == "10.244.0.5"


# --------------------------------------------------------------------------- workloads


def test_deployment():
    d = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("web", created=5 * DAY),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "api"]}],
            },
            "template": {
                "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}]}
            },
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert row(d, now=NOW) == ["web", "2/3", "3", "2", "5d"]
    assert row(d, now=NOW, wide=True)[5:] == ["a,b", "nginx,redis", "app=web,tier in (api,front)"]
    fresh = {"kind": "Deployment", "metadata": meta("new", created=4), "spec": {}}
    assert row(fresh, now=NOW) == ["new", "0/1", "0", "0", "4s"]


def test_replicaset_and_replicationcontroller():
    rs = {
        "kind": "ReplicaSet",
        "metadata": meta("web-5d4f"),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": []}},
        },
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert cells(rs, wide=True) == {
        "NAME": "web-5d4f",
        "DESIRED": "3",
        "CURRENT": "3",
        "READY": "1",
        "AGE": "60m",
        "CONTAINERS": "",
        "IMAGES": "",
        "SELECTOR": "app=web",
    }
    rc = {
        "kind": "ReplicationController",
        "metadata": meta("rc"),
        "spec": {"replicas": 2, "selector": {"b": "2", "a": "1"}},
    }
    assert cells(rc, wide=True)["SELECTOR"] == "a=1,b=2"
    assert cells(rc)["DESIRED"] == "2"


def test_statefulset_and_daemonset():
    sts = {
        "kind": "StatefulSet",
        "metadata": meta("zk"),
        "spec": {"replicas": 3},
        "status": {"readyReplicas": 1},
    }
    assert row(sts, now=NOW) == ["zk", "1/3", "60m"]
    ds = {
        "kind": "DaemonSet",
        "metadata": meta("fluentd"),
        "spec": {
            "selector": {"matchLabels": {"name": "fluentd"}},
            "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": []}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert row(ds, now=NOW) == ["fluentd", "3", "3", "2", "3", "2", "kubernetes.io/os=linux", "60m"]
    assert cells(ds, wide=True)["SELECTOR"] == "name=fluentd"


def job(**spec_status) -> dict:
    spec = spec_status.pop("spec", {})
    status = spec_status.pop("status", {})
    meta_extra = spec_status.pop("meta", {})
    return {
        "kind": "Job",
        "metadata": {**meta("pi", created=10 * MINUTE), **meta_extra},
        "spec": spec,
        "status": status,
    }


def test_job_running_complete_failed():
    running_job = job(spec={"completions": 3}, status={"startTime": ago(190), "succeeded": 1, "active": 1})
    assert row(running_job, now=NOW) == ["pi", "Running", "1/3", "3m10s", "10m"]
    done = job(
        spec={"completions": 1},
        status={
            "startTime": ago(9 * MINUTE),
            "completionTime": ago(9 * MINUTE - 42),
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    )
    assert row(done, now=NOW) == ["pi", "Complete", "1/1", "42s", "10m"]
    failed = job(status={"startTime": ago(60), "conditions": [{"type": "Failed", "status": "True"}]})
    assert row(failed, now=NOW)[1:3] == ["Failed", "0/1"]


def test_job_completions_forms_and_other_statuses():
    assert row(job(spec={"parallelism": 3}), now=NOW)[2] == "0/1 of 3"
    assert row(job(spec={"parallelism": 1}), now=NOW)[2] == "0/1"
    assert row(job(), now=NOW)[2:4] == ["0/1", ""]  # never started: empty DURATION
    suspended = job(spec={"suspend": True}, status={"conditions": [{"type": "Suspended", "status": "True"}]})
    assert row(suspended, now=NOW)[1] == "Suspended"
    deleting = job(meta={"deletionTimestamp": ago(1)})
    assert row(deleting, now=NOW)[1] == "Terminating"
    target = job(status={"conditions": [{"type": "FailureTarget", "status": "True"}]})
    assert row(target, now=NOW)[1] == "FailureTarget"
    not_yet = job(status={"conditions": [{"type": "Complete", "status": "False"}]})
    assert row(not_yet, now=NOW)[1] == "Running"


def test_cronjob():
    cj = {
        "kind": "CronJob",
        "metadata": meta("hello", created=2 * HOUR),
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}
            },
        },
        "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(30)},
    }
    assert row(cj, now=NOW) == ["hello", "* * * * *", "<none>", "False", "1", "30s", "120m"]
    cj["spec"].update(timeZone="Etc/UTC", suspend=True)
    del cj["status"]
    assert row(cj, now=NOW, wide=True) == [
        "hello",
        "* * * * *",
        "Etc/UTC",
        "True",
        "0",
        "<none>",
        "120m",
        "hello",
        "busybox",
        "<none>",
    ]


def test_hpa():
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("frontend-scaler"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "frontend"},
            "minReplicas": 3,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
        "status": {"currentReplicas": 3},
    }
    assert row(hpa, now=NOW) == [
        "frontend-scaler",
        "ReplicaSet/frontend",
        "cpu: <unknown>/50%",
        "3",
        "10",
        "3",
        "60m",
    ]
    hpa["status"]["currentMetrics"] = [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}
    ]
    assert cells(hpa)["TARGETS"] == "cpu: 12%/50%"
    hpa["spec"]["metrics"] += [
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}},
        },
        {
            "type": "Pods",
            "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}},
        },
    ]
    assert cells(hpa)["TARGETS"] == "cpu: 12%/50%, memory: <unknown>/500Mi + 1 more..."


def test_hpa_v1_and_defaults():
    v1 = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("php"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "php"},
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 50,
        },
        "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 0},
    }
    assert row(v1, now=NOW)[1:6] == ["Deployment/php", "cpu: 0%/50%", "1", "5", "1"]
    bare = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("x"),
        "spec": {"maxReplicas": 4},
    }
    assert row(bare, now=NOW)[2:4] == ["cpu: <unknown>/80%", "1"]


def test_pdb():
    pdb = {
        "kind": "PodDisruptionBudget",
        "metadata": meta("zk-pdb"),
        "spec": {"maxUnavailable": 1},
        "status": {"disruptionsAllowed": 1},
    }
    assert row(pdb, now=NOW) == ["zk-pdb", "N/A", "1", "1", "60m"]
    pdb["spec"] = {"minAvailable": "50%"}
    assert row(pdb, now=NOW)[1:3] == ["50%", "N/A"]


def test_controller_revision():
    cr = {
        "kind": "ControllerRevision",
        "metadata": {
            **meta("web-7b9c"),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "web",
                    "controller": True,
                    "uid": "u",
                }
            ],
        },
        "revision": 2,
    }
    assert row(cr, now=NOW) == ["web-7b9c", "statefulset.apps/web", "2", "60m"]
    cr["metadata"]["ownerReferences"][0]["controller"] = False
    assert row(cr, now=NOW)[1] == "<none>"


def test_pod_template():
    pt = {
        "kind": "PodTemplate",
        "metadata": meta("tpl"),
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        },
    }
    assert row(pt, now=NOW) == ["tpl", "c", "i", "app=x"]


# --------------------------------------------------------------------------- networking


def svc(spec: dict, status: dict | None = None, name: str = "web") -> dict:
    return {"kind": "Service", "metadata": meta(name), "spec": spec, "status": status or {}}


def test_service_cluster_ip():
    s = svc(
        {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}],
            "selector": {"app": "web"},
        }
    )
    assert row(s, now=NOW, wide=True) == [
        "web",
        "ClusterIP",
        "10.96.0.10",
        "<none>",
        "80/TCP,443/TCP",
        "60m",
        "app=web",
    ]


def test_service_node_port_and_defaults():
    s = svc(
        {
            "type": "NodePort",
            "clusterIP": "10.96.1.1",
            "ports": [{"port": 80, "nodePort": 30080}, {"port": 443, "protocol": "TCP"}],
        }
    )
    assert row(s, now=NOW) == ["web", "NodePort", "10.96.1.1", "<none>", "80:30080/TCP,443/TCP", "60m"]
    bare = svc({})
    assert row(bare, now=NOW, wide=True) == [
        "web",
        "ClusterIP",
        "<none>",
        "<none>",
        "<none>",
        "60m",
        "<none>",
    ]
    headless = svc({"clusterIP": "None", "ports": [{"port": 53, "protocol": "UDP"}]})
    assert row(headless, now=NOW)[2:5] == ["None", "<none>", "53/UDP"]


def test_service_load_balancer():
    spec = {
        "type": "LoadBalancer",
        "clusterIP": "10.96.2.2",
        "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}],
    }
    assert cells(svc(spec))["EXTERNAL-IP"] == "<pending>"
    status = {
        "loadBalancer": {
            "ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.10"}]
        }
    }
    # sorted, never clipped (the API server prints wide)
    assert cells(svc(spec, status))["EXTERNAL-IP"] == "203.0.113.10,203.0.113.9,lb.example.com"
    spec_with_external = {**spec, "externalIPs": ["198.51.100.1"]}
    assert cells(svc(spec_with_external, status))["EXTERNAL-IP"] == (
        "203.0.113.10,203.0.113.9,lb.example.com,198.51.100.1"
    )
    assert cells(svc({**spec, "externalIPs": ["198.51.100.1"]}))["EXTERNAL-IP"] == "198.51.100.1"


def test_service_external_name_and_external_ips():
    ext = svc({"type": "ExternalName", "externalName": "db.example.com"})
    assert cells(ext)["EXTERNAL-IP"] == "db.example.com"
    assert cells(ext)["CLUSTER-IP"] == "<none>"
    cip = svc({"type": "ClusterIP", "externalIPs": ["1.2.3.4", "5.6.7.8"]})
    assert cells(cip)["EXTERNAL-IP"] == "1.2.3.4,5.6.7.8"


def test_endpoints():
    ep = {
        "kind": "Endpoints",
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                "ports": [{"port": 80, "protocol": "TCP"}],
            }
        ],
    }
    assert row(ep, now=NOW) == ["web", "10.0.0.1:80,10.0.0.2:80", "60m"]
    ep["subsets"][0]["addresses"] += [{"ip": "10.0.0.3"}, {"ip": "10.0.0.4"}]
    assert row(ep, now=NOW)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
    ep["subsets"][0]["ports"].append({"port": 443})
    assert row(ep, now=NOW)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 5 more..."
    headless = {"kind": "Endpoints", "metadata": meta("h"), "subsets": [{"addresses": [{"ip": "fd00::1"}]}]}
    assert row(headless, now=NOW)[1] == "fd00::1"
    v6 = {
        "kind": "Endpoints",
        "metadata": meta("v6"),
        "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}],
    }
    assert row(v6, now=NOW)[1] == "[fd00::1]:80"
    assert row({"kind": "Endpoints", "metadata": meta("e")}, now=NOW)[1] == "<none>"


def test_endpoint_slice():
    es = {
        "kind": "EndpointSlice",
        "metadata": meta("web-abc"),
        "addressType": "IPv4",
        "ports": [{"port": 80, "name": "http"}, {"name": "metrics"}, {}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3", "10.0.0.4"]}],
    }
    assert row(es, now=NOW) == [
        "web-abc",
        "IPv4",
        "80,metrics,*",
        "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
        "60m",
    ]


def test_ingress_and_ingress_class():
    ing = {
        "kind": "Ingress",
        "metadata": meta("web"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {"host": "a.example.com"},
                {"host": "b.example.com"},
                {},
                {"host": "c.example.com"},
                {"host": "d.example.com"},
            ],
            "tls": [{"hosts": ["a.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
    }
    assert row(ing, now=NOW) == [
        "web",
        "nginx",
        "a.example.com,b.example.com,c.example.com + 2 more...",
        "192.0.2.1",
        "80, 443",
        "60m",
    ]
    plain = {"kind": "Ingress", "metadata": meta("p"), "spec": {"rules": [{}]}}
    assert row(plain, now=NOW)[1:5] == ["<none>", "*", "", "80"]
    ic = {
        "kind": "IngressClass",
        "metadata": meta("nginx"),
        "spec": {
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"},
        },
    }
    assert row(ic, now=NOW) == [
        "nginx",
        "k8s.io/ingress-nginx",
        "IngressParameters.k8s.example.com/external-lb",
        "60m",
    ]


def test_network_policy():
    np_ = {"kind": "NetworkPolicy", "metadata": meta("deny"), "spec": {"podSelector": {}}}
    assert row(np_, now=NOW) == ["deny", "<none>", "60m"]
    np_["spec"]["podSelector"] = {
        "matchExpressions": [
            {"key": "role", "operator": "DoesNotExist"},
            {"key": "app", "operator": "Exists"},
        ]
    }
    assert row(np_, now=NOW)[1] == "app,!role"
    np_["spec"]["podSelector"] = {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}
    assert row(np_, now=NOW)[1] == "<error>"


# --------------------------------------------------------------------------- cluster


def node(**kw) -> dict:
    n = {
        "kind": "Node",
        "metadata": meta("worker-1", created=3 * DAY, labels=kw.pop("labels", {})),
        "spec": kw.pop("spec", {}),
        "status": {
            "conditions": kw.pop("conditions", [{"type": "Ready", "status": "True"}]),
            "nodeInfo": {
                "kubeletVersion": "v1.30.0",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.0",
            },
            "addresses": kw.pop(
                "addresses",
                [
                    {"type": "Hostname", "address": "worker-1"},
                    {"type": "InternalIP", "address": "172.18.0.3"},
                ],
            ),
        },
    }
    return n


def test_node():
    n = node(labels={"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true"})
    assert row(n, now=NOW) == ["worker-1", "Ready", "control-plane,etcd", "3d", "v1.30.0"]
    assert row(n, now=NOW, wide=True)[5:] == [
        "172.18.0.3",
        "<none>",
        "Debian GNU/Linux 12",
        "6.1.0",
        "containerd://1.7.0",
    ]


def test_node_status_and_roles():
    cordoned = node(spec={"unschedulable": True})
    assert cells(cordoned)["STATUS"] == "Ready,SchedulingDisabled"
    not_ready = node(
        conditions=[{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "Unknown"}]
    )
    assert cells(not_ready)["STATUS"] == "NotReady"
    unknown = node(conditions=[], spec={"unschedulable": True})
    assert cells(unknown)["STATUS"] == "Unknown,SchedulingDisabled"
    assert cells(node())["ROLES"] == "<none>"
    legacy = node(labels={"kubernetes.io/role": "master", "node-role.kubernetes.io/": ""})
    assert cells(legacy)["ROLES"] == "master"


def test_node_wide_unknowns():
    n = node(addresses=[{"type": "ExternalIP", "address": "203.0.113.5"}])
    n["status"]["nodeInfo"] = {}
    assert row(n, now=NOW, wide=True)[4:] == [
        "",
        "<none>",
        "203.0.113.5",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


def test_namespace():
    assert row({"kind": "Namespace", "metadata": meta("dev"), "status": {"phase": "Active"}}, now=NOW) == [
        "dev",
        "Active",
        "60m",
    ]
    assert (
        row({"kind": "Namespace", "metadata": meta("old"), "status": {"phase": "Terminating"}}, now=NOW)[1]
        == "Terminating"
    )


def test_events():
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta("web.17b", created=30),
        "involvedObject": {
            "kind": "Pod",
            "name": "web",
            "namespace": "default",
            "fieldPath": "spec.containers{app}",
        },
        "reason": "Pulled",
        "message": '  Successfully pulled image "nginx"\n',
        "type": "Normal",
        "source": {"component": "kubelet", "host": "worker-1"},
        "firstTimestamp": ago(300),
        "lastTimestamp": ago(30),
        "count": 4,
    }
    assert row(ev, now=NOW) == ["30s", "Normal", "Pulled", "pod/web", 'Successfully pulled image "nginx"']
    assert row(ev, now=NOW, wide=True) == [
        "30s",
        "Normal",
        "Pulled",
        "pod/web",
        "spec.containers{app}",
        "kubelet, worker-1",
        'Successfully pulled image "nginx"',
        "5m",
        "4",
        "web.17b",
    ]


def test_event_new_style_and_series():
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2024-05-01T11:58:00.000000Z",
        "reportingComponent": "scheduler",
        "type": "Warning",
        "reason": "X",
        "message": "m",
    }
    wide = row(ev, now=NOW, wide=True)
    assert (
        wide[0] == "2m"
        and wide[3] == "node"
        and wide[5] == "scheduler"
        and wide[7] == "2m"
        and wide[8] == "1"
    )
    ev["series"] = {"count": 7, "lastObservedTime": "2024-05-01T11:59:50.000000Z"}
    wide = row(ev, now=NOW, wide=True)
    assert wide[0] == "10s" and wide[8] == "7"
    v1 = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": meta("x"),
        "regarding": {"kind": "Deployment", "name": "web"},
        "note": "Scaled up replica set web-1 to 3",
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "reportingController": "deployment-controller",
        "eventTime": ago(20),
    }
    assert row(v1, now=NOW) == [
        "20s",
        "Normal",
        "ScalingReplicaSet",
        "deployment/web",
        "Scaled up replica set web-1 to 3",
    ]


def test_lease_priority_class_component_status():
    lease = {"kind": "Lease", "metadata": meta("worker-1"), "spec": {"holderIdentity": "worker-1"}}
    assert row(lease, now=NOW) == ["worker-1", "worker-1", "60m"]
    pc = {"kind": "PriorityClass", "metadata": meta("high"), "value": 1000000, "globalDefault": False}
    assert row(pc, now=NOW, wide=True) == ["high", "1000000", "false", "60m", "PreemptLowerPriority"]
    cs = {
        "kind": "ComponentStatus",
        "metadata": {"name": "etcd-0"},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}],
    }
    assert row(cs, now=NOW) == ["etcd-0", "Healthy", "ok", ""]


def test_resource_quota():
    rq = {
        "kind": "ResourceQuota",
        "metadata": meta("compute"),
        "status": {
            "hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10", "limits.cpu": "2"},
            "used": {"requests.cpu": "500m", "pods": "3"},
        },
    }
    assert row(rq, now=NOW) == [
        "compute",
        "pods: 3/10, requests.cpu: 500m/1",
        "limits.cpu: 0/2, limits.memory: 0/2Gi",
        "60m",
    ]


# --------------------------------------------------------------------------- config & storage


def test_configmap_secret_serviceaccount():
    cm = {
        "kind": "ConfigMap",
        "metadata": meta("cfg"),
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": "AA=="},
    }
    assert row(cm, now=NOW) == ["cfg", "3", "60m"]
    secret = {
        "kind": "Secret",
        "metadata": meta("s"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "x", "tls.key": "y"},
    }
    assert row(secret, now=NOW) == ["s", "kubernetes.io/tls", "2", "60m"]
    opaque = {"kind": "Secret", "metadata": meta("o"), "stringData": {"password": "p"}}
    assert row(opaque, now=NOW) == ["o", "Opaque", "1", "60m"]
    sa = {"kind": "ServiceAccount", "metadata": meta("default"), "secrets": [{"name": "t"}]}
    assert row(sa, now=NOW) == ["default", "1", "60m"]


def test_pvc_and_pv():
    pvc = {
        "kind": "PersistentVolumeClaim",
        "metadata": meta("data"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
        },
        "status": {"phase": "Pending"},
    }
    assert row(pvc, now=NOW) == ["data", "Pending", "", "", "", "standard", "<unset>", "60m"]
    pvc["spec"]["volumeName"] = "pvc-123"
    pvc["status"] = {
        "phase": "Bound",
        "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        "capacity": {"storage": "1Gi"},
    }
    assert row(pvc, now=NOW, wide=True) == [
        "data",
        "Bound",
        "pvc-123",
        "1Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "60m",
        "Filesystem",
    ]
    pv = {
        "kind": "PersistentVolume",
        "metadata": meta("pvc-123", annotations={"volume.beta.kubernetes.io/storage-class": "legacy"}),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Delete",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Block",
        },
        "status": {"phase": "Bound"},
    }
    assert row(pv, now=NOW, wide=True) == [
        "pvc-123",
        "1Gi",
        "ROX,RWOP",
        "Delete",
        "Bound",
        "default/data",
        "legacy",
        "<unset>",
        "",
        "60m",
        "Block",
    ]
    pv["metadata"]["deletionTimestamp"] = ago(1)
    assert cells(pv)["STATUS"] == "Terminating"


def test_quantities_print_canonical_like_quantity_string():
    pvc = {
        "kind": "PersistentVolumeClaim",
        "metadata": meta("data"),
        "spec": {"volumeName": "pv-1"},
        "status": {"phase": "Bound", "capacity": {"storage": "1.5Gi"}, "accessModes": ["ReadWriteOnce"]},
    }
    assert cells(pvc)["CAPACITY"] == "1536Mi"
    rq = {
        "kind": "ResourceQuota",
        "metadata": meta("q"),
        "status": {"hard": {"cpu": "2"}, "used": {"cpu": "0.5"}},
    }
    assert cells(rq)["REQUEST"] == "cpu: 500m/2"


def test_storage_class():
    sc = {
        "kind": "StorageClass",
        "metadata": meta("standard", annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert row(sc, now=NOW) == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        "false",
        "60m",
    ]


def test_role_binding_wide():
    rb = {
        "kind": "RoleBinding",
        "metadata": meta("read-pods"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "User", "name": "jane"},
            {"kind": "User", "name": "joe"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
        ],
    }
    assert row(rb, now=NOW) == ["read-pods", "Role/pod-reader", "60m"]
    assert row(rb, now=NOW, wide=True)[3:] == ["jane, joe", "devs", "ci/bot"]


# --------------------------------------------------------------------------- status colours


def test_status_colours():
    assert STATUS_COLOURS["Running"] == "ok"
    assert STATUS_COLOURS["ContainerCreating"] == "progress"
    assert STATUS_COLOURS["CrashLoopBackOff"] == "error"
    assert STATUS_COLOURS["Completed"] == "done"
    assert STATUS_COLOURS["NotReady"] == "warning"
    assert set(STATUS_COLOURS.values()) == {"ok", "progress", "warning", "error", "done"}


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        ("Running", "ok"),
        ("Init:0/2", "progress"),
        ("Init:CrashLoopBackOff", "error"),
        ("Init:Error", "error"),
        ("Init:ExitCode:2", "error"),
        ("ExitCode:1", "error"),
        ("Signal:9", "error"),
        ("Terminating", "progress"),
        ("SchedulingGated", "progress"),
        ("Ready,SchedulingDisabled", "warning"),
        ("NotReady,SchedulingDisabled", "warning"),
        ("Complete", "done"),
        ("SomethingNew", "warning"),
    ],
)
def test_status_colour(cell: str, want: str):
    assert status_colour(cell) == want


def test_every_pod_status_this_module_prints_has_a_colour():
    for reason in (
        "Pending",
        "Running",
        "Completed",
        "Error",
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "Evicted",
    ):
        assert status_colour(pod_status_reason(pod(phase="Failed", reason=reason))) in {
            "ok",
            "progress",
            "warning",
            "error",
            "done",
        }
