"""The Deployment controller: seed, sync, check; and rollouts stepped by hand."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.deployment import (
    DeploymentController,
    equal_ignore_hash,
    max_surge,
    max_unavailable,
    resolve_fenceposts,
    revision_history,
    rollback_annotations,
    rollback_template,
    scaled_value,
)
from nbcluster.control.controllers.hashing import compute_hash, fnv32a, safe_encode_string
from nbcluster.control.controllers.replicaset import ReplicaSetController
from nbcluster.errors import AlreadyExists, BadRequest, NotFound
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock, format_time
from nbcluster.util.jsoncopy import deep_copy

Obj = dict[str, Any]

HASH = r"[bcdfghjklmnpqrstvwxz2456789]{1,10}"


class Cluster:
    """An API server, both controllers and a hand-driven 'kubelet' that marks pods Ready."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.api = APIServer(Store(), self.clock)
        self.api.ensure_system_objects()
        self.dc = DeploymentController(self.api, self.clock)
        self.rsc = ReplicaSetController(self.api, self.clock)

    # -- objects ---------------------------------------------------------------------
    def deployment(self, name: str = "web") -> Obj:
        return self.api.get("deployments.apps", name)

    def replica_sets(self, name: str = "web") -> list[Obj]:
        uid = self.deployment(name)["metadata"]["uid"]
        rss = [
            rs
            for rs in self.api.cached_list("replicasets.apps", "default")
            if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or ())
        ]
        return sorted(
            rss, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        )

    def pods(self, rs: Obj | None = None) -> list[Obj]:
        pods = [
            p for p in self.api.cached_list("pods", "default") if not p["metadata"].get("deletionTimestamp")
        ]
        if rs is not None:
            pods = [p for p in pods if p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]]
        return pods

    def events(self, reason: str) -> list[str]:
        return [
            e["message"]
            for e in sorted(
                self.api.cached_list("events", "default"), key=lambda e: int(e["metadata"]["resourceVersion"])
            )
            if e["reason"] == reason
        ]

    def update(self, name: str = "web", **changes: Any) -> Obj:
        d = self.deployment(name)
        for path, value in changes.items():
            target = d
            keys = path.split("__")
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = value
        return self.api.update(d)

    def set_image(self, image: str, name: str = "web") -> Obj:
        d = self.deployment(name)
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image
        return self.api.update(d)

    # -- driving ---------------------------------------------------------------------
    def sync_deployment(self, name: str = "web") -> float | None:
        return self.dc.sync(f"default/{name}")

    def sync_replica_sets(self) -> None:
        for rs in list(self.api.cached_list("replicasets.apps", "default")):
            self.rsc.sync(f"default/{rs['metadata']['name']}")

    def make_ready(self, pods: list[Obj]) -> None:
        for pod in pods:
            pod = deep_copy(self.api.cached("pods", pod["metadata"]["name"], "default"))
            pod["status"]["phase"] = "Running"
            pod["status"]["conditions"] = [
                {"type": "Ready", "status": "True", "lastTransitionTime": format_time(self.clock.now())}
            ]
            self.api.update_status(pod)

    def ready_all(self) -> None:
        self.make_ready([p for p in self.pods() if not is_ready(p)])

    def settle(self, name: str = "web", rounds: int = 20) -> None:
        """Sync until nothing changes, every pod becoming ready as soon as it exists."""
        for _ in range(rounds):
            before = self.api.store.revision
            self.sync_deployment(name)
            self.sync_replica_sets()
            self.ready_all()
            self.sync_replica_sets()
            self.clock.advance(1)
            if self.api.store.revision == before:
                return


def is_ready(pod: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.26", **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            },
            **spec,
        },
    }


def condition(d: Obj, type_: str) -> Obj | None:
    return next((c for c in d["status"].get("conditions") or [] if c["type"] == type_), None)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


# -- hashing and arithmetic -------------------------------------------------------------------


def test_hash_is_stable_and_kubectl_shaped() -> None:
    template = deployment()["spec"]["template"]
    first = compute_hash(template)
    assert re.fullmatch(HASH, first)
    assert compute_hash(deep_copy(template)) == first
    reordered = {"spec": template["spec"], "metadata": template["metadata"]}
    assert compute_hash(reordered) == first
    assert compute_hash(template, 1) != first
    assert compute_hash(template, 1) == compute_hash(template, 1)
    other = deployment(image="nginx:1.27")["spec"]["template"]
    assert compute_hash(other) != first
    assert safe_encode_string("0123456789") == "456789bcdf"
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C


