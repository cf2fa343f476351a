"""Semantic validation: messages and paths as the Kubernetes API server words them."""

from __future__ import annotations

import contextlib
import copy
import random
from typing import Any

import pytest
import yaml

from nbcluster.api.defaults import apply_defaults
from nbcluster.api.schema import validate_schema
from nbcluster.api.validation import go_repr, validate
from nbcluster.errors import CauseType, FieldError, UnknownResource, ValidationError
from tests.examples import EXAMPLE_FILES

EXAMPLES = EXAMPLE_FILES


def messages(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return [str(e) for e in validate(obj, old=old)]


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    apply_defaults(obj)
    return obj


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": list(containers) or [{"name": "web", "image": "nginx"}], **spec},
    }


def deployment(kind: str = "Deployment", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": labels if labels is not None else {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
            **spec,
        },
    }


def job(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "uid": "uid-1"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}},
            **spec,
        },
    }


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}


# --- the kubernetes.io examples -------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_kubernetes_io_examples_are_valid_after_defaulting(path: str) -> None:
    with open(path) as handle:
        documents = [doc for doc in yaml.safe_load_all(handle) if doc]
    assert documents
    for document in documents:
        document.setdefault("metadata", {})["uid"] = "6d9f8c1e-0000-4000-8000-000000000001"
        apply_defaults(document)
        assert validate_schema(document) == []
        assert validate(document) == []
        # Re-applying the same object is an update that changes nothing.
        assert validate(copy.deepcopy(document), old=document) == []


# --- metadata -----------------------------------------------------------------------------------


def test_name_is_required_unless_generate_name() -> None:
    obj = pod()
    del obj["metadata"]["name"]
    assert messages(obj) == ["metadata.name: Required value: name or generateName is required"]
    obj["metadata"]["generateName"] = "web-"
    assert messages(obj) == []
    obj["metadata"]["generateName"] = "Web_"
    assert messages(obj)[0].startswith(
        'metadata.generateName: Invalid value: "Web_": a lowercase RFC 1123 subdomain'
    )


def test_name_format_depends_on_the_kind() -> None:
    assert messages(pod() | {"metadata": {"name": "web.v1"}}) == []
    assert messages(pod() | {"metadata": {"name": "Web"}}) == [
        'metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case '
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]
    svc = service(ports=[{"port": 80}])
    svc["metadata"]["name"] = "web.v1"
    assert messages(svc) == ['metadata.name: Invalid value: "web.v1": must not contain dots']
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Dev"}}
    assert messages(ns)[0].startswith('metadata.name: Invalid value: "Dev": a lowercase RFC 1123 label must')


def test_labels_annotations_namespace_and_owner_references() -> None:
    obj = pod()
    obj["metadata"].update(
        namespace="My_NS",
        labels={"app": "web", "-bad": "ok", "tier": "not ok"},
        annotations={"example.com/": "x"},
        ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "", "uid": "1"}],
        finalizers=["example.com/cleanup", "bad finalizer"],
    )
    paths = [(e.path, e.value) for e in validate(obj)]
    assert ("metadata.namespace", "My_NS") in paths
    assert ("metadata.labels", "-bad") in paths
    assert ("metadata.labels", "not ok") in paths
    assert ("metadata.annotations", "example.com/") in paths
    assert ("metadata.ownerReferences.name", "") in paths
    assert ("metadata.finalizers", "bad finalizer") in paths


# --- pods -----------------------------------------------------------------------------------------


def test_containers_are_required() -> None:
    assert messages(pod() | {"spec": {"containers": []}}) == ["spec.containers: Required value"]
    assert messages(pod() | {"spec": {}}) == ["spec.containers: Required value"]


