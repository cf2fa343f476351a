"""The CronJob controller, in the style of cronjob_controllerv2_test.go: seed the store,
move the manual clock to the scheduled minute, sync once, check."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from nbcluster.api.yamlio import load_path
from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.cronjob import (
    SCHEDULED_TIMESTAMP_ANNOTATION,
    CronJobController,
    ScheduleError,
    job_name_for,
    parse_schedule,
)
from nbcluster.control.controllers.job import JobController
from nbcluster.util.clock import ManualClock, format_time
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
KEY = "default/cron"
#: The manual clock starts at 2026-01-01T00:00:00Z: minute 29453760 since the epoch.
MINUTE0 = 29_453_760


def make_cronjob(name: str = "cron", schedule: str = "* * * * *", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}],
                            "restartPolicy": "OnFailure",
                        }
                    }
                },
            },
            **spec,
        },
    }


def jobs_of(api: APIServer, name: str = "cron") -> list[dict[str, Any]]:
    owned = [
        j
        for j in api.cached_list("jobs.batch", "default")
        if any(
            r.get("name") == name and r.get("kind") == "CronJob"
            for r in j["metadata"].get("ownerReferences", [])
        )
    ]
    return sorted(owned, key=lambda j: j["metadata"]["name"])


def finish_job(
    api: APIServer, clock: ManualClock, name: str, ctype: str = "Complete", *, started: str | None = None
) -> None:
    """Mark a Job finished the way the Job controller would."""
    job = api.get("jobs.batch", name)
    now = format_time(clock.now())
    cond = {"type": ctype, "status": "True", "lastProbeTime": now, "lastTransitionTime": now}
    status: dict[str, Any] = {
        "startTime": started or job["metadata"]["creationTimestamp"],
        "conditions": [cond],
    }
    if ctype == "Complete":
        status["completionTime"] = now
        status["succeeded"] = 1
    else:
        status["failed"] = 1
    job["status"] = status
    api.update_status(job)


def events(api: APIServer, name: str = "cron") -> list[tuple[str, str, str]]:
    found = [e for e in api.cached_list("events", "default") if e["involvedObject"]["name"] == name]
    found.sort(key=lambda e: (e["firstTimestamp"], int(e["metadata"]["resourceVersion"])))
    return [(e["type"], e["reason"], e["message"]) for e in found]


@pytest.fixture
def cc(api: APIServer, clock: ManualClock) -> CronJobController:
    controller = CronJobController(api, clock)
    controller.setup()
    return controller


# -- schedules ------------------------------------------------------------------------------------


def test_schedules_parse_like_robfig_cron() -> None:
    start = datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert parse_schedule("*/15 * * * *").next(start) == datetime(2026, 1, 1, 0, 15, tzinfo=timezone.utc)
    assert parse_schedule("@hourly").next(start) == datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)
    assert parse_schedule("@weekly").next(start) == datetime(
        2026, 1, 4, 0, 0, tzinfo=timezone.utc
    )  # a Sunday
    assert parse_schedule("@every 1h30m").next(start) == datetime(2026, 1, 1, 1, 30, tzinfo=timezone.utc)
    assert parse_schedule("0 9 * * ?", "Europe/Berlin").next(start) == datetime(
        2026, 1, 1, 8, 0, tzinfo=timezone.utc
    )
    assert parse_schedule("TZ=America/New_York 0 0 * * *").next(start) == datetime(
        2026, 1, 1, 5, tzinfo=timezone.utc
    )
    for bad in ("* * * *", "@fortnightly", "61 * * * *", "", "* * * * * *"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)
    with pytest.raises(ScheduleError):
        parse_schedule("* * * * *", "Mars/Olympus_Mons")
    assert job_name_for("hello", datetime(2026, 1, 1, 0, 1, tzinfo=timezone.utc)) == f"hello-{MINUTE0 + 1}"


# -- creating Jobs on schedule ------------------------------------------------------------------------


def test_creates_a_job_at_the_scheduled_minute(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    cronjob = api.create(make_cronjob())
    assert cc.sync(KEY) == pytest.approx(60.1)  # just after 00:01
    assert jobs_of(api) == []
    clock.advance(30)
    assert cc.sync(KEY) == pytest.approx(30.1)
    clock.advance(30)
    requeue = cc.sync(KEY)
    assert requeue == pytest.approx(60.1)
    (job,) = jobs_of(api)
    assert job["metadata"]["name"] == f"cron-{MINUTE0 + 1}"
    assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION] == "2026-01-01T00:01:00Z"
    assert job["metadata"]["labels"]["app"] == "cron"
    ref = job["metadata"]["ownerReferences"][0]
    assert ref["kind"] == "CronJob" and ref["uid"] == cronjob["metadata"]["uid"] and ref["controller"] is True
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"
    status = api.get("cronjobs.batch", "cron")["status"]
    assert status["lastScheduleTime"] == "2026-01-01T00:01:00Z"
    assert [(a["kind"], a["name"], a["uid"]) for a in status["active"]] == [
        ("Job", job["metadata"]["name"], job["metadata"]["uid"])
    ]
    assert ("Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}") in events(api)
    # The same minute never yields a second Job; nothing is written either.
    rv = api.get("cronjobs.batch", "cron")["metadata"]["resourceVersion"]
    clock.advance(10)
    assert cc.sync(KEY) == pytest.approx(50.1)
    assert len(jobs_of(api)) == 1
    assert api.get("cronjobs.batch", "cron")["metadata"]["resourceVersion"] == rv


def test_allow_runs_jobs_concurrently(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    api.create(make_cronjob())
    for _ in range(3):
        clock.advance(60)
        cc.sync(KEY)
    assert [j["metadata"]["name"] for j in jobs_of(api)] == [f"cron-{MINUTE0 + i}" for i in (1, 2, 3)]
    assert len(api.get("cronjobs.batch", "cron")["status"]["active"]) == 3


def test_forbid_skips_while_one_runs(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    api.create(make_cronjob(concurrencyPolicy="Forbid"))
    clock.advance(60)
    cc.sync(KEY)
    clock.advance(60)
    assert cc.sync(KEY) == pytest.approx(60.1)
    assert len(jobs_of(api)) == 1
    assert (
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    ) in events(api)
    # Once it finished, the next minute runs.
    finish_job(api, clock, f"cron-{MINUTE0 + 1}")
    clock.advance(60)
    cc.sync(KEY)
    assert [j["metadata"]["name"] for j in jobs_of(api)] == [f"cron-{MINUTE0 + 1}", f"cron-{MINUTE0 + 3}"]


def test_replace_deletes_the_running_job_then_creates(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    api.create(make_cronjob(concurrencyPolicy="Replace"))
    clock.advance(60)
    cc.sync(KEY)
    old = jobs_of(api)[0]["metadata"]["name"]
    clock.advance(60)
    cc.sync(KEY)
    (job,) = jobs_of(api)
    assert job["metadata"]["name"] == f"cron-{MINUTE0 + 2}"
    active = api.get("cronjobs.batch", "cron")["status"]["active"]
    assert [a["name"] for a in active] == [job["metadata"]["name"]]
    reasons = events(api)
    assert ("Normal", "SuccessfulDelete", f"Deleted job {old}") in reasons
    assert reasons.index(("Normal", "SuccessfulDelete", f"Deleted job {old}")) < reasons.index(
        ("Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}")
    )


def test_completed_jobs_leave_the_active_list_and_history_is_pruned(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    api.create(make_cronjob(successfulJobsHistoryLimit=2, failedJobsHistoryLimit=1))
    names = []
    for i in range(4):
        clock.advance(60)
        cc.sync(KEY)
        names.append(f"cron-{MINUTE0 + 1 + i}")
        finish_job(api, clock, names[-1], "Complete" if i != 1 else "Failed")
    clock.advance(1)
    cc.sync(KEY)
    status = api.get("cronjobs.batch", "cron")["status"]
    assert "active" not in status
    assert status["lastSuccessfulTime"] == "2026-01-01T00:04:00Z"
    # Three succeeded (0, 2, 3): the oldest goes; the one failure stays.
    assert [j["metadata"]["name"] for j in jobs_of(api)] == names[1:]
    reasons = events(api)
    assert ("Normal", "SawCompletedJob", f"Saw completed job: {names[3]}, condition: Complete") in reasons
    assert ("Normal", "SawCompletedJob", f"Saw completed job: {names[1]}, condition: Failed") in reasons
    assert ("Normal", "SuccessfulDelete", f"Deleted job {names[0]}") in reasons


def test_suspend_stops_scheduling(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    api.create(make_cronjob(suspend=True))
    clock.advance(60)
    assert cc.sync(KEY) is None
    assert jobs_of(api) == []
    cronjob = api.get("cronjobs.batch", "cron")
    cronjob["spec"]["suspend"] = False
    api.update(cronjob)
    clock.advance(5)
    cc.sync(KEY)
    assert [j["metadata"]["name"] for j in jobs_of(api)] == [f"cron-{MINUTE0 + 1}"]  # the missed minute, late


def test_time_zone_is_honoured(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    api.create(make_cronjob(schedule="0 9 * * *", timeZone="Europe/Berlin"))
    assert cc.sync(KEY) == pytest.approx(8 * 3600 + 0.1)  # 09:00 in Berlin is 08:00 UTC in winter
    clock.advance(8 * 3600)
    cc.sync(KEY)
    (job,) = jobs_of(api)
    assert job["metadata"]["name"] == f"cron-{MINUTE0 + 8 * 60}"
    assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION] == "2026-01-01T09:00:00+01:00"
    assert api.get("cronjobs.batch", "cron")["status"]["lastScheduleTime"] == "2026-01-01T08:00:00Z"


def test_unknown_time_zone_and_bad_schedule_are_reported(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    api.create(make_cronjob(name="zone", timeZone="Europe/Berlin"))
    cronjob = api.get("cronjobs.batch", "zone")
    cronjob["spec"]["timeZone"] = "Mars/Olympus_Mons"
    api.store.update("cronjobs.batch", cronjob)  # stored as is: validation would refuse it
    assert cc.sync("default/zone") is None
    assert (
        "Warning",
        "UnknownTimeZone",
        'invalid timeZone: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons',
    ) in events(api, "zone")
    api.create(make_cronjob(name="bad"))
    cronjob = api.get("cronjobs.batch", "bad")
    cronjob["spec"]["schedule"] = "every minute"
    api.store.update("cronjobs.batch", cronjob)
    assert cc.sync("default/bad") is None
    assert [e[1] for e in events(api, "bad")] == ["UnparseableSchedule"]


def test_starting_deadline_limits_how_far_back_missed_starts_are_made_up(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    api.create(make_cronjob(schedule="*/5 * * * *", startingDeadlineSeconds=100))
    api.create(make_cronjob(name="late", schedule="*/5 * * * *"))
    clock.advance(12 * 60)  # the controller was away at 00:05 and 00:10
    # Without a deadline the most recent missed start is made up; 00:10 is too late for 100 s.
    cc.sync("default/late")
    assert [j["metadata"]["name"] for j in jobs_of(api, "late")] == [f"late-{MINUTE0 + 10}"]
    assert cc.sync(KEY) == pytest.approx(3 * 60 + 0.1)
    assert jobs_of(api) == []
    clock.advance(3 * 60 + 30)  # 00:15:30: within the window of 00:15
    cc.sync(KEY)
    assert [j["metadata"]["name"] for j in jobs_of(api)] == [f"cron-{MINUTE0 + 15}"]


def test_too_many_missed_start_times_warns(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    api.create(make_cronjob())
    clock.advance(200 * 60 + 20)
    cc.sync(KEY)
    assert (
        "Warning",
        "TooManyMissedTimes",
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
    ) in events(api)
    assert [j["metadata"]["name"] for j in jobs_of(api)] == [f"cron-{MINUTE0 + 200}"]


def test_missing_and_unexpected_jobs(api: APIServer, clock: ManualClock, cc: CronJobController) -> None:
    cronjob = api.create(make_cronjob())
    clock.advance(60)
    cc.sync(KEY)
    api.delete("jobs.batch", f"cron-{MINUTE0 + 1}")
    stray = api.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "stray",
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "cron",
                        "uid": cronjob["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": make_cronjob()["spec"]["jobTemplate"]["spec"],
        }
    )
    clock.advance(1)
    cc.sync(KEY)
    reasons = events(api)
    assert ("Normal", "MissingJob", f"Active job went missing: cron-{MINUTE0 + 1}") in reasons
    assert (
        "Warning",
        "UnexpectedJob",
        f"Saw a job that the controller did not create or forgot: {stray['metadata']['name']}",
    ) in reasons
    assert "active" not in api.get("cronjobs.batch", "cron")["status"]


def test_job_events_enqueue_the_owning_cronjob(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    api.create(make_cronjob())
    assert len(cc.queue) == 1
    clock.advance(60)
    cc.sync(KEY)
    fresh = CronJobController(api, clock)
    fresh.setup()
    assert len(fresh.queue) == 0
    finish_job(api, clock, f"cron-{MINUTE0 + 1}")
    assert len(fresh.queue) == 1


# -- the shared manifest, end to end with the Job controller -----------------------------------------------


def test_hello_example_runs_a_job_each_minute(
    api: APIServer, clock: ManualClock, cc: CronJobController
) -> None:
    jc = JobController(api, clock)
    jc.setup()
    cronjob = api.create(load_path(EXAMPLES / "application__job__cronjob.yaml")[0].obj)
    assert cronjob["spec"]["concurrencyPolicy"] == "Allow"
    key = "default/hello"
    clock.advance(cc.sync(key) or 0)
    cc.sync(key)
    (job,) = jobs_of(api, "hello")
    job_name = job["metadata"]["name"]
    assert job_name == f"hello-{MINUTE0 + 1}"
    jc.sync(f"default/{job_name}")
    (pod,) = [
        p
        for p in api.cached_list("pods", "default")
        if p["metadata"]["labels"].get("batch.kubernetes.io/job-name") == job_name
    ]
    assert pod["spec"]["restartPolicy"] == "OnFailure"
    assert pod["spec"]["containers"][0]["command"][-1] == "date; echo Hello from the Kubernetes cluster"
    clock.advance(3)
    pod["status"] = {
        "phase": "Succeeded",
        "containerStatuses": [
            {
                "name": "hello",
                "image": "busybox:1.28",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "finishedAt": format_time(clock.now()),
                    }
                },
            }
        ],
    }
    api.update_status(pod)
    jc.sync(f"default/{job_name}")
    cc.sync(key)
    status = api.get("cronjobs.batch", "hello")["status"]
    assert "active" not in status
    assert status["lastScheduleTime"] == "2026-01-01T00:01:00Z"
    assert status["lastSuccessfulTime"] == "2026-01-01T00:01:03Z"
    assert [e[1] for e in events(api, "hello")] == ["SuccessfulCreate", "SawCompletedJob"]
