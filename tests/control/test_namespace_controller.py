"""Deleting a namespace empties it, then removes it; nothing new may be created meanwhile."""

from __future__ import annotations

import pytest

from nbcluster.control.controllers.namespace import NamespaceController
from nbcluster.errors import Forbidden, NotFound
from tests.conftest import make_pod


def test_terminating_namespace_is_emptied_then_removed(api, clock) -> None:  # type: ignore[no-untyped-def]
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}})
    api.create(make_pod("p", namespace="team"))
    controller = NamespaceController(api, clock)
    controller.setup()
    after = api.delete("namespaces", "team")
    assert after["status"]["phase"] == "Terminating"
    with pytest.raises(Forbidden, match="because it is being terminated"):
        api.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": "team"}}
        )
    requeue = controller.sync("team")
    assert requeue is not None  # content was still there on this look
    assert api.cached_list("configmaps", "team") == [] and api.cached_list("pods", "team") == []
    assert controller.sync("team") is None
    with pytest.raises(NotFound):
        api.get("namespaces", "team")


def test_create_in_missing_namespace_is_rejected(api) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match='namespaces "nope" not found'):
        api.create(make_pod("p", namespace="nope"))
