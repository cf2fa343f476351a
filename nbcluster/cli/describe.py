"""``kubectl describe``: a readable page per object, with its events. No I/O.

Kind-specific sections follow kubectl's describers (pkg/describe/describe.go) for
Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, Services, Nodes;
every other kind gets the common header and its spec and status as YAML.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nbcluster.api.conversion import from_storage_version, to_storage_version
from nbcluster.api.yamlio import dump_yaml
from nbcluster.cli.printers import human_duration, pod_status_reason
from nbcluster.cli.tables import tabwrite
from nbcluster.control.apiserver import APIServer, Selector
from nbcluster.util.clock import parse_time

__all__ = ["describe", "events_for"]

Obj = dict[str, Any]


def _map(values: dict[str, Any] | None, indent: int = 0) -> str:
    """printLabelsMultiline: one ``k=v`` per line, continuation lines in the value column."""
    if not values:
        return "<none>"
    items = [f"{k}={v}" for k, v in sorted(values.items())]
    return ("\n" + " " * indent + "\t").join(items)


def _header(obj: Obj) -> list[str]:
    meta = obj["metadata"]
    lines = [f"Name:\t{meta['name']}"]
    if meta.get("namespace"):
        lines.append(f"Namespace:\t{meta['namespace']}")
    lines.append(f"Labels:\t{_map(meta.get('labels'))}")
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    lines.append(f"Annotations:\t{_annotations(annotations)}")
    if meta.get("creationTimestamp"):
        lines.append(f"CreationTimestamp:\t{_time(meta['creationTimestamp'])}")
    return lines


def _annotations(values: dict[str, Any]) -> str:
    """printAnnotationsMultiline: ``key: value`` lines, each cut at 140 characters."""
    if not values:
        return "<none>"
    out = []
    for key in sorted(values):
        line = f"{key}: {values[key]}"
        out.append(line[:140] + "..." if len(line) > 140 else line)
    return "\n\t".join(out)


def _time(value: Any) -> str:
    """A timestamp as kubectl describe prints it (Go's time.RFC1123Z)."""
    try:
        return parse_time(str(value)).strftime("%a, %d %b %Y %H:%M:%S %z")
    except (TypeError, ValueError):
        return str(value)


def events_for(api: APIServer, obj: Obj) -> list[Obj]:
    uid = obj["metadata"].get("uid")
    namespace = obj["metadata"].get("namespace") or "default"
    events = [
        e
        for e in api.cached_list(
            "events",
            namespace if obj["metadata"].get("namespace") else None,
            Selector(fields=f"involvedObject.uid={uid}"),
        )
    ]
    return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("firstTimestamp") or "")


def _events(api: APIServer, obj: Obj, now: datetime) -> list[str]:
    events = events_for(api, obj)
    if not events:
        return ["Events:\t<none>"]
    lines = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for event in events:
        first = event.get("firstTimestamp") or event.get("lastTimestamp")
        last = event.get("lastTimestamp") or first
        age = human_duration((now - parse_time(last)).total_seconds()) if last else "<unknown>"
        count = int(event.get("count", 1))
        if count > 1 and first:
            age = f"{age} (x{count} over {human_duration((now - parse_time(first)).total_seconds())})"
        source = event.get("source", {}).get("component", "")
        message = str(event.get("message", "")).strip()
        lines.append(f"  {event.get('type', '')}\t{event.get('reason', '')}\t{age}\t{source}\t{message}")
    return lines