def test_fenceposts_round_like_kubernetes() -> None:
    assert resolve_fenceposts("25%", "25%", 4) == (1, 1)
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert resolve_fenceposts("25%", "25%", 1) == (1, 0)
    assert resolve_fenceposts("0%", "0%", 10) == (0, 1)
    assert resolve_fenceposts(2, 0, 5) == (2, 0)
    assert scaled_value("33%", 10, True) == 4
    assert scaled_value("33%", 10, False) == 3
    with pytest.raises(BadRequest):
        scaled_value("abc", 10, True)
    d = deployment(replicas=10)
    assert (max_surge(d), max_unavailable(d)) == (3, 2)
    d["spec"]["strategy"] = {"type": "Recreate"}
    assert (max_surge(d), max_unavailable(d)) == (0, 0)


def test_equal_ignore_hash() -> None:
    t1 = deployment()["spec"]["template"]
    t2 = deep_copy(t1)
    t2["metadata"]["labels"]["pod-template-hash"] = "abc"
    t2["metadata"]["creationTimestamp"] = None
    t2["spec"]["volumes"] = []
    assert equal_ignore_hash(t1, t2)
    t2["spec"]["containers"][0]["image"] = "other"
    assert not equal_ignore_hash(t1, t2)


# -- first sync ---------------------------------------------------------------------------------


def test_creates_replica_set_named_after_template_hash(cluster: Cluster) -> None:
    api = cluster.api
    d = api.create(deployment(replicas=3))
    requeue = cluster.sync_deployment()
    (rs,) = cluster.replica_sets()
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(HASH, pod_hash)
    assert pod_hash == compute_hash(d["spec"]["template"])
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["replicas"] == 3
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    annotations = rs["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"
    assert cluster.events("ScalingReplicaSet") == [f"Scaled up replica set web-{pod_hash} from 0 to 3"]

    d = cluster.deployment()
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    progressing = condition(d, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetCreated",
        f'Created new replica set "web-{pod_hash}"',
    )
    available = condition(d, "Available")
    assert available is not None
    assert (available["status"], available["reason"], available["message"]) == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )
    assert d["status"]["observedGeneration"] == 1
    assert d["status"].get("unavailableReplicas") == 3
    assert requeue is not None and requeue > 590

    cluster.sync_replica_sets()
    pods = cluster.pods()
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(rf"web-{pod_hash}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"])
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash

    # The ReplicaSet's status now counts its pods: progress, recorded once.
    cluster.sync_deployment()
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["reason"], progressing["message"]) == (
        "ReplicaSetUpdated",
        f'ReplicaSet "web-{pod_hash}" is progressing.',
    )
    assert cluster.deployment()["status"]["updatedReplicas"] == 3
    version = api.store.revision
    cluster.sync_deployment()
    assert api.store.revision == version


