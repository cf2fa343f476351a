"""The store: revisions, optimistic concurrency, watch replay and fan-out, persistence."""

from __future__ import annotations

import asyncio
import threading

import pytest

from nbcluster.errors import AlreadyExists, Conflict, Gone, NotFound
from nbcluster.store import SqlitePersistence, Store


def pod(name: str, namespace: str = "default", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {},
    }


def test_revisions_increase_across_resources() -> None:
    store = Store()
    a = store.create("pods", pod("a"))
    b = store.create("services", {"metadata": {"name": "s", "namespace": "default"}})
    c = store.update("pods", {**pod("a"), "spec": {"x": 1}})
    assert [int(o["metadata"]["resourceVersion"]) for o in (a, b, c)] == [1, 2, 3]
    assert store.revision == 3


def test_create_twice_and_missing_update_fail() -> None:
    store = Store()
    store.create("pods", pod("a"))
    with pytest.raises(AlreadyExists):
        store.create("pods", pod("a"))
    with pytest.raises(NotFound):
        store.update("pods", pod("b"))
    with pytest.raises(NotFound):
        store.delete("pods", "default", "b")


def test_stale_resource_version_conflicts() -> None:
    store = Store()
    first = store.create("pods", pod("a"))
    stale = first["metadata"]["resourceVersion"]
    store.update("pods", pod("a"), expected_revision=stale)
    with pytest.raises(Conflict, match="has been modified"):
        store.update("pods", pod("a"), expected_revision=stale)


def test_list_by_namespace_and_labels() -> None:
    store = Store()
    store.create("pods", pod("a", app="web", tier="fe"))
    store.create("pods", pod("b", app="web"))
    store.create("pods", pod("c", "other", app="web"))
    items, revision = store.list("pods", "default")
    assert sorted(o["metadata"]["name"] for o in items) == ["a", "b"]
    assert revision == 3
    assert sorted(o["metadata"]["name"] for o in store.by_labels("pods", {"app": "web"})) == ["a", "b", "c"]
    assert [o["metadata"]["name"] for o in store.by_labels("pods", {"app": "web", "tier": "fe"})] == ["a"]
    assert [o["metadata"]["name"] for o in store.by_labels("pods", {"app": "web"}, "other")] == ["c"]
    # Labels follow updates.
    store.update("pods", pod("a", app="db"))
    assert sorted(o["metadata"]["name"] for o in store.by_labels("pods", {"app": "web"}, "default")) == ["b"]


def test_custom_index_follows_changes() -> None:
    store = Store()
    store.add_index("pods", "node", lambda o: [o["spec"].get("nodeName", "")])
    store.create("pods", pod("a"))
    store.update("pods", {**pod("a"), "spec": {"nodeName": "n1"}})
    assert [o["metadata"]["name"] for o in store.by_index("pods", "node", "n1")] == ["a"]
    assert store.by_index("pods", "node", "") == []
    store.delete("pods", "default", "a")
    assert store.by_index("pods", "node", "n1") == []


def test_watch_replays_from_revision_in_order_to_many_watchers() -> None:
    store = Store()
    store.create("pods", pod("a"))
    start = store.revision
    first = store.watch("pods", since=start)
    second = store.watch("pods", since=0)
    store.update("pods", {**pod("a"), "spec": {"x": 1}})
    store.create("pods", pod("b"))
    store.delete("pods", "default", "a")
    assert [(e.type, e.object["metadata"]["name"]) for e in first.drain()] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    assert [e.type for e in second.drain()] == ["ADDED", "MODIFIED", "ADDED", "DELETED"]
    revisions = [e.revision for e in store.watch("pods", since=0).drain()]
    assert revisions == sorted(revisions)


def test_watch_filters_namespace_and_transform() -> None:
    store = Store()
    watch = store.watch("pods", namespace="other", transform=lambda e: e if e.type != "MODIFIED" else None)
    store.create("pods", pod("a"))
    store.create("pods", pod("b", "other"))
    store.update("pods", pod("b", "other"))
    assert [(e.type, e.object["metadata"]["name"]) for e in watch.drain()] == [("ADDED", "b")]


def test_watch_too_old_revision_is_gone() -> None:
    store = Store(history=3)
    for i in range(6):
        store.create("pods", pod(f"p{i}"))
    with pytest.raises(Gone, match="too old resource version"):
        store.watch("pods", since=1)
    assert len(store.watch("pods", since=3).drain()) == 3


def test_watch_from_another_thread_and_async() -> None:
    store = Store()
    watch = store.watch("pods")
    received = []
    thread = threading.Thread(target=lambda: received.append(watch.get(timeout=5)))
    thread.start()
    store.create("pods", pod("a"))
    thread.join()
    assert received[0] is not None and received[0].object["metadata"]["name"] == "a"

    async def consume() -> str:
        async_watch = store.watch("pods")
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: threading.Thread(target=store.create, args=("pods", pod("b"))).start())
        event = await asyncio.wait_for(async_watch.next(), 5)
        assert event is not None
        return event.object["metadata"]["name"]

    assert asyncio.run(consume()) == "b"
    watch.stop()
    assert watch.get(timeout=0.01) is None


def test_subscribers_see_every_event_in_order() -> None:
    store = Store()
    seen = []
    unsubscribe = store.subscribe("pods", lambda e: seen.append((e.type, e.revision)))
    store.create("pods", pod("a"))
    store.create("services", {"metadata": {"name": "s", "namespace": "default"}})
    store.delete("pods", "default", "a")
    unsubscribe()
    store.create("pods", pod("b"))
    assert seen == [("ADDED", 1), ("DELETED", 3)]


def test_persistence_restores_every_object(tmp_path) -> None:
    path = tmp_path / "state" / "store.sqlite"
    store = Store(persistence=SqlitePersistence(path))
    for i in range(50):
        store.create("pods", pod(f"p{i}", app="web"))
    store.update("pods", pod("p0", app="db"))
    store.delete("pods", "default", "p1")
    store.create("deployments.apps", {"metadata": {"name": "d", "namespace": "default"}, "spec": {}})
    revision = store.revision
    store.close()

    again = Store(persistence=SqlitePersistence(path))
    names = sorted(o["metadata"]["name"] for o in again.list("pods")[0])
    assert len(names) == 49 and "p1" not in names
    assert again.get("pods", "default", "p0")["metadata"]["labels"] == {"app": "db"}
    assert again.get("deployments.apps", "default", "d") is not None
    assert again.revision == revision
    created = again.create("pods", pod("new"))
    assert int(created["metadata"]["resourceVersion"]) == revision + 1
    again.close()
