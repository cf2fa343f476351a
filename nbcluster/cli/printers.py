"""kubectl's table printers: the columns and cells of ``kubectl get`` for every kind. No I/O.

A port of kubernetes ``pkg/printers/internalversion/printers.go`` (column definitions
and one print function per kind) and apimachinery's ``duration.HumanDuration``.
As in Kubernetes, a row is always generated *wide* (the API server converts to a
Table with ``Wide: true``) and the columns of priority 1 are dropped unless ``-o
wide``; so, like real kubectl, a LoadBalancer's EXTERNAL-IP is never clipped.

Objects are read as the API server would hold them after defaulting: a field the
server always defaults reads as its default when absent (``spec.replicas`` 1, Service
``type`` ClusterIP and port protocol TCP, Secret ``type`` Opaque, CronJob ``suspend``
false, Job completions/parallelism, HPA ``minReplicas`` 1 and its 80% CPU target,
PV/PVC phase ``Pending`` and volumeMode ``Filesystem``, Namespace phase ``Active``,
Pod phase ``Pending``...). Quantities print in canonical form, like Quantity.String().

Kinds with no printer in Kubernetes (Role, ClusterRole, LimitRange, Binding) get the
API server's default table, ``NAME  CREATED AT``; kinds nbcluster does not know (custom
resources without printer columns) get ``NAME  AGE``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from nbcluster.api.quantities import canonical_quantity
from nbcluster.api.resources import ResourceInfo

__all__ = [
    "STATUS_COLOURS",
    "age",
    "columns",
    "human_duration",
    "pod_status_reason",
    "row",
    "status_colour",
]

_NONE = "<none>"
_UNKNOWN = "<unknown>"
_UNSET = "<unset>"
_LOAD_BALANCER_WIDTH = 16
_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"
_NODE_UNREACHABLE_POD_REASON = "NodeLost"
_SCHEDULING_GATED = "SchedulingGated"

# ------------------------------------------------------------------------ durations


def human_duration(seconds: float) -> str:
    """apimachinery ``duration.HumanDuration``: ``5s``, ``119s``, ``3m12s``, ``2d4h``, ``4y``.

    Precise to two units at most and growing coarser with age; ``<invalid>`` below -1s
    (clock skew up to a second reads as ``0s``).
    """
    ns = round(seconds * 1_000_000_000)  # a Go time.Duration: int64 nanoseconds
    secs = -((-ns) // 1_000_000_000) if ns < 0 else ns // 1_000_000_000  # int(d.Seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = ns // 60_000_000_000
    if minutes < 10:
        s = secs % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = ns // 3_600_000_000_000
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value: Any) -> datetime | None:
    """A metav1.Time / MicroTime (RFC 3339 string or datetime); None when unset."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _since(value: Any, now: datetime) -> str:
    """``translateTimestampSince``: HumanDuration of now - t, ``<unknown>`` when unset."""
    moment = _parse_time(value)
    if moment is None:
        return _UNKNOWN
    return human_duration((_aware(now) - moment).total_seconds())


def age(obj: dict, now: datetime) -> str:
    """The AGE cell: time since ``metadata.creationTimestamp`` (``<unknown>`` when unset)."""
    return _since(_meta(obj).get("creationTimestamp"), now)


# ------------------------------------------------------------------------ small helpers


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _status(obj: dict) -> dict:
    return obj.get("status") or {}


def _name(obj: dict) -> str:
    return str(_meta(obj).get("name") or "")


def _int(value: Any, default: int = 0) -> int:
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _bool(value: Any) -> str:
    """A Go ``bool`` table cell: ``true`` / ``false``."""
    return "true" if value else "false"


def _print_bool(value: bool) -> str:
    """printers.go ``printBool``: ``True`` / ``False``."""
    return "True" if value else "False"


def _quantity(value: Any) -> str:
    """resource.Quantity.String(): canonical form (``1.5Gi`` -> ``1536Mi``); zero when unset."""
    if value is None:
        return "0"
    try:
        return canonical_quantity(value)
    except (ValueError, TypeError, ArithmeticError):
        return str(value)  # not a quantity: show what was written


