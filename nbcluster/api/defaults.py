"""Defaulting on create, as Kubernetes' v1 defaulters plus the API server do it. No I/O.

``apply_defaults(obj)`` mutates ``obj`` in place (deep-copy first if it is not yours):

* ``pkg/apis/*/v1/defaults.go`` (``SetDefaults_PodSpec``, ``SetDefaults_Container``,
  ``SetDefaults_Deployment``, ``SetDefaults_Job``, ``SetDefaults_Service``...), applied to
  every pod template too;
* what create-time admission adds to Pods: ``serviceAccountName: default``
  (ServiceAccount), ``priority: 0`` / ``preemptionPolicy`` (Priority) and the
  not-ready/unreachable ``NoExecute`` tolerations for 300 s (DefaultTolerationSeconds);
* what registry strategies add on create: a Job's generated selector and labels
  (``batch.kubernetes.io/controller-uid`` from ``metadata.uid``, which the caller assigns
  first), a Namespace's ``kubernetes`` finalizer and ``Active`` phase, a Secret's
  ``stringData`` merged into ``data``, a Service's ``clusterIPs`` / IP families.

Not done here: clusterIP/nodePort allocation, the projected service-account token volume,
Pod status (the API server and kubelet own those), and autoscaling/v1 -> v2 conversion.
Applying defaults twice changes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

__all__ = ["apply_defaults", "default_pod_spec", "image_pull_policy"]

_DEFAULT_TERMINATION_GRACE_PERIOD = 30
_DEFAULT_TOLERATION_SECONDS = 300
_DEFAULT_MODE = 0o644  # 420: secret / configMap / downwardAPI / projected volumes
_MAX_INT32 = 2**31 - 1
_CLIENT_IP_TIMEOUT = 10800
_NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` as a dict, created when missing or null."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _set(parent: dict[str, Any], key: str, value: Any) -> None:
    """Set ``parent[key]`` when it is missing, null or an empty string (Go's zero value)."""
    if parent.get(key) in (None, ""):
        parent[key] = value


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- containers and pod specs ------------------------------------------------------------


def image_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image, else ``IfNotPresent`` (digests too)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    if not tag:
        return "IfNotPresent" if digest else "Always"
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_http_get(action: Any) -> None:
    if isinstance(action, dict):
        _set(action, "path", "/")
        _set(action, "scheme", "HTTP")


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):
            probe[key] = value
    _default_http_get(probe.get("httpGet"))
    grpc = probe.get("grpc")
    if isinstance(grpc, dict) and grpc.get("service") is None:
        grpc["service"] = ""


def _default_lifecycle(lifecycle: Any) -> None:
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            if isinstance(lifecycle.get(hook), dict):
                _default_http_get(lifecycle[hook].get("httpGet"))


def _default_field_refs(container: dict[str, Any]) -> None:
    for env in _items(container.get("env")):
        field_ref = (
            env.get("valueFrom", {}).get("fieldRef") if isinstance(env.get("valueFrom"), dict) else None
        )
        if isinstance(field_ref, dict):
            _set(field_ref, "apiVersion", "v1")


