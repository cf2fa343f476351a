"""Strict OpenAPI schema validation, explain data and patch merge keys."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import yaml

from nbcluster.api import schema
from nbcluster.api.defaults import apply_defaults
from nbcluster.api.schema import explain, patch_merge_keys, validate_schema
from nbcluster.errors import BadRequest, CauseType, FieldError, UnknownResource, ValidationError
from tests.examples import EXAMPLE_FILES

EXAMPLES = EXAMPLE_FILES


def pod(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx", **container}]},
    }


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
            **spec,
        },
    }


def test_valid_pod_has_no_errors() -> None:
    assert validate_schema(pod()) == []


def test_unknown_field_message_is_kubectls() -> None:
    obj = pod()
    obj["spec"]["containers"][0]["imag"] = "nginx"
    errors = validate_schema(obj)
    assert errors == [FieldError("spec.containers[0].imag", CauseType.UNKNOWN_FIELD)]
    assert str(errors[0]) == 'unknown field "spec.containers[0].imag"'
    assert str(ValidationError("Pod", "web", errors)) == (
        'error validating Pod "web": strict decoding error: unknown field "spec.containers[0].imag"'
    )


def test_every_unknown_field_of_one_object_is_reported() -> None:
    obj = pod(imag="x", portz=[])
    obj["spec"]["restartpolicy"] = "Never"
    obj["metadata"]["lables"] = {"a": "b"}
    paths = [e.path for e in validate_schema(obj)]
    assert paths == [
        "metadata.lables",
        "spec.containers[0].imag",
        "spec.containers[0].portz",
        "spec.restartpolicy",
    ]


def test_wrong_type_says_what_was_expected() -> None:
    errors = validate_schema(pod(ports=[{"containerPort": "80"}]))
    assert len(errors) == 1
    assert errors[0].path == "spec.containers[0].ports[0].containerPort"
    assert errors[0].type is CauseType.TYPE
    assert errors[0].detail == "expected integer, got string"
    assert (
        str(errors[0])
        == 'spec.containers[0].ports[0].containerPort: Invalid type: "80": expected integer, got string'
    )


def test_object_and_array_type_errors() -> None:
    obj = pod()
    obj["spec"]["containers"][0]["args"] = "sleep 10"
    obj["spec"]["securityContext"] = []
    errors = {e.path: e.detail for e in validate_schema(obj)}
    assert errors == {
        "spec.containers[0].args": "expected array, got string",
        "spec.securityContext": "expected object, got array",
    }


def test_required_properties() -> None:
    obj = pod(ports=[{"name": "http"}])
    del obj["spec"]["containers"][0]["name"]
    errors = validate_schema(obj)
    assert errors == [
        FieldError("spec.containers[0].name", CauseType.REQUIRED),
        FieldError("spec.containers[0].ports[0].containerPort", CauseType.REQUIRED),
    ]
    assert str(errors[0]) == "spec.containers[0].name: Required value"


def test_several_kinds_of_problems_at_once() -> None:
    obj = deployment(replicas="3", paused="yes")
    obj["spec"]["template"]["spec"]["containers"][0]["imag"] = "nginx"
    obj["spec"]["template"]["spec"]["containers"].append({"image": "sidecar"})
    errors = validate_schema(obj)
    assert [(e.path, e.type) for e in errors] == [
        ("spec.paused", CauseType.TYPE),
        ("spec.replicas", CauseType.TYPE),
        ("spec.template.spec.containers[0].imag", CauseType.UNKNOWN_FIELD),
        ("spec.template.spec.containers[1].name", CauseType.REQUIRED),
    ]


def test_map_values_are_keyed_like_kubectl() -> None:
    obj = pod()
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": 5}
    errors = validate_schema(obj)
    assert [e.path for e in errors] == ["metadata.labels[app.kubernetes.io/name]"]
    assert errors[0].detail == "expected string, got integer"


def test_enum_errors_list_the_supported_values() -> None:
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "a", "image": "b"}]},
            },
            "volumeClaimTemplates": [
                {"apiVersion": "v2", "kind": "PersistentVolumeClaim", "metadata": {"name": "d"}}
            ],
        },
    }
    errors = validate_schema(sts)
    assert errors == [
        FieldError("spec.volumeClaimTemplates[0].apiVersion", CauseType.UNSUPPORTED, 'supported values: "v1"')
    ]
    assert (
        str(errors[0])
        == 'spec.volumeClaimTemplates[0].apiVersion: Unsupported value: "v2": supported values: "v1"'
    )


@pytest.mark.parametrize("value", [80, "http"])
def test_int_or_string_ports_accept_both(value: Any) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80, "targetPort": value}]},
    }
    assert validate_schema(service) == []


@pytest.mark.parametrize("value", [1, "25%", 0])
def test_int_or_string_max_surge_accepts_both(value: Any) -> None:
    obj = deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": value, "maxUnavailable": value}}
    )
    assert validate_schema(obj) == []


def test_int_or_string_rejects_other_types() -> None:
    obj = deployment(strategy={"rollingUpdate": {"maxSurge": True}})
    errors = validate_schema(obj)
    assert [(e.path, e.detail) for e in errors] == [
        ("spec.strategy.rollingUpdate.maxSurge", "expected string or integer, got boolean")
    ]


@pytest.mark.parametrize("value", [1, 0.5, "500m", "1Gi"])
def test_quantities_accept_numbers_and_strings(value: Any) -> None:
    assert validate_schema(pod(resources={"limits": {"cpu": value}, "requests": {"memory": value}})) == []


def test_quantities_reject_other_types() -> None:
    errors = validate_schema(pod(resources={"limits": {"cpu": [1]}}))
    assert [(e.path, e.detail) for e in errors] == [
        ("spec.containers[0].resources.limits[cpu]", "expected string or number, got array")
    ]


def test_status_is_ignored() -> None:
    obj = pod()
    obj["status"] = {"phase": "Running", "madeUp": True, "containerStatuses": "nope"}
    assert validate_schema(obj) == []


def test_null_is_accepted_where_kubernetes_accepts_it() -> None:
    obj = deployment()
    obj["metadata"]["creationTimestamp"] = None
    obj["spec"]["template"]["metadata"]["creationTimestamp"] = None
    obj["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": None}}
    assert validate_schema(obj) == []


def test_missing_api_version_and_kind() -> None:
    assert validate_schema({"metadata": {"name": "x"}}) == [
        FieldError("apiVersion", CauseType.REQUIRED),
        FieldError("kind", CauseType.REQUIRED),
    ]


def test_unknown_kind_raises_kubectls_error() -> None:
    with pytest.raises(UnknownResource, match='no matches for kind "Deploymnet" in version "apps/v1"'):
        validate_schema({"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}})


def test_autoscaling_v1_hpa_has_its_own_schema() -> None:
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3, "metrics": []},
    }
    assert [e.path for e in validate_schema(hpa)] == ["spec.metrics"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_kubernetes_io_examples_pass(path: str) -> None:
    with open(path) as handle:
        for document in yaml.safe_load_all(handle):
            if document:
                assert validate_schema(document) == []


def _examples() -> list[dict[str, Any]]:
    objects = []
    for path in EXAMPLES:
        with open(path) as handle:
            objects.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    return objects


def test_validators_are_compiled_once_and_fast() -> None:
    objects = _examples()
    for obj in objects:
        validate_schema(obj)
    before = schema._compiled_validator.cache_info()
    start = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for obj in objects:
            validate_schema(obj)
    per_object = (time.perf_counter() - start) / (rounds * len(objects))
    after = schema._compiled_validator.cache_info()
    assert after.misses == before.misses  # nothing recompiled
    assert after.hits >= before.hits + rounds * len(objects)
    assert per_object < 0.01  # measured ~0.4 ms; generous for slow CI machines


def test_schema_version_is_configurable() -> None:
    job = next(obj for obj in _examples() if obj["metadata"]["name"] == "job-pod-failure-policy-example")
    try:
        schema.set_schema_version("1.33")
        assert schema.schema_version() == "1.33"
        # Kubernetes 1.33's OpenAPI still marks onPodConditions[].status required;
        # the defaulter fills it in, as the API server does.
        assert [e.path for e in validate_schema(job)] == [
            "spec.podFailurePolicy.rules[1].onPodConditions[0].status"
        ]
        defaulted = copy.deepcopy(job)
        apply_defaults(defaulted)
        assert validate_schema(defaulted) == []
    finally:
        schema.set_schema_version(None)
    assert schema.schema_version() == schema.available_versions()[-1]
    assert validate_schema(job) == []


def test_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"ships no schemas for Kubernetes 1\.2 "):
        schema.set_schema_version("1.2")
    assert "1.33" in schema.available_versions()


def test_explain_a_field() -> None:
    info = explain("v1", "Pod", "spec.containers")
    assert info["type"] == "[]Container"
    assert info["required"] is True
    assert info["description"].startswith("List of containers belonging to the pod.")
    assert info["fields"]["image"]["type"] == "string"
    assert info["fields"]["name"]["required"] is True
    assert info["fields"]["ports"]["type"] == "[]ContainerPort"
    assert info["fields"]["resources"]["type"] == "ResourceRequirements"
    assert list(info["fields"]) == sorted(info["fields"])


def test_explain_the_kind_and_leaf_fields() -> None:
    root = explain("apps/v1", "Deployment")
    assert root["type"] == "Deployment"
    assert set(root["fields"]) == {"apiVersion", "kind", "metadata", "spec", "status"}
    surge = explain("apps/v1", "Deployment", "spec.strategy.rollingUpdate.maxSurge")
    assert surge["type"] == "IntOrString"
    assert surge["fields"] == {}
    labels = explain("v1", "Pod", "metadata.labels")
    assert labels["type"] == "map[string]string"
    limits = explain("v1", "Pod", "spec.containers.resources.limits")
    assert limits["type"] == "map[string]Quantity"


def test_explain_unknown_field() -> None:
    with pytest.raises(BadRequest, match='field "imag" does not exist'):
        explain("v1", "Pod", "spec.containers.imag")


def test_patch_merge_keys() -> None:
    keys = patch_merge_keys("apps/v1", "Deployment")
    assert keys["spec.template.spec.containers"] == "name"
    assert keys["spec.template.spec.initContainers"] == "name"
    assert keys["spec.template.spec.containers.ports"] == "containerPort"
    assert keys["spec.template.spec.containers.env"] == "name"
    assert keys["spec.template.spec.volumes"] == "name"
    assert keys["spec.template.spec.containers.volumeMounts"] == "mountPath"
    pod_keys = patch_merge_keys("v1", "Pod")
    assert pod_keys["spec.containers"] == "name"
    assert not any(path.startswith("status") for path in pod_keys)
    assert patch_merge_keys("v1", "ConfigMap") == {"metadata.ownerReferences": "uid"}
    service_keys = patch_merge_keys("v1", "Service")
    assert service_keys["spec.ports"] == "port"
