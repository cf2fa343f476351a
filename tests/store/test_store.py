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


def test_indexes_match_a_rebuild_through_random_updates() -> None:
    """Updates re-index only what changed; the result is what indexing from scratch gives."""
    import random

    rng = random.Random(5)
    store = Store()
    store.add_index("pods", "node", lambda o: [o["spec"].get("nodeName", "")])
    store.add_index("pods", "owners", lambda o: list(o["metadata"].get("owners", ())))
    names = [f"p{i}" for i in range(12)]
    for name in names:
        store.create("pods", pod(name, app=rng.choice("ab")))
    for _ in range(400):
        current = store.get("pods", "default", rng.choice(names))
        assert current is not None
        new = dict(current)
        meta = new["metadata"] = dict(current["metadata"])
        roll = rng.random()
        if roll < 0.3:
            meta["labels"] = {
                k: rng.choice("abc") for k in rng.sample(["app", "tier", "x"], rng.randrange(3))
            }
        elif roll < 0.4:
            meta.pop("labels", None)
        elif roll < 0.7:
            new["spec"] = {"nodeName": rng.choice(["", "n1", "n2"])}
        elif roll < 0.9:
            meta["owners"] = rng.sample(["u1", "u2", "u3"], rng.randrange(3))
        store.update("pods", new)  # else: nothing but the resourceVersion changes

    fresh = Store()
    fresh.add_index("pods", "node", lambda o: [o["spec"].get("nodeName", "")])
    fresh.add_index("pods", "owners", lambda o: list(o["metadata"].get("owners", ())))
    for obj in store.list("pods")[0]:
        fresh.create("pods", dict(obj))
    built, rebuilt = store._buckets["pods"], fresh._buckets["pods"]
    assert built.by_label == rebuilt.by_label
    assert built.indexes == rebuilt.indexes
    for value in ("", "n1", "n2"):
        assert sorted(o["metadata"]["name"] for o in store.by_index("pods", "node", value)) == sorted(
            o["metadata"]["name"] for o in fresh.by_index("pods", "node", value)
        )