def _containers(containers: list[Obj], statuses: list[Obj], title: str) -> list[str]:
    if not containers:
        return []
    by_name = {s["name"]: s for s in statuses or []}
    lines = [f"{title}:"]
    for container in containers:
        status = by_name.get(container["name"], {})
        lines.append(f"  {container['name']}:")
        if status.get("containerID"):
            lines.append(f"    Container ID:\t{status['containerID']}")
        lines.append(f"    Image:\t{container.get('image', '')}")
        ports = container.get("ports") or []
        port_text = ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in ports)
        host_text = ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports)
        lines.append(("    Ports:\t" if len(ports) > 1 else "    Port:\t") + (port_text or "<none>"))
        lines.append(
            ("    Host Ports:\t" if len(ports) > 1 else "    Host Port:\t") + (host_text or "<none>")
        )
        if container.get("command"):
            lines.append("    Command:\n      " + "\n      ".join(map(str, container["command"])))
        if container.get("args"):
            lines.append("    Args:\n      " + "\n      ".join(map(str, container["args"])))
        state = status.get("state", {})
        for key, label in (("running", "Running"), ("waiting", "Waiting"), ("terminated", "Terminated")):
            if key in state:
                lines.append(f"    State:\t{label}")
                detail = state[key]
                if detail.get("reason"):
                    lines.append(f"      Reason:\t{detail['reason']}")
                if detail.get("exitCode") is not None and key == "terminated":
                    lines.append(f"      Exit Code:\t{detail['exitCode']}")
                if detail.get("startedAt"):
                    lines.append(f"      Started:\t{_time(detail['startedAt'])}")
                if detail.get("finishedAt"):
                    lines.append(f"      Finished:\t{_time(detail['finishedAt'])}")
        last = status.get("lastState", {}).get("terminated")
        if last:
            lines.append("    Last State:\tTerminated")
            lines.append(f"      Reason:\t{last.get('reason', '')}")
            lines.append(f"      Exit Code:\t{last.get('exitCode', '')}")
        if status:
            lines.append(f"    Ready:\t{'True' if status.get('ready') else 'False'}")
            lines.append(f"    Restart Count:\t{status.get('restartCount', 0)}")
        resources = container.get("resources") or {}
        for section in ("limits", "requests"):
            if resources.get(section):
                lines.append(f"    {section.capitalize()}:")
                lines += [f"      {k}:\t{v}" for k, v in resources[section].items()]
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(probe):
                lines.append(f"    {probe[:-5].capitalize()}:\t{_probe(container[probe])}")
        env = container.get("env") or []
        if env:
            lines.append("    Environment:")
            for var in env:
                value = var.get("value")
                if value is None and var.get("valueFrom"):
                    source = next(iter(var["valueFrom"]))
                    ref = var["valueFrom"][source]
                    value = f"<set to the key '{ref.get('key', ref.get('fieldPath', ''))}' of {source}>"
                lines.append(f"      {var['name']}:\t{value}")
        else:
            lines.append("    Environment:\t<none>")
        mounts = container.get("volumeMounts") or []
        lines.append("    Mounts:" + ("" if mounts else "\t<none>"))
        lines += [
            f"      {m['mountPath']} from {m['name']} ({'ro' if m.get('readOnly') else 'rw'})" for m in mounts
        ]
    return lines


def _probe(probe: Obj) -> str:
    if "httpGet" in probe:
        get = probe["httpGet"]
        action = f"http-get {get.get('scheme', 'HTTP').lower()}://:{get.get('port')}{get.get('path', '/')}"
    elif "tcpSocket" in probe:
        action = f"tcp-socket :{probe['tcpSocket'].get('port')}"
    elif "exec" in probe:
        action = "exec [" + " ".join(probe["exec"].get("command", [])) + "]"
    elif "grpc" in probe:
        action = f"grpc <pod>:{probe['grpc'].get('port')}"
    else:
        action = "unknown"
    return (
        f"{action} delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
        f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
        f"#failure={probe.get('failureThreshold', 3)}"
    )


