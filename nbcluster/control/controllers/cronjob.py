"""The CronJob controller (pkg/controller/cronjob, the v2 controller). No I/O beyond the API server.

A CronJob creates a Job at each time its schedule names, computed on the injectable
clock; the controller asks to look again just after the next scheduled time (100 ms
later, as Kubernetes pads it). Jobs are named ``CRONJOB-<scheduled time in minutes
since the epoch>``, so one scheduled time never yields two Jobs, and carry the
``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation.

Schedules are the standard five cron fields or the ``@hourly``-style macros (and
robfig/cron's ``@every 1h30m``), parsed with ``croniter``; ``spec.timeZone`` picks the
time zone (UTC otherwise, the zone of a containerised controller manager). A
``TZ=``/``CRON_TZ=`` prefix is refused by validation for new objects; one that is
stored anyway is honoured with an ``UnsupportedSchedule`` warning, as Kubernetes does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter  # type: ignore[import-untyped]
from croniter.croniter import CroniterBadDateError, CroniterError  # type: ignore[import-untyped]

from nbcluster.control.controllers.base import Controller, object_key, owner_key, split_key
from nbcluster.control.controllers.job import job_finished_condition
from nbcluster.control.controllers.podcontrol import controller_of, controller_ref
from nbcluster.control.events import EventType
from nbcluster.errors import AlreadyExists, NbClusterError
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time, parse_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "SCHEDULED_TIMESTAMP_ANNOTATION",
    "CronJobController",
    "Schedule",
    "ScheduleError",
    "job_name_for",
    "parse_schedule",
]

Obj = dict[str, Any]

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: Padding added to every requeue for the next schedule (``nextScheduleDelta``).
NEXT_SCHEDULE_DELTA = 0.1
#: More missed start times than this draw a ``TooManyMissedTimes`` warning.
MANY_MISSED = 100

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScheduleError(ValueError):
    """A schedule that does not parse, or names no time that ever comes."""


def _go_duration(text: str) -> float:
    """Seconds in a Go duration such as ``1h30m`` or ``90s``."""
    if not text or _DURATION_PART.sub("", text) != "":
        raise ScheduleError(f'time: invalid duration "{text}"')
    return sum(float(value) * _UNIT_SECONDS[unit] for value, unit in _DURATION_PART.findall(text))


@dataclass(frozen=True)
class Schedule:
    """A parsed cron schedule in a time zone (robfig/cron's ``Schedule``)."""

    expression: str
    tz: tzinfo
    #: ``@every`` schedules: the constant delay in whole seconds.
    every: float | None = None

    def next(self, moment: datetime) -> datetime:
        """The first activation strictly after ``moment`` (aware, UTC)."""
        if self.every is not None:
            whole = moment.replace(microsecond=0)
            return (whole + timedelta(seconds=self.every)).astimezone(timezone.utc)
        try:
            found = croniter(self.expression, moment.astimezone(self.tz)).get_next(datetime)
        except CroniterBadDateError as exc:
            raise ScheduleError("time difference between two schedules is less than 1 second") from exc
        return found.astimezone(timezone.utc)


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name}") from exc