def test_rollout_completes_with_kubernetes_conditions(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=3))
    cluster.settle()
    d = cluster.deployment()
    (rs,) = cluster.replica_sets()
    assert d["status"]["replicas"] == 3
    assert d["status"]["updatedReplicas"] == 3
    assert d["status"]["readyReplicas"] == 3
    assert d["status"]["availableReplicas"] == 3
    assert "unavailableReplicas" not in d["status"]
    available = condition(d, "Available")
    assert available is not None
    assert (available["status"], available["reason"], available["message"]) == (
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    progressing = condition(d, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
    )


# -- rolling updates ----------------------------------------------------------------------------


@pytest.mark.parametrize(("replicas", "first_new", "first_old"), [(4, 1, 3), (10, 3, 8)])
def test_default_25_percent_first_step(
    cluster: Cluster, replicas: int, first_new: int, first_old: int
) -> None:
    cluster.api.create(deployment(replicas=replicas))
    cluster.settle()
    cluster.set_image("nginx:1.27")
    cluster.sync_deployment()
    old, new = cluster.replica_sets()
    assert new["spec"]["replicas"] == first_new
    assert old["spec"]["replicas"] == first_old
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert cluster.events("ScalingReplicaSet")[-2:] == [
        f"Scaled up replica set {new['metadata']['name']} from 0 to {first_new}",
        f"Scaled down replica set {old['metadata']['name']} from {replicas} to {first_old}",
    ]
    d = cluster.deployment()
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


@pytest.mark.parametrize(
    ("replicas", "strategy"),
    [
        (10, None),
        (4, None),
        (5, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
        (6, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0}}),
    ],
)
def test_rolling_update_respects_surge_and_unavailability_at_every_step(
    cluster: Cluster, replicas: int, strategy: Obj | None
) -> None:
    spec = {"strategy": strategy} if strategy else {}
    cluster.api.create(deployment(replicas=replicas, **spec))
    cluster.settle()
    surge, unavailable = max_surge(cluster.deployment()), max_unavailable(cluster.deployment())
    cluster.set_image("nginx:1.27")

    steps = 0
    while True:
        steps += 1
        assert steps < 50, "rollout did not finish"
        cluster.sync_deployment()
        cluster.sync_replica_sets()
        rss = cluster.replica_sets()
        total_spec = sum(rs["spec"]["replicas"] for rs in rss)
        pods = cluster.pods()
        available = sum(1 for p in pods if is_ready(p))
        assert total_spec <= replicas + surge
        assert len(pods) <= replicas + surge
        assert available >= replicas - unavailable
        # The 'kubelet' readies at most two new pods per step.
        new = rss[-1]
        cluster.make_ready([p for p in cluster.pods(new) if not is_ready(p)][:2])
        cluster.sync_replica_sets()
        cluster.clock.advance(1)
        d = cluster.deployment()
        if (
            d["status"].get("updatedReplicas") == replicas
            and d["status"].get("availableReplicas") == replicas
            and d["status"].get("replicas") == replicas
            and condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        ):  # type: ignore[index]
            break
    old, new = cluster.replica_sets()
    assert old["spec"]["replicas"] == 0
    assert new["spec"]["replicas"] == replicas
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in cluster.pods())


def test_recreate_waits_for_old_pods_to_be_gone(cluster: Cluster) -> None:
    api = cluster.api
    api.create(deployment(replicas=3, strategy={"type": "Recreate"}))
    cluster.settle()
    for pod in cluster.pods():
        api.bind("default", pod["metadata"]["name"], "node-1")
    cluster.set_image("nginx:1.27")
    cluster.sync_deployment()
    (old,) = cluster.replica_sets()
    assert old["spec"]["replicas"] == 0
    assert (
        cluster.events("ScalingReplicaSet")[-1]
        == f"Scaled down replica set {old['metadata']['name']} from 3 to 0"
    )
    cluster.sync_replica_sets()
    # Old pods are terminating (graceful deletion): no new ReplicaSet yet.
    terminating = [p for p in api.cached_list("pods", "default") if p["metadata"].get("deletionTimestamp")]
    assert len(terminating) == 3
    cluster.sync_deployment()
    assert len(cluster.replica_sets()) == 1
    # The kubelet finishes them off: now the new ReplicaSet comes, at full size.
    for pod in terminating:
        api.delete("pods", pod["metadata"]["name"], namespace="default", grace_period_seconds=0)
    cluster.sync_deployment()
    old, new = cluster.replica_sets()
    assert new["spec"]["replicas"] == 3
    assert (
        cluster.events("ScalingReplicaSet")[-1]
        == f"Scaled up replica set {new['metadata']['name']} from 0 to 3"
    )
    cluster.settle()
    assert len(cluster.pods(new)) == 3


def test_pod_deletion_wakes_recreate_deployment(cluster: Cluster) -> None:
    api = cluster.api
    api.create(deployment(replicas=1, strategy={"type": "Recreate"}))
    cluster.settle()
    cluster.dc.setup()
    try:
        (pod,) = cluster.pods()
        cluster.dc.queue.clear()
        api.delete("pods", pod["metadata"]["name"], namespace="default")
        assert "default/web" in cluster.dc.queue.pending()
    finally:
        cluster.dc.teardown()


# -- scaling, pausing ------------------------------------------------------------------------------


def test_proportional_scaling_mid_rollout(cluster: Cluster) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    cluster.api.create(deployment(replicas=5, strategy=strategy))
    cluster.settle()
    cluster.set_image("nginx:1.27")
    # Step the rollout to old=3 / new=2 with the new pods never becoming ready.
    for _ in range(6):
        cluster.sync_deployment()
        cluster.sync_replica_sets()
        old, new = cluster.replica_sets()
        if new["spec"]["replicas"] == 2:
            break
        cluster.make_ready(cluster.pods(new))
        cluster.sync_replica_sets()
    old, new = cluster.replica_sets()
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (3, 2)
    cluster.update(spec__replicas=10)
    cluster.sync_deployment()
    old, new = cluster.replica_sets()
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (6, 4)
    for rs in (old, new):
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "10"
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "10"
    assert f"Scaled up replica set {old['metadata']['name']} from 3 to 6" in cluster.events(
        "ScalingReplicaSet"
    )