def _describe_pod(pod: Obj) -> list[str]:
    spec, status = pod["spec"], pod.get("status", {})
    lines = [
        f"Priority:\t{spec.get('priority', 0)}",
        f"Service Account:\t{spec.get('serviceAccountName', 'default')}",
        f"Node:\t{spec.get('nodeName') or '<none>'}"
        + (f"/{status['hostIP']}" if status.get("hostIP") else ""),
        f"Start Time:\t{_time(status['startTime']) if status.get('startTime') else '<unset>'}",
        f"Status:\t{'Terminating' if pod['metadata'].get('deletionTimestamp') else status.get('phase', '')}",
    ]
    if status.get("reason"):
        lines.append(f"Reason:\t{status['reason']}")
    if status.get("message"):
        lines.append(f"Message:\t{status['message']}")
    lines.append(f"IP:\t{status.get('podIP', '')}")
    owner = next((o for o in pod["metadata"].get("ownerReferences") or [] if o.get("controller")), None)
    lines.append(f"Controlled By:\t{owner['kind']}/{owner['name']}" if owner else "Controlled By:\t<none>")
    lines += _containers(
        spec.get("initContainers", []), status.get("initContainerStatuses", []), "Init Containers"
    )
    lines += _containers(spec.get("containers", []), status.get("containerStatuses", []), "Containers")
    conditions = status.get("conditions") or []
    if conditions:
        lines += ["Conditions:", "  Type\tStatus"] + [f"  {c['type']}\t{c['status']}" for c in conditions]
    volumes = spec.get("volumes") or []
    lines.append("Volumes:" + ("" if volumes else "\t<none>"))
    for volume in volumes:
        kind = next((k for k in volume if k != "name"), "unknown")
        lines.append(f"  {volume['name']}:\n    Type:\t{kind}")
    lines.append(f"QoS Class:\t{status.get('qosClass', '')}")
    lines.append(f"Node-Selectors:\t{_map(spec.get('nodeSelector'))}")
    tolerations = spec.get("tolerations") or []
    rendered = [
        f"{t.get('key', '')}{(':' + t['effect']) if t.get('effect') else ''}"
        f"{(' op=' + t['operator']) if t.get('operator') == 'Exists' and not t.get('key') else ''}"
        f"{(' for ' + str(t['tolerationSeconds']) + 's') if 'tolerationSeconds' in t else ''}"
        for t in tolerations
    ]
    lines.append("Tolerations:\t" + ("\n\t".join(rendered) if rendered else "<none>"))
    return lines


