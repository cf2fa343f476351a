"""The garbage collector: background, orphan and foreground deletion of dependents."""

from __future__ import annotations

from nbcluster.control.controllers.garbagecollector import GarbageCollector
from tests.conftest import make_pod, owner_ref


def setup_owner_with_pods(api, clock, count: int = 2):  # type: ignore[no-untyped-def]
    owner = api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}, "data": {}})
    pods = [api.create(make_pod(f"dep-{i}", owner=owner_ref(owner))) for i in range(count)]
    gc = GarbageCollector(api, clock)
    gc.setup()
    return owner, pods, gc


def test_background_deletion_removes_dependents(api, clock) -> None:  # type: ignore[no-untyped-def]
    _owner, pods, gc = setup_owner_with_pods(api, clock)
    api.delete("configmaps", "owner")
    for pod in pods:
        gc.sync(f"dependent|{pod['metadata']['uid']}")
    assert api.cached_list("pods", "default") == []


def test_dependent_with_a_live_owner_stays_and_loses_dangling_reference(api, clock) -> None:  # type: ignore[no-untyped-def]
    owner, _, gc = setup_owner_with_pods(api, clock, count=0)
    other = api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}, "data": {}})
    pod = api.create(make_pod("shared", owner=owner_ref(owner)) | {})
    pod["metadata"]["ownerReferences"].append(owner_ref(other, controller=False))
    pod = api.update(pod)
    api.delete("configmaps", "owner")
    gc.sync(f"dependent|{pod['metadata']['uid']}")
    left = api.get("pods", "shared")
    assert [r["name"] for r in left["metadata"]["ownerReferences"]] == ["other"]


def test_orphan_deletion_keeps_dependents_without_owner(api, clock) -> None:  # type: ignore[no-untyped-def]
    owner, pods, gc = setup_owner_with_pods(api, clock)
    after = api.delete("configmaps", "owner", propagation_policy="Orphan")
    assert after["metadata"]["finalizers"] == ["orphan"]
    assert api.cached("configmaps", "owner", "default") is not None
    gc.sync(f"owner|{owner['metadata']['uid']}")
    assert api.cached("configmaps", "owner", "default") is None
    for pod in pods:
        assert "ownerReferences" not in api.get("pods", pod["metadata"]["name"])["metadata"]


def test_foreground_deletion_waits_for_dependents(api, clock) -> None:  # type: ignore[no-untyped-def]
    owner, _pods, gc = setup_owner_with_pods(api, clock)
    api.delete("configmaps", "owner", propagation_policy="Foreground")
    live = api.get("configmaps", "owner")
    assert live["metadata"]["finalizers"] == ["foregroundDeletion"] and live["metadata"]["deletionTimestamp"]
    gc.sync(f"owner|{owner['metadata']['uid']}")
    # Unscheduled pods go at once; the owner goes on the next look, once nothing blocks it.
    assert api.cached_list("pods", "default") == []
    assert api.cached("configmaps", "owner", "default") is not None
    gc.sync(f"owner|{owner['metadata']['uid']}")
    assert api.cached("configmaps", "owner", "default") is None


def test_events_map_to_keys(api, clock) -> None:  # type: ignore[no-untyped-def]
    _owner, pods, gc = setup_owner_with_pods(api, clock)
    gc.queue.clear()
    api.delete("configmaps", "owner")
    queued = set(gc.queue.pending())
    assert queued == {f"dependent|{p['metadata']['uid']}" for p in pods}


def test_new_dependents_are_checked_only_when_an_owner_may_be_missing(api, clock) -> None:  # type: ignore[no-untyped-def]
    owner, _pods, gc = setup_owner_with_pods(api, clock, count=0)
    gc.queue.clear()
    live = api.create(make_pod("live", owner=owner_ref(owner)))
    assert gc.queue.pending() == []  # its owner is alive: nothing a check could do
    dangling = api.create(make_pod("dangling", owner=owner_ref(owner) | {"uid": "gone-uid"}))
    renamed = api.create(make_pod("renamed", owner=owner_ref(owner) | {"name": "someone-else"}))
    assert set(gc.queue.pending()) == {
        f"dependent|{dangling['metadata']['uid']}",
        f"dependent|{renamed['metadata']['uid']}",
    }
    gc.sync(f"dependent|{dangling['metadata']['uid']}")
    gc.sync(f"dependent|{renamed['metadata']['uid']}")
    assert {p["metadata"]["name"] for p in api.cached_list("pods", "default")} == {"live"}
    api.delete("configmaps", "owner", propagation_policy="Foreground")
    gc.queue.clear()
    late = api.create(make_pod("late", owner=owner_ref(owner)))
    assert f"dependent|{late['metadata']['uid']}" in gc.queue.pending()
    assert live["metadata"]["uid"] in gc._dependents[owner["metadata"]["uid"]]