def test_container_names_and_images() -> None:
    obj = pod(
        {"name": "web", "image": "nginx"},
        {"name": "web", "image": ""},
        {"name": "Side_Car", "image": " nginx"},
        initContainers=[{"name": "web", "image": "busybox"}, {"image": "busybox"}],
    )
    assert messages(obj) == [
        "spec.containers[1].image: Required value",
        'spec.containers[1].name: Duplicate value: "web"',
        'spec.containers[2].name: Invalid value: "Side_Car": a lowercase RFC 1123 label must consist of lower case '
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        'spec.initContainers[0].name: Duplicate value: "web"',
        "spec.initContainers[1].name: Required value",
        'spec.containers[2].image: Invalid value: " nginx": must not have leading or trailing whitespace',
    ]


def test_container_ports() -> None:
    obj = pod(
        {
            "name": "web",
            "image": "nginx",
            "ports": [
                {"containerPort": 0},
                {"containerPort": 70000, "name": "HTTP"},
                {"containerPort": 80, "name": "http", "protocol": "HTTP", "hostPort": -1},
                {"containerPort": 81, "name": "http"},
                {"containerPort": 82, "name": "a-very-long-port-name"},
            ],
        }
    )
    assert messages(obj) == [
        "spec.containers[0].ports[0].containerPort: Required value",
        'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)",
        'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].ports[2].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[3].name: Duplicate value: "http"',
        'spec.containers[0].ports[4].name: Invalid value: "a-very-long-port-name": must be no more than 15 characters',
    ]


def test_host_port_conflicts() -> None:
    ports = [{"containerPort": 80, "hostPort": 8080}]
    obj = pod({"name": "a", "image": "x", "ports": ports}, {"name": "b", "image": "x", "ports": ports})
    assert messages(obj) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']


def test_restart_policy_and_dns_policy() -> None:
    assert messages(pod(restartPolicy="Sometimes", dnsPolicy="Google")) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
        '"ClusterFirst", "Default", "None"',
    ]


def test_env_names_and_sources() -> None:
    env = [
        {"name": "GOOD", "value": "1"},
        {"name": "A=B", "value": "x"},
        {"name": ""},
        {"name": "FROM", "valueFrom": {}},
        {"name": "BOTH", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "FIELD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.unknown"}}},
        {"name": "KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "a/b"}}},
    ]
    errors = messages(pod({"name": "a", "image": "b", "env": env}))
    assert errors == [
        'spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only '
        "of printable ASCII characters other than '='",
        "spec.containers[0].env[2].name: Required value",
        'spec.containers[0].env[3].valueFrom: Invalid value: "": must specify one of: `fieldRef`, '
        "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        'spec.containers[0].env[4].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
        'spec.containers[0].env[5].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.unknown": supported values: '
        '"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
        '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
        'spec.containers[0].env[6].valueFrom.configMapKeyRef.key: Invalid value: "a/b": a valid config key must '
        "consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
        "regex used for validation is '[-._a-zA-Z0-9]+')",
    ]


def test_volumes_and_mounts() -> None:
    obj = pod(
        {
            "name": "a",
            "image": "b",
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "missing", "mountPath": "/data"},
                {"name": "bad", "mountPath": "/bad"},
                {"name": "data", "mountPath": "/sub", "subPath": "../etc"},
            ],
        },
        volumes=[
            {"name": "data", "emptyDir": {}},
            {"name": "data", "emptyDir": {}},
            {"name": "bad"},
            {"name": "two", "emptyDir": {}, "hostPath": {"path": "/tmp"}},
        ],
    )
    assert messages(obj) == [
        'spec.volumes[1].name: Duplicate value: "data"',
        "spec.volumes[2]: Required value: must specify a volume type",
        "spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type",
        'spec.containers[0].volumeMounts[1].name: Not found: "missing"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
        'spec.containers[0].volumeMounts[2].name: Not found: "bad"',
        "spec.containers[0].volumeMounts[3].subPath: Invalid value: \"../etc\": must not contain '..'",
    ]