def _describe_workload(obj: Obj) -> list[str]:
    kind, spec, status = obj["kind"], obj.get("spec", {}), obj.get("status", {}) or {}
    selector = spec.get("selector") or {}
    match = selector.get("matchLabels") if isinstance(selector, dict) else None
    lines = [f"Selector:\t{','.join(f'{k}={v}' for k, v in (match or {}).items())}"]
    if kind == "Deployment":
        lines.append(
            f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
            f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
            f"{status.get('unavailableReplicas', 0)} unavailable"
        )
        strategy = spec.get("strategy", {})
        lines.append(f"StrategyType:\t{strategy.get('type', '')}")
        lines.append(f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}")
        rolling = strategy.get("rollingUpdate")
        if rolling:
            lines.append(
                f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable')} max unavailable, "
                f"{rolling.get('maxSurge')} max surge"
            )
    elif kind in ("ReplicaSet", "StatefulSet"):
        lines.append(f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    elif kind == "DaemonSet":
        lines.append(f"Desired Number of Nodes Scheduled: {status.get('desiredNumberScheduled', 0)}")
        lines.append(f"Current Number of Nodes Scheduled: {status.get('currentNumberScheduled', 0)}")
        lines.append(
            f"Number of Nodes Scheduled with Up-to-date Pods: {status.get('updatedNumberScheduled', 0)}"
        )
        lines.append(f"Number of Nodes Scheduled with Available Pods: {status.get('numberAvailable', 0)}")
    elif kind == "Job":
        lines.append(f"Parallelism:\t{spec.get('parallelism', 1)}")
        lines.append(f"Completions:\t{spec.get('completions', '<unset>')}")
        lines.append(f"Completion Mode:\t{spec.get('completionMode', 'NonIndexed')}")
        lines.append(f"Start Time:\t{status.get('startTime', '')}")
        lines.append(
            f"Pods Statuses:\t{status.get('active', 0)} Active ({status.get('ready', 0)} Ready) / "
            f"{status.get('succeeded', 0)} Succeeded / {status.get('failed', 0)} Failed"
        )
    template = spec.get("template", {})
    if template:
        lines.append("Pod Template:")
        lines.append(f"  Labels:\t{_map(template.get('metadata', {}).get('labels'), 2)}")
        pod_spec = template.get("spec", {})
        # describeContainers(..., space="  "): the title indented by 2, each name by 3, fields by 4
        for title, key in (("Init Containers", "initContainers"), ("Containers", "containers")):
            for line in _containers(pod_spec.get(key, []), [], title):
                if not line.startswith(" "):
                    lines.append("  " + line)
                elif line.startswith("  ") and not line.startswith("   ") and line.endswith(":"):
                    lines.append(" " + line)
                else:
                    lines.append(line)
        volumes = pod_spec.get("volumes") or []
        lines.append("  Volumes:" + ("" if volumes else "\t<none>"))
        for volume in volumes:
            kind_name = next((k for k in volume if k != "name"), "unknown")
            lines.append(f"   {volume['name']}:\n    Type:\t{kind_name}")
        lines.append(f"  Node-Selectors:\t{_map(pod_spec.get('nodeSelector'), 2)}")
        tolerations = pod_spec.get("tolerations") or []
        lines.append(
            "  Tolerations:\t"
            + ("\n  \t".join(str(t.get("key", "")) for t in tolerations) if tolerations else "<none>")
        )
    conditions = status.get("conditions") or []
    if conditions:
        lines += ["Conditions:", "  Type\tStatus\tReason", "  ----\t------\t------"]
        lines += [f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}" for c in conditions]
    return lines


def _describe_service(svc: Obj, api: APIServer) -> list[str]:
    spec = svc.get("spec", {})
    lines = [
        f"Selector:\t{','.join(f'{k}={v}' for k, v in (spec.get('selector') or {}).items()) or '<none>'}",
        f"Type:\t{spec.get('type', 'ClusterIP')}",
        f"IP Family Policy:\t{spec.get('ipFamilyPolicy', 'SingleStack')}",
        f"IP:\t{spec.get('clusterIP', '')}",
    ]
    endpoints = api.cached("endpoints", svc["metadata"]["name"], svc["metadata"].get("namespace"))
    for port in spec.get("ports", []):
        lines.append(f"Port:\t{port.get('name') or '<unset>'}\t{port['port']}/{port.get('protocol', 'TCP')}")
        lines.append(f"TargetPort:\t{port.get('targetPort', port['port'])}/{port.get('protocol', 'TCP')}")
        if port.get("nodePort"):
            lines.append(
                f"NodePort:\t{port.get('name') or '<unset>'}\t{port['nodePort']}/{port.get('protocol', 'TCP')}"
            )
        addresses = []
        for subset in (endpoints or {}).get("subsets", []) or []:
            for subset_port in subset.get("ports", []):
                if subset_port.get("name", "") == port.get("name", ""):
                    addresses += [f"{a['ip']}:{subset_port['port']}" for a in subset.get("addresses", [])]
        lines.append(f"Endpoints:\t{','.join(addresses) or '<none>'}")
    lines.append(f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}")
    return lines


def _hpa_metric(metric: Obj, current: Obj | None) -> list[str]:
    """One line of describe's ``Metrics:`` block (describeHorizontalPodAutoscalerV2)."""
    kind = metric.get("type", "")
    source = metric.get(_METRIC_FIELD.get(kind, ""), {}) or {}
    now = ((current or {}).get(_METRIC_FIELD.get(kind, "")) or {}).get("current") or {}
    target = source.get("target") or {}
    if kind in ("Resource", "ContainerResource"):
        where = "on pods" if kind == "Resource" else f'of container "{source.get("container", "")}" on pods'
        if target.get("averageValue") is not None:
            return [
                f"  resource {source.get('name')} {where}:\t{now.get('averageValue', '<unknown>')} / {target['averageValue']}"
            ]
        value = (
            f"{now['averageUtilization']}% ({now.get('averageValue', '0')})"
            if now.get("averageUtilization") is not None
            else "<unknown>"
        )
        wanted = (
            f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        )
        return [f"  resource {source.get('name')} {where}  (as a percentage of request):\t{value} / {wanted}"]
    if kind == "Pods":
        name = (source.get("metric") or {}).get("name", "")
        return [
            f'  "{name}" on pods:\t{now.get("averageValue", "<unknown>")} / {target.get("averageValue", "")}'
        ]
    if kind == "Object":
        name = (source.get("metric") or {}).get("name", "")
        ref = source.get("describedObject") or {}
        wanted = (
            target.get("value") if target.get("value") is not None else f"{target.get('averageValue')} (avg)"
        )
        value = now.get("value", now.get("averageValue", "<unknown>"))
        return [f'  "{name}" on {ref.get("kind")}/{ref.get("name")}:\t{value} / {wanted}']
    if kind == "External":
        name = (source.get("metric") or {}).get("name", "")
        wanted = (
            target.get("value") if target.get("value") is not None else f"{target.get('averageValue')} (avg)"
        )
        value = now.get("value", now.get("averageValue", "<unknown>"))
        return [f'  "{name}" (target value):\t{value} / {wanted}']
    return [f'  <unknown metric type "{kind}">']


_METRIC_FIELD = {
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}


def _describe_hpa(hpa: Obj) -> list[str]:
    if hpa.get("apiVersion") == "autoscaling/v1":
        hpa = from_storage_version(to_storage_version(hpa), "autoscaling/v2")
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    lines = [f"Reference:\t{ref.get('kind')}/{ref.get('name')}", "Metrics:\t( current / target )"]
    current = status.get("currentMetrics") or []
    for index, metric in enumerate(spec.get("metrics") or []):
        lines += _hpa_metric(metric, current[index] if index < len(current) else None)
    lines.append(f"Min replicas:\t{spec.get('minReplicas', '<unset>')}")
    lines.append(f"Max replicas:\t{spec.get('maxReplicas')}")
    behavior = spec.get("behavior")
    if behavior:
        lines.append("Behavior:")
        for field, title in (("scaleUp", "Scale Up"), ("scaleDown", "Scale Down")):
            rules = behavior.get(field)
            if not rules:
                continue
            lines.append(f"  {title}:")
            if rules.get("stabilizationWindowSeconds") is not None:
                lines.append(f"    Stabilization Window: {rules['stabilizationWindowSeconds']} seconds")
            if rules.get("policies"):
                lines.append(f"    Select Policy: {rules.get('selectPolicy', 'Max')}")
                lines.append("    Policies:")
                lines += [
                    f"      - Type: {p.get('type')}\tValue: {p.get('value')}\tPeriod: {p.get('periodSeconds')} seconds"
                    for p in rules["policies"]
                ]
    lines.append(
        f"{ref.get('kind')} pods:\t{status.get('currentReplicas', 0)} current / "
        f"{status.get('desiredReplicas', 0)} desired"
    )
    conditions = status.get("conditions") or []
    if conditions:
        lines += ["Conditions:", "  Type\tStatus\tReason\tMessage", "  ----\t------\t------\t-------"]
        lines += [
            f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}\t{c.get('message', '')}" for c in conditions
        ]
    return lines


