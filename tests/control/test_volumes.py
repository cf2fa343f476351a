"""PersistentVolume controller and local-path provisioner: seed claims, sync once, check."""

from __future__ import annotations

from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.volumes import (
    DEFAULT_CLASS_ANNOTATION,
    LOCAL_PATH_PROVISIONER,
    PersistentVolumeController,
    default_storage_class,
    ensure_default_storage_class,
)
from nbcluster.util.clock import ManualClock

ROOT = "/var/lib/nbcluster/test-cluster/volumes"

Obj = dict[str, Any]


@pytest.fixture
def ctrl(api: APIServer, clock: ManualClock) -> PersistentVolumeController:
    return PersistentVolumeController(api, clock, storage_root=ROOT)


def claim(name: str = "data", storage: str = "1Gi", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}, **spec},
    }


def volume(name: str, storage: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/data/{name}"},
            **spec,
        },
    }


def storage_class(name: str, provisioner: str = LOCAL_PATH_PROVISIONER, **fields: Any) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner,
        **fields,
    }


def events(api: APIServer, reason: str) -> list[str]:
    return [e["message"] for e in api.cached_list("events", "default") if e["reason"] == reason]


def test_default_storage_class_is_created_once(api: APIServer) -> None:
    created = ensure_default_storage_class(api)
    assert created["metadata"]["name"] == "standard"
    assert created["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"
    assert created["provisioner"] == LOCAL_PATH_PROVISIONER
    assert created["volumeBindingMode"] == "Immediate"
    assert created["reclaimPolicy"] == "Delete"
    again = ensure_default_storage_class(api)
    assert again["metadata"]["uid"] == created["metadata"]["uid"]
    assert default_storage_class(api)["metadata"]["name"] == "standard"  # type: ignore[index]


def test_claim_without_class_gets_default_and_a_provisioned_volume(
    api: APIServer, ctrl: PersistentVolumeController
) -> None:
    ensure_default_storage_class(api)
    uid = api.create(claim())["metadata"]["uid"]
    ctrl.sync("default/data")

    pvc = api.get("persistentvolumeclaims", "data", namespace="default")
    pv_name = f"pvc-{uid}"
    assert pvc["spec"]["volumeName"] == pv_name
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["status"]["capacity"] == {"storage": "1Gi"}
    assert pvc["status"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert (
        pvc["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] == LOCAL_PATH_PROVISIONER
    )

    pv = api.get("persistentvolumes", pv_name)
    assert pv["spec"]["hostPath"] == {"path": f"{ROOT}/{pv_name}_default_data", "type": "DirectoryOrCreate"}
    assert pv["spec"]["claimRef"]["uid"] == uid
    assert pv["spec"]["claimRef"]["name"] == "data"
    assert pv["spec"]["storageClassName"] == "standard"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["capacity"] == {"storage": "1Gi"}
    assert pv["status"]["phase"] == "Bound"
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == LOCAL_PATH_PROVISIONER
    assert events(api, "ProvisioningSucceeded") == [f"Successfully provisioned volume {pv_name}"]
    assert events(api, "Provisioning") == [
        'External provisioner is provisioning volume for claim "default/data"'
    ]

    # Idempotent: another sync writes nothing.
    version = api.get("persistentvolumeclaims", "data", namespace="default")["metadata"]["resourceVersion"]
    ctrl.sync("default/data")
    ctrl.sync(pv_name)
    assert (
        api.get("persistentvolumeclaims", "data", namespace="default")["metadata"]["resourceVersion"]
        == version
    )
    assert len(api.cached_list("persistentvolumes")) == 1


def test_claim_without_class_records_the_default_class(
    api: APIServer, ctrl: PersistentVolumeController
) -> None:
    ensure_default_storage_class(api)
    api.create(claim())
    ctrl.sync("default/data")
    assert (
        api.get("persistentvolumeclaims", "data", namespace="default")["spec"]["storageClassName"]
        == "standard"
    )


def test_claim_of_unknown_class_stays_pending(api: APIServer, ctrl: PersistentVolumeController) -> None:
    ensure_default_storage_class(api)
    api.create(claim(storageClassName="fast"))
    ctrl.sync("default/data")
    pvc = api.get("persistentvolumeclaims", "data", namespace="default")
    assert pvc["status"]["phase"] == "Pending"
    assert "volumeName" not in pvc["spec"]
    assert events(api, "ProvisioningFailed") == ['storageclass.storage.k8s.io "fast" not found']
    assert api.cached_list("persistentvolumes") == []


def test_claim_with_empty_class_and_no_volume(api: APIServer, ctrl: PersistentVolumeController) -> None:
    ensure_default_storage_class(api)
    api.create(claim(storageClassName=""))
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Pending"
    assert events(api, "FailedBinding") == [
        "no persistent volumes available for this claim and no storage class is set"
    ]


def test_no_default_class_means_no_class(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(claim())
    ctrl.sync("default/data")
    pvc = api.get("persistentvolumeclaims", "data", namespace="default")
    assert pvc["status"]["phase"] == "Pending"
    assert events(api, "FailedBinding") == [
        "no persistent volumes available for this claim and no storage class is set"
    ]


def test_foreign_provisioner_is_waited_for(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(storage_class("ebs", "ebs.csi.aws.com"))
    api.create(claim(storageClassName="ebs"))
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Pending"
    assert events(api, "ExternalProvisioning") == [
        'waiting for a volume to be created, either by external provisioner "ebs.csi.aws.com" '
        "or manually created by system administrator"
    ]


def test_static_volume_smallest_fit_is_bound(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(volume("big", "10Gi", storageClassName="manual"))
    api.create(volume("small", "2Gi", storageClassName="manual"))
    api.create(volume("tiny", "500Mi", storageClassName="manual"))
    api.create(volume("other", "2Gi", storageClassName="other"))
    api.create(claim(storageClassName="manual"))
    ctrl.sync("default/data")
    pvc = api.get("persistentvolumeclaims", "data", namespace="default")
    assert pvc["spec"]["volumeName"] == "small"
    assert pvc["status"]["capacity"] == {"storage": "2Gi"}
    pv = api.get("persistentvolumes", "small")
    assert pv["spec"]["claimRef"]["name"] == "data"
    assert pv["status"]["phase"] == "Bound"
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    ctrl.sync("big")
    assert api.get("persistentvolumes", "big")["status"]["phase"] == "Available"


def test_delete_policy_removes_the_volume_with_its_claim(
    api: APIServer, ctrl: PersistentVolumeController
) -> None:
    ensure_default_storage_class(api)
    uid = api.create(claim())["metadata"]["uid"]
    ctrl.sync("default/data")
    ctrl.setup()
    try:
        api.delete("persistentvolumeclaims", "data", namespace="default")
        assert len(ctrl.queue) >= 1
    finally:
        ctrl.teardown()
    ctrl.sync(f"pvc-{uid}")
    assert api.cached("persistentvolumes", f"pvc-{uid}") is None


def test_retain_policy_releases_the_volume(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(volume("keep", "1Gi", storageClassName="manual", persistentVolumeReclaimPolicy="Retain"))
    api.create(claim(storageClassName="manual"))
    ctrl.sync("default/data")
    api.delete("persistentvolumeclaims", "data", namespace="default")
    ctrl.sync("keep")
    pv = api.get("persistentvolumes", "keep")
    assert pv["status"]["phase"] == "Released"
    assert pv["spec"]["claimRef"]["name"] == "data"
    # A new claim of the same name does not get the released volume back.
    api.create(claim(storageClassName="manual"))
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Pending"


def test_bound_claim_whose_volume_is_gone_is_lost(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(volume("v1", "1Gi", storageClassName="manual"))
    api.create(claim(storageClassName="manual"))
    ctrl.sync("default/data")
    api.delete("persistentvolumes", "v1")
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Lost"
    assert events(api, "ClaimLost")


def test_class_created_later_unblocks_pending_claims(
    api: APIServer, ctrl: PersistentVolumeController
) -> None:
    api.create(claim(storageClassName="fast"))
    ctrl.sync("default/data")
    ctrl.setup()
    try:
        api.create(storage_class("fast"))
        assert len(ctrl.queue) == 1
    finally:
        ctrl.teardown()
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Bound"


def test_wait_for_first_consumer(api: APIServer, ctrl: PersistentVolumeController) -> None:
    api.create(storage_class("local", volumeBindingMode="WaitForFirstConsumer"))
    api.create(claim(storageClassName="local"))
    ctrl.sync("default/data")
    assert api.get("persistentvolumeclaims", "data", namespace="default")["status"]["phase"] == "Pending"
    assert events(api, "WaitForFirstConsumer") == ["waiting for first consumer to be created before binding"]

    api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "app", "namespace": "default"},
            "spec": {
                "containers": [{"name": "app", "image": "busybox"}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        }
    )
    ctrl.setup()
    try:
        api.bind("default", "app", "n1")
        assert len(ctrl.queue) == 1, "a consumer being scheduled wakes the claim up"
    finally:
        ctrl.teardown()
    ctrl.sync("default/data")
    pvc = api.get("persistentvolumeclaims", "data", namespace="default")
    assert pvc["status"]["phase"] == "Bound"
    pv = api.get("persistentvolumes", pvc["spec"]["volumeName"])
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}
    ]