def test_volume_sources_need_their_references() -> None:
    obj = pod(
        volumes=[
            {"name": "a", "configMap": {}},
            {"name": "b", "secret": {"defaultMode": 1000}},
            {"name": "c", "persistentVolumeClaim": {}},
            {"name": "d", "hostPath": {"path": "/x", "type": "Folder"}},
        ]
    )
    assert messages(obj) == [
        "spec.volumes[0].configMap.name: Required value",
        "spec.volumes[1].secret.secretName: Required value",
        "spec.volumes[1].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), "
        "both inclusive",
        "spec.volumes[2].persistentVolumeClaim.claimName: Required value",
        'spec.volumes[3].hostPath.type: Unsupported value: "Folder": supported values: "", "DirectoryOrCreate", '
        '"Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"',
    ]


def test_probes_need_exactly_one_handler() -> None:
    container = {
        "name": "a",
        "image": "b",
        "livenessProbe": {"periodSeconds": 5},
        "readinessProbe": {"exec": {"command": ["true"]}, "httpGet": {"port": 80}},
        "startupProbe": {"httpGet": {"port": "http-port-name-too-long"}, "successThreshold": 2},
    }
    assert messages(pod(container)) == [
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
        "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type",
        'spec.containers[0].startupProbe.httpGet.port: Invalid value: "http-port-name-too-long": must be no more '
        "than 15 characters",
        "spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1",
    ]


def test_init_containers_may_not_have_probes_unless_sidecars() -> None:
    probe = {"exec": {"command": ["true"]}}
    obj = pod(
        initContainers=[
            {"name": "init", "image": "b", "readinessProbe": probe},
            {"name": "sidecar", "image": "b", "restartPolicy": "Always", "readinessProbe": probe},
            {"name": "odd", "image": "b", "restartPolicy": "Never"},
        ]
    )
    assert messages(obj) == [
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without "
        "restartPolicy=Always",
        'spec.initContainers[2].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]
    regular = pod({"name": "a", "image": "b", "restartPolicy": "Always"})
    assert messages(regular) == [
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"
    ]


def test_resources() -> None:
    container = {
        "name": "a",
        "image": "b",
        "resources": {
            "limits": {"cpu": "500m", "memory": "1Gi", "gpu": "1"},
            "requests": {"cpu": "1", "memory": "-1", "example.com/dongle": "1"},
        },
    }
    assert messages(pod(container)) == [
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or '
        "fully qualified",
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
    ]


def test_unparseable_quantity() -> None:
    container = {"name": "a", "image": "b", "resources": {"limits": {"memory": "1 GB"}}}
    errors = validate(pod(container))
    assert [e.path for e in errors] == ["spec.containers[0].resources.limits[memory]"]
    assert errors[0].detail.startswith("quantities must match the regular expression")


def test_pod_spec_odds_and_ends() -> None:
    obj = pod(
        activeDeadlineSeconds=0,
        hostname="Host",
        nodeSelector={"disk": "ssd fast"},
        tolerations=[{"key": "", "operator": "Equal", "value": "x"}, {"key": "k", "tolerationSeconds": 5}],
        securityContext={"runAsUser": -1},
    )
    assert messages(obj) == [
        'spec.nodeSelector: Invalid value: "ssd fast": a valid label must be an empty string or consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 4294967295, inclusive",
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        'spec.hostname: Invalid value: "Host": a lowercase RFC 1123 label must consist of lower case alphanumeric '
        "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
        "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
        'which means "match all values and all keys"',
        "spec.tolerations[1].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ]


def test_pods_may_not_be_created_with_ephemeral_containers() -> None:
    obj = pod(ephemeralContainers=[{"name": "debug", "image": "busybox"}])
    assert messages(obj) == ["spec.ephemeralContainers: Forbidden: cannot be set on create"]


# --- workloads ----------------------------------------------------------------------------------


def test_selector_does_not_match_template_labels_exact_wording() -> None:
    obj = deployment(labels={"app": "x"})
    obj["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    assert messages(obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: '
        "`selector` does not match template `labels`"
    ]


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_every_workload_checks_its_selector(kind: str) -> None:
    obj = deployment(kind, labels={"app": "x", "tier": "db"})
    assert messages(obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x", "tier":"db"}: '
        "`selector` does not match template `labels`"
    ]
    del obj["spec"]["selector"]
    assert "spec.selector: Required value" in messages(obj)


def test_match_expressions_count_for_the_selector() -> None:
    obj = deployment()
    obj["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]
    }
    assert messages(obj) == []
    obj["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}
    assert messages(obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]
    obj["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Has"}]}
    assert messages(obj)[:2] == [
        'spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator',
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:"
        '[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Has", Values:[]string(nil)}}}: '
        "invalid label selector",
    ]


def test_empty_selector_is_invalid() -> None:
    obj = deployment()
    obj["spec"]["selector"] = {}
    assert messages(obj) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]


