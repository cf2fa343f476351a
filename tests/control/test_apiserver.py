"""The API server's fast paths behave exactly like its full ones (create from a pod template, list)."""

from __future__ import annotations

from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.podcontrol import controller_ref, pod_from_template
from nbcluster.errors import ValidationError
from nbcluster.util.jsoncopy import deep_copy

Obj = dict[str, Any]

_SERVER_SET = ("name", "uid", "creationTimestamp", "resourceVersion")


def stored_replicaset(api: APIServer, spec: Obj | None = None, labels: Obj | None = None) -> Obj:
    template_spec = spec or {
        "containers": [
            {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
            {"name": "side", "image": "busybox", "resources": {"limits": {"cpu": "1"}}},
        ],
        "volumes": [{"name": "scratch"}],
    }
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": labels or {"app": "web"}}, "spec": template_spec},
        },
    }
    if spec is not None:  # a template the API server would refuse goes into the store directly
        rs["metadata"]["uid"] = "rs-uid"
        return api.store.create("replicasets.apps", rs)
    return api.create(rs)


def comparable(pod: Obj) -> Obj:
    out = deep_copy(pod)
    for field in _SERVER_SET:
        out["metadata"].pop(field, None)
    return out


def create_both(api: APIServer, rs: Obj, change: Any = None) -> tuple[Obj, Obj]:
    """The same pod created through the template path and through the full path."""
    template = rs["spec"]["template"]
    fast = pod_from_template(template, rs, controller_ref(rs), copy_spec=change is not None)
    full = pod_from_template(template, rs, controller_ref(rs))
    if change is not None:
        change(fast)
        change(full)
    made = api.create(fast, owned=True, validate_schema=False, template_spec=template["spec"])
    plain = api.create(full, owned=True, validate_schema=False)
    return made, plain


def test_a_pod_from_a_template_is_stored_as_the_full_path_stores_it(api: APIServer) -> None:
    rs = stored_replicaset(api)
    for _ in range(3):  # the first pod fills the memo, the next ones use it
        made, plain = create_both(api, rs)
        assert comparable(made) == comparable(plain)
        assert made["spec"]["containers"][1]["resources"]["requests"] == {"cpu": "1"}  # defaulted
        assert made["status"] == {"phase": "Pending", "qosClass": "Burstable"}


def test_the_template_is_never_changed_nor_shared(api: APIServer) -> None:
    rs = stored_replicaset(api)
    template_spec = rs["spec"]["template"]["spec"]
    before = deep_copy(template_spec)
    pods = [create_both(api, rs)[0] for _ in range(3)]
    assert template_spec == before
    specs = [p["spec"] for p in pods]
    assert all(spec is not template_spec for spec in specs)
    assert specs[0] is not specs[1] and specs[0]["containers"] is not specs[1]["containers"]


def test_metadata_is_still_validated_with_the_full_path_errors(api: APIServer) -> None:
    rs = stored_replicaset(api)
    create_both(api, rs)  # the template is known to be valid now

    def bad_label(pod: Obj) -> None:
        pod["metadata"]["labels"]["bad key!"] = "x"

    template = rs["spec"]["template"]
    fast = pod_from_template(template, rs, controller_ref(rs), copy_spec=False)
    bad_label(fast)
    full = pod_from_template(template, rs, controller_ref(rs))
    bad_label(full)
    with pytest.raises(ValidationError) as fast_error:
        api.create(fast, owned=True, validate_schema=False, template_spec=template["spec"])
    with pytest.raises(ValidationError) as full_error:
        api.create(full, owned=True, validate_schema=False)
    assert fast_error.value.errors == full_error.value.errors
    assert any(e.path == "metadata.labels" for e in fast_error.value.errors)
    assert template["metadata"]["labels"] == {"app": "web"}


def test_an_invalid_template_gets_the_full_path_errors_every_time(api: APIServer) -> None:
    rs = stored_replicaset(
        api, spec={"containers": [{"name": "Bad_Name", "image": "nginx"}], "restartPolicy": "x"}
    )
    template = rs["spec"]["template"]
    for _ in range(2):
        with pytest.raises(ValidationError) as fast_error:
            api.create(
                pod_from_template(template, rs, controller_ref(rs), copy_spec=False),
                owned=True,
                validate_schema=False,
                template_spec=template["spec"],
            )
        with pytest.raises(ValidationError) as full_error:
            api.create(pod_from_template(template, rs, controller_ref(rs)), owned=True, validate_schema=False)
        assert fast_error.value.errors == full_error.value.errors
    assert template["spec"] == {"containers": [{"name": "Bad_Name", "image": "nginx"}], "restartPolicy": "x"}


def test_a_spec_that_differs_from_its_template_is_checked_in_full(api: APIServer) -> None:
    rs = stored_replicaset(api)
    create_both(api, rs)

    def never_restart(pod: Obj) -> None:
        pod["spec"]["restartPolicy"] = "Never"

    made, plain = create_both(api, rs, never_restart)
    assert made["spec"]["restartPolicy"] == "Never"
    assert comparable(made) == comparable(plain)

    def bad_policy(pod: Obj) -> None:
        pod["spec"]["restartPolicy"] = "Sometimes"

    with pytest.raises(ValidationError, match="restartPolicy"):
        create_both(api, rs, bad_policy)


def test_a_bad_name_on_otherwise_known_clean_metadata_is_still_refused(api: APIServer) -> None:
    rs = stored_replicaset(api)
    template = rs["spec"]["template"]

    def named(name: str, *, fast: bool) -> Obj:
        pod = pod_from_template(template, rs, controller_ref(rs), copy_spec=not fast)
        del pod["metadata"]["generateName"]
        pod["metadata"]["name"] = name
        return pod

    api.create(named("web-ok", fast=True), owned=True, validate_schema=False, template_spec=template["spec"])
    with pytest.raises(ValidationError) as fast_error:
        api.create(
            named("Web_Bad", fast=True), owned=True, validate_schema=False, template_spec=template["spec"]
        )
    with pytest.raises(ValidationError) as full_error:
        api.create(named("Web_Bad", fast=False), owned=True, validate_schema=False)
    assert fast_error.value.errors == full_error.value.errors
    assert [e.path for e in fast_error.value.errors] == ["metadata.name"]


def test_load_balancer_ingress_is_set_at_creation_when_the_cluster_listens(api: APIServer) -> None:
    lb = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "default"}}
    lb["spec"] = {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}
    created = api.create(deep_copy(lb))
    assert created["status"] == {}  # a simulated cluster listens nowhere: like a cloud, pending
    api.load_balancer_ip = "127.0.0.1"
    lb["metadata"]["name"] = "lb2"
    created = api.create(lb)
    assert created["status"]["loadBalancer"]["ingress"] == [{"ip": "127.0.0.1", "ipMode": "VIP"}]


def test_node_ports_are_random_in_range_and_skip_ports_held_elsewhere(api: APIServer) -> None:
    held = set(range(30000, 32767))  # everything but 32767 is busy on the host
    api.node_port_free = lambda port: port not in held
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np", "namespace": "default"}}
    svc["spec"] = {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}
    assert api.create(svc)["spec"]["ports"][0]["nodePort"] == 32767
    api.node_port_free = None
    ports = set()
    for index in range(20):
        body = deep_copy(svc)
        body["metadata"]["name"] = f"np{index}"
        ports.add(api.create(body)["spec"]["ports"][0]["nodePort"])
    assert len(ports) == 20 and all(30000 <= p <= 32767 for p in ports) and ports != set(range(30000, 30020))