def test_scaling_a_settled_deployment(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=3))
    cluster.settle()
    cluster.update(spec__replicas=1)
    cluster.sync_deployment()
    (rs,) = cluster.replica_sets()
    assert rs["spec"]["replicas"] == 1
    assert (
        cluster.events("ScalingReplicaSet")[-1]
        == f"Scaled down replica set {rs['metadata']['name']} from 3 to 1"
    )
    cluster.settle()
    assert len(cluster.pods()) == 1
    assert cluster.deployment()["status"]["replicas"] == 1


def test_paused_deployment_does_not_roll_out_but_scales(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=3))
    cluster.settle()
    cluster.update(spec__paused=True)
    cluster.set_image("nginx:1.27")
    cluster.sync_deployment()
    assert len(cluster.replica_sets()) == 1
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    cluster.update(spec__replicas=5)
    cluster.sync_deployment()
    (rs,) = cluster.replica_sets()
    assert rs["spec"]["replicas"] == 5
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    cluster.update(spec__paused=False)
    cluster.sync_deployment()
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    # Resumed, then the rollout started at once (a new ReplicaSet is progress).
    assert len(cluster.replica_sets()) == 2
    cluster.settle()
    old, new = cluster.replica_sets()
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 5)


def test_resumed_condition_stays_while_no_progress_is_possible(cluster: Cluster) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    cluster.api.create(deployment(replicas=3, strategy=strategy))
    cluster.settle()
    cluster.set_image("nginx:1.27")
    cluster.sync_deployment()
    cluster.sync_replica_sets()  # the surge pod never becomes ready
    cluster.update(spec__paused=True)
    cluster.sync_deployment()
    assert condition(cluster.deployment(), "Progressing")["reason"] == "DeploymentPaused"  # type: ignore[index]
    cluster.update(spec__paused=False)
    cluster.sync_deployment()
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentResumed",
        "Deployment is resumed",
    )


# -- progress deadline ------------------------------------------------------------------------------