def test_template_labels_of_nil_render_like_go() -> None:
    obj = deployment()
    del obj["spec"]["template"]["metadata"]
    assert messages(obj) == [
        "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template "
        "`labels`"
    ]


def test_replicas_and_restart_policy_of_workloads() -> None:
    obj = deployment(replicas=-1)
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(obj) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


def test_deployment_strategy() -> None:
    zero = deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}
    )
    assert messages(zero) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'
    ]
    bad = deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "x%", "maxUnavailable": "150%"}}
    )
    assert messages(bad) == [
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "x%": a valid percent string must be a numeric string '
        "followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]
    assert messages(deployment(strategy={"type": "BlueGreen"})) == [
        'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"'
    ]
    recreate = deployment(strategy={"type": "Recreate", "rollingUpdate": {}})
    assert messages(recreate) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
    ]
    deadline = deployment(minReadySeconds=30, progressDeadlineSeconds=10)
    assert messages(deadline) == [
        "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"
    ]


def test_stateful_set_claim_templates_count_as_volumes() -> None:
    obj = deployment("StatefulSet")
    obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
    assert messages(obj) == ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"']
    obj["spec"]["volumeClaimTemplates"] = [
        {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    ]
    assert messages(obj) == []
    obj["spec"]["podManagementPolicy"] = "Random"
    assert messages(obj) == [
        "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"
    ]


def test_daemon_set_rolling_update() -> None:
    obj = deployment(
        "DaemonSet",
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
    )
    assert messages(obj) == [
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"
    ]
    obj["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 0}
    assert messages(obj) == [
        "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"
    ]


def test_jobs() -> None:
    assert messages(defaulted(job())) == []
    always = defaulted(job())
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert messages(always) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]
    odd = job(completions=-1, parallelism=-2, backoffLimit=-3, completionMode="Random")
    odd["spec"]["template"]["spec"]["restartPolicy"] = "Sometimes"
    assert messages(odd) == [
        "spec.parallelism: Invalid value: -2: must be greater than or equal to 0",
        "spec.completions: Invalid value: -1: must be greater than or equal to 0",
        "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
        'spec.completionMode: Unsupported value: "Random": supported values: "NonIndexed", "Indexed"',
        # The pod spec check and the Job's own check both fire, as in Kubernetes.
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", '
        '"Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]
    assert messages(job(completionMode="Indexed")) == [
        "spec.completions: Required value: when completion mode is Indexed"
    ]
    assert messages(job(maxFailedIndexes=1)) == [
        "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified"
    ]


def test_job_selector_must_match_and_be_generated() -> None:
    obj = defaulted(job())
    obj["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] = "other"
    assert [e.path for e in validate(obj)] == ["spec.template.metadata.labels", "spec.selector"]
    assert str(validate(obj)[1]).endswith("`selector` not auto-generated")
    manual = job(manualSelector=True)
    assert messages(manual) == ["spec.selector: Required value"]


def test_cron_jobs() -> None:
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello"},
        "spec": {
            "schedule": "*/5 * * *",
            "timeZone": "Mars/Olympus_Mons",
            "concurrencyPolicy": "Sometimes",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "b"}]}
                    }
                }
            },
        },
    }
    assert messages(cron) == [
        'spec.schedule: Invalid value: "*/5 * * *": expected exactly 5 fields, found 4: [*/5 * * *]',
        'spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons',
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ]
    cron["spec"].update(schedule="0 25 * * *", timeZone="Europe/Berlin", concurrencyPolicy="Forbid")
    assert messages(cron) == [
        'spec.schedule: Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25'
    ]
    for schedule in ("@hourly", "*/15 9-17 * * MON-FRI", "0 0 1 JAN *", "@every 1h30m"):
        cron["spec"]["schedule"] = schedule
        assert messages(cron) == [], schedule
    cron["spec"]["schedule"] = "TZ=UTC 0 * * * *"
    assert messages(cron) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field '
        "instead"
    ]
    del cron["spec"]["schedule"]
    assert messages(cron) == ["spec.schedule: Required value"]