def _int_or_string(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: sorted ``k=v`` joined by commas, ``<none>`` when empty."""
    text = ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))
    return text or _NONE


class _BadSelector(Exception):
    pass


def _selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(); raises _BadSelector when invalid."""
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key = str(expr.get("key", ""))
        op = expr.get("operator")
        values = sorted(str(v) for v in expr.get("values") or [])
        if op == "In":
            requirements.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            requirements.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            requirements.append((key, key))
        elif op == "DoesNotExist":
            requirements.append((key, f"!{key}"))
        else:
            raise _BadSelector(f'"{op}" is not a valid label selector operator')
    requirements.sort(key=lambda r: r[0])
    return ",".join(text for _, text in requirements)


def _format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: ``<none>`` when empty, ``<error>`` when invalid."""
    try:
        text = _selector_string(selector)
    except _BadSelector:
        return "<error>"
    return text or _NONE


def _layout_container_cells(containers: list | None) -> tuple[str, str]:
    containers = containers or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def _more(items: list[str], more: bool, count: int, limit: int, empty: str = "<unset>") -> str:
    """listWithMoreString."""
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text or empty


def _replicas(spec: dict) -> int:
    return _int(spec.get("replicas"), 1)


# ------------------------------------------------------------------------ Pod


def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition(conditions: list | None, ctype: str) -> dict | None:
    for cond in conditions or []:
        if cond.get("type") == ctype:
            return cond
    return None


def _pod_summary(pod: dict) -> tuple[int, int, str, int, datetime | None]:
    """printPod's loop: (ready, total, STATUS reason, restarts, last restart time)."""
    spec = _spec(pod)
    status = _status(pod)
    conditions = status.get("conditions") or []
    restarts = 0
    restartable_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: datetime | None = None
    last_restartable_restart: datetime | None = None

    phase = status.get("phase") or "Pending"
    reason = status.get("reason") or phase

    # {type: PodScheduled, reason: SchedulingGated} names the STATUS.
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == _SCHEDULING_GATED:
            reason = _SCHEDULING_GATED

    init_specs = spec.get("initContainers") or []
    init_by_name: dict[str, dict] = {}
    for container in init_specs:
        init_by_name[str(container.get("name"))] = container
        if _is_restartable_init(container):
            total += 1

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = _int(cs.get("restartCount"))
        restarts += count
        finished = _finished_at(cs)
        if finished is not None and (last_restart is None or last_restart < finished):
            last_restart = finished
        restartable = _is_restartable_init(init_by_name.get(str(cs.get("name"))))
        if restartable:
            restartable_restarts += count
            if finished is not None and (
                last_restartable_restart is None or last_restartable_restart < finished
            ):
                last_restartable_restart = finished
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if restartable and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            # initialization failed
            if not terminated.get("reason"):
                if _int(terminated.get("signal")) != 0:
                    reason = f"Init:Signal:{_int(terminated.get('signal'))}"
                else:
                    reason = f"Init:ExitCode:{_int(terminated.get('exitCode'))}"
            else:
                reason = "Init:" + str(terminated["reason"])
            initializing = True
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
            initializing = True
        else:
            reason = f"Init:{i}/{len(init_specs)}"
            initializing = True
        break

    initialized = _condition(conditions, "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts = restartable_restarts
        last_restart = last_restartable_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += _int(cs.get("restartCount"))
            finished = _finished_at(cs)
            if finished is not None and (last_restart is None or last_restart < finished):
                last_restart = finished
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated is not None:
                if _int(terminated.get("signal")) != 0:
                    reason = f"Signal:{_int(terminated.get('signal'))}"
                else:
                    reason = f"ExitCode:{_int(terminated.get('exitCode'))}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1

        # back to "Running" if at least one container still reports running
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"

    deleting = _meta(pod).get("deletionTimestamp") is not None
    if deleting and status.get("reason") == _NODE_UNREACHABLE_POD_REASON:
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return ready, total, reason, restarts, last_restart


def _finished_at(container_status: dict) -> datetime | None:
    last = container_status.get("lastState") or {}
    terminated = last.get("terminated")
    if terminated is None:
        return None
    return _parse_time(terminated.get("finishedAt"))


def pod_status_reason(pod: dict) -> str:
    """The STATUS cell of ``kubectl get pods`` (printPod's reason), e.g. ``Running``,
    ``Init:1/2``, ``CrashLoopBackOff``, ``Completed``, ``Terminating``."""
    return _pod_summary(pod)[2]


def _print_pod(pod: dict, now: datetime) -> list[str]:
    ready, total, reason, restarts, last_restart = _pod_summary(pod)
    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({_since(last_restart, now)} ago)"
    spec = _spec(pod)
    status = _status(pod)
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else None) or status.get("podIP") or _NONE
    node_name = spec.get("nodeName") or _NONE
    nominated = status.get("nominatedNodeName") or _NONE
    gates = spec.get("readinessGates") or []
    readiness_gates = _NONE
    if gates:
        true_conditions = 0
        for gate in gates:
            cond = _condition(status.get("conditions"), str(gate.get("conditionType")))
            if cond is not None and cond.get("status") == "True":
                true_conditions += 1
        readiness_gates = f"{true_conditions}/{len(gates)}"
    return [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        age(pod, now),
        pod_ip,
        node_name,
        nominated,
        readiness_gates,
    ]


# ------------------------------------------------------------------------ workloads


def _print_pod_template(obj: dict, now: datetime) -> list[str]:
    template = obj.get("template") or {}
    names, images = _layout_container_cells(_spec(template).get("containers"))
    return [_name(obj), names, images, _format_labels(_meta(template).get("labels"))]


def _print_replication_controller(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    names, images = _layout_container_cells(_spec(spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        str(_replicas(spec)),
        str(_int(status.get("replicas"))),
        str(_int(status.get("readyReplicas"))),
        age(obj, now),
        names,
        images,
        _format_labels(spec.get("selector")),
    ]


def _print_replica_set(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    names, images = _layout_container_cells(_spec(spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        str(_replicas(spec)),
        str(_int(status.get("replicas"))),
        str(_int(status.get("readyReplicas"))),
        age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_deployment(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    try:
        selector = _selector_string(spec.get("selector"))
    except _BadSelector:
        selector = "<invalid>"
    names, images = _layout_container_cells(_spec(spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_replicas(spec)}",
        str(_int(status.get("updatedReplicas"))),
        str(_int(status.get("availableReplicas"))),
        age(obj, now),
        names,
        images,
        selector,
    ]


def _print_stateful_set(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    names, images = _layout_container_cells(_spec(spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_replicas(spec)}",
        age(obj, now),
        names,
        images,
    ]


def _print_daemon_set(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    pod_spec = _spec(spec.get("template") or {})
    names, images = _layout_container_cells(pod_spec.get("containers"))
    return [
        _name(obj),
        str(_int(status.get("desiredNumberScheduled"))),
        str(_int(status.get("currentNumberScheduled"))),
        str(_int(status.get("numberReady"))),
        str(_int(status.get("updatedNumberScheduled"))),
        str(_int(status.get("numberAvailable"))),
        _format_labels(pod_spec.get("nodeSelector")),
        age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _job_condition(conditions: list | None, ctype: str) -> bool:
    """hasJobCondition: the first condition of that type, if its status is True."""
    cond = _condition(conditions, ctype)
    return cond is not None and cond.get("status") == "True"


def _job_status(obj: dict) -> str:
    conditions = _status(obj).get("conditions")
    if _job_condition(conditions, "Complete"):
        return "Complete"
    if _job_condition(conditions, "Failed"):
        return "Failed"
    if _meta(obj).get("deletionTimestamp") is not None:
        return "Terminating"
    if _job_condition(conditions, "Suspended"):
        return "Suspended"
    if _job_condition(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _print_job(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    completions = spec.get("completions")
    parallelism = spec.get("parallelism")
    if completions is None and parallelism is None:  # SetDefaults_Job
        completions = parallelism = 1
    succeeded = _int(status.get("succeeded"))
    if completions is not None:
        completions_cell = f"{succeeded}/{_int(completions)}"
    elif _int(parallelism, 1) > 1:
        completions_cell = f"{succeeded}/1 of {_int(parallelism)}"
    else:
        completions_cell = f"{succeeded}/1"
    start = _parse_time(status.get("startTime"))
    completion = _parse_time(status.get("completionTime"))
    if start is None:
        duration = ""
    elif completion is None:
        duration = human_duration((_aware(now) - start).total_seconds())
    else:
        duration = human_duration((completion - start).total_seconds())
    names, images = _layout_container_cells(_spec(spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        _job_status(obj),
        completions_cell,
        duration,
        age(obj, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_cron_job(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    last_schedule = _NONE
    if status.get("lastScheduleTime"):
        last_schedule = _since(status["lastScheduleTime"], now)
    job_spec = _spec(spec.get("jobTemplate") or {})
    names, images = _layout_container_cells(_spec(job_spec.get("template") or {}).get("containers"))
    return [
        _name(obj),
        str(spec.get("schedule", "")),
        spec.get("timeZone") or _NONE,
        _print_bool(bool(spec.get("suspend", False))),
        str(len(status.get("active") or [])),
        last_schedule,
        age(obj, now),
        names,
        images,
        _format_label_selector(job_spec.get("selector")),
    ]


def _print_controller_revision(obj: dict, now: datetime) -> list[str]:
    controller = _NONE
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller") is True:
            api_version = str(ref.get("apiVersion") or "")
            group = api_version.rpartition("/")[0]
            kind = str(ref.get("kind") or "")
            group_kind = f"{kind}.{group}" if group else kind
            controller = (
                f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else str(ref.get("name", ""))
            )
            break
    return [_name(obj), controller, str(_int(obj.get("revision"))), age(obj, now)]


def _print_hpa(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    ref = spec.get("scaleTargetRef") or {}
    metrics, current = _hpa_metrics(obj)
    min_replicas = spec.get("minReplicas", 1)  # SetDefaults_HorizontalPodAutoscaler
    min_pods = _UNSET if min_replicas is None else str(_int(min_replicas))
    return [
        _name(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _format_hpa_metrics(metrics, current),
        min_pods,
        str(_int(spec.get("maxReplicas"))),
        str(_int(status.get("currentReplicas"))),
        age(obj, now),
    ]


def _hpa_metrics(obj: dict) -> tuple[list[dict], list[dict]]:
    """(spec metrics, status currentMetrics) in autoscaling/v2 shape; v1 objects converted."""
    spec, status = _spec(obj), _status(obj)
    if str(obj.get("apiVersion", "")).endswith("/v1") or "targetCPUUtilizationPercentage" in spec:
        target = spec.get("targetCPUUtilizationPercentage", 80)
        metrics = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ]
        current: list[dict] = []
        if status.get("currentCPUUtilizationPercentage") is not None:
            current = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]},
                    },
                }
            ]
        return metrics, current
    metrics = spec.get("metrics")
    if not metrics:  # autoscaling/v2 defaults: 80% average CPU utilization
        metrics = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    return list(metrics), list(status.get("currentMetrics") or [])


def _format_hpa_metrics(specs: list[dict], statuses: list[dict]) -> str:
    if not specs:
        return _NONE
    items: list[str] = []
    limit = 2
    count = 0
    for i, metric in enumerate(specs):
        mtype = metric.get("type")
        st = statuses[i] if len(statuses) > i else {}
        if mtype == "External":
            source = metric.get("external") or {}
            target = source.get("target") or {}
            cur = (st.get("external") or {}).get("current") if st.get("external") is not None else None
            if target.get("averageValue") is not None:
                current = _UNKNOWN
                if cur is not None and cur.get("averageValue") is not None:
                    current = _quantity(cur["averageValue"])
                items.append(f"{current}/{_quantity(target['averageValue'])} (avg)")
            else:
                current = _UNKNOWN if cur is None else _quantity(cur.get("value"))
                items.append(f"{current}/{_quantity(target.get('value'))}")
        elif mtype == "Pods":
            target = (metric.get("pods") or {}).get("target") or {}
            current = _UNKNOWN
            if st.get("pods") is not None:
                current = _quantity(((st["pods"].get("current")) or {}).get("averageValue"))
            items.append(f"{current}/{_quantity(target.get('averageValue'))}")
        elif mtype == "Object":
            target = (metric.get("object") or {}).get("target") or {}
            cur = (st.get("object") or {}).get("current") if st.get("object") is not None else None
            if target.get("averageValue") is not None:
                current = _UNKNOWN
                if cur is not None and cur.get("averageValue") is not None:
                    current = _quantity(cur["averageValue"])
                items.append(f"{current}/{_quantity(target['averageValue'])} (avg)")
            else:
                current = _UNKNOWN if cur is None else _quantity(cur.get("value"))
                items.append(f"{current}/{_quantity(target.get('value'))}")
        elif mtype in ("Resource", "ContainerResource"):
            field = "resource" if mtype == "Resource" else "containerResource"
            source = metric.get(field) or {}
            target = source.get("target") or {}
            name = source.get("name", "")
            cur = (st.get(field) or {}).get("current") if st.get(field) is not None else None
            if target.get("averageValue") is not None:
                current = _UNKNOWN if cur is None else _quantity(cur.get("averageValue"))
                items.append(f"{name}: {current}/{_quantity(target['averageValue'])}")
            else:
                current = _UNKNOWN
                if cur is not None and cur.get("averageUtilization") is not None:
                    current = f"{_int(cur['averageUtilization'])}%"
                target_text = "<auto>"
                if target.get("averageUtilization") is not None:
                    target_text = f"{_int(target['averageUtilization'])}%"
                items.append(f"{name}: {current}/{target_text}")
        else:
            items.append("<unknown type>")
        count += 1
    more = False
    if count > limit:
        items = items[:limit]
        more = True
    text = ", ".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text


def _print_pdb(obj: dict, now: datetime) -> list[str]:
    spec = _spec(obj)
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        _name(obj),
        "N/A" if min_available is None else _int_or_string(min_available),
        "N/A" if max_unavailable is None else _int_or_string(max_unavailable),
        str(_int(_status(obj).get("disruptionsAllowed"))),
        age(obj, now),
    ]


# ------------------------------------------------------------------------ networking


def _load_balancer_status(status: dict | None, wide: bool = True) -> str:
    """loadBalancerStatusStringer (the server always calls it with wide=true)."""
    result = set()
    for ingress in (status or {}).get("ingress") or []:
        if ingress.get("ip"):
            result.add(str(ingress["ip"]))
        elif ingress.get("hostname"):
            result.add(str(ingress["hostname"]))
    text = ",".join(sorted(result))
    if not wide and len(text) > _LOAD_BALANCER_WIDTH:
        text = text[: _LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def _service_external_ip(svc: dict) -> str:
    spec = _spec(svc)
    svc_type = spec.get("type") or "ClusterIP"
    external_ips = [str(ip) for ip in spec.get("externalIPs") or []]
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else _NONE
    if svc_type == "LoadBalancer":
        lb_ips = _load_balancer_status(_status(svc).get("loadBalancer"))
        if external_ips:
            results = lb_ips.split(",") if lb_ips else []
            return ",".join(results + external_ips)
        return lb_ips or "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName") or "")
    return _UNKNOWN


def _port_string(ports: list | None) -> str:
    """makePortString: ``80/TCP``, ``80:30080/TCP``, joined by commas."""
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol") or "TCP"
        node_port = _int(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{_int(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int(port.get('port'))}/{protocol}")
    return ",".join(pieces)


def _print_service(obj: dict, now: datetime) -> list[str]:
    spec = _spec(obj)
    cluster_ips = spec.get("clusterIPs") or []
    internal_ip = (cluster_ips[0] if cluster_ips else None) or spec.get("clusterIP") or _NONE
    return [
        _name(obj),
        str(spec.get("type") or "ClusterIP"),
        str(internal_ip),
        _service_external_ip(obj),
        _port_string(spec.get("ports")) or _NONE,
        age(obj, now),
        _format_labels(spec.get("selector")),
    ]


def _format_endpoints(endpoints: dict) -> str:
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return _NONE
    items: list[str] = []
    limit = 3
    more = False
    count = 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            # headless services may have no ports
            count += len(addresses)
            for address in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(str(address.get("ip", "")))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(_join_host_port(str(address.get("ip", "")), _int(port.get("port"))))
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text


def _join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort: IPv6 addresses in brackets."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _print_endpoints(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), _format_endpoints(obj), age(obj, now)]


def _print_endpoint_slice(obj: dict, now: datetime) -> list[str]:
    ports: list[str] = []
    limit = 3
    more = False
    count = 0
    for port in obj.get("ports") or []:
        if len(ports) < limit:
            if port.get("port") is not None:
                ports.append(str(_int(port["port"])))
            elif port.get("name") is not None:
                ports.append(str(port["name"]))
            else:
                ports.append("*")
        elif len(ports) == limit:
            more = True
        count += 1
    ports_cell = _more(ports, more, count, limit)
    addresses: list[str] = []
    more = False
    count = 0
    for endpoint in obj.get("endpoints") or []:
        for address in endpoint.get("addresses") or []:
            if len(addresses) < limit:
                addresses.append(str(address))
            elif len(addresses) == limit:
                more = True
            count += 1
    return [
        _name(obj),
        str(obj.get("addressType", "")),
        ports_cell,
        _more(addresses, more, count, limit),
        age(obj, now),
    ]


def _print_ingress(obj: dict, now: datetime) -> list[str]:
    spec = _spec(obj)
    rules = spec.get("rules") or []
    hosts: list[str] = []
    limit = 3
    more = False
    for rule in rules:
        if len(hosts) == limit:
            more = True
        if not more and rule.get("host"):
            hosts.append(str(rule["host"]))
    if not hosts:
        hosts_cell = "*"
    elif more:
        hosts_cell = f"{','.join(hosts)} + {len(rules) - limit} more..."
    else:
        hosts_cell = ",".join(hosts)
    return [
        _name(obj),
        spec.get("ingressClassName") or _NONE,
        hosts_cell,
        _load_balancer_status(_status(obj).get("loadBalancer")),
        "80, 443" if spec.get("tls") else "80",
        age(obj, now),
    ]


def _print_ingress_class(obj: dict, now: datetime) -> list[str]:
    spec = _spec(obj)
    parameters = _NONE
    params = spec.get("parameters")
    if params is not None:
        parameters = str(params.get("kind", ""))
        if params.get("apiGroup") is not None:
            parameters += "." + str(params["apiGroup"])
        parameters += "/" + str(params.get("name", ""))
    return [_name(obj), str(spec.get("controller", "")), parameters, age(obj, now)]


def _print_network_policy(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), _format_label_selector(_spec(obj).get("podSelector")), age(obj, now)]


# ------------------------------------------------------------------------ cluster


def _print_node(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    states: list[str] = []
    ready = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = cond  # conditionMap keeps the last one of a type
    if ready is not None:
        states.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (_meta(obj).get("labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX):
            role = key[len(_NODE_ROLE_PREFIX) :]
            if role:
                roles.add(role)
        elif key == _NODE_ROLE_LABEL and value:
            roles.add(str(value))
    info = status.get("nodeInfo") or {}
    return [
        _name(obj),
        ",".join(states),
        ",".join(sorted(roles)) or _NONE,
        age(obj, now),
        str(info.get("kubeletVersion") or ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        info.get("osImage") or _UNKNOWN,
        info.get("kernelVersion") or _UNKNOWN,
        info.get("containerRuntimeVersion") or _UNKNOWN,
    ]


def _node_address(status: dict, address_type: str) -> str:
    for address in status.get("addresses") or []:
        if address.get("type") == address_type:
            return str(address.get("address", ""))
    return _NONE


def _print_namespace(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), str(_status(obj).get("phase") or "Active"), age(obj, now)]


def _print_component_status(obj: dict, now: datetime) -> list[str]:
    status, message, error = "Unknown", "", ""
    for cond in obj.get("conditions") or []:
        if cond.get("type") == "Healthy":
            status = "Healthy" if cond.get("status") == "True" else "Unhealthy"
            message = str(cond.get("message") or "")
            error = str(cond.get("error") or "")
            break
    return [_name(obj), status, message, error]


def _print_lease(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), str(_spec(obj).get("holderIdentity") or ""), age(obj, now)]


def _print_priority_class(obj: dict, now: datetime) -> list[str]:
    return [
        _name(obj),
        str(_int(obj.get("value"))),
        _bool(obj.get("globalDefault")),
        age(obj, now),
        str(obj.get("preemptionPolicy") or "PreemptLowerPriority"),
    ]


def _print_event(obj: dict, now: datetime) -> list[str]:
    event = _core_event(obj)
    first = _since(event.get("firstTimestamp"), now)
    if _parse_time(event.get("firstTimestamp")) is None:
        first = _since(event.get("eventTime"), now)
    last = _since(event.get("lastTimestamp"), now)
    if _parse_time(event.get("lastTimestamp")) is None:
        last = first
    count = _int(event.get("count"))
    series = event.get("series")
    if series is not None:
        last = _since(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1  # singleton events carry no count in the new API
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    source_cell = f"{component}, {instance}" if instance else component
    return [
        last,
        str(event.get("type") or ""),
        str(event.get("reason") or ""),
        target,
        str(involved.get("fieldPath") or ""),
        source_cell,
        str(event.get("message") or "").strip(),
        first,
        str(count),
        _name(obj),
    ]


def _core_event(obj: dict) -> dict:
    """An events.k8s.io/v1 Event in core/v1 shape (the internal type both map to)."""
    if not str(obj.get("apiVersion", "")).startswith("events.k8s.io/"):
        return obj
    series = obj.get("series")
    return {
        "firstTimestamp": obj.get("deprecatedFirstTimestamp"),
        "lastTimestamp": obj.get("deprecatedLastTimestamp"),
        "eventTime": obj.get("eventTime"),
        "count": obj.get("deprecatedCount"),
        "series": series,
        "involvedObject": obj.get("regarding") or {},
        "source": obj.get("deprecatedSource") or {},
        "reportingComponent": obj.get("reportingController"),
        "reportingInstance": obj.get("reportingInstance"),
        "type": obj.get("type"),
        "reason": obj.get("reason"),
        "message": obj.get("note"),
    }


def _print_resource_quota(obj: dict, now: datetime) -> list[str]:
    status = _status(obj)
    hard = status.get("hard") or {}
    used = status.get("used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        pieces = resource.split(".")
        column = limits if len(pieces) > 1 and pieces[0] == "limits" else requests
        column.append(f"{resource}: {_quantity(used.get(resource))}/{_quantity(hard[resource])}")
    return [_name(obj), ", ".join(requests), ", ".join(limits), age(obj, now)]


# ------------------------------------------------------------------------ config & storage


def _print_config_map(obj: dict, now: datetime) -> list[str]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), str(count), age(obj, now)]


def _print_secret(obj: dict, now: datetime) -> list[str]:
    # The API server folds stringData into data on write; count what it would hold.
    keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
    return [_name(obj), str(obj.get("type") or "Opaque"), str(len(keys)), age(obj, now)]


def _print_service_account(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), str(len(obj.get("secrets") or [])), age(obj, now)]


def _access_modes(modes: list | None) -> str:
    """helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order."""
    modes = modes or []
    out = []
    for mode, short in (
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ):
        if mode in modes:
            out.append(short)
    return ",".join(out)


_BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _print_persistent_volume(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    claim = ""
    claim_ref = spec.get("claimRef")
    if claim_ref is not None:
        claim = f"{claim_ref.get('namespace', '')}/{claim_ref.get('name', '')}"
    phase = status.get("phase") or "Pending"
    if _meta(obj).get("deletionTimestamp") is not None:
        phase = "Terminating"
    annotations = _meta(obj).get("annotations") or {}
    storage_class = annotations.get(_BETA_STORAGE_CLASS_ANNOTATION)  # beta annotation first
    if storage_class is None:
        storage_class = spec.get("storageClassName") or ""
    return [
        _name(obj),
        _quantity((spec.get("capacity") or {}).get("storage")),
        _access_modes(spec.get("accessModes")),
        str(spec.get("persistentVolumeReclaimPolicy") or "Retain"),
        str(phase),
        claim,
        str(storage_class),
        spec.get("volumeAttributesClassName") or _UNSET,
        str(status.get("reason") or ""),
        age(obj, now),
        str(spec.get("volumeMode") or "Filesystem"),
    ]


def _print_persistent_volume_claim(obj: dict, now: datetime) -> list[str]:
    spec, status = _spec(obj), _status(obj)
    phase = status.get("phase") or "Pending"
    if _meta(obj).get("deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = ""
    access_modes = ""
    if spec.get("volumeName"):
        access_modes = _access_modes(status.get("accessModes"))
        capacity = _quantity((status.get("capacity") or {}).get("storage"))
    annotations = _meta(obj).get("annotations") or {}
    storage_class = annotations.get(_BETA_STORAGE_CLASS_ANNOTATION)
    if storage_class is None:
        storage_class = spec.get("storageClassName") or ""
    return [
        _name(obj),
        str(phase),
        str(spec.get("volumeName") or ""),
        capacity,
        access_modes,
        str(storage_class),
        spec.get("volumeAttributesClassName") or _UNSET,
        age(obj, now),
        str(spec.get("volumeMode") or "Filesystem"),
    ]


_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _print_storage_class(obj: dict, now: datetime) -> list[str]:
    name = _name(obj)
    annotations = _meta(obj).get("annotations") or {}
    if any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        str(obj.get("provisioner", "")),
        str(obj.get("reclaimPolicy") or "Delete"),
        str(obj.get("volumeBindingMode") or "Immediate"),
        _bool(obj.get("allowVolumeExpansion")),
        age(obj, now),
    ]


# ------------------------------------------------------------------------ RBAC


def _subjects(subjects: list | None) -> tuple[str, str, str]:
    """rbac.SubjectsStrings: users, groups, service accounts (``ns/name``)."""
    users, groups, sas = [], [], []
    for subject in subjects or []:
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            sas.append(f"{subject.get('namespace', '')}/{subject.get('name', '')}")
        elif kind == "User":
            users.append(str(subject.get("name", "")))
        elif kind == "Group":
            groups.append(str(subject.get("name", "")))
    return ", ".join(users), ", ".join(groups), ", ".join(sas)


def _print_role_binding(obj: dict, now: datetime) -> list[str]:
    ref = obj.get("roleRef") or {}
    users, groups, sas = _subjects(obj.get("subjects"))
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now), users, groups, sas]


# ------------------------------------------------------------------------ defaults


def _print_created_at(obj: dict, now: datetime) -> list[str]:
    """The API server's default table (no printer): name and RFC 3339 creation time."""
    moment = _parse_time(_meta(obj).get("creationTimestamp"))
    created = (
        moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "0001-01-01T00:00:00Z"
    )
    return [_name(obj), created]


def _print_generic(obj: dict, now: datetime) -> list[str]:
    return [_name(obj), age(obj, now)]


# ------------------------------------------------------------------------ the tables

_Printer = Callable[[dict, datetime], list[str]]
_Columns = tuple[tuple[str, int], ...]

_CONTAINERS_IMAGES_SELECTOR = (("Containers", 1), ("Images", 1), ("Selector", 1))

#: kind -> (column definitions as (name, priority), print function). Column names are
#: printers.go's; kubectl prints them upper-cased.
_TABLES: dict[str, tuple[_Columns, _Printer]] = {
    "Pod": (
        (
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1),
        ),
        _print_pod,
    ),
    "PodTemplate": (
        (("Name", 0), ("Containers", 0), ("Images", 0), ("Pod Labels", 0)),
        _print_pod_template,
    ),
    "PodDisruptionBudget": (
        (("Name", 0), ("Min Available", 0), ("Max Unavailable", 0), ("Allowed Disruptions", 0), ("Age", 0)),
        _print_pdb,
    ),
    "ReplicationController": (
        (("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Age", 0), *_CONTAINERS_IMAGES_SELECTOR),
        _print_replication_controller,
    ),
    "ReplicaSet": (
        (("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Age", 0), *_CONTAINERS_IMAGES_SELECTOR),
        _print_replica_set,
    ),
    "DaemonSet": (
        (
            ("Name", 0),
            ("Desired", 0),
            ("Current", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Node Selector", 0),
            ("Age", 0),
            *_CONTAINERS_IMAGES_SELECTOR,
        ),
        _print_daemon_set,
    ),
    "Job": (
        (
            ("Name", 0),
            ("Status", 0),
            ("Completions", 0),
            ("Duration", 0),
            ("Age", 0),
            *_CONTAINERS_IMAGES_SELECTOR,
        ),
        _print_job,
    ),
    "CronJob": (
        (
            ("Name", 0),
            ("Schedule", 0),
            ("Timezone", 0),
            ("Suspend", 0),
            ("Active", 0),
            ("Last Schedule", 0),
            ("Age", 0),
            *_CONTAINERS_IMAGES_SELECTOR,
        ),
        _print_cron_job,
    ),
    "Service": (
        (
            ("Name", 0),
            ("Type", 0),
            ("Cluster-IP", 0),
            ("External-IP", 0),
            ("Port(s)", 0),
            ("Age", 0),
            ("Selector", 1),
        ),
        _print_service,
    ),
    "Ingress": (
        (("Name", 0), ("Class", 0), ("Hosts", 0), ("Address", 0), ("Ports", 0), ("Age", 0)),
        _print_ingress,
    ),
    "IngressClass": (
        (("Name", 0), ("Controller", 0), ("Parameters", 0), ("Age", 0)),
        _print_ingress_class,
    ),
    "StatefulSet": (
        (("Name", 0), ("Ready", 0), ("Age", 0), ("Containers", 1), ("Images", 1)),
        _print_stateful_set,
    ),
    "Endpoints": ((("Name", 0), ("Endpoints", 0), ("Age", 0)), _print_endpoints),
    "Node": (
        (
            ("Name", 0),
            ("Status", 0),
            ("Roles", 0),
            ("Age", 0),
            ("Version", 0),
            ("Internal-IP", 1),
            ("External-IP", 1),
            ("OS-Image", 1),
            ("Kernel-Version", 1),
            ("Container-Runtime", 1),
        ),
        _print_node,
    ),
    "Event": (
        (
            ("Last Seen", 0),
            ("Type", 0),
            ("Reason", 0),
            ("Object", 0),
            ("Subobject", 1),
            ("Source", 1),
            ("Message", 0),
            ("First Seen", 1),
            ("Count", 1),
            ("Name", 1),
        ),
        _print_event,
    ),
    "Namespace": ((("Name", 0), ("Status", 0), ("Age", 0)), _print_namespace),
    "Secret": ((("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)), _print_secret),
    "ServiceAccount": ((("Name", 0), ("Secrets", 0), ("Age", 0)), _print_service_account),
    "PersistentVolume": (
        (
            ("Name", 0),
            ("Capacity", 0),
            ("Access Modes", 0),
            ("Reclaim Policy", 0),
            ("Status", 0),
            ("Claim", 0),
            ("StorageClass", 0),
            ("VolumeAttributesClass", 0),
            ("Reason", 0),
            ("Age", 0),
            ("VolumeMode", 1),
        ),
        _print_persistent_volume,
    ),
    "PersistentVolumeClaim": (
        (
            ("Name", 0),
            ("Status", 0),
            ("Volume", 0),
            ("Capacity", 0),
            ("Access Modes", 0),
            ("StorageClass", 0),
            ("VolumeAttributesClass", 0),
            ("Age", 0),
            ("VolumeMode", 1),
        ),
        _print_persistent_volume_claim,
    ),
    "ComponentStatus": (
        (("Name", 0), ("Status", 0), ("Message", 0), ("Error", 0)),
        _print_component_status,
    ),
    "Deployment": (
        (
            ("Name", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Age", 0),
            *_CONTAINERS_IMAGES_SELECTOR,
        ),
        _print_deployment,
    ),
    "HorizontalPodAutoscaler": (
        (
            ("Name", 0),
            ("Reference", 0),
            ("Targets", 0),
            ("MinPods", 0),
            ("MaxPods", 0),
            ("Replicas", 0),
            ("Age", 0),
        ),
        _print_hpa,
    ),
    "ConfigMap": ((("Name", 0), ("Data", 0), ("Age", 0)), _print_config_map),
    "NetworkPolicy": ((("Name", 0), ("Pod-Selector", 0), ("Age", 0)), _print_network_policy),
    "RoleBinding": (
        (("Name", 0), ("Role", 0), ("Age", 0), ("Users", 1), ("Groups", 1), ("ServiceAccounts", 1)),
        _print_role_binding,
    ),
    "ClusterRoleBinding": (
        (("Name", 0), ("Role", 0), ("Age", 0), ("Users", 1), ("Groups", 1), ("ServiceAccounts", 1)),
        _print_role_binding,
    ),
    "Lease": ((("Name", 0), ("Holder", 0), ("Age", 0)), _print_lease),
    "StorageClass": (
        (
            ("Name", 0),
            ("Provisioner", 0),
            ("ReclaimPolicy", 0),
            ("VolumeBindingMode", 0),
            ("AllowVolumeExpansion", 0),
            ("Age", 0),
        ),
        _print_storage_class,
    ),
    "ControllerRevision": (
        (("Name", 0), ("Controller", 0), ("Revision", 0), ("Age", 0)),
        _print_controller_revision,
    ),
    "ResourceQuota": (
        (("Name", 0), ("Request", 0), ("Limit", 0), ("Age", 0)),
        _print_resource_quota,
    ),
    "PriorityClass": (
        (("Name", 0), ("Value", 0), ("Global-Default", 0), ("Age", 0), ("PreemptionPolicy", 1)),
        _print_priority_class,
    ),
    "EndpointSlice": (
        (("Name", 0), ("AddressType", 0), ("Ports", 0), ("Endpoints", 0), ("Age", 0)),
        _print_endpoint_slice,
    ),
}

#: Kinds Kubernetes serves without a printer: the API server's default table.
_CREATED_AT_KINDS = frozenset({"Binding", "ClusterRole", "LimitRange", "Role"})
_CREATED_AT_TABLE: tuple[_Columns, _Printer] = ((("Name", 0), ("Created At", 0)), _print_created_at)
_GENERIC_TABLE: tuple[_Columns, _Printer] = ((("Name", 0), ("Age", 0)), _print_generic)


def _table(kind: str) -> tuple[_Columns, _Printer]:
    table = _TABLES.get(kind)
    if table is not None:
        return table
    if kind in _CREATED_AT_KINDS:
        return _CREATED_AT_TABLE
    return _GENERIC_TABLE


def columns(resource: ResourceInfo, *, wide: bool = False) -> list[str]:
    """The header of ``kubectl get RESOURCE`` (``-o wide`` adds the priority-1 columns)."""
    cols, _ = _table(resource.kind)
    return [name.upper() for name, priority in cols if wide or priority == 0]


def row(obj: dict, *, now: datetime, wide: bool = False) -> list[str]:
    """The cells of ``kubectl get`` for one object, in :func:`columns` order."""
    cols, printer = _table(str(obj.get("kind") or ""))
    cells = printer(obj, now)
    return [cell for cell, (_, priority) in zip(cells, cols) if wide or priority == 0]


# ------------------------------------------------------------------------ status colours

#: A STATUS cell (pods, nodes, namespaces, PVs/PVCs, jobs, components) → its category:
#: ``ok`` (healthy, steady), ``progress`` (on its way), ``warning`` (needs a look),
#: ``error`` (will not recover without help), ``done`` (finished successfully).
#: Computed cells (``Init:1/2``, ``ExitCode:1``...) are handled by :func:`status_colour`.
STATUS_COLOURS: dict[str, str] = {
    # steady and healthy
    "Running": "ok",
    "Ready": "ok",
    "Active": "ok",
    "Bound": "ok",
    "Available": "ok",
    "Healthy": "ok",
    # on its way
    "Pending": "progress",
    "ContainerCreating": "progress",
    "PodInitializing": "progress",
    "Terminating": "progress",
    "SchedulingGated": "progress",
    # needs a look
    "NotReady": "warning",
    "Unknown": "warning",
    "NodeLost": "warning",
    "SchedulingDisabled": "warning",
    "Suspended": "warning",
    "Released": "warning",
    "FailureTarget": "warning",
    "ContainerStatusUnknown": "warning",
    # broken
    "Error": "error",
    "Failed": "error",
    "CrashLoopBackOff": "error",
    "ErrImagePull": "error",
    "ImagePullBackOff": "error",
    "ErrImageNeverPull": "error",
    "InvalidImageName": "error",
    "CreateContainerConfigError": "error",
    "CreateContainerError": "error",
    "RunContainerError": "error",
    "ContainerCannotRun": "error",
    "OOMKilled": "error",
    "DeadlineExceeded": "error",
    "Evicted": "error",
    "Lost": "error",
    "Unhealthy": "error",
    "Init:Error": "error",
    "Init:CrashLoopBackOff": "error",
    "Init:ErrImagePull": "error",
    "Init:ImagePullBackOff": "error",
    "Init:OOMKilled": "error",
    "Init:CreateContainerConfigError": "error",
    # finished
    "Completed": "done",
    "Succeeded": "done",
    "Complete": "done",
}

_SEVERITY = {"ok": 0, "done": 1, "progress": 2, "warning": 3, "error": 4}


def status_colour(cell: str) -> str:
    """The category of any STATUS cell, computed ones included.

    ``Init:N/M`` is progress; ``Init:<reason>`` takes the reason's category (error
    when unknown); ``ExitCode:N``/``Signal:N`` are errors; a combined node status
    (``Ready,SchedulingDisabled``) takes its worst part. Unknown words: warning.
    """
    if cell in STATUS_COLOURS:
        return STATUS_COLOURS[cell]
    if "," in cell:
        parts = [status_colour(part) for part in cell.split(",") if part]
        return max(parts, key=lambda c: _SEVERITY[c]) if parts else "warning"
    if cell.startswith("Init:"):
        rest = cell[len("Init:") :]
        head, _, tail = rest.partition("/")
        if head.isdigit() and tail.isdigit():
            return "progress"
        if rest in STATUS_COLOURS and STATUS_COLOURS[rest] != "ok":
            return STATUS_COLOURS[rest]
        return "error"
    if cell.startswith(("ExitCode:", "Signal:")):
        return "error"
    return "warning"