def _describe_node(node: Obj, api: APIServer) -> list[str]:
    spec, status = node.get("spec", {}), node.get("status", {})
    taints = spec.get("taints") or []
    lines = [
        "Taints:\t"
        + (
            "\n\t".join(
                f"{t['key']}{'=' + t['value'] if t.get('value') else ''}:{t['effect']}" for t in taints
            )
            if taints
            else "<none>"
        ),
        f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}",
        "Conditions:",
        "  Type\tStatus\tReason\tMessage",
    ]
    lines += [
        f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}\t{c.get('message', '')}"
        for c in status.get("conditions", [])
    ]
    lines.append("Addresses:")
    lines += [f"  {a['type']}:\t{a['address']}" for a in status.get("addresses", [])]
    for section in ("capacity", "allocatable"):
        lines.append(f"{section.capitalize()}:")
        lines += [f"  {k}:\t{v}" for k, v in (status.get(section) or {}).items()]
    pods = api.pods_on_node(node["metadata"]["name"])
    active = [p for p in pods if p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
    lines.append(f"Non-terminated Pods:\t({len(active)} in total)")
    lines += [
        f"  {p['metadata']['namespace']}\t{p['metadata']['name']}\t{pod_status_reason(p)}" for p in active
    ]
    return lines


def describe(api: APIServer, obj: Obj, *, now: datetime, show_events: bool = True) -> str:
    """The ``kubectl describe`` page of one object (a copy from the API server)."""
    kind = obj.get("kind", "")
    lines = _header(obj)
    if kind == "Pod":
        lines += _describe_pod(obj)
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        lines += _describe_workload(obj)
    elif kind == "Service":
        lines += _describe_service(obj, api)
    elif kind == "Node":
        lines += _describe_node(obj, api)
    elif kind == "HorizontalPodAutoscaler":
        lines += _describe_hpa(obj)
    else:
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        if body:
            lines += dump_yaml(body).rstrip("\n").splitlines()
    if show_events:
        lines += _events(api, obj, now)
    # kubectl describe writes through tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
    return tabwrite("\n".join(lines), padding=2)
