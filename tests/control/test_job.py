"""The Job controller and the TTL-after-finished controller, in the style of job_controller_test.go:
seed the store, sync once, check; multi-step tests finish pods by writing their status
(there is no kubelet here) and move the manual clock."""

from __future__ import annotations

from typing import Any

import pytest

from nbcluster.api.yamlio import load_path
from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.job import (
    COMPLETION_INDEX_KEY,
    INDEX_FAILURE_COUNT_ANNOTATION,
    JobController,
    TTLAfterFinishedController,
    format_indexes,
    parse_indexes,
)
from nbcluster.util.clock import ManualClock, format_time
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
KEY = "default/job"


def make_job(name: str = "job", *, restart_policy: str = "Never", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}],
                    "restartPolicy": restart_policy,
                }
            },
            **spec,
        },
    }


def pods_of(api: APIServer, name: str = "job") -> list[dict[str, Any]]:
    pods = [
        p
        for p in api.cached_list("pods", "default")
        if p["metadata"]["labels"].get("batch.kubernetes.io/job-name") == name
    ]
    return sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))


def active_pods(api: APIServer, name: str = "job") -> list[dict[str, Any]]:
    return [p for p in pods_of(api, name) if p["status"]["phase"] not in ("Succeeded", "Failed")]


def finish(
    api: APIServer,
    clock: ManualClock,
    pod: dict[str, Any],
    phase: str,
    *,
    exit_code: int | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write what a kubelet would when the pod's containers end."""
    current = api.get("pods", pod["metadata"]["name"], namespace=pod["metadata"]["namespace"])
    now = format_time(clock.now())
    code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
    current["status"] = {
        "phase": phase,
        "conditions": conditions or [],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c["image"],
                "ready": False,
                "restartCount": 0,
                "state": {
                    "terminated": {
                        "exitCode": code,
                        "reason": "Completed" if code == 0 else "Error",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                },
            }
            for c in current["spec"]["containers"]
        ],
    }
    return api.update_status(current)


def run(
    api: APIServer, clock: ManualClock, name: str, phase: str = "Running", **extra: Any
) -> dict[str, Any]:
    current = api.get("pods", name)
    current["status"] = {"phase": phase, **extra}
    return api.update_status(current)


def condition(job: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    return next((c for c in job.get("status", {}).get("conditions", []) if c["type"] == ctype), None)


def events(api: APIServer, name: str = "job") -> list[tuple[str, str, str]]:
    found = [e for e in api.cached_list("events", "default") if e["involvedObject"]["name"] == name]
    found.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["message"]) for e in found]


@pytest.fixture
def jc(api: APIServer, clock: ManualClock) -> JobController:
    controller = JobController(api, clock)
    controller.setup()
    return controller


# -- the index list format --------------------------------------------------------------------


def test_completed_indexes_compress_like_kubernetes() -> None:
    assert format_indexes(parse_indexes("0-2,5", 10)) == "0-2,5"
    assert format_indexes(parse_indexes("3,4", 10)) == "3,4"
    assert format_indexes(parse_indexes("0,1,2,7-9", 8)) == "0-2,7"
    assert format_indexes([]) == ""


# -- creating pods -------------------------------------------------------------------------------


