"""Every manifest in ../shared/k8s-examples/ applied to a simulated cluster reaches the state a
real cluster would (see that folder's SOURCES.md for each file's expected result).

Each scenario applies its files (in order, dependencies first) into a fresh namespace —
files that name their own namespace keep it — checks the outcome, and cleans up. Where a
real container's behaviour decides the outcome (a probe that starts failing after 30 s, a
process exiting 42), the scenario scripts the simulated runtime with its documented
``sim.nbcluster.io/*`` annotations, added to the object in memory: the files themselves
are never changed. A one-line-per-file table of outcomes is printed (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from nbcluster import Cluster
from nbcluster.api.yamlio import load_path
from nbcluster.cli import apply as apply_verbs
from nbcluster.cli.printers import pod_status_reason
from nbcluster.errors import NbClusterError, NotFound
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR

Obj = dict[str, Any]
OUTCOMES: list[tuple[str, str, str]] = []


class Scene:
    """What a scenario can do: apply files, wait, look."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.ns = namespace
        self.applied: list[list[Obj]] = []

    def apply(self, name: str, *, annotate: dict[str, str] | None = None) -> list[str]:
        objs = [d.obj for d in load_path(EXAMPLES / name)]
        if annotate:
            for obj in objs:
                _pod_template_meta(obj).setdefault("annotations", {}).update(annotate)
        self.applied.append(objs)
        return apply_verbs.apply(self.api, objs, default_namespace=self.ns)

    def pod(self, name: str, namespace: str | None = None) -> Obj:
        return self.api.get("pods", name, namespace=namespace or self.ns)

    def pods(self, selector: str | None = None, namespace: str | None = None) -> list[Obj]:
        return self.api.list("pods", namespace=namespace or self.ns, label_selector=selector)["items"]

    def status(self, name: str, namespace: str | None = None) -> str:
        return pod_status_reason(self.pod(name, namespace))

    def until(self, what: str, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = check()
            except NotFound:
                last = None
            if last:
                return last
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def pod_is(self, name: str, status: str, namespace: str | None = None) -> str:
        self.until(f"pod {name} {status}", lambda: self.status(name, namespace) == status)
        return status

    def ready_pods(self, selector: str, count: int, namespace: str | None = None) -> list[Obj]:
        def check() -> list[Obj] | None:
            pods = [
                p
                for p in self.pods(selector, namespace)
                if _ready(p) and not p["metadata"].get("deletionTimestamp")
            ]
            return pods if len(pods) == count else None

        return self.until(f"{count} ready pods {selector}", check)

    def events(self, reason: str, namespace: str | None = None) -> list[Obj]:
        return [e for e in self.api.cached_list("events", namespace or self.ns) if e["reason"] == reason]

    def cleanup(self) -> None:
        for objs in reversed(self.applied):
            with contextlib.suppress(NbClusterError):
                apply_verbs.delete(
                    self.api, objs, default_namespace=self.ns, ignore_not_found=True, grace_period=0
                )


def _pod_template_meta(obj: Obj) -> Obj:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj.setdefault("metadata", {})
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"].setdefault("metadata", {})
    if "template" in obj.get("spec", {}):
        return obj["spec"]["template"].setdefault("metadata", {})
    return {}


def _ready(pod: Obj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", [])
    )


@dataclass
class Scenario:
    files: list[str]
    check: Callable[[Scene], str]
    namespace: str | None = None  # None: a fresh one
    notes: str = ""
    marks: list[Any] = field(default_factory=list)


# -- the scenarios -------------------------------------------------------------------------


def running(pod_name: str, file: str, **kw: Any) -> Scenario:
    def check(s: Scene) -> str:
        s.apply(file, **kw)
        return s.pod_is(pod_name, "Running")

    return Scenario([file], check)


def completed(pod_name: str, file: str, namespace: str | None = None) -> Scenario:
    def check(s: Scene) -> str:
        s.apply(file)
        return s.pod_is(pod_name, "Completed")

    return Scenario([file], check, namespace)


def restarts(pod: Obj) -> int:
    return sum(c.get("restartCount", 0) for c in pod.get("status", {}).get("containerStatuses", []))


def s_liveness(file: str, pod: str, after: str) -> Scenario:
    def check(s: Scene) -> str:
        # The real container starts failing its liveness probe after `after` seconds.
        s.apply(
            file,
            annotate={"sim.nbcluster.io/fail-probe": "liveness", "sim.nbcluster.io/fail-probe-after": after},
        )
        s.until("a restart", lambda: restarts(s.pod(pod)) >= 1, 30)
        unhealthy = s.events("Unhealthy")
        assert unhealthy and unhealthy[0]["message"].startswith("Liveness probe failed"), unhealthy
        killing = s.events("Killing")
        assert any("failed liveness probe, will be restarted" in e["message"] for e in killing)
        return f"restarts={restarts(s.pod(pod))}, Liveness probe failed"

    return Scenario([file], check)


def s_shell_demo(s: Scene) -> str:
    s.apply("application__shell-demo.yaml")
    s.pod_is("shell-demo", "Running")
    status = s.pod("shell-demo")["status"]
    assert status["podIP"] == status["hostIP"], status
    return "Running, podIP = node IP"


def s_dapi_envars(s: Scene) -> str:
    # restartPolicy Never, but the shell loop never ends: it runs until deleted.
    s.apply("pods__inject__dapi-envars-pod.yaml", annotate={"sim.nbcluster.io/duration": "inf"})
    return s.pod_is("dapi-envars-fieldref", "Running")


def s_secret(s: Scene) -> str:
    s.apply("pods__inject__secret.yaml")
    secret = s.api.get("secrets", "test-secret", namespace=s.ns)
    assert secret["type"] == "Opaque" and sorted(secret["data"]) == ["password", "username"]
    return "Secret Opaque, 2 keys"


def s_secret_volume(s: Scene) -> str:
    s.apply("pods__inject__secret-pod.yaml")
    s.until("FailedMount", lambda: s.events("FailedMount"))
    s.pod_is("secret-test-pod", "ContainerCreating")
    s.apply("pods__inject__secret.yaml")
    s.pod_is(
        "secret-test-pod",
        "Running",
    )
    return "ContainerCreating (FailedMount) until test-secret exists, then Running"


def s_secret_env(s: Scene) -> str:
    s.apply("pods__inject__secret-envars-pod.yaml")
    s.pod_is("secret-envars-test-pod", "CreateContainerConfigError")
    s.apply("pods__inject__secret.yaml")
    s.pod_is("secret-envars-test-pod", "Running")
    return "CreateContainerConfigError until test-secret exists, then Running"


def s_secret_envfrom(s: Scene) -> str:
    s.apply("pods__inject__secret.yaml")
    s.apply("pods__inject__pod-secret-envFrom.yaml")
    return s.pod_is("envfrom-secret", "Running")


def s_missing_secrets(s: Scene) -> str:
    s.apply("pods__inject__pod-multiple-secret-env-variable.yaml")
    s.pod_is("envvars-multiple-secrets", "CreateContainerConfigError")
    waiting = s.pod("envvars-multiple-secrets")["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["message"] == 'secret "backend-user" not found', waiting
    return 'CreateContainerConfigError: secret "backend-user" not found'


def s_configmaps(s: Scene) -> str:
    s.apply("configmap__configmaps.yaml")
    assert s.api.get("configmaps", "special-config", namespace="default")["data"] == {"special.how": "very"}
    assert s.api.get("configmaps", "env-config", namespace="default")["data"] == {"log_level": "INFO"}
    return "2 ConfigMaps in default"


def configmap_pod(file: str) -> Scenario:
    def check(s: Scene) -> str:
        s.apply("configmap__configmaps.yaml")
        s.apply(file)
        return s.pod_is("dapi-test-pod", "Completed", "default")

    return Scenario(["configmap__configmaps.yaml", file], check, "default")


def s_redis_config(s: Scene) -> str:
    s.apply("pods__config__example-redis-config.yaml")
    s.apply("pods__config__redis-pod.yaml")
    return s.pod_is("redis", "Running")


def s_node_selector(s: Scene) -> str:
    s.apply("pods__pod-nginx.yaml")
    failed = s.until("FailedScheduling", lambda: s.events("FailedScheduling"))
    assert (
        failed[0]["message"]
        == "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    ), failed
    node = s.cluster.objects("nodes")[1]["metadata"]["name"]
    s.cluster.kubectl(f"label nodes {node} disktype=ssd")
    try:
        s.pod_is("nginx", "Running")
        assert s.pod("nginx")["spec"]["nodeName"] == node
    finally:
        s.cluster.kubectl(f"label nodes {node} disktype-")
    return "Pending (FailedScheduling) until a node is labelled disktype=ssd, then Running there"


def s_node_affinity(s: Scene) -> str:
    s.apply("pods__pod-with-node-affinity.yaml")
    failed = s.until("FailedScheduling", lambda: s.events("FailedScheduling"))
    assert s.status("with-node-affinity") == "Pending"
    return f"Pending: {failed[0]['message']}"


def missing_namespace(
    file: str, namespace: str, pod: str, extra: Callable[[Obj], str] | None = None
) -> Scenario:
    def check(s: Scene) -> str:
        with pytest.raises(NbClusterError, match=f'namespaces "{namespace}" not found'):
            s.apply(file)
        s.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        try:
            s.apply(file)
            s.pod_is(pod, "Running", namespace)
            detail = extra(s.pod(pod, namespace)) if extra else ""
        finally:
            s.api.delete("namespaces", namespace)
        return f'NotFound: namespaces "{namespace}" not found; with it: Running{detail}'

    return Scenario([file], check)


def s_nginx_deployment(s: Scene) -> str:
    s.apply("controllers__nginx-deployment.yaml")
    pods = s.ready_pods("app=nginx", 3)
    for pod in pods:
        assert re.fullmatch(
            r"nginx-deployment-[a-z0-9]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5}", pod["metadata"]["name"]
        )
    assert len(s.api.list("replicasets", namespace=s.ns)["items"]) == 1
    return "1 ReplicaSet, 3 Pods nginx-deployment-<hash>-<5> Running"


def s_deployment_update(s: Scene) -> str:
    s.apply("application__deployment.yaml")
    s.ready_pods("app=nginx", 2)
    assert s.apply("application__deployment-update.yaml") == ["deployment.apps/nginx-deployment configured"]

    def rolled() -> bool:
        rss = s.api.list("replicasets", namespace=s.ns)["items"]
        by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in rss}
        new, old = by_image.get("nginx:1.16.1"), by_image.get("nginx:1.14.2")
        return bool(new and old and new["status"].get("readyReplicas") == 2 and old["spec"]["replicas"] == 0)

    s.until("rolling update", rolled)
    return "READY 2/2; update: new ReplicaSet (nginx:1.16.1) 2, old 0"


def deployment_ready(file: str, selector: str, count: int) -> Scenario:
    def check(s: Scene) -> str:
        s.apply(file)
        s.ready_pods(selector, count)
        return f"READY {count}/{count}"

    return Scenario([file], check)


def s_sidecar(s: Scene) -> str:
    s.apply("application__deployment-sidecar.yaml")
    (pod,) = s.ready_pods("app=myapp", 1)
    s.until(
        "deployment status",
        lambda: s.api.get("deployments", "myapp", namespace=s.ns)["status"].get("readyReplicas") == 1,
    )
    from nbcluster.cli.printers import row

    ready = row(pod, now=s.cluster.clock.now())[1]
    assert ready == "2/2", ready
    return "Running, READY 2/2 (native sidecar)"


def endpoints_count(s: Scene, service: str, count: int, port: int | None = None) -> Obj:
    def check() -> Obj | None:
        ep = s.api.cached("endpoints", service, s.ns)
        addresses = [a for sub in (ep or {}).get("subsets") or [] for a in sub.get("addresses", [])]
        if len(addresses) != count:
            return None
        if port is not None and ep["subsets"][0]["ports"][0]["port"] != port:
            return None
        return ep

    return s.until(f"{count} endpoints of {service}", check)


def s_backend(s: Scene) -> str:
    s.apply("service__access__backend-deployment.yaml")
    s.apply("service__access__backend-service.yaml")
    endpoints_count(s, "hello", 3, port=80)
    return "3 backend Pods; Service hello endpoints = 3 Pods on port 80 (named targetPort)"


def s_lb(s: Scene) -> str:
    s.apply("application__nginx__nginx-deployment.yaml")
    s.apply("application__nginx__nginx-svc.yaml")
    svc = s.api.get("services", "my-nginx-svc", namespace=s.ns)
    assert (
        svc["spec"]["clusterIP"].startswith("10.") and 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    )
    endpoints_count(s, "my-nginx-svc", 3)
    return "LoadBalancer with ClusterIP and NodePort; endpoints = 3 Pods"


def s_frontend_hpa(s: Scene) -> str:
    s.apply("controllers__frontend.yaml")
    s.ready_pods("tier=frontend", 3)
    s.apply("controllers__hpa-rs.yaml")
    hpa = s.api.get("horizontalpodautoscalers", "frontend-scaler", namespace=s.ns)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    return "ReplicaSet 3 Pods; HPA accepted (stored as autoscaling/v2)"


def s_daemonset(s: Scene) -> str:
    s.apply("controllers__daemonset.yaml")
    pods = s.ready_pods("name=fluentd-elasticsearch", 3, "kube-system")
    assert len({p["spec"]["nodeName"] for p in pods}) == 3
    s.apply("controllers__fluentd-daemonset-update.yaml")

    def updated() -> bool:
        ds = s.api.get("daemonsets", "fluentd-elasticsearch", namespace="kube-system")
        st = ds["status"]
        return (
            st.get("updatedNumberScheduled") == 3
            and st.get("numberAvailable") == 3
            and st.get("observedGeneration") == ds["metadata"]["generation"]
        )

    s.until("daemonset update", updated)
    return "one Pod per node (3); update rolled to all 3"


def s_web(s: Scene) -> str:
    s.apply("application__web__web.yaml")
    s.ready_pods("app=nginx", 2)
    assert {p["metadata"]["name"] for p in s.pods("app=nginx")} == {"web-0", "web-1"}
    claims = s.api.list("persistentvolumeclaims", namespace=s.ns)["items"]
    assert sorted((c["metadata"]["name"], c["status"]["phase"]) for c in claims) == [
        ("www-web-0", "Bound"),
        ("www-web-1", "Bound"),
    ]
    return "web-0, web-1 Running; PVCs www-web-0/1 Bound"


def s_zookeeper(s: Scene) -> str:
    s.apply("application__zookeeper__zookeeper.yaml")
    pods = s.ready_pods("app=zk", 3)
    assert len({p["spec"]["nodeName"] for p in pods}) == 3
    s.api.get("poddisruptionbudgets", "zk-pdb", namespace=s.ns)
    return "zk-0..2 Running on 3 distinct nodes (anti-affinity); PDB created"


def job_complete(file: str, job: str, **kw: Any) -> Scenario:
    def check(s: Scene) -> str:
        s.apply(file, **kw)
        s.until(
            f"job {job} Complete",
            lambda: any(
                c["type"] == "Complete" and c["status"] == "True"
                for c in s.api.get("jobs", job, namespace=s.ns).get("status", {}).get("conditions", [])
            ),
        )
        return "Complete 1/1"

    return Scenario([file], check)


def job_condition(s: Scene, job: str, kind: str) -> Obj:
    def check() -> Obj | None:
        for c in s.api.get("jobs", job, namespace=s.ns).get("status", {}).get("conditions", []):
            if c["type"] == kind and c["status"] == "True":
                return c
        return None

    return s.until(f"job {job} {kind}", check, 30)


def s_pod_failure_policy(s: Scene) -> str:
    # Each real pod exits 42 after 5 s.
    s.apply(
        "controllers__job-pod-failure-policy-example.yaml",
        annotate={"sim.nbcluster.io/exit-code.main": "42", "sim.nbcluster.io/duration.main": "5"},
    )
    failed = job_condition(s, "job-pod-failure-policy-example", "Failed")
    assert failed["reason"] == "PodFailurePolicy", failed
    return "Failed (PodFailurePolicy: exit code 42)"


def s_backoff_per_index(s: Scene) -> str:
    # The real script exits 1 for even completion indexes.
    s.apply(
        "controllers__job-backoff-limit-per-index-example.yaml",
        annotate={"sim.nbcluster.io/exit-code-by-index": "0:1,2:1,4:1,6:1,8:1"},
    )
    failed = job_condition(s, "job-backoff-limit-per-index-example", "Failed")
    status = s.api.get("jobs", "job-backoff-limit-per-index-example", namespace=s.ns)["status"]
    assert status.get("failedIndexes") == "0,2,4,6,8", status
    assert status.get("completedIndexes") == "1,3,5,7,9", status
    return f"Failed ({failed['reason']}), failedIndexes 0,2,4,6,8"


def s_cronjob(s: Scene) -> str:
    s.apply("application__job__cronjob.yaml")
    jobs = s.until("a Job from the CronJob", lambda: s.api.list("jobs", namespace=s.ns)["items"], 20)
    assert jobs[0]["metadata"]["name"].startswith("hello-")
    job_condition(s, jobs[0]["metadata"]["name"], "Complete")
    return "a Job every minute, Completed"


def s_nginx_service(s: Scene) -> str:
    s.apply("controllers__nginx-deployment.yaml")
    s.apply("service__nginx-service.yaml")
    endpoints_count(s, "nginx-service", 3, port=80)
    return "endpoints = 3 app=nginx Pods (port 8000 -> 80)"


def s_nginx_app(s: Scene) -> str:
    s.apply("application__nginx-app.yaml")
    s.ready_pods("app=nginx", 3)
    endpoints_count(s, "my-nginx-svc", 3)
    return "READY 3/3, LoadBalancer endpoints = 3 Pods"


def s_secure_app(s: Scene) -> str:
    s.apply("service__networking__nginx-secure-app.yaml")
    svc = s.api.get("services", "my-nginx", namespace=s.ns)
    assert len([p for p in svc["spec"]["ports"] if p.get("nodePort")]) == 2
    pod = s.until("the pod", lambda: s.pods("run=my-nginx"))[0]
    s.until("FailedMount", lambda: s.events("FailedMount"))
    s.pod_is(pod["metadata"]["name"], "ContainerCreating")
    return "NodePort with 2 node ports; Pod ContainerCreating (secret nginxsecret missing)"


def namespace_active(file: str, name: str) -> Scenario:
    def check(s: Scene) -> str:
        s.apply(file)
        assert s.api.get("namespaces", name)["status"]["phase"] == "Active"
        return "Namespace Active"

    return Scenario([file], check)


def s_guestbook(s: Scene) -> str:
    for file in (
        "redis-leader-deployment",
        "redis-leader-service",
        "redis-follower-deployment",
        "redis-follower-service",
        "frontend-deployment",
        "frontend-service",
    ):
        s.apply(f"application__guestbook__{file}.yaml")
    endpoints_count(s, "redis-leader", 1)
    endpoints_count(s, "redis-follower", 2)
    endpoints_count(s, "frontend", 3)
    return "leader 1, followers 2, frontend 3 ready; Services' endpoints match"


def s_all_in_one(s: Scene) -> str:
    s.apply("examples-repo__web__guestbook__all-in-one__frontend.yaml")
    s.ready_pods("app=guestbook", 3)
    assert s.api.get("services", "frontend", namespace=s.ns)["spec"]["type"] == "NodePort"
    return "NodePort Service + READY 3/3"


def s_chap_secret(s: Scene) -> str:
    s.apply("examples-repo___archived__volumes__iscsi__chap-secret.yaml")
    secret = s.api.get("secrets", "chap-secret", namespace=s.ns)
    assert secret["type"] == "kubernetes.io/iscsi-chap" and len(secret["data"]) == 8
    return "Secret kubernetes.io/iscsi-chap, 8 keys"


def s_dns_backend(s: Scene) -> str:
    s.apply("examples-repo___archived__cluster-dns__dns-backend-service.yaml")
    svc = s.api.get("services", "dns-backend", namespace=s.ns)
    assert svc["spec"]["clusterIP"].startswith("10.")
    ep = s.until("endpoints", lambda: s.api.cached("endpoints", "dns-backend", s.ns))
    assert not ep.get("subsets")
    return "ClusterIP Service, no endpoints"


def s_qos(pod: Obj) -> str:
    assert pod["status"]["qosClass"] == "Guaranteed"
    return ", qosClass Guaranteed"


SCENARIOS: dict[str, Scenario] = {
    "pods__simple-pod.yaml": running("nginx", "pods__simple-pod.yaml"),
    "pods__commands.yaml": completed("command-demo", "pods__commands.yaml"),
    "pods__init-containers.yaml": running("init-demo", "pods__init-containers.yaml"),
    "pods__probe__exec-liveness.yaml": s_liveness("pods__probe__exec-liveness.yaml", "liveness-exec", "30"),
    "pods__probe__http-liveness.yaml": s_liveness("pods__probe__http-liveness.yaml", "liveness-http", "10"),
    "pods__probe__tcp-liveness-readiness.yaml": running(
        "goproxy", "pods__probe__tcp-liveness-readiness.yaml"
    ),
    "pods__probe__grpc-liveness.yaml": running("etcd-with-grpc", "pods__probe__grpc-liveness.yaml"),
    "pods__lifecycle-events.yaml": running("lifecycle-demo", "pods__lifecycle-events.yaml"),
    "application__shell-demo.yaml": Scenario(["application__shell-demo.yaml"], s_shell_demo),
    "pods__inject__envars.yaml": running("envar-demo", "pods__inject__envars.yaml"),
    "pods__inject__dapi-envars-pod.yaml": Scenario(["pods__inject__dapi-envars-pod.yaml"], s_dapi_envars),
    "pods__inject__dapi-volume-resources.yaml": running(
        "kubernetes-downwardapi-volume-example-2", "pods__inject__dapi-volume-resources.yaml"
    ),
    "pods__inject__secret.yaml": Scenario(["pods__inject__secret.yaml"], s_secret),
    "pods__inject__secret-pod.yaml": Scenario(["pods__inject__secret-pod.yaml"], s_secret_volume),
    "pods__inject__secret-envars-pod.yaml": Scenario(["pods__inject__secret-envars-pod.yaml"], s_secret_env),
    "pods__inject__pod-secret-envFrom.yaml": Scenario(
        ["pods__inject__pod-secret-envFrom.yaml"], s_secret_envfrom
    ),
    "pods__inject__pod-multiple-secret-env-variable.yaml": Scenario(
        ["pods__inject__pod-multiple-secret-env-variable.yaml"], s_missing_secrets
    ),
    "configmap__configmaps.yaml": Scenario(["configmap__configmaps.yaml"], s_configmaps, "default"),
    "pods__pod-single-configmap-env-variable.yaml": configmap_pod(
        "pods__pod-single-configmap-env-variable.yaml"
    ),
    "pods__pod-multiple-configmap-env-variable.yaml": configmap_pod(
        "pods__pod-multiple-configmap-env-variable.yaml"
    ),
    "pods__pod-configmap-envFrom.yaml": configmap_pod("pods__pod-configmap-envFrom.yaml"),
    "pods__pod-configmap-volume.yaml": configmap_pod("pods__pod-configmap-volume.yaml"),
    "pods__config__example-redis-config.yaml": Scenario(
        ["pods__config__example-redis-config.yaml"], s_redis_config
    ),
    "pods__config__redis-pod.yaml": Scenario(["pods__config__redis-pod.yaml"], s_redis_config),
    "pods__pod-nginx.yaml": Scenario(["pods__pod-nginx.yaml"], s_node_selector),
    "pods__pod-with-node-affinity.yaml": Scenario(["pods__pod-with-node-affinity.yaml"], s_node_affinity),
    "pods__storage__redis.yaml": running("redis", "pods__storage__redis.yaml"),
    "pods__storage__projected-service-account-token.yaml": running(
        "sa-token-test", "pods__storage__projected-service-account-token.yaml"
    ),
    "pods__resource__memory-request-limit.yaml": missing_namespace(
        "pods__resource__memory-request-limit.yaml", "mem-example", "memory-demo"
    ),
    "pods__qos__qos-pod.yaml": missing_namespace("pods__qos__qos-pod.yaml", "qos-example", "qos-demo", s_qos),
    "pods__security__security-context.yaml": running(
        "security-context-demo", "pods__security__security-context.yaml"
    ),
    "service__networking__custom-dns.yaml": Scenario(
        ["service__networking__custom-dns.yaml"],
        lambda s: (
            s.apply("service__networking__custom-dns.yaml"),
            s.pod_is("dns-example", "Running", "default"),
        )[1],
        "default",
    ),
    "controllers__nginx-deployment.yaml": Scenario(
        ["controllers__nginx-deployment.yaml"], s_nginx_deployment
    ),
    "application__deployment.yaml": Scenario(["application__deployment.yaml"], s_deployment_update),
    "application__deployment-update.yaml": Scenario(
        ["application__deployment-update.yaml"], s_deployment_update
    ),
    "application__deployment-patch.yaml": deployment_ready(
        "application__deployment-patch.yaml", "app=nginx", 2
    ),
    "application__deployment-sidecar.yaml": Scenario(["application__deployment-sidecar.yaml"], s_sidecar),
    "service__load-balancer-example.yaml": deployment_ready(
        "service__load-balancer-example.yaml", "app.kubernetes.io/name=load-balancer-example", 5
    ),
    "service__access__backend-deployment.yaml": Scenario(
        ["service__access__backend-deployment.yaml"], s_backend
    ),
    "service__access__backend-service.yaml": Scenario(["service__access__backend-service.yaml"], s_backend),
    "application__nginx__nginx-deployment.yaml": Scenario(
        ["application__nginx__nginx-deployment.yaml"], s_lb
    ),
    "application__nginx__nginx-svc.yaml": Scenario(["application__nginx__nginx-svc.yaml"], s_lb),
    "controllers__frontend.yaml": Scenario(["controllers__frontend.yaml"], s_frontend_hpa),
    "controllers__hpa-rs.yaml": Scenario(["controllers__hpa-rs.yaml"], s_frontend_hpa),
    "controllers__daemonset.yaml": Scenario(["controllers__daemonset.yaml"], s_daemonset, "kube-system"),
    "controllers__fluentd-daemonset-update.yaml": Scenario(
        ["controllers__fluentd-daemonset-update.yaml"], s_daemonset, "kube-system"
    ),
    "application__web__web.yaml": Scenario(["application__web__web.yaml"], s_web),
    "application__zookeeper__zookeeper.yaml": Scenario(
        ["application__zookeeper__zookeeper.yaml"], s_zookeeper
    ),
    "controllers__job.yaml": job_complete("controllers__job.yaml", "pi"),
    "application__job__job-sidecar.yaml": job_complete("application__job__job-sidecar.yaml", "myjob"),
    "controllers__job-pod-failure-policy-example.yaml": Scenario(
        ["controllers__job-pod-failure-policy-example.yaml"], s_pod_failure_policy
    ),
    "controllers__job-backoff-limit-per-index-example.yaml": Scenario(
        ["controllers__job-backoff-limit-per-index-example.yaml"], s_backoff_per_index
    ),
    "application__job__cronjob.yaml": Scenario(["application__job__cronjob.yaml"], s_cronjob),
    "service__nginx-service.yaml": Scenario(["service__nginx-service.yaml"], s_nginx_service),
    "application__nginx-app.yaml": Scenario(["application__nginx-app.yaml"], s_nginx_app),
    "service__networking__nginx-secure-app.yaml": Scenario(
        ["service__networking__nginx-secure-app.yaml"], s_secure_app
    ),
    "admin__namespace-dev.yaml": namespace_active("admin__namespace-dev.yaml", "development"),
    "application__guestbook__redis-leader-deployment.yaml": Scenario(["guestbook"], s_guestbook),
    "application__guestbook__redis-leader-service.yaml": Scenario(["guestbook"], s_guestbook),
    "application__guestbook__redis-follower-deployment.yaml": Scenario(["guestbook"], s_guestbook),
    "application__guestbook__redis-follower-service.yaml": Scenario(["guestbook"], s_guestbook),
    "application__guestbook__frontend-deployment.yaml": Scenario(["guestbook"], s_guestbook),
    "application__guestbook__frontend-service.yaml": Scenario(["guestbook"], s_guestbook),
    "examples-repo__web__guestbook__all-in-one__frontend.yaml": Scenario(
        ["examples-repo__web__guestbook__all-in-one__frontend.yaml"], s_all_in_one
    ),
    "examples-repo___archived__volumes__iscsi__chap-secret.yaml": Scenario(
        ["examples-repo___archived__volumes__iscsi__chap-secret.yaml"], s_chap_secret
    ),
    "examples-repo___archived__cluster-dns__dns-backend-service.yaml": Scenario(
        ["examples-repo___archived__cluster-dns__dns-backend-service.yaml"], s_dns_backend
    ),
    "examples-repo___archived__spark__namespace-spark-cluster.yaml": namespace_active(
        "examples-repo___archived__spark__namespace-spark-cluster.yaml", "spark-cluster"
    ),
}


def test_every_example_file_has_a_scenario() -> None:
    files = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert len(files) == 67
    assert sorted(SCENARIOS) == files


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    # Time runs 30x faster so probes that fail after 30 s and a once-a-minute CronJob
    # finish within seconds.
    with Cluster("examples", runtime="simulated", nodes=3, speed=30) as c:
        yield c
    print("\n" + "\n".join(f"{name:<66} {verdict:<4} {outcome}" for name, verdict, outcome in OUTCOMES))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_example(cluster: Cluster, name: str) -> None:
    scenario = SCENARIOS[name]
    namespace = scenario.namespace
    fresh = namespace is None
    if fresh:
        namespace = "ex-" + re.sub(r"[^a-z0-9]+", "-", name.lower().removesuffix(".yaml"))[:50].strip("-")
        cluster.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    scene = Scene(cluster, namespace)
    try:
        outcome = scenario.check(scene)
    except Exception as exc:
        OUTCOMES.append((name, "FAIL", f"{type(exc).__name__}: {exc}"[:200]))
        raise
    finally:
        scene.cleanup()
        if fresh:
            with contextlib.suppress(NbClusterError):
                cluster.api.delete("namespaces", namespace)
    OUTCOMES.append((name, "ok", outcome))