def _default_container(container: dict[str, Any]) -> None:
    """SetDefaults_Container (+ ports, probes, lifecycle handlers, fieldRefs)."""
    image = container.get("image")
    if not container.get("imagePullPolicy") and isinstance(image, str):
        container["imagePullPolicy"] = image_pull_policy(image)
    _set(container, "terminationMessagePath", "/dev/termination-log")
    _set(container, "terminationMessagePolicy", "File")
    for port in _items(container.get("ports")):
        _set(port, "protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    _default_lifecycle(container.get("lifecycle"))
    _default_field_refs(container)
    if not isinstance(container.get("resources"), dict):
        container["resources"] = {}


def _default_requests_from_limits(container: dict[str, Any]) -> None:
    """SetDefaults_Pod: a limit without a request makes the request (Pods only, not templates)."""
    resources = container.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    requests = _dict(resources, "requests")
    for name, value in resources["limits"].items():
        requests.setdefault(name, value)


def _default_volume(volume: dict[str, Any]) -> None:
    sources = {key for key, value in volume.items() if key != "name" and value is not None}
    if not sources:
        volume["emptyDir"] = {}
        return
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(key)
        if isinstance(source, dict) and source.get("defaultMode") is None:
            source["defaultMode"] = _DEFAULT_MODE
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    iscsi = volume.get("iscsi")
    if isinstance(iscsi, dict):
        _set(iscsi, "iscsiInterface", "default")
    for file in _items(
        (volume.get("downwardAPI") or {}).get("items")
        if isinstance(volume.get("downwardAPI"), dict)
        else None
    ):
        if isinstance(file.get("fieldRef"), dict):
            _set(file["fieldRef"], "apiVersion", "v1")
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in _items(projected.get("sources")):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict) and token.get("expirationSeconds") is None:
                token["expirationSeconds"] = 3600
            downward = source.get("downwardAPI")
            if isinstance(downward, dict):
                for file in _items(downward.get("items")):
                    if isinstance(file.get("fieldRef"), dict):
                        _set(file["fieldRef"], "apiVersion", "v1")
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        _default_pvc_spec(_dict(ephemeral["volumeClaimTemplate"], "spec"))


def _default_host_network_ports(containers: list[dict[str, Any]]) -> None:
    for container in containers:
        for port in _items(container.get("ports")):
            if not port.get("hostPort") and port.get("containerPort"):
                port["hostPort"] = port["containerPort"]


def default_pod_spec(spec: dict[str, Any], *, is_pod: bool = False) -> None:
    """SetDefaults_PodSpec and everything nested (containers, volumes, probes...)."""
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = _DEFAULT_TERMINATION_GRACE_PERIOD
    _set(spec, "schedulerName", "default-scheduler")
    # The deprecated serviceAccount field mirrors serviceAccountName (v1 conversion).
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account:
        spec["serviceAccountName"] = account
        spec["serviceAccount"] = account
    containers = _items(spec.get("containers"))
    init_containers = _items(spec.get("initContainers"))
    for container in containers + init_containers + _items(spec.get("ephemeralContainers")):
        _default_container(container)
    for volume in _items(spec.get("volumes")):
        _default_volume(volume)
    if is_pod and spec.get("hostNetwork") is True:
        # SetDefaults_Pod; templates keep hostPort unset (DefaultHostNetworkHostPortsInPodTemplates is off).
        _default_host_network_ports(containers + init_containers)


def _tolerates(toleration: dict[str, Any], key: str, effect: str) -> bool:
    """Does ``toleration`` tolerate a ``key`` taint with ``effect`` (any value)?"""
    if toleration.get("effect") and toleration.get("effect") != effect:
        return False
    operator = toleration.get("operator") or "Equal"
    if not toleration.get("key"):
        return operator == "Exists"
    return toleration.get("key") == key and operator == "Exists"


def _default_pod(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    default_pod_spec(spec, is_pod=True)
    for container in _items(spec.get("containers")) + _items(spec.get("initContainers")):
        _default_requests_from_limits(container)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    # Admission: ServiceAccount, Priority, DefaultTolerationSeconds.
    account = spec.get("serviceAccountName") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    if spec.get("priority") is None:
        spec["priority"] = 0
    _set(spec, "preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    existing = [t for t in tolerations if isinstance(t, dict)]
    for key in (_NOT_READY_TAINT, _UNREACHABLE_TAINT):
        if not any(_tolerates(t, key, "NoExecute") for t in existing):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": _DEFAULT_TOLERATION_SECONDS,
                }
            )
    spec["tolerations"] = tolerations


def _default_template(parent: dict[str, Any]) -> None:
    template = _dict(parent, "template")
    default_pod_spec(_dict(template, "spec"))


# --- workloads -----------------------------------------------------------------------------


