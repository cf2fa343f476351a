"""ConfigMap / Secret / downwardAPI / projected volume files (for runtimes with a pod directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbcluster.control.kubelet.volumes import VolumeError, referenced_objects, volume_files, write_volume

Obj = dict[str, Any]

POD: Obj = {
    "metadata": {"name": "reader", "namespace": "default", "uid": "u", "labels": {"tier": "demo"}},
    "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "64Mi"}}}]},
    "status": {"podIP": "10.244.0.5"},
}
CONFIGMAPS = {"settings": {"data": {"greeting": "hello", "color": "blue"}, "binaryData": {"logo": "AAE="}}}
SECRETS = {"creds": {"data": {"password": "czNjcmV0"}}}


def files_of(volume: Obj) -> dict[str, tuple[bytes, int]]:
    return volume_files(POD, volume, get_configmap=CONFIGMAPS.get, get_secret=SECRETS.get)


def test_config_map_all_keys_or_picked_items() -> None:
    assert files_of({"name": "c", "configMap": {"name": "settings"}}) == {
        "greeting": (b"hello", 0o644),
        "color": (b"blue", 0o644),
        "logo": (b"\x00\x01", 0o644),
    }
    picked = {
        "name": "p",
        "configMap": {
            "name": "settings",
            "defaultMode": 0o440,
            "items": [
                {"key": "color", "path": "sub/colour", "mode": 0o600},
                {"key": "greeting", "path": "g"},
            ],
        },
    }
    assert files_of(picked) == {"sub/colour": (b"blue", 0o600), "g": (b"hello", 0o440)}


def test_secret_is_decoded_with_its_default_mode() -> None:
    assert files_of({"name": "s", "secret": {"secretName": "creds", "defaultMode": 0o400}}) == {
        "password": (b"s3cret", 0o400)
    }


def test_downward_api_and_projected() -> None:
    downward = {
        "name": "i",
        "downwardAPI": {
            "items": [
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {
                    "path": "mem",
                    "resourceFieldRef": {
                        "containerName": "app",
                        "resource": "limits.memory",
                        "divisor": "1Mi",
                    },
                },
            ]
        },
    }
    assert files_of(downward) == {
        "name": (b"reader", 0o644),
        "labels": (b'tier="demo"', 0o644),
        "mem": (b"64", 0o644),
    }
    projected = {
        "name": "all",
        "projected": {
            "sources": [
                {"configMap": {"name": "settings", "items": [{"key": "greeting", "path": "greeting"}]}},
                {"secret": {"name": "creds"}},
                {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                {"serviceAccountToken": {"path": "token"}},
            ]
        },
    }
    files = files_of(projected)
    assert files["greeting"] == (b"hello", 0o644) and files["password"] == (b"s3cret", 0o644)
    assert files["ns"] == (b"default", 0o644) and "token" in files
    assert referenced_objects(projected) == [("configmaps", "settings"), ("secrets", "creds")]


def test_missing_objects_and_keys() -> None:
    with pytest.raises(VolumeError, match='configmap "nope" not found'):
        files_of({"name": "c", "configMap": {"name": "nope"}})
    assert files_of({"name": "c", "configMap": {"name": "nope", "optional": True}}) == {}
    with pytest.raises(VolumeError, match="configmap references non-existent config key: x"):
        files_of({"name": "c", "configMap": {"name": "settings", "items": [{"key": "x", "path": "x"}]}})


def test_write_volume_replaces_updates_and_prunes(tmp_path: Path) -> None:
    folder = tmp_path / "volumes" / "kubernetes.io~configmap" / "config"
    write_volume(folder, {"greeting": (b"hello", 0o644), "sub/colour": (b"blue", 0o600)})
    assert (folder / "greeting").read_bytes() == b"hello"
    assert (folder / "sub" / "colour").stat().st_mode & 0o777 == 0o600
    write_volume(folder, {"greeting": (b"bonjour", 0o644)})
    assert (folder / "greeting").read_bytes() == b"bonjour"
    assert not (folder / "sub").exists()
    with pytest.raises(VolumeError):
        write_volume(folder, {"../escape": (b"x", 0o644)})
