"""Container environments (kubelet_pods.go makeEnvironmentVariables), $(VAR) expansion, backoff."""

from __future__ import annotations

from typing import Any

import pytest

from nbcluster.control.kubelet.backoff import Backoff, format_duration
from nbcluster.control.kubelet.envvars import EnvError, expand, expand_command, make_environment, service_env

Obj = dict[str, Any]


# -- expansion (cases from third_party/forked/golang/expansion/expand_test.go) -----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(VAR_A)", "A"),
        ("___$(VAR_B)___", "___B___"),
        ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("$(VAR_A)_$(VAR_B)", "A_B"),
        ("$$(VAR_A)", "$(VAR_A)"),
        ("$$$$(VAR_A)", "$$(VAR_A)"),
        ("$$$(VAR_A)", "$A"),
        ("$(VAR_DNE)", "$(VAR_DNE)"),
        ("$(VAR_A", "$(VAR_A"),
        ("$VAR_A", "$VAR_A"),
        ("foo$", "foo$"),
        ("$()", "$()"),
        ("$(VAR_EMPTY)x", "x"),
        ("no dollars", "no dollars"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"VAR_A": "A", "VAR_B": "B", "VAR_EMPTY": ""}) == expected


def test_expand_looks_mappings_up_in_order() -> None:
    assert expand("$(X)$(Y)", {"X": "1"}, {"X": "2", "Y": "3"}) == "13"


def test_expand_command_and_args() -> None:
    container = {"command": ["sh", "-c", "echo $(GREETING)"], "args": ["$(MISSING)", "$$(GREETING)"]}
    assert expand_command(container, {"GREETING": "hi"}) == (
        ("sh", "-c", "echo hi"),
        ("$(MISSING)", "$(GREETING)"),
    )


# -- service variables ---------------------------------------------------------------------------------


def test_service_env_like_kubernetes() -> None:
    svc = {
        "metadata": {"name": "my-db"},
        "spec": {
            "clusterIP": "10.96.0.20",
            "ports": [
                {"name": "pg", "port": 5432, "protocol": "TCP"},
                {"name": "metrics", "port": 9187, "protocol": "UDP"},
            ],
        },
    }
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    assert service_env([svc, headless]) == {
        "MY_DB_SERVICE_HOST": "10.96.0.20",
        "MY_DB_SERVICE_PORT": "5432",
        "MY_DB_SERVICE_PORT_PG": "5432",
        "MY_DB_SERVICE_PORT_METRICS": "9187",
        "MY_DB_PORT": "tcp://10.96.0.20:5432",
        "MY_DB_PORT_5432_TCP": "tcp://10.96.0.20:5432",
        "MY_DB_PORT_5432_TCP_PROTO": "tcp",
        "MY_DB_PORT_5432_TCP_PORT": "5432",
        "MY_DB_PORT_5432_TCP_ADDR": "10.96.0.20",
        "MY_DB_PORT_9187_UDP": "udp://10.96.0.20:9187",
        "MY_DB_PORT_9187_UDP_PROTO": "udp",
        "MY_DB_PORT_9187_UDP_PORT": "9187",
        "MY_DB_PORT_9187_UDP_ADDR": "10.96.0.20",
    }


# -- make_environment ------------------------------------------------------------------------------------


POD: Obj = {
    "metadata": {
        "name": "web-0",
        "namespace": "shop",
        "uid": "1234",
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"team": "a"},
    },
    "spec": {"nodeName": "n1", "serviceAccountName": "builder", "containers": []},
}
CONFIGMAPS: dict[str, Obj] = {"settings": {"data": {"mode": "fast", "level": "3"}}}
SECRETS: dict[str, Obj] = {"creds": {"data": {"password": "czNjcjN0", "user": "YWRtaW4="}}}


def env_of(container: Obj, services: dict[str, str] | None = None) -> dict[str, str]:
    return make_environment(
        POD,
        container,
        get_configmap=CONFIGMAPS.get,
        get_secret=SECRETS.get,
        services=services or {},
        pod_ips=["10.244.0.7"],
        host_ips=["172.18.0.2"],
        allocatable={"cpu": "4", "memory": "8Gi"},
    )


def test_values_refs_and_expansion() -> None:
    env = env_of(
        {
            "name": "app",
            "env": [
                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {"name": "URL", "value": "http://$(HOST):8080/$(MODE)"},
                {"name": "HOST", "value": "late"},
                {"name": "LITERAL", "value": "$$(MODE)"},
            ],
        }
    )
    assert env["MODE"] == "fast" and env["PASSWORD"] == "s3cr3t"
    assert env["URL"] == "http://$(HOST):8080/fast"  # HOST was not defined yet
    assert env["LITERAL"] == "$(MODE)"


def test_env_from_with_prefix_and_env_overrides() -> None:
    env = env_of(
        {
            "name": "app",
            "envFrom": [
                {"configMapRef": {"name": "settings"}, "prefix": "CFG_"},
                {"secretRef": {"name": "creds"}},
            ],
            "env": [{"name": "CFG_mode", "value": "slow"}],
        }
    )
    assert env == {"CFG_mode": "slow", "CFG_level": "3", "password": "s3cr3t", "user": "admin"}