def _default_deployment(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _dict(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = "25%"
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    _default_template(spec)


def _default_replica_set(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    _default_template(spec)


def _default_pvc_spec(spec: dict[str, Any]) -> None:
    _set(spec, "volumeMode", "Filesystem")


def _default_stateful_set(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _dict(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict) and rolling.get("partition") is None:
        rolling["partition"] = 0
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    _set(retention, "whenDeleted", "Retain")
    _set(retention, "whenScaled", "Retain")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    for claim in _items(spec.get("volumeClaimTemplates")):
        _default_pvc_spec(_dict(claim, "spec"))
        _set(_dict(claim, "status"), "phase", "Pending")
    _default_template(spec)


def _default_daemon_set(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    strategy = _dict(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    _default_template(spec)


_JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
_CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def _default_job_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_Job's spec part."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = _MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    _set(spec, "completionMode", "NonIndexed")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in _items(policy.get("rules")):
            for pattern in _items(rule.get("onPodConditions")):
                _set(pattern, "status", "True")
    _set(spec, "podReplacementPolicy", "Failed" if isinstance(policy, dict) else "TerminatingOrFailed")
    _default_template(spec)


def _default_job(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    _default_job_spec(spec)
    meta = _dict(obj, "metadata")
    if spec.get("manualSelector") is not True:
        # The job strategy's generateSelector (PrepareForCreate).
        template_meta = _dict(_dict(spec, "template"), "metadata")
        labels = _dict(template_meta, "labels")
        name, uid = meta.get("name"), meta.get("uid")
        if name:
            for label in _JOB_NAME_LABELS:
                labels.setdefault(label, name)
        if uid:
            for label in _CONTROLLER_UID_LABELS:
                labels.setdefault(label, uid)
            selector = _dict(spec, "selector")
            _dict(selector, "matchLabels").setdefault("batch.kubernetes.io/controller-uid", uid)
        if not labels:
            del template_meta["labels"]
    # SetDefaults_Job copies the template labels when the Job has none; Kubernetes runs it
    # again when reading the stored object, after the selector labels were added.
    template_labels = spec.get("template", {}).get("metadata", {}).get("labels")
    if isinstance(template_labels, dict) and template_labels and not meta.get("labels"):
        meta["labels"] = dict(template_labels)


def _default_cron_job(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "concurrencyPolicy", "Allow")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    # Only the pod template of the job template is defaulted (no SetDefaults_JobSpec).
    _default_template(_dict(_dict(spec, "jobTemplate"), "spec"))


# --- core objects ----------------------------------------------------------------------------


def _default_service(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": _CLIENT_IP_TIMEOUT}}
    _set(spec, "type", "ClusterIP")
    service_type = spec["type"]
    for port in _items(spec.get("ports")):
        _set(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and port.get("port") is not None:
            port["targetPort"] = port["port"]
    externally_accessible = service_type in ("LoadBalancer", "NodePort") or (
        service_type == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        _set(spec, "externalTrafficPolicy", "Cluster")
    if spec.get("internalTrafficPolicy") is None and service_type in (
        "ClusterIP",
        "NodePort",
        "LoadBalancer",
    ):
        spec["internalTrafficPolicy"] = "Cluster"
    if service_type == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if service_type != "ExternalName":
        # The service REST strategy: clusterIPs mirrors clusterIP; single-stack IPv4 cluster.
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [cluster_ip]
        if spec.get("ipFamilyPolicy") is None:
            headless_without_selector = cluster_ip == "None" and not spec.get("selector")
            spec["ipFamilyPolicy"] = "RequireDualStack" if headless_without_selector else "SingleStack"
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]


def _default_secret(obj: dict[str, Any]) -> None:
    _set(obj, "type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _dict(obj, "data")
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode("ascii")


def _default_namespace(obj: dict[str, Any]) -> None:
    meta = _dict(obj, "metadata")
    name = meta.get("name")
    if name:
        _dict(meta, "labels")["kubernetes.io/metadata.name"] = name
    spec = _dict(obj, "spec")
    if not meta.get("deletionTimestamp"):
        # The namespace strategy's PrepareForCreate: the "kubernetes" finalizer is required.
        # A terminating namespace is left alone: its controller removes that finalizer.
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            finalizers = spec["finalizers"] = []
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
    _set(_dict(obj, "status"), "phase", "Active")


def _default_node(obj: dict[str, Any]) -> None:
    status = obj.get("status")
    if (
        isinstance(status, dict)
        and isinstance(status.get("capacity"), dict)
        and status.get("allocatable") is None
    ):
        status["allocatable"] = dict(status["capacity"])


def _default_pvc(obj: dict[str, Any]) -> None:
    _default_pvc_spec(_dict(obj, "spec"))
    _set(_dict(obj, "status"), "phase", "Pending")


def _default_pv(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "persistentVolumeReclaimPolicy", "Retain")
    _set(spec, "volumeMode", "Filesystem")
    _set(_dict(obj, "status"), "phase", "Pending")


def _default_endpoints(obj: dict[str, Any]) -> None:
    for subset in _items(obj.get("subsets")):
        for port in _items(subset.get("ports")):
            _set(port, "protocol", "TCP")


def _default_pod_template(obj: dict[str, Any]) -> None:
    _default_template(obj)


def _default_replication_controller(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    template = spec.get("template")
    if isinstance(template, dict):
        labels = (
            template.get("metadata", {}).get("labels") if isinstance(template.get("metadata"), dict) else None
        )
        if isinstance(labels, dict) and labels:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta = _dict(obj, "metadata")
            if not meta.get("labels"):
                meta["labels"] = dict(labels)
        default_pod_spec(_dict(template, "spec"))
    if spec.get("replicas") is None:
        spec["replicas"] = 1


def _scale_up_rules(rules: Any) -> dict[str, Any]:
    rules = rules if isinstance(rules, dict) else {}
    if rules.get("stabilizationWindowSeconds") is None:
        rules["stabilizationWindowSeconds"] = 0
    _set(rules, "selectPolicy", "Max")
    if not rules.get("policies"):
        rules["policies"] = [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ]
    return rules


def _scale_down_rules(rules: Any) -> dict[str, Any]:
    rules = rules if isinstance(rules, dict) else {}
    if rules.get("stabilizationWindowSeconds") is None:
        rules["stabilizationWindowSeconds"] = 300
    _set(rules, "selectPolicy", "Max")
    if not rules.get("policies"):
        rules["policies"] = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    return rules


def _default_hpa(obj: dict[str, Any]) -> None:
    spec = _dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if obj.get("apiVersion") == "autoscaling/v1":
        return  # stored as given; conversion to v2 is someone else's concern
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = _scale_up_rules(behavior.get("scaleUp"))
        behavior["scaleDown"] = _scale_down_rules(behavior.get("scaleDown"))


_DEFAULTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "Pod": _default_pod,
    "PodTemplate": _default_pod_template,
    "ReplicationController": _default_replication_controller,
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replica_set,
    "StatefulSet": _default_stateful_set,
    "DaemonSet": _default_daemon_set,
    "Job": _default_job,
    "CronJob": _default_cron_job,
    "Service": _default_service,
    "Secret": _default_secret,
    "Namespace": _default_namespace,
    "Node": _default_node,
    "PersistentVolumeClaim": _default_pvc,
    "PersistentVolume": _default_pv,
    "Endpoints": _default_endpoints,
    "HorizontalPodAutoscaler": _default_hpa,
}


def apply_defaults(obj: dict[str, Any]) -> None:
    """Fill in, in place, every default Kubernetes fills on create (idempotent)."""
    if not isinstance(obj, dict):
        return
    kind = obj.get("kind")
    defaulter = _DEFAULTERS.get(kind) if isinstance(kind, str) else None
    if defaulter is not None:
        defaulter(obj)