def test_progress_deadline_exceeded(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=2, progressDeadlineSeconds=30))
    requeue = cluster.sync_deployment()
    assert requeue is not None and 30 <= requeue <= 32
    cluster.sync_replica_sets()  # pods exist but never become ready
    cluster.clock.advance(5)
    cluster.sync_deployment()  # the pods being counted is progress: the deadline restarts
    assert condition(cluster.deployment(), "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    cluster.clock.advance(20)
    requeue = cluster.sync_deployment()
    assert requeue is not None and 10 <= requeue <= 12
    assert condition(cluster.deployment(), "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    cluster.clock.advance(11)
    assert cluster.sync_deployment() is None
    (rs,) = cluster.replica_sets()
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.',
    )
    # Progress afterwards flips it back.
    cluster.ready_all()
    cluster.sync_replica_sets()
    cluster.sync_deployment()
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")


# -- history, rollback, cleanup ------------------------------------------------------------------------


def test_rollback_helper_returns_previous_template(cluster: Cluster) -> None:
    api = cluster.api
    api.create(deployment(replicas=2, image="nginx:1.26"))
    cluster.settle()
    d = cluster.deployment()
    d["metadata"].setdefault("annotations", {})["kubernetes.io/change-cause"] = "upgrade to 1.27"
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    api.update(d)
    cluster.settle()

    history = revision_history(api, cluster.deployment())
    assert [(rev, cause) for rev, _rs, cause in history] == [(1, None), (2, "upgrade to 1.27")]

    template = rollback_template(api, cluster.deployment(), None)
    assert template["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert rollback_template(api, cluster.deployment(), 1) == template
    assert rollback_template(api, cluster.deployment(), 2)["spec"]["containers"][0]["image"] == "nginx:1.27"
    with pytest.raises(NotFound, match="unable to find specified revision 7 in history"):
        rollback_template(api, cluster.deployment(), 7)
    old_rs = history[0][1]
    annotations = rollback_annotations(cluster.deployment(), old_rs)
    assert annotations["deployment.kubernetes.io/revision"] == "2"

    # Putting the template back reuses the old ReplicaSet as revision 3.
    d = cluster.deployment()
    d["spec"]["template"] = template
    api.update(d)
    cluster.settle()
    rss = cluster.replica_sets()
    assert len(rss) == 2
    back = rss[-1]
    assert back["metadata"]["uid"] == old_rs["metadata"]["uid"]
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert back["spec"]["replicas"] == 2
    assert cluster.deployment()["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert [rev for rev, _rs, _cause in revision_history(api, cluster.deployment())] == [2, 3]

    paused = cluster.deployment()
    paused["spec"]["paused"] = True
    with pytest.raises(BadRequest, match="cannot rollback a paused deployment"):
        rollback_template(api, paused, None)


def test_rollback_without_history(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=1))
    cluster.sync_deployment()
    with pytest.raises(NotFound, match='no rollout history found for deployment "web"'):
        rollback_template(cluster.api, cluster.deployment(), None)


def test_revision_history_limit_prunes_old_replica_sets(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=2, revisionHistoryLimit=1))
    cluster.settle()
    for version in ("1.27", "1.28", "1.29"):
        cluster.set_image(f"nginx:{version}")
        cluster.settle()
    rss = cluster.replica_sets()
    assert [rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for rs in rss] == ["3", "4"]
    assert rss[-1]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    assert rss[0]["spec"]["replicas"] == 0


def test_restart_annotation_is_just_a_template_change(cluster: Cluster) -> None:
    cluster.api.create(deployment(replicas=2))
    cluster.settle()
    d = cluster.deployment()
    d["spec"]["template"]["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"
    }
    cluster.api.update(d)
    cluster.settle()
    old, new = cluster.replica_sets()
    assert new["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 2)


# -- ownership and collisions ----------------------------------------------------------------------


def test_hash_collision_bumps_collision_count(cluster: Cluster) -> None:
    api = cluster.api
    d = api.create(deployment(replicas=1))
    pod_hash = compute_hash(d["spec"]["template"])
    squatter = deployment(replicas=0, image="busybox")
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": f"web-{pod_hash}", "namespace": "default", "labels": {"app": "other"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "other"}},
                "template": {
                    "metadata": {"labels": {"app": "other"}},
                    "spec": squatter["spec"]["template"]["spec"],
                },
            },
        }
    )
    with pytest.raises(AlreadyExists):
        cluster.sync_deployment()
    assert cluster.deployment()["status"]["collisionCount"] == 1
    cluster.sync_deployment()
    (rs,) = cluster.replica_sets()
    assert rs["metadata"]["name"] == f"web-{compute_hash(d['spec']['template'], 1)}"
    assert cluster.deployment()["status"]["collisionCount"] == 1


def test_adopts_orphan_replica_set_with_matching_template(cluster: Cluster) -> None:
    api = cluster.api
    d = deployment(replicas=2)
    template = deep_copy(d["spec"]["template"])
    template["metadata"]["labels"]["pod-template-hash"] = "abc"
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": "web-abc",
                "namespace": "default",
                "labels": {"app": "web", "pod-template-hash": "abc"},
                "annotations": {"deployment.kubernetes.io/revision": "4"},
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web", "pod-template-hash": "abc"}},
                "template": template,
            },
        }
    )
    created = api.create(d)
    cluster.sync_deployment()
    (rs,) = cluster.replica_sets()
    assert rs["metadata"]["name"] == "web-abc"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert cluster.deployment()["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    progressing = condition(cluster.deployment(), "Progressing")
    assert progressing is not None and progressing["reason"] == "FoundNewReplicaSet"


def test_replica_set_events_map_to_the_owning_deployment(cluster: Cluster) -> None:
    api = cluster.api
    api.create(deployment(replicas=1))
    api.create(deployment(name="api", replicas=1))
    cluster.dc.setup()
    try:
        cluster.dc.queue.clear()
        cluster.sync_deployment("web")
        # The new ReplicaSet's creation maps back to its Deployment.
        assert cluster.dc.queue.pending() == ["default/web"]
        cluster.dc.queue.clear()
        api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "stray", "namespace": "default", "labels": {"app": "api"}},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "api"}},
                    "template": {
                        "metadata": {"labels": {"app": "api"}},
                        "spec": {"containers": [{"name": "c", "image": "x"}]},
                    },
                },
            }
        )
        assert cluster.dc.queue.pending() == ["default/api"]
    finally:
        cluster.dc.teardown()