# --- services -----------------------------------------------------------------------------------


def test_service_ports_are_required_unless_headless() -> None:
    assert messages(service(selector={"app": "web"})) == ["spec.ports: Required value"]
    assert messages(service(clusterIP="None", selector={"app": "web"})) == []
    assert messages(service(type="ExternalName", externalName="example.com")) == []


def test_service_ports() -> None:
    obj = service(
        type="NodePort",
        ports=[
            {"port": 80, "targetPort": "HTTP", "nodePort": 80},
            {"port": 0, "name": "admin", "protocol": "ICMP"},
            {"port": 443, "name": "admin", "protocol": "TCP"},
            {"port": 443, "name": "again", "protocol": "TCP", "targetPort": 70000},
        ],
    )
    assert messages(obj) == [
        "spec.ports[0].name: Required value",
        'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), '
        "and hyphens (-)",
        'spec.ports[0].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid "
        "ports is 30000-32767",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        'spec.ports[2].name: Duplicate value: "admin"',
        "spec.ports[3].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.ports[3]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:443, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]


def test_service_type_and_policies() -> None:
    obj = service(type="Internal", sessionAffinity="Sticky", ports=[{"port": 80, "nodePort": 30080}])
    assert messages(obj) == [
        'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
        'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"',
    ]
    cluster = service(
        type="ClusterIP", externalTrafficPolicy="Local", ports=[{"port": 80, "nodePort": 30080}]
    )
    assert messages(cluster) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]
    headless_lb = service(type="LoadBalancer", clusterIP="None", ports=[{"port": 80}])
    assert messages(headless_lb) == [
        "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"
    ]


def test_defaulted_services_are_valid() -> None:
    for spec in (
        {"ports": [{"port": 80}], "selector": {"app": "web"}},
        {"type": "LoadBalancer", "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]},
        {"clusterIP": "None", "ports": [{"port": 5432}]},
        {"type": "ExternalName", "externalName": "db.example.com."},
    ):
        assert messages(defaulted(service(**spec))) == [], spec


# --- config ---------------------------------------------------------------------------------------


def test_config_map_keys() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"ok.key": "1", "bad/key": "2"},
    }
    assert messages(cm) == [
        'data[bad/key]: Invalid value: "bad/key": a valid config key must consist of alphanumeric characters, '
        "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"
    ]


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("bXktYXBw", None),
        ("bXkt\nYXBw", None),
        ("bX!tYXBw", 2),
        ("bXktYXB", 4),
        ("bXktYX==", None),
        ("b===", 1),
    ],
)
def test_secret_data_must_be_base64(value: str, offset: int | None) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"user": value}}
    expected = (
        [] if offset is None else [f"data[user]: Invalid value: illegal base64 data at input byte {offset}"]
    )
    assert messages(secret) == expected


