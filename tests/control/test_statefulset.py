"""StatefulSet controller: seed the store, sync once, check what it did."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.history import REVISION_HASH_LABEL
from nbcluster.control.controllers.statefulset import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    StatefulSetController,
    claim_name,
    pod_ordinal,
)
from nbcluster.control.controllers.volumes import PersistentVolumeController, ensure_default_storage_class
from nbcluster.util.clock import ManualClock, format_time
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
KEY = "default/web"

Obj = dict[str, Any]


@pytest.fixture
def ctrl(api: APIServer, clock: ManualClock) -> StatefulSetController:
    return StatefulSetController(api, clock)


def statefulset(name: str = "web", replicas: int = 3, *, claims: bool = True, **spec: Any) -> Obj:
    obj: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "serviceName": "nginx",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.25",
                            "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]
                            if claims
                            else [],
                        }
                    ]
                },
            },
            **spec,
        },
    }
    if claims:
        obj["spec"]["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        ]
    return obj


def pod_names(api: APIServer) -> list[str]:
    return sorted(p["metadata"]["name"] for p in api.cached_list("pods", "default"))


def mark_ready(api: APIServer, clock: ManualClock, name: str) -> None:
    pod = api.get("pods", name, namespace="default")
    pod["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": format_time(clock.now())}],
    }
    api.update_status(pod)


def mark_all_ready(api: APIServer, clock: ManualClock) -> None:
    for name in pod_names(api):
        mark_ready(api, clock, name)


def messages(api: APIServer, reason: str) -> list[str]:
    return [e["message"] for e in api.cached_list("events", "default") if e["reason"] == reason]


def status(api: APIServer, name: str = "web") -> Obj:
    return api.get("statefulsets.apps", name, namespace="default").get("status", {})


def bring_up(api: APIServer, clock: ManualClock, ctrl: StatefulSetController, replicas: int) -> None:
    """Sync and mark pods ready until ``replicas`` pods run."""
    for _ in range(replicas + 2):
        ctrl.sync(KEY)
        mark_all_ready(api, clock)
    ctrl.sync(KEY)
    assert len(pod_names(api)) == replicas


def test_pod_ordinal_parses_only_members() -> None:
    assert pod_ordinal("web", "web-12") == 12
    assert pod_ordinal("web", "web-0-1") == -1
    assert pod_ordinal("web", "webby-1") == -1
    assert pod_ordinal("web", "web-") == -1
    assert claim_name("www", "web", 0) == "www-web-0"


def test_ordered_ready_creates_one_pod_at_a_time(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset())
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0"]
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0"], "web-1 must wait until web-0 is Running and Ready"

    pod = api.get("pods", "web-0", namespace="default")
    sts = api.get("statefulsets.apps", "web", namespace="default")
    labels = pod["metadata"]["labels"]
    assert labels["app"] == "nginx"
    assert labels[POD_NAME_LABEL] == "web-0"
    assert labels[POD_INDEX_LABEL] == "0"
    assert labels[REVISION_HASH_LABEL] == sts["status"]["updateRevision"]
    assert pod["spec"]["hostname"] == "web-0"
    assert pod["spec"]["subdomain"] == "nginx"
    assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}} in [
        {k: v for k, v in vol.items() if k in ("name", "persistentVolumeClaim")}
        for vol in pod["spec"]["volumes"]
    ]
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("StatefulSet", "web", True)
    claim = api.get("persistentvolumeclaims", "www-web-0", namespace="default")
    assert claim["metadata"]["labels"] == {"app": "nginx"}
    assert "ownerReferences" not in claim["metadata"], "Retain policy: the claim outlives the set"
    assert messages(api, "SuccessfulCreate") == [
        "create Claim www-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
    ]

    # Running but not Ready is not enough.
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
    api.update_status(pod)
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0"]

    mark_ready(api, clock, "web-0")
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1"]
    st = status(api)
    assert st["replicas"] == 2
    assert st["readyReplicas"] == 1
    assert st["availableReplicas"] == 1
    assert st["observedGeneration"] == 1
    assert st["currentRevision"] == st["updateRevision"]
    assert st["collisionCount"] == 0


def test_revision_is_a_controller_revision(api: APIServer, ctrl: StatefulSetController) -> None:
    api.create(statefulset())
    ctrl.sync(KEY)
    revisions = api.cached_list("controllerrevisions.apps", "default")
    assert len(revisions) == 1
    revision = revisions[0]
    name = revision["metadata"]["name"]
    assert name == f"web-{revision['metadata']['labels'][REVISION_HASH_LABEL]}"
    assert revision["revision"] == 1
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert revision["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    assert status(api)["updateRevision"] == name


def test_parallel_creates_all_at_once(api: APIServer, ctrl: StatefulSetController) -> None:
    api.create(statefulset(podManagementPolicy="Parallel"))
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1", "web-2"]
    claims = sorted(c["metadata"]["name"] for c in api.cached_list("persistentvolumeclaims", "default"))
    assert claims == ["www-web-0", "www-web-1", "www-web-2"]
    assert status(api)["replicas"] == 3


def test_ordinals_start(api: APIServer, ctrl: StatefulSetController) -> None:
    api.create(statefulset(replicas=2, podManagementPolicy="Parallel", ordinals={"start": 5}))
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-5", "web-6"]


def test_scale_down_removes_highest_ordinal_first(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset())
    bring_up(api, clock, ctrl, 3)
    api.scale("statefulsets.apps", "web", 1, namespace="default")
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1"]
    assert messages(api, "SuccessfulDelete") == ["delete Pod web-2 in StatefulSet web successful"]
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0"]
    claims = sorted(c["metadata"]["name"] for c in api.cached_list("persistentvolumeclaims", "default"))
    assert claims == ["www-web-0", "www-web-1", "www-web-2"], "claims are kept on scale down"
    assert status(api)["replicas"] == 1


def test_scale_down_waits_for_unhealthy_predecessor(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset())
    bring_up(api, clock, ctrl, 3)
    pod = api.get("pods", "web-0", namespace="default")
    pod["status"]["conditions"][0]["status"] = "False"
    api.update_status(pod)
    api.scale("statefulsets.apps", "web", 1, namespace="default")
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1", "web-2"], "OrderedReady stops at an unhealthy pod"


def test_claims_survive_pod_deletion_and_are_reused(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(replicas=1))
    ctrl.sync(KEY)
    claim_uid = api.get("persistentvolumeclaims", "www-web-0", namespace="default")["metadata"]["uid"]
    api.delete("pods", "web-0", namespace="default")
    assert pod_names(api) == []
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0"]
    claim = api.get("persistentvolumeclaims", "www-web-0", namespace="default")
    assert claim["metadata"]["uid"] == claim_uid
    assert len([m for m in messages(api, "SuccessfulCreate") if "Claim" in m]) == 1


def test_failed_pod_is_deleted_and_recreated(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(replicas=1, claims=False))
    ctrl.sync(KEY)
    pod = api.get("pods", "web-0", namespace="default")
    old_uid = pod["metadata"]["uid"]
    pod["status"] = {"phase": "Failed"}
    api.update_status(pod)
    ctrl.sync(KEY)
    pod = api.get("pods", "web-0", namespace="default")
    assert pod["metadata"]["uid"] != old_uid
    assert messages(api, "RecreatingFailedPod") == ["StatefulSet default/web is recreating failed Pod web-0"]


def _change_image(api: APIServer, image: str, **strategy: Any) -> None:
    sts = api.get("statefulsets.apps", "web", namespace="default")
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if strategy:
        sts["spec"]["updateStrategy"] = strategy
    api.update(sts)


def _image(api: APIServer, name: str) -> str:
    return str(api.get("pods", name, namespace="default")["spec"]["containers"][0]["image"])


def test_rolling_update_from_highest_ordinal_honours_partition(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(claims=False))
    bring_up(api, clock, ctrl, 3)
    old_revision = status(api)["currentRevision"]
    _change_image(api, "nginx:1.26", type="RollingUpdate", rollingUpdate={"partition": 1})

    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1"], "the highest ordinal goes first"
    st = status(api)
    assert st["updateRevision"] != old_revision
    assert st["currentRevision"] == old_revision
    ctrl.sync(KEY)
    assert _image(api, "web-2") == "nginx:1.26"
    assert (
        api.get("pods", "web-2", namespace="default")["metadata"]["labels"][REVISION_HASH_LABEL]
        == st["updateRevision"]
    )
    ctrl.sync(KEY)
    assert _image(api, "web-1") == "nginx:1.25", "web-1 waits until web-2 is ready"

    mark_ready(api, clock, "web-2")
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-2"]
    ctrl.sync(KEY)
    mark_ready(api, clock, "web-1")
    ctrl.sync(KEY)
    assert [_image(api, n) for n in ("web-0", "web-1", "web-2")] == ["nginx:1.25", "nginx:1.26", "nginx:1.26"]
    st = status(api)
    assert st["updatedReplicas"] == 2
    assert st["currentReplicas"] == 1
    assert st["currentRevision"] == old_revision, "partitioned: the rollout is not complete"

    # Lowering the partition finishes the rollout; then current == update.
    sts = api.get("statefulsets.apps", "web", namespace="default")
    sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 0
    api.update(sts)
    ctrl.sync(KEY)
    ctrl.sync(KEY)
    mark_ready(api, clock, "web-0")
    ctrl.sync(KEY)
    st = status(api)
    assert _image(api, "web-0") == "nginx:1.26"
    assert st["currentRevision"] == st["updateRevision"]
    assert st["currentReplicas"] == 3 and st["updatedReplicas"] == 3


def test_rollback_reuses_the_old_revision(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(replicas=1, claims=False))
    bring_up(api, clock, ctrl, 1)
    first = status(api)["updateRevision"]
    _change_image(api, "nginx:1.26")
    ctrl.sync(KEY)
    _change_image(api, "nginx:1.25")
    ctrl.sync(KEY)
    assert status(api)["updateRevision"] == first
    revisions = {
        r["metadata"]["name"]: r["revision"] for r in api.cached_list("controllerrevisions.apps", "default")
    }
    assert revisions[first] == 3


def test_on_delete_replaces_only_deleted_pods(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(replicas=2, claims=False, updateStrategy={"type": "OnDelete"}))
    bring_up(api, clock, ctrl, 2)
    _change_image(api, "nginx:1.26")
    ctrl.sync(KEY)
    assert [_image(api, n) for n in ("web-0", "web-1")] == ["nginx:1.25", "nginx:1.25"]
    api.delete("pods", "web-1", namespace="default")
    ctrl.sync(KEY)
    assert [_image(api, n) for n in ("web-0", "web-1")] == ["nginx:1.25", "nginx:1.26"]


def test_retention_policy_delete_sets_owner_references(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(
        statefulset(
            replicas=2, persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Delete"}
        )
    )
    bring_up(api, clock, ctrl, 2)
    sts = api.get("statefulsets.apps", "web", namespace="default")
    claim = api.get("persistentvolumeclaims", "www-web-1", namespace="default")
    assert [(r["kind"], r["uid"]) for r in claim["metadata"]["ownerReferences"]] == [
        ("StatefulSet", sts["metadata"]["uid"])
    ]
    pod_uid = api.get("pods", "web-1", namespace="default")["metadata"]["uid"]
    api.scale("statefulsets.apps", "web", 1, namespace="default")
    ctrl.sync(KEY)
    claim = api.get("persistentvolumeclaims", "www-web-1", namespace="default")
    assert [(r["kind"], r["uid"]) for r in claim["metadata"]["ownerReferences"]] == [("Pod", pod_uid)], (
        "a scaled-down pod owns its claim, so the garbage collector removes both"
    )


def test_orphan_pods_are_adopted(api: APIServer, clock: ManualClock, ctrl: StatefulSetController) -> None:
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]},
        }
    )
    api.create(statefulset(replicas=1, claims=False))
    ctrl.sync(KEY)
    pod = api.get("pods", "web-0", namespace="default")
    assert pod["metadata"]["ownerReferences"][0]["name"] == "web"


def test_pod_events_map_to_the_owner(api: APIServer, ctrl: StatefulSetController) -> None:
    api.create(statefulset(replicas=1, claims=False))
    ctrl.sync(KEY)
    ctrl.setup()
    try:
        pod = api.get("pods", "web-0", namespace="default")
        pod["status"] = {"phase": "Running"}
        api.update_status(pod)
        assert ctrl.queue.pending() == [KEY]
    finally:
        ctrl.teardown()


def test_unchanged_status_is_not_rewritten(api: APIServer, ctrl: StatefulSetController) -> None:
    api.create(statefulset(replicas=1, claims=False))
    ctrl.sync(KEY)
    ctrl.sync(KEY)
    version = api.get("statefulsets.apps", "web", namespace="default")["metadata"]["resourceVersion"]
    ctrl.sync(KEY)
    assert api.get("statefulsets.apps", "web", namespace="default")["metadata"]["resourceVersion"] == version


def test_min_ready_seconds_requeues(api: APIServer, clock: ManualClock, ctrl: StatefulSetController) -> None:
    api.create(statefulset(replicas=2, claims=False, minReadySeconds=10))
    ctrl.sync(KEY)
    mark_ready(api, clock, "web-0")
    assert ctrl.sync(KEY) == 10.0
    assert pod_names(api) == ["web-0"], "web-0 is ready but not yet available"
    clock.advance(11)
    ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1"]


def test_shared_web_manifest_reaches_two_ready_pods_with_bound_claims(
    api: APIServer, clock: ManualClock
) -> None:
    ensure_default_storage_class(api)
    for doc in yaml.safe_load_all((EXAMPLES / "application__web__web.yaml").read_text()):
        if doc:
            api.create(doc)
    sts_ctrl = StatefulSetController(api, clock)
    pv_ctrl = PersistentVolumeController(api, clock, storage_root="/tmp/nbcluster-test/volumes")
    for _ in range(5):
        sts_ctrl.sync(KEY)
        for claim in api.cached_list("persistentvolumeclaims", "default"):
            pv_ctrl.sync(f"default/{claim['metadata']['name']}")
        mark_all_ready(api, clock)
    sts_ctrl.sync(KEY)
    assert pod_names(api) == ["web-0", "web-1"]
    st = status(api)
    assert (st["replicas"], st["readyReplicas"], st["availableReplicas"]) == (2, 2, 2)
    for ordinal in (0, 1):
        claim = api.get("persistentvolumeclaims", f"www-web-{ordinal}", namespace="default")
        assert claim["status"]["phase"] == "Bound"
        volume = api.get("persistentvolumes", claim["spec"]["volumeName"])
        assert volume["spec"]["storageClassName"] == "standard"
        assert volume["spec"]["claimRef"]["name"] == f"www-web-{ordinal}"
        assert volume["status"]["phase"] == "Bound"


def test_scale_down_waits_for_a_terminating_pod_to_go(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    api.create(statefulset(claims=False))
    bring_up(api, clock, ctrl, 3)
    for name in pod_names(api):
        api.bind("default", name, "n1")
    api.scale("statefulsets.apps", "web", 1, namespace="default")
    ctrl.sync(KEY)
    assert api.get("pods", "web-2", namespace="default")["metadata"].get("deletionTimestamp")
    ctrl.sync(KEY)
    assert "deletionTimestamp" not in api.get("pods", "web-1", namespace="default")["metadata"], (
        "web-1 waits until web-2 has terminated"
    )
    api.delete("pods", "web-2", namespace="default", grace_period_seconds=0)  # the kubelet finished
    ctrl.sync(KEY)
    assert api.get("pods", "web-1", namespace="default")["metadata"].get("deletionTimestamp")


def test_truncates_history_beyond_the_limit(
    api: APIServer, clock: ManualClock, ctrl: StatefulSetController
) -> None:
    api.create(statefulset(replicas=1, claims=False, revisionHistoryLimit=1))
    bring_up(api, clock, ctrl, 1)
    for image in ("nginx:1.26", "nginx:1.27", "nginx:1.28"):
        _change_image(api, image)
        for _ in range(3):
            ctrl.sync(KEY)
            mark_all_ready(api, clock)
    ctrl.sync(KEY)
    assert _image(api, "web-0") == "nginx:1.28"
    revisions = sorted(r["revision"] for r in api.cached_list("controllerrevisions.apps", "default"))
    assert revisions == [3, 4], "the live revision plus one of history"
