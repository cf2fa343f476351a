"""Defaulting: what Kubernetes' defaulters and create-time admission fill in."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from nbcluster.api.defaults import apply_defaults, image_pull_policy
from tests.examples import EXAMPLE_FILES

EXAMPLES = EXAMPLE_FILES


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    apply_defaults(obj)
    return obj


def template(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec},
    }


TEMPLATE_SPEC_DEFAULTS = {
    "containers": [
        {
            "name": "web",
            "image": "nginx:1.25",
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "resources": {},
        }
    ],
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}


def test_pod_defaults_match_a_kubectl_get() -> None:
    pod = defaulted(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": template()["spec"]}
    )
    assert pod["spec"] == {
        **TEMPLATE_SPEC_DEFAULTS,
        "enableServiceLinks": True,
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    }
    assert "status" not in pod


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.k8s.io/pause:3.9", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy
    pod = defaulted({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": image}]}})
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_explicit_values_are_kept() -> None:
    pod = defaulted(
        {
            "kind": "Pod",
            "spec": {
                "restartPolicy": "Never",
                "dnsPolicy": "Default",
                "terminationGracePeriodSeconds": 0,
                "serviceAccountName": "builder",
                "priority": 5,
                "containers": [{"name": "a", "image": "nginx", "imagePullPolicy": "Never"}],
            },
        }
    )
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"]) == (
        "Never",
        "Default",
        0,
    )
    assert (spec["serviceAccountName"], spec["serviceAccount"], spec["priority"]) == ("builder", "builder", 5)
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_deprecated_service_account_field_is_honoured() -> None:
    pod = defaulted(
        {"kind": "Pod", "spec": {"serviceAccount": "robot", "containers": [{"name": "a", "image": "b"}]}}
    )
    assert pod["spec"]["serviceAccountName"] == "robot"


def test_probe_port_and_handler_defaults() -> None:
    container = {
        "name": "a",
        "image": "b",
        "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
        "startupProbe": {"grpc": {"port": 9090}},
        "lifecycle": {"preStop": {"httpGet": {"port": 80}}},
    }
    result = defaulted({"kind": "Pod", "spec": {"containers": [container]}})["spec"]["containers"][0]
    assert [p["protocol"] for p in result["ports"]] == ["TCP", "UDP"]
    assert result["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert result["readinessProbe"]["periodSeconds"] == 5
    assert result["startupProbe"]["grpc"] == {"port": 9090, "service": ""}
    assert result["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}


def test_requests_default_from_limits_for_pods_only() -> None:
    resources = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}}
    container = {"name": "a", "image": "b", "resources": resources}
    pod = defaulted({"kind": "Pod", "spec": {"containers": [container]}})
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    deploy = defaulted({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [container]}}}})
    assert deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m"}


def test_existing_tolerations_are_respected() -> None:
    tolerate_all = {"operator": "Exists"}
    pod = defaulted(
        {"kind": "Pod", "spec": {"tolerations": [tolerate_all], "containers": [{"name": "a", "image": "b"}]}}
    )
    assert pod["spec"]["tolerations"] == [tolerate_all]
    custom = {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 6,
    }
    pod = defaulted(
        {"kind": "Pod", "spec": {"tolerations": [custom], "containers": [{"name": "a", "image": "b"}]}}
    )
    assert [t["key"] for t in pod["spec"]["tolerations"]] == [
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/not-ready",
    ]
    assert pod["spec"]["tolerations"][0]["tolerationSeconds"] == 6


def test_volume_defaults() -> None:
    volumes = [
        {"name": "scratch"},
        {"name": "cfg", "configMap": {"name": "c"}},
        {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}},
        {"name": "host", "hostPath": {"path": "/data"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
    ]
    spec = defaulted(
        {"kind": "Pod", "spec": {"volumes": volumes, "containers": [{"name": "a", "image": "b"}]}}
    )["spec"]
    by_name = {v["name"]: v for v in spec["volumes"]}
    assert by_name["scratch"] == {"name": "scratch", "emptyDir": {}}
    assert by_name["cfg"]["configMap"]["defaultMode"] == 420
    assert by_name["sec"]["secret"]["defaultMode"] == 0o400
    assert by_name["host"]["hostPath"]["type"] == ""
    assert by_name["info"]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert by_name["token"]["projected"]["defaultMode"] == 420
    assert by_name["token"]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600


def test_env_field_refs_get_an_api_version() -> None:
    env = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    pod = defaulted({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "b", "env": env}]}})
    assert pod["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"] == {
        "fieldPath": "spec.nodeName",
        "apiVersion": "v1",
    }


def test_host_network_pods_get_host_ports_templates_do_not() -> None:
    spec = {
        "hostNetwork": True,
        "containers": [{"name": "a", "image": "b", "ports": [{"containerPort": 8080}]}],
    }
    pod = defaulted({"kind": "Pod", "spec": spec})
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080
    deploy = defaulted({"kind": "Deployment", "spec": {"template": {"spec": spec}}})
    assert "hostPort" not in deploy["spec"]["template"]["spec"]["containers"][0]["ports"][0]


def test_deployment_defaults() -> None:
    deploy = defaulted({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": template()}})
    spec = deploy["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"] == TEMPLATE_SPEC_DEFAULTS
    recreate = defaulted({"kind": "Deployment", "spec": {"strategy": {"type": "Recreate"}, "replicas": 0}})
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}
    assert recreate["spec"]["replicas"] == 0


def test_replica_set_defaults() -> None:
    rs = defaulted({"kind": "ReplicaSet", "spec": {"template": template()}})
    assert rs["spec"]["replicas"] == 1
    assert "revisionHistoryLimit" not in rs["spec"]
    assert rs["spec"]["template"]["spec"] == TEMPLATE_SPEC_DEFAULTS


def test_stateful_set_defaults() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    sts = defaulted(
        {"kind": "StatefulSet", "spec": {"template": template(), "volumeClaimTemplates": [claim]}}
    )
    spec = sts["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (1, 10)
    assert spec["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    on_delete = defaulted({"kind": "StatefulSet", "spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_daemon_set_defaults() -> None:
    ds = defaulted({"kind": "DaemonSet", "spec": {"template": template()}})
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert ds["spec"]["revisionHistoryLimit"] == 10
    assert ds["spec"]["template"]["spec"] == TEMPLATE_SPEC_DEFAULTS


def job(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "uid": "0f1e-uid"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}},
            **spec,
        },
    }


def test_job_defaults_and_generated_selector() -> None:
    result = defaulted(job())
    spec = result["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert (spec["completionMode"], spec["suspend"], spec["podReplacementPolicy"]) == (
        "NonIndexed",
        False,
        "TerminatingOrFailed",
    )
    expected_labels = {
        "batch.kubernetes.io/controller-uid": "0f1e-uid",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "0f1e-uid",
        "job-name": "pi",
    }
    assert spec["template"]["metadata"]["labels"] == expected_labels
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "0f1e-uid"}}
    assert result["metadata"]["labels"] == expected_labels
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert "manualSelector" not in spec


def test_job_parallel_and_per_index_defaults() -> None:
    spec = defaulted(job(parallelism=3))["spec"]
    assert spec["parallelism"] == 3
    assert "completions" not in spec
    spec = defaulted(job(completions=5, completionMode="Indexed", backoffLimitPerIndex=1))["spec"]
    assert spec["backoffLimit"] == 2**31 - 1
    assert spec["parallelism"] == 1


def test_job_pod_failure_policy_defaults() -> None:
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    spec = defaulted(job(podFailurePolicy=policy))["spec"]
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"] == [
        {"type": "DisruptionTarget", "status": "True"}
    ]
    assert spec["podReplacementPolicy"] == "Failed"


def test_job_with_manual_selector_or_without_uid() -> None:
    manual = defaulted(job(manualSelector=True, selector={"matchLabels": {"a": "b"}}))
    assert manual["spec"]["selector"] == {"matchLabels": {"a": "b"}}
    assert "labels" not in manual["spec"]["template"].get("metadata", {})
    no_uid = job()
    del no_uid["metadata"]["uid"]
    result = defaulted(no_uid)
    assert "selector" not in result["spec"]
    assert result["spec"]["template"]["metadata"]["labels"] == {
        "job-name": "pi",
        "batch.kubernetes.io/job-name": "pi",
    }


def test_job_keeps_its_own_labels() -> None:
    labelled = job()
    labelled["metadata"]["labels"] = {"team": "a"}
    assert defaulted(labelled)["metadata"]["labels"] == {"team": "a"}


def test_cron_job_defaults() -> None:
    cron = defaulted(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "hello"},
            "spec": {
                "schedule": "* * * * *",
                "jobTemplate": {"spec": {"template": template(restartPolicy="OnFailure")}},
            },
        }
    )
    spec = cron["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_spec  # Kubernetes does not default the job template's JobSpec
    assert job_spec["template"]["spec"] == {**TEMPLATE_SPEC_DEFAULTS, "restartPolicy": "OnFailure"}


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}


def test_cluster_ip_service_defaults() -> None:
    spec = defaulted(
        service(
            selector={"app": "web"},
            ports=[{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}],
        )
    )["spec"]
    assert spec == {
        "selector": {"app": "web"},
        "ports": [
            {"port": 80, "protocol": "TCP", "targetPort": 80},
            {"port": 53, "protocol": "UDP", "targetPort": "dns"},
        ],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }


def test_node_port_and_load_balancer_defaults() -> None:
    node_port = defaulted(service(type="NodePort", ports=[{"port": 80}]))["spec"]
    assert node_port["externalTrafficPolicy"] == "Cluster"
    assert "allocateLoadBalancerNodePorts" not in node_port
    lb = defaulted(service(type="LoadBalancer", ports=[{"port": 80}]))["spec"]
    assert lb["externalTrafficPolicy"] == "Cluster"
    assert lb["allocateLoadBalancerNodePorts"] is True


def test_headless_external_name_and_client_ip_services() -> None:
    headless = defaulted(service(clusterIP="None", selector={"app": "db"}, ports=[{"port": 5432}]))["spec"]
    assert headless["clusterIPs"] == ["None"]
    assert headless["ipFamilyPolicy"] == "SingleStack"
    external = defaulted(service(type="ExternalName", externalName="example.com"))["spec"]
    assert external == {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"}
    sticky = defaulted(service(sessionAffinity="ClientIP", ports=[{"port": 80}]))["spec"]
    assert sticky["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_secret_defaults_and_string_data() -> None:
    secret = defaulted(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "stringData": {"password": "hunter2"},
        }
    )
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in secret
    tls = defaulted({"kind": "Secret", "type": "kubernetes.io/tls", "data": {}})
    assert tls["type"] == "kubernetes.io/tls"


def test_namespace_defaults() -> None:
    ns = defaulted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dev"}
    custom = defaulted(
        {"kind": "Namespace", "metadata": {"name": "x"}, "spec": {"finalizers": ["example.com/a"]}}
    )
    assert custom["spec"]["finalizers"] == ["example.com/a", "kubernetes"]
    terminating = {
        "kind": "Namespace",
        "metadata": {"name": "x", "deletionTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"finalizers": []},
        "status": {"phase": "Terminating"},
    }
    assert defaulted(terminating)["spec"]["finalizers"] == []
    assert defaulted(terminating)["status"]["phase"] == "Terminating"


def test_node_allocatable_defaults_to_capacity() -> None:
    node = defaulted(
        {"kind": "Node", "metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}
    )
    assert node["status"]["allocatable"] == {"cpu": "4", "pods": "110"}


def test_hpa_defaults() -> None:
    v1 = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "spec": {
            "scaleTargetRef": {"kind": "ReplicaSet", "name": "f"},
            "maxReplicas": 10,
            "targetCPUUtilizationPercentage": 50,
        },
    }
    assert defaulted(v1)["spec"] == {**v1["spec"], "minReplicas": 1}
    v2 = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            "behavior": {"scaleDown": {}},
        },
    }
    spec = defaulted(v2)["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
        }
    ]
    assert spec["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 300,
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    }
    assert spec["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}


def test_unknown_kinds_and_non_objects_are_left_alone() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert defaulted(cm) == cm
    apply_defaults("not an object")  # type: ignore[arg-type]


def test_wrong_types_do_not_crash_defaulting() -> None:
    weird = {"kind": "Pod", "spec": {"containers": "nginx", "volumes": {"a": 1}, "tolerations": "x"}}
    result = defaulted(weird)
    assert result["spec"]["containers"] == "nginx"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_defaulting_is_idempotent_on_the_examples(path: str) -> None:
    with open(path) as handle:
        for document in yaml.safe_load_all(handle):
            if not document:
                continue
            document.setdefault("metadata", {})["uid"] = "11111111-2222"
            once = defaulted(document)
            assert defaulted(once) == once