def test_secret_types_need_their_keys() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "type": "kubernetes.io/tls",
        "data": {},
    }
    assert messages(secret) == ["data[tls.crt]: Required value", "data[tls.key]: Required value"]


# --- other kinds ----------------------------------------------------------------------------------


def test_namespace_node_and_hpa() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "dev"},
        "spec": {"finalizers": ["custom"]},
    }
    assert messages(ns) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified'
    ]
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1"},
        "spec": {
            "podCIDR": "10.244.0.0",
            "taints": [
                {"key": "gpu", "effect": "NoSchedule"},
                {"key": "gpu", "effect": "NoSchedule"},
                {"key": "x", "effect": "Never"},
            ],
        },
    }
    assert [e.path for e in validate(node)] == ["spec.taints[1]", "spec.taints[2].effect", "spec.podCIDR"]
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment"}, "minReplicas": 5, "maxReplicas": 2},
    }
    assert messages(hpa) == [
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
        "spec.scaleTargetRef.name: Required value",
    ]
    hpa["spec"].update(minReplicas=0, maxReplicas=0, scaleTargetRef={"kind": "Deployment", "name": "web"})
    assert messages(hpa) == [
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    ]


# --- updates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_selector_is_immutable(kind: str) -> None:
    old = defaulted(deployment(kind))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web2"}}
    new["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    assert messages(new, old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    ]


def test_workload_template_and_replicas_may_change() -> None:
    old = defaulted(deployment())
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    assert messages(new, old) == []


def test_stateful_set_spec_is_mostly_immutable() -> None:
    old = defaulted(deployment("StatefulSet", serviceName="web"))
    new = copy.deepcopy(old)
    new["spec"]["serviceName"] = "other"
    assert messages(new, old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
        "are forbidden"
    ]


def test_pod_updates() -> None:
    old = defaulted(pod())
    image_only = copy.deepcopy(old)
    image_only["spec"]["containers"][0]["image"] = "nginx:1.27"
    image_only["spec"]["activeDeadlineSeconds"] = 60
    image_only["spec"]["tolerations"].append({"key": "gpu", "operator": "Exists"})
    assert messages(image_only, old) == []

    ports = copy.deepcopy(old)
    ports["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "protocol": "TCP"}]
    errors = validate(ports, old=old)
    assert len(errors) == 1
    assert errors[0].path == "spec"
    assert errors[0].type is CauseType.FORBIDDEN
    assert str(errors[0]).startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    )
    assert "spec.containers[0].ports" in errors[0].detail

    more = copy.deepcopy(old)
    more["spec"]["containers"].append({"name": "side", "image": "busybox"})
    apply_defaults(more)
    assert messages(more, old) == ["spec.containers: Forbidden: pod updates may not add or remove containers"]

    tolerations = copy.deepcopy(old)
    tolerations["spec"]["tolerations"][0]["key"] = "node.kubernetes.io/other"
    assert messages(tolerations, old) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
    ]
    seconds = copy.deepcopy(old)
    seconds["spec"]["tolerations"][0]["tolerationSeconds"] = 10
    assert messages(seconds, old) == []

    deadline_old = copy.deepcopy(old)
    deadline_old["spec"]["activeDeadlineSeconds"] = 30
    longer = copy.deepcopy(deadline_old)
    longer["spec"]["activeDeadlineSeconds"] = 60
    assert messages(longer, deadline_old) == [
        "spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value"
    ]


def test_quantities_compare_by_value_on_update() -> None:
    old = defaulted(pod({"name": "a", "image": "b", "resources": {"requests": {"cpu": "0.5"}}}))
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "500m"
    assert messages(new, old) == []


