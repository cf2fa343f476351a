"""Tests for nbcluster.util.gctuning: bulk_gc changes the GC only while it runs."""

from __future__ import annotations

import gc
import threading

import pytest

from nbcluster.util.gctuning import BULK_THRESHOLD0, bulk_gc


@pytest.fixture(autouse=True)
def _clean_gc() -> None:
    assert gc.get_freeze_count() == 0


def test_settings_hold_inside_and_are_restored_after() -> None:
    before = gc.get_threshold()
    with bulk_gc():
        assert gc.get_threshold() == (max(BULK_THRESHOLD0, before[0]), before[1], before[2])
        assert gc.get_freeze_count() > 0  # the heap that existed is frozen
        gc.collect()  # a full collection freezes its survivors
        assert gc.get_count()[2] == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert all(getattr(cb, "__name__", "") != "_freeze_survivors" for cb in gc.callbacks)


def test_cyclic_garbage_made_inside_is_collected_after() -> None:
    class Node:
        pass

    with bulk_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
    found = gc.collect()
    assert found >= 2
    assert not [o for o in gc.get_objects() if type(o) is Node]


def test_nested_and_concurrent_uses_restore_once() -> None:
    before = gc.get_threshold()
    started, release = threading.Event(), threading.Event()

    def other() -> None:
        with bulk_gc():
            started.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    started.wait(5)
    with bulk_gc(), bulk_gc():
        assert gc.get_threshold()[0] == max(BULK_THRESHOLD0, before[0])
    assert gc.get_threshold()[0] == max(BULK_THRESHOLD0, before[0])  # the other one still runs
    release.set()
    thread.join(5)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_disabled_gc_or_an_earlier_freeze_is_left_alone() -> None:
    before = gc.get_threshold()
    gc.disable()
    try:
        with bulk_gc():
            assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    finally:
        gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with bulk_gc():
            assert gc.get_threshold()[0] == max(BULK_THRESHOLD0, before[0])
        assert gc.get_freeze_count() >= frozen  # the process's own freeze stays
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