def test_field_refs() -> None:
    paths = [
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.labels['app']",
        "metadata.annotations['team']",
        "metadata.labels",
        "spec.nodeName",
        "spec.serviceAccountName",
        "status.podIP",
        "status.hostIP",
        "status.podIPs",
    ]
    env = env_of(
        {
            "name": "app",
            "env": [
                {"name": f"V{i}", "valueFrom": {"fieldRef": {"fieldPath": p}}} for i, p in enumerate(paths)
            ],
        }
    )
    assert [env[f"V{i}"] for i in range(len(paths))] == [
        "web-0",
        "shop",
        "1234",
        "web",
        "a",
        'app="web"\ntier="front"',
        "n1",
        "builder",
        "10.244.0.7",
        "172.18.0.2",
        "10.244.0.7",
    ]


def test_resource_field_refs_with_divisors_and_node_defaults() -> None:
    container = {
        "name": "app",
        "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "env": [
            {"name": "CPU_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
            {
                "name": "CPU_REQ_M",
                "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}},
            },
            {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {
                "name": "MEM_LIMIT",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "MEM_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory"}}},
        ],
    }
    env = env_of(container)
    assert env["CPU_REQ"] == "1"  # rounded up like Kubernetes
    assert env["CPU_REQ_M"] == "250"
    assert env["CPU_LIMIT"] == "4"  # node allocatable when no limit
    assert env["MEM_LIMIT"] == "128"
    assert env["MEM_REQ"] == str(64 * 1024 * 1024)


def test_service_variables_come_last_and_never_override() -> None:
    env = env_of(
        {
            "name": "app",
            "env": [
                {"name": "KUBERNETES_SERVICE_HOST", "value": "mine"},
                {"name": "ADDR", "value": "$(DB_SERVICE_HOST)"},
            ],
        },
        services={"KUBERNETES_SERVICE_HOST": "10.96.0.1", "DB_SERVICE_HOST": "10.96.0.9"},
    )
    assert env["KUBERNETES_SERVICE_HOST"] == "mine"
    assert env["ADDR"] == "10.96.0.9"
    assert env["DB_SERVICE_HOST"] == "10.96.0.9"


@pytest.mark.parametrize(
    ("var", "message", "ref"),
    [
        (
            {"configMapKeyRef": {"name": "nope", "key": "k"}},
            'configmap "nope" not found',
            ("configmaps", "nope"),
        ),
        ({"secretKeyRef": {"name": "nope", "key": "k"}}, 'secret "nope" not found', ("secrets", "nope")),
        (
            {"configMapKeyRef": {"name": "settings", "key": "k"}},
            "couldn't find key k in ConfigMap shop/settings",
            ("configmaps", "settings"),
        ),
        (
            {"secretKeyRef": {"name": "creds", "key": "k"}},
            "couldn't find key k in Secret shop/creds",
            ("secrets", "creds"),
        ),
    ],
)
def test_missing_references(var: Obj, message: str, ref: tuple[str, str]) -> None:
    with pytest.raises(EnvError) as info:
        env_of({"name": "app", "env": [{"name": "X", "valueFrom": var}]})
    assert info.value.message == message and info.value.ref == ref
    optional = {k: {**v, "optional": True} for k, v in var.items()}
    assert "X" not in env_of({"name": "app", "env": [{"name": "X", "valueFrom": optional}]})


def test_missing_env_from() -> None:
    with pytest.raises(EnvError, match='configmap "gone" not found'):
        env_of({"name": "app", "envFrom": [{"configMapRef": {"name": "gone"}}]})
    assert env_of({"name": "app", "envFrom": [{"secretRef": {"name": "gone", "optional": True}}]}) == {}


# -- backoff ----------------------------------------------------------------------------------------------


def test_backoff_doubles_to_the_maximum_and_resets_after_ten_minutes() -> None:
    backoff = Backoff(10, 300)
    assert not backoff.in_backoff_since("k", 100, 100)
    backoff.next("k", 100, 100)
    assert backoff.get("k") == 10
    assert backoff.in_backoff_since("k", 105, 110)
    assert not backoff.in_backoff_since("k", 105, 115)
    delays = []
    for _ in range(8):
        backoff.next("k", 120, 120)
        delays.append(backoff.get("k"))
    assert delays == [20, 40, 80, 160, 300, 300, 300, 300]
    # An exit more than 2 * 300 s after the last restart counts as a fresh start.
    assert not backoff.in_backoff_since("k", 721, 721)
    backoff.next("k", 721, 721)
    assert backoff.get("k") == 10


def test_image_backoff_since_update() -> None:
    backoff = Backoff(10, 300)
    backoff.next("img", 50, 50)
    assert backoff.in_backoff_since_update("img", 59)
    assert not backoff.in_backoff_since_update("img", 60)
    assert backoff.due("img") == 60


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (10, "10s"),
        (80, "1m20s"),
        (300, "5m0s"),
        (1.2, "1.2s"),
        (0.532, "532ms"),
        (3725, "1h2m5s"),
        (0.0000015, "1.5µs"),
    ],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