def test_job_updates() -> None:
    old = defaulted(job())
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:6"
    new["spec"]["completionMode"] = "Indexed"
    errors = validate(new, old=old)
    assert [e.path for e in errors] == ["spec.template", "spec.completionMode"]
    assert str(errors[0]).endswith(": field is immutable")

    suspended = defaulted(job(suspend=True))
    moved = copy.deepcopy(suspended)
    moved["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "a"}
    assert messages(moved, suspended) == []
    moved["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:6"
    assert [e.path for e in validate(moved, old=suspended)] == ["spec.template"]

    reselect = copy.deepcopy(old)
    reselect["spec"]["selector"]["matchLabels"]["extra"] = "x"
    assert "spec.selector" in [e.path for e in validate(reselect, old=old)]


def test_service_cluster_ip_may_not_change() -> None:
    old = defaulted(service(ports=[{"port": 80}], clusterIP="10.96.0.10"))
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    new["spec"]["clusterIPs"] = ["10.96.0.11"]
    assert messages(new, old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'
    ]
    kept = copy.deepcopy(old)
    del kept["spec"]["clusterIP"], kept["spec"]["clusterIPs"]
    assert messages(kept, old) == []


def test_immutable_config_maps_and_secrets() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
        "immutable": True,
    }
    changed = copy.deepcopy(cm)
    changed["data"]["a"] = "2"
    del changed["immutable"]
    assert messages(changed, cm) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]
    mutable = {**cm, "immutable": False}
    assert messages({**mutable, "data": {"a": "2"}}, mutable) == []
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque", "data": {}}
    assert messages(
        {**secret, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}, secret
    ) == ['type: Invalid value: "kubernetes.io/tls": field is immutable']


def test_metadata_name_and_uid_are_immutable() -> None:
    old = defaulted(pod())
    old["metadata"]["uid"] = "a"
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    new["metadata"]["uid"] = "b"
    assert messages(new, old) == [
        'metadata.name: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "b": field is immutable',
    ]


# --- all at once ------------------------------------------------------------------------------------


def test_several_errors_are_reported_at_once_like_the_api_server() -> None:
    obj = deployment(replicas=-1, labels={"app": "x"})
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container.update(name="Web", image="", ports=[{"containerPort": 70000}])
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    apply_defaults(obj)
    errors = validate(obj)
    assert str(ValidationError("Deployment", "web", errors)) == "\n".join(
        [
            'Deployment "web" is invalid: ',
            "* spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            '* spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not '
            "match template `labels`",
            '* spec.template.spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist '
            "of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character "
            "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            "* spec.template.spec.containers[0].image: Required value",
            "* spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
            "65535, inclusive",
            '* spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        ]
    )


def test_go_repr_wraps_values_for_messages() -> None:
    labels = go_repr({"b": "2", "a": "1"}, "labels")
    assert str(labels) == 'map[string]string{"a":"1", "b":"2"}'
    assert labels == {"a": "1", "b": "2"}
    assert (
        str(FieldError("x", CauseType.INVALID, "bad", go_repr(["a"], "strings")))
        == 'x: Invalid value: []string{"a"}: bad'
    )


def _mutations(value: Any, rng: random.Random) -> Any:
    """``value`` with random leaves swapped for values of the wrong type."""
    odd = [None, 7, -1, "x", True, [], {}, [1, "a"], {"k": 1}, 2.5]
    if isinstance(value, dict):
        return {k: (rng.choice(odd) if rng.random() < 0.2 else _mutations(v, rng)) for k, v in value.items()}
    if isinstance(value, list):
        return [rng.choice(odd) if rng.random() < 0.2 else _mutations(v, rng) for v in value]
    return value


def test_wrong_types_never_crash_defaulting_or_validation() -> None:
    rng = random.Random(1234)
    documents = []
    for path in EXAMPLES:
        with open(path) as handle:
            documents.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    for _ in range(8):
        for document in documents:
            mutated = _mutations(document, rng)
            old = copy.deepcopy(mutated)
            apply_defaults(mutated)
            with contextlib.suppress(UnknownResource):  # a mutated apiVersion/kind is not served
                validate_schema(mutated)
            validate(mutated)
            validate(mutated, old=old)