def parse_schedule(schedule: str, time_zone: str | None = None) -> Schedule:
    """``cron.ParseStandard`` of the schedule Kubernetes builds (``formatSchedule``).

    A ``TZ=``/``CRON_TZ=`` prefix in ``schedule`` wins over ``time_zone``; without
    either the schedule runs in UTC.
    """
    text = schedule.strip()
    zone: tzinfo = timezone.utc
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, text = text.partition(" ")
        name = head.split("=", 1)[1]
        try:
            zone = _zone(name)
        except ScheduleError as exc:
            raise ScheduleError(f"provided bad location {name}: {exc}") from exc
        text = text.strip()
    elif time_zone:
        zone = _zone(time_zone)
    if not text:
        raise ScheduleError("empty spec string")
    if text.startswith("@every"):
        seconds = _go_duration(text[len("@every") :].strip())
        return Schedule(text, zone, every=float(max(1, int(seconds))))
    if text.startswith("@"):
        if text not in _MACROS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        text = _MACROS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    # robfig/cron reads "?" in day-of-month and day-of-week as "*".
    expression = " ".join("*" if value == "?" else value for value in fields)
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=timezone.utc))
    except (CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(str(exc) or "invalid schedule") from exc
    return Schedule(expression, zone)


def job_name_for(cronjob_name: str, scheduled: datetime) -> str:
    """``getJobName``: the Job of one scheduled time, named by its minute since the epoch."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def _rfc3339(moment: datetime) -> str:
    """Go's ``time.RFC3339`` (a Z for a zero offset, seconds precision)."""
    if not moment.utcoffset():
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")


def _rfc1123z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S %z")


def _time(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


@dataclass(frozen=True)
class _Times:
    """What ``mostRecentScheduleTime`` reads of a CronJob."""

    created: datetime
    last_scheduled: datetime | None
    starting_deadline: int | None


def _most_recent(
    times: _Times, now: datetime, schedule: Schedule, with_deadline: bool
) -> tuple[datetime, datetime | None, int]:
    """``mostRecentScheduleTime``: (earliest time considered, most recent unmet time or None,
    how many were missed, roughly). Raises ScheduleError for schedules that never fire."""
    earliest = times.last_scheduled or times.created
    if with_deadline and times.starting_deadline is not None:
        deadline = now - timedelta(seconds=times.starting_deadline)
        if deadline > earliest:
            earliest = deadline
    t1 = schedule.next(earliest)
    t2 = schedule.next(t1)
    if now < t1:
        return earliest, None, 0
    if now < t2:
        return earliest, t1, 0
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ScheduleError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    most_recent: datetime | None = None
    moment = schedule.next(t1 + timedelta(seconds=(missed - 2) * between))
    while moment <= now:
        most_recent = moment
        moment = schedule.next(moment)
    return earliest, most_recent, missed


def _next_schedule_delay(times: _Times, now: datetime, schedule: Schedule) -> float:
    """``nextScheduleTimeDuration``: seconds until just after the next scheduled time."""
    try:
        earliest, most_recent, missed = _most_recent(times, now, schedule, False)
    except ScheduleError:
        most_recent = now
    else:
        if most_recent is None:
            most_recent = earliest if missed == 0 else now
    try:
        upcoming = schedule.next(most_recent)
    except ScheduleError:
        return 3600.0
    return (upcoming - now).total_seconds() + NEXT_SCHEDULE_DELTA


def _job_ref(job: Obj) -> Obj:
    meta = job["metadata"]
    return {
        "kind": "Job",
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": job.get("apiVersion", "batch/v1"),
        "resourceVersion": meta.get("resourceVersion", ""),
    }


class CronJobController(Controller):
    """Creates Jobs on a schedule (pkg/controller/cronjob, ControllerV2)."""

    name: ClassVar[str] = "cronjob-controller"
    primary: ClassVar[str] = "cronjobs.batch"

    def setup(self) -> None:
        self.on(self.primary, self._cronjob_event)
        self.on("jobs.batch", self._job_event)

    # -- event handlers --------------------------------------------------------------------

    def _cronjob_event(self, event: WatchEvent) -> str | None:
        cronjob = event.object
        key = object_key(cronjob)
        old = event.old
        if event.type == "MODIFIED" and old is not None:
            spec, old_spec = cronjob.get("spec") or {}, old.get("spec") or {}
            if spec.get("schedule") != old_spec.get("schedule") or spec.get("timeZone") != old_spec.get(
                "timeZone"
            ):
                # updateCronJob: a new schedule is looked at when it next fires.
                try:
                    schedule = parse_schedule(spec.get("schedule") or "", spec.get("timeZone"))
                    delay = _next_schedule_delay(
                        self._times(cronjob, cronjob.get("status") or {}), self.clock.now(), schedule
                    )
                except ScheduleError:
                    return key  # the sync reports it
                self.queue.add_after(key, delay)
                return None
        return key

    @staticmethod
    def _job_event(event: WatchEvent) -> list[str]:
        keys = []
        key = owner_key(event.object, "CronJob")
        if key is not None:
            keys.append(key)
        if event.type == "MODIFIED" and event.old is not None:
            old_key = owner_key(event.old, "CronJob")
            if old_key is not None and old_key != key:
                keys.append(old_key)
        return keys

    # -- sync -------------------------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        cronjob = self.api.cached(self.primary, name, namespace)
        if cronjob is None:
            return None
        uid = cronjob["metadata"].get("uid", "")
        jobs = [
            j for j in self.api.dependents("jobs.batch", uid) if (controller_of(j) or {}).get("uid") == uid
        ]
        status0 = cronjob.get("status") or {}
        status = deep_copy(status0)
        try:
            requeue = self._sync_cronjob(cronjob, status, jobs)
        except NbClusterError:
            self._write_status(cronjob, status, status0)
            raise
        self._cleanup_finished_jobs(cronjob, status, jobs)
        self._write_status(cronjob, status, status0)
        return requeue

    def _write_status(self, cronjob: Obj, status: Obj, status0: Obj) -> None:
        if status == status0:
            return
        meta = cronjob["metadata"]
        self.api.update_status(
            {
                "apiVersion": cronjob.get("apiVersion", "batch/v1"),
                "kind": "CronJob",
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta.get("namespace", ""),
                    "resourceVersion": meta.get("resourceVersion"),
                },
                "status": status,
            },
            owned=True,
        )

    @staticmethod
    def _times(cronjob: Obj, status: Obj) -> _Times:
        created = _time(cronjob["metadata"].get("creationTimestamp")) or datetime.fromtimestamp(
            0, timezone.utc
        )
        deadline = (cronjob.get("spec") or {}).get("startingDeadlineSeconds")
        return _Times(
            created, _time(status.get("lastScheduleTime")), None if deadline is None else int(deadline)
        )

    @staticmethod
    def _set_active(status: Obj, active: list[Obj]) -> None:
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def _sync_cronjob(self, cronjob: Obj, status: Obj, jobs: list[Obj]) -> float | None:
        """``syncCronJob``: reconcile the active list, then start the Job that is due, if any."""
        spec = cronjob.get("spec") or {}
        meta = cronjob["metadata"]
        namespace = meta.get("namespace", "")
        now = self.clock.now()
        active: list[Obj] = list(status.get("active") or [])

        children = set()
        for job in jobs:
            job_uid = job["metadata"].get("uid", "")
            children.add(job_uid)
            found = any(ref.get("uid") == job_uid for ref in active)
            finished = job_finished_condition(job)
            if not found and finished is None:
                # Created by us just before a crash, or by someone who wants us to adopt it.
                self.events.event(
                    cronjob,
                    EventType.WARNING,
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}",
                )
            elif finished is not None:
                if found:
                    active = [ref for ref in active if ref.get("uid") != job_uid]
                    self.events.event(
                        cronjob,
                        EventType.NORMAL,
                        "SawCompletedJob",
                        f"Saw completed job: {job['metadata']['name']}, condition: {finished['type']}",
                    )
                if finished["type"] == "Complete":
                    completed = (job.get("status") or {}).get("completionTime")
                    last = status.get("lastSuccessfulTime")
                    if completed and (not last or parse_time(completed) > parse_time(last)):
                        status["lastSuccessfulTime"] = completed
        for ref in list(active):
            if ref.get("uid") in children:
                continue
            if self.api.cached("jobs.batch", ref.get("name", ""), ref.get("namespace") or namespace) is None:
                self.events.event(
                    cronjob, EventType.NORMAL, "MissingJob", f"Active job went missing: {ref.get('name')}"
                )
                active = [r for r in active if r.get("uid") != ref.get("uid")]
        self._set_active(status, active)

        if meta.get("deletionTimestamp"):
            return None
        time_zone = spec.get("timeZone")
        if time_zone:
            try:
                _zone(time_zone)
            except ScheduleError as exc:
                self.events.event(
                    cronjob, EventType.WARNING, "UnknownTimeZone", f'invalid timeZone: "{time_zone}": {exc}'
                )
                return None
        if spec.get("suspend"):
            return None
        text = spec.get("schedule") or ""
        if "TZ" in text:
            self.events.event(
                cronjob,
                EventType.WARNING,
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
            )
        try:
            schedule = parse_schedule(text, time_zone)
        except ScheduleError as exc:
            self.events.event(
                cronjob, EventType.WARNING, "UnparseableSchedule", f'unparseable schedule: "{text}" : {exc}'
            )
            return None

        times = self._times(cronjob, status)
        try:
            _, scheduled, missed = _most_recent(times, now, schedule, True)
        except ScheduleError as exc:
            self.events.event(
                cronjob, EventType.WARNING, "InvalidSchedule", f"invalid schedule: {text} : {exc}"
            )
            return None
        if scheduled is None:
            # Nothing due: only after a restart or an early wake-up.
            return _next_schedule_delay(times, now, schedule)
        if missed > MANY_MISSED:
            self.events.event(
                cronjob,
                EventType.WARNING,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )

        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
            self.events.event(
                cronjob,
                EventType.WARNING,
                "MissSchedule",
                f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}",
            )
            return _next_schedule_delay(times, now, schedule)

        job_name = job_name_for(meta["name"], scheduled)
        if (
            any(
                ref.get("name") == job_name and (ref.get("namespace") or namespace) == namespace
                for ref in active
            )
            or times.last_scheduled == scheduled
        ):
            return _next_schedule_delay(times, now, schedule)

        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self.events.event(
                cronjob,
                EventType.NORMAL,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
            return _next_schedule_delay(times, now, schedule)
        if policy == "Replace":
            for ref in list(active):
                running = self.api.cached(
                    "jobs.batch", ref.get("name", ""), ref.get("namespace") or namespace
                )
                if running is None:
                    continue  # went missing meanwhile: nothing left to replace
                if not self._delete_job(cronjob, running, status):
                    raise NbClusterError(f"could not replace job {namespace}/{running['metadata']['name']}")
                active = list(status.get("active") or [])

        request = self._job_from_template(cronjob, scheduled, job_name, time_zone)
        try:
            created = self.api.create(request, owned=True, validate_schema=False)
        except AlreadyExists:
            # Created by us before a crash (or by someone else): take it into the list if it is ours.
            existing = self.api.cached("jobs.batch", job_name, namespace)
            if existing is None:
                raise
            if (controller_of(existing) or {}).get("uid") != meta.get("uid"):
                return None
            if any(ref.get("uid") == existing["metadata"].get("uid") for ref in active):
                return None
            created = existing
        except NbClusterError as exc:
            if "being terminated" not in str(exc):
                self.events.event(cronjob, EventType.WARNING, "FailedCreate", f"Error creating job: {exc}")
            raise
        else:
            self.events.event(
                cronjob, EventType.NORMAL, "SuccessfulCreate", f"Created job {created['metadata']['name']}"
            )

        active = [*active, _job_ref(created)]
        self._set_active(status, active)
        status["lastScheduleTime"] = format_time(scheduled)
        return _next_schedule_delay(self._times(cronjob, status), now, schedule)

    @staticmethod
    def _job_from_template(cronjob: Obj, scheduled: datetime, name: str, time_zone: str | None) -> Obj:
        """``getJobFromTemplate2``."""
        template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = _rfc3339(scheduled.astimezone(_zone(time_zone or "")))
        metadata: Obj = {
            "name": name,
            "namespace": cronjob["metadata"].get("namespace", ""),
            "annotations": annotations,
            "ownerReferences": [controller_ref(cronjob)],
        }
        if tmeta.get("labels"):
            metadata["labels"] = dict(tmeta["labels"])
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata,
            "spec": deep_copy(template.get("spec") or {}),
        }

    def _delete_job(self, cronjob: Obj, job: Obj, status: Obj) -> bool:
        """``deleteJob``: delete a Job (its pods go in the background) and forget it in the active list."""
        meta = job["metadata"]
        try:
            self.api.delete(
                "jobs.batch", meta["name"], namespace=meta.get("namespace"), propagation_policy="Background"
            )
        except NbClusterError as exc:
            self.events.event(cronjob, EventType.WARNING, "FailedDelete", f"Deleted job: {exc}")
            return False
        self._set_active(
            status, [ref for ref in status.get("active") or [] if ref.get("uid") != meta.get("uid")]
        )
        self.events.event(cronjob, EventType.NORMAL, "SuccessfulDelete", f"Deleted job {meta['name']}")
        return True

    def _cleanup_finished_jobs(self, cronjob: Obj, status: Obj, jobs: list[Obj]) -> None:
        """``cleanupFinishedJobs``: keep only the newest successful and failed Jobs."""
        spec = cronjob.get("spec") or {}
        successful_limit = spec.get("successfulJobsHistoryLimit")
        failed_limit = spec.get("failedJobsHistoryLimit")
        if successful_limit is None and failed_limit is None:
            return
        successful: list[Obj] = []
        failed: list[Obj] = []
        for job in jobs:
            finished = job_finished_condition(job)
            if finished is None:
                continue
            (successful if finished["type"] == "Complete" else failed).append(job)
        for group, limit in ((successful, successful_limit), (failed, failed_limit)):
            if limit is None or len(group) <= int(limit):
                continue
            group.sort(key=_by_start_time)
            for job in group[: len(group) - int(limit)]:
                self._delete_job(cronjob, job, status)


def _by_start_time(job: Obj) -> tuple[int, float, str]:
    """``byJobStartTime``: started Jobs oldest first, then those not started; names break ties."""
    started = (job.get("status") or {}).get("startTime")
    if not started:
        return (1, 0.0, job["metadata"]["name"])
    return (0, parse_time(started).timestamp(), job["metadata"]["name"])