def test_completions_3_parallelism_2_creates_2_then_1(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    job = api.create(make_job(completions=3, parallelism=2))
    assert jc.sync(KEY) is None
    pods = pods_of(api)
    assert len(pods) == 2
    uid = job["metadata"]["uid"]
    for pod in pods:
        meta = pod["metadata"]
        assert meta["name"].startswith("job-") and len(meta["name"]) == len("job-") + 5
        assert meta["labels"]["batch.kubernetes.io/job-name"] == "job"
        assert meta["labels"]["job-name"] == "job"
        assert meta["labels"]["batch.kubernetes.io/controller-uid"] == uid
        assert meta["labels"]["controller-uid"] == uid
        ref = meta["ownerReferences"][0]
        assert ref["kind"] == "Job" and ref["uid"] == uid and ref["controller"] is True
    status = api.get("jobs.batch", "job")["status"]
    assert status["active"] == 2 and status["ready"] == 0 and status["terminating"] == 0
    assert status["startTime"] == format_time(clock.now())
    assert ("Normal", "SuccessfulCreate", f"Created pod: {pods[0]['metadata']['name']}") in events(api)

    # A second look changes nothing and writes nothing.
    rv = api.get("jobs.batch", "job")["metadata"]["resourceVersion"]
    jc.sync(KEY)
    assert len(pods_of(api)) == 2
    assert api.get("jobs.batch", "job")["metadata"]["resourceVersion"] == rv

    clock.advance(5)
    finish(api, clock, pods[0], "Succeeded")
    jc.sync(KEY)
    assert len(active_pods(api)) == 2  # one more: only one completion is still missing after those two
    assert len(pods_of(api)) == 3
    status = api.get("jobs.batch", "job")["status"]
    assert status["succeeded"] == 1 and status["active"] == 2


def test_three_successes_complete_the_job(api: APIServer, clock: ManualClock, jc: JobController) -> None:
    api.create(make_job(completions=3, parallelism=3))
    jc.sync(KEY)
    clock.advance(30)
    for pod in pods_of(api):
        finish(api, clock, pod, "Succeeded")
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    status = job["status"]
    assert status["succeeded"] == 3 and "active" not in status and "failed" not in status
    assert status["completionTime"] == format_time(clock.now())
    types = [c["type"] for c in status["conditions"]]
    assert types == ["SuccessCriteriaMet", "Complete"]
    for ctype in types:
        cond = condition(job, ctype)
        assert cond is not None
        assert cond["status"] == "True" and cond["reason"] == "CompletionsReached"
        assert cond["message"] == "Reached expected number of succeeded pods"
    assert ("Normal", "Completed", "Job completed") in events(api)
    # A finished Job is left alone.
    rv = job["metadata"]["resourceVersion"]
    assert jc.sync(KEY) is None
    assert api.get("jobs.batch", "job")["metadata"]["resourceVersion"] == rv


def test_work_queue_job_completes_when_one_succeeded_and_none_run(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(parallelism=2))
    jc.sync(KEY)
    first, second = pods_of(api)
    finish(api, clock, first, "Succeeded")
    jc.sync(KEY)
    assert len(pods_of(api)) == 2 and condition(api.get("jobs.batch", "job"), "Complete") is None
    finish(api, clock, second, "Succeeded")
    jc.sync(KEY)
    assert condition(api.get("jobs.batch", "job"), "Complete") is not None


# -- failures -----------------------------------------------------------------------------------------


def test_backoff_limit_2_fails_after_3_attempts_with_backoff_delays(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(backoffLimit=2))
    jc.sync(KEY)
    assert len(pods_of(api)) == 1

    clock.advance(3)
    finish(api, clock, pods_of(api)[0], "Failed", exit_code=1)
    requeue = jc.sync(KEY)
    assert requeue == pytest.approx(10.0)  # 10 s after the first failure
    assert len(pods_of(api)) == 1
    assert api.get("jobs.batch", "job")["status"]["failed"] == 1
    clock.advance(9)
    assert jc.sync(KEY) == pytest.approx(1.0)
    assert len(pods_of(api)) == 1
    clock.advance(1)
    jc.sync(KEY)
    assert len(pods_of(api)) == 2

    clock.advance(2)
    finish(api, clock, pods_of(api)[1], "Failed", exit_code=1)
    assert jc.sync(KEY) == pytest.approx(20.0)  # doubled
    clock.advance(20)
    jc.sync(KEY)
    assert len(pods_of(api)) == 3

    clock.advance(2)
    finish(api, clock, pods_of(api)[2], "Failed", exit_code=1)
    jc.sync(KEY)
    assert len(pods_of(api)) == 3  # no fourth attempt
    job = api.get("jobs.batch", "job")
    assert job["status"]["failed"] == 3
    assert [c["type"] for c in job["status"]["conditions"]] == ["FailureTarget", "Failed"]
    failed = condition(job, "Failed")
    assert failed is not None
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert "completionTime" not in job["status"]
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in events(api)


def test_restart_policy_on_failure_counts_container_restarts(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(backoffLimit=2, restart_policy="OnFailure"))
    jc.sync(KEY)
    pod = pods_of(api)[0]
    run(
        api,
        clock,
        pod["metadata"]["name"],
        containerStatuses=[
            {
                "name": "main",
                "image": "busybox:1.36",
                "ready": False,
                "restartCount": 1,
                "state": {"running": {}},
            }
        ],
    )
    jc.sync(KEY)
    assert condition(api.get("jobs.batch", "job"), "Failed") is None
    run(
        api,
        clock,
        pod["metadata"]["name"],
        containerStatuses=[
            {
                "name": "main",
                "image": "busybox:1.36",
                "ready": False,
                "restartCount": 2,
                "state": {"running": {}},
            }
        ],
    )
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"  # type: ignore[index]
    assert pods_of(api) == []  # the running pod was deleted (it was never bound: at once)
    assert job["status"]["failed"] == 1


def test_active_deadline_seconds(api: APIServer, clock: ManualClock, jc: JobController) -> None:
    api.create(make_job(activeDeadlineSeconds=30))
    assert jc.sync(KEY) == pytest.approx(30.0)
    pod = pods_of(api)[0]
    run(api, clock, pod["metadata"]["name"])
    clock.advance(12)
    assert jc.sync(KEY) == pytest.approx(18.0)
    clock.advance(18)
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    failed = condition(job, "Failed")
    assert failed is not None and failed["reason"] == "DeadlineExceeded"
    assert failed["message"] == "Job was active longer than specified deadline"
    assert condition(job, "FailureTarget") is not None
    assert job["status"]["failed"] == 1 and "active" not in job["status"]
    assert pods_of(api) == []
    names = [e[1] for e in events(api)]
    assert "SuccessfulDelete" in names and "DeadlineExceeded" in names


def test_failed_condition_waits_for_terminating_pods(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(activeDeadlineSeconds=10))
    jc.sync(KEY)
    pod = pods_of(api)[0]
    api.bind("default", pod["metadata"]["name"], "node-1")  # bound: deletion is graceful
    run(api, clock, pod["metadata"]["name"])
    clock.advance(10)
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert condition(job, "FailureTarget") is not None and condition(job, "Failed") is None
    assert job["status"]["terminating"] == 1 and job["status"]["failed"] == 1
    # The kubelet finishes the pod off; the Job is then Failed.
    api.delete("pods", pod["metadata"]["name"], grace_period_seconds=0)
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert condition(job, "Failed")["reason"] == "DeadlineExceeded"  # type: ignore[index]
    assert job["status"]["terminating"] == 0 and job["status"]["failed"] == 1


def test_a_pod_deleted_before_it_was_counted_counts_as_failed(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(backoffLimit=0))
    jc.sync(KEY)
    api.delete("pods", pods_of(api)[0]["metadata"]["name"])
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert job["status"]["failed"] == 1
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"  # type: ignore[index]


# -- pod failure policy, per-index backoff (the shared examples) ----------------------------------------


def example(name: str) -> dict[str, Any]:
    return load_path(EXAMPLES / name)[0].obj


def test_pod_failure_policy_fail_job_on_exit_code_42(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(example("controllers__job-pod-failure-policy-example.yaml"))
    key = "default/job-pod-failure-policy-example"
    jc.sync(key)
    pods = pods_of(api, "job-pod-failure-policy-example")
    assert len(pods) == 3
    clock.advance(5)
    finish(api, clock, pods[0], "Failed", exit_code=42)
    jc.sync(key)
    job = api.get("jobs.batch", "job-pod-failure-policy-example")
    failed = condition(job, "Failed")
    assert failed is not None and failed["reason"] == "PodFailurePolicy"
    assert failed["message"] == (
        f"Container main for pod default/{pods[0]['metadata']['name']} failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    assert condition(job, "FailureTarget")["reason"] == "PodFailurePolicy"  # type: ignore[index]
    # The two other pods were deleted and count as failed, as Kubernetes counts them.
    assert [p["metadata"]["name"] for p in pods_of(api, "job-pod-failure-policy-example")] == [
        pods[0]["metadata"]["name"]
    ]
    assert job["status"]["failed"] == 3


def test_pod_failure_policy_ignores_disruptions(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(example("controllers__job-pod-failure-policy-example.yaml"))
    key = "default/job-pod-failure-policy-example"
    jc.sync(key)
    pods = pods_of(api, "job-pod-failure-policy-example")
    clock.advance(5)
    disruption = [
        {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "PreemptionByScheduler",
            "lastTransitionTime": format_time(clock.now()),
        }
    ]
    finish(api, clock, pods[0], "Failed", exit_code=137, conditions=disruption)
    jc.sync(key)
    job = api.get("jobs.batch", "job-pod-failure-policy-example")
    assert "failed" not in job["status"]  # not counted toward backoffLimit
    assert condition(job, "Failed") is None
    assert job["status"]["active"] == 2
    clock.advance(10)
    jc.sync(key)
    assert len(active_pods(api, "job-pod-failure-policy-example")) == 3  # replaced


def test_backoff_limit_per_index_example(api: APIServer, clock: ManualClock, jc: JobController) -> None:
    name = "job-backoff-limit-per-index-example"
    api.create(example("controllers__job-backoff-limit-per-index-example.yaml"))
    key = f"default/{name}"
    for _ in range(40):
        requeue = jc.sync(key)
        job = api.get("jobs.batch", name)
        if condition(job, "Failed") or condition(job, "Complete"):
            break
        running = active_pods(api, name)
        assert len(running) <= 3
        for pod in running:
            index = int(pod["metadata"]["annotations"][COMPLETION_INDEX_KEY])
            clock.advance(1)
            finish(api, clock, pod, "Failed" if index % 2 == 0 else "Succeeded")
        if not running:
            clock.advance(requeue or 1)
    job = api.get("jobs.batch", name)
    status = job["status"]
    assert status["completedIndexes"] == "1,3,5,7,9"
    assert status["failedIndexes"] == "0,2,4,6,8"
    assert status["succeeded"] == 5 and status["failed"] == 10
    failed = condition(job, "Failed")
    assert (
        failed is not None
        and failed["reason"] == "FailedIndexes"
        and failed["message"] == "Job has failed indexes"
    )
    by_index: dict[int, list[dict[str, Any]]] = {}
    for pod in pods_of(api, name):
        by_index.setdefault(int(pod["metadata"]["annotations"][COMPLETION_INDEX_KEY]), []).append(pod)
    assert sorted(by_index) == list(range(10))
    for index, pods in by_index.items():
        assert len(pods) == (2 if index % 2 == 0 else 1)  # one retry per failing index
        counts = [p["metadata"]["annotations"][INDEX_FAILURE_COUNT_ANNOTATION] for p in pods]
        assert counts == (["0", "1"] if index % 2 == 0 else ["0"])


# -- indexed jobs ----------------------------------------------------------------------------------------


def test_indexed_job_names_pods_and_tracks_completed_indexes(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(completions=6, parallelism=3, completionMode="Indexed"))
    jc.sync(KEY)
    pods = pods_of(api)
    by_index = {int(p["metadata"]["annotations"][COMPLETION_INDEX_KEY]): p for p in pods}
    assert sorted(by_index) == [0, 1, 2]
    for index, pod in by_index.items():
        assert pod["metadata"]["name"].startswith(f"job-{index}-")
        assert len(pod["metadata"]["name"]) == len(f"job-{index}-") + 5
        assert pod["metadata"]["labels"][COMPLETION_INDEX_KEY] == str(index)
        assert pod["spec"]["hostname"] == f"job-{index}"
        assert pod["spec"]["containers"][0]["env"] == [
            {
                "name": "JOB_COMPLETION_INDEX",
                "valueFrom": {
                    "fieldRef": {
                        "apiVersion": "v1",
                        "fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']",
                    }
                },
            }
        ]
    finish(api, clock, by_index[0], "Succeeded")
    finish(api, clock, by_index[2], "Succeeded")
    jc.sync(KEY)
    status = api.get("jobs.batch", "job")["status"]
    assert status["completedIndexes"] == "0,2" and status["succeeded"] == 2
    running = {int(p["metadata"]["annotations"][COMPLETION_INDEX_KEY]) for p in active_pods(api)}
    assert running == {1, 3, 4}  # the lowest pending indexes
    for pod in active_pods(api):
        finish(api, clock, pod, "Succeeded")
    jc.sync(KEY)
    assert api.get("jobs.batch", "job")["status"]["completedIndexes"] == "0-4"
    (last,) = active_pods(api)
    assert last["metadata"]["annotations"][COMPLETION_INDEX_KEY] == "5"
    finish(api, clock, last, "Succeeded")
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert job["status"]["completedIndexes"] == "0-5" and job["status"]["succeeded"] == 6
    assert condition(job, "Complete") is not None


# -- suspend and parallelism changes ---------------------------------------------------------------------


def test_suspended_job_creates_nothing_then_resumes(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(suspend=True, parallelism=2, completions=2))
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert pods_of(api) == [] and "startTime" not in job["status"]
    suspended = condition(job, "Suspended")
    assert suspended is not None and suspended["status"] == "True" and suspended["reason"] == "JobSuspended"
    assert ("Normal", "Suspended", "Job suspended") in events(api)

    clock.advance(60)
    job["spec"]["suspend"] = False
    api.update(job)
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert len(pods_of(api)) == 2
    resumed = condition(job, "Suspended")
    assert resumed is not None and resumed["status"] == "False" and resumed["reason"] == "JobResumed"
    assert job["status"]["startTime"] == format_time(clock.now())

    # Suspending a running Job deletes its pods; they do not count as failures.
    job["spec"]["suspend"] = True
    api.update(job)
    jc.sync(KEY)
    job = api.get("jobs.batch", "job")
    assert pods_of(api) == []
    assert "active" not in job["status"] and "failed" not in job["status"]
    assert condition(job, "Suspended")["status"] == "True"  # type: ignore[index]
    assert sum(1 for e in events(api) if e[1] == "SuccessfulDelete") == 2


def test_lowering_parallelism_deletes_the_newest_pending_pods(
    api: APIServer, clock: ManualClock, jc: JobController
) -> None:
    api.create(make_job(completions=10, parallelism=3))
    jc.sync(KEY)
    first = pods_of(api)[0]["metadata"]["name"]
    run(api, clock, first, conditions=[{"type": "Ready", "status": "True"}])
    job = api.get("jobs.batch", "job")
    job["spec"]["parallelism"] = 1
    api.update(job)
    jc.sync(KEY)
    assert [p["metadata"]["name"] for p in pods_of(api)] == [first]
    status = api.get("jobs.batch", "job")["status"]
    assert status["active"] == 1 and status["ready"] == 1 and "failed" not in status


# -- the shared manifest --------------------------------------------------------------------------------


def test_pi_example_runs_to_completion(api: APIServer, clock: ManualClock, jc: JobController) -> None:
    api.create(example("controllers__job.yaml"))
    jc.sync("default/pi")
    (pod,) = pods_of(api, "pi")
    assert pod["spec"]["containers"][0]["image"] == "perl:5.34.0"
    assert pod["spec"]["restartPolicy"] == "Never"
    clock.advance(42)
    finish(api, clock, pod, "Succeeded")
    jc.sync("default/pi")
    job = api.get("jobs.batch", "pi")
    assert job["spec"]["backoffLimit"] == 4
    assert job["status"]["succeeded"] == 1 and job["status"]["ready"] == 0
    assert job["status"]["startTime"] == "2026-01-01T00:00:00Z"
    assert job["status"]["completionTime"] == "2026-01-01T00:00:42Z"
    assert condition(job, "Complete") is not None
    assert [e[1] for e in events(api, "pi")] == ["SuccessfulCreate", "Completed"]


# -- ttlSecondsAfterFinished --------------------------------------------------------------------------------


def test_ttl_after_finished_deletes_the_job(api: APIServer, clock: ManualClock, jc: JobController) -> None:
    ttl = TTLAfterFinishedController(api, clock)
    api.create(make_job(ttlSecondsAfterFinished=100))
    assert ttl.sync(KEY) is None  # not finished: nothing to do
    jc.sync(KEY)
    clock.advance(10)
    finish(api, clock, pods_of(api)[0], "Succeeded")
    jc.sync(KEY)
    assert condition(api.get("jobs.batch", "job"), "Complete") is not None
    clock.advance(40)
    assert ttl.sync(KEY) == pytest.approx(60.0)
    assert api.cached("jobs.batch", "job", "default") is not None
    clock.advance(60)
    assert ttl.sync(KEY) is None
    assert api.cached("jobs.batch", "job", "default") is None
    assert ttl.initial_keys() == []
