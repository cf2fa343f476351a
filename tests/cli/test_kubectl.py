"""nbcluster.cli.kubectl: kubectl's verbs, flags, columns and words, on a running simulated cluster.

One cluster serves the module (each test works in its own namespace); contexts and
clusters are tested on a private registry in a temporary state root.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nbcluster.api.resources import RESOURCES
from nbcluster.cli import contexts
from nbcluster.cli.kubectl import ExecOutput, Kubectl, Output, format_error
from nbcluster.cli.tables import EMPTY_ATTR, TableGroup, render, tabwrite
from nbcluster.cluster import Cluster
from nbcluster.errors import BadRequest, NbClusterError, NotFound, UsageError
from nbcluster.util.clock import ManualClock

# --------------------------------------------------------------------------- kubectl's columns
# kubernetes pkg/printers/internalversion/printers.go (AddHandlers): the column definitions
# (priority 0 | priority 1 = the -o wide extras), upper-cased as kubectl prints them.
CIS = ["CONTAINERS", "IMAGES", "SELECTOR"]
KUBECTL_COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "pods": (
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
    ),
    "podtemplates": (["NAME", "CONTAINERS", "IMAGES", "POD LABELS"], []),
    "poddisruptionbudgets": (["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], []),
    "replicationcontrollers": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], CIS),
    "replicasets": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], CIS),
    "daemonsets": (
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        CIS,
    ),
    "jobs": (["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], CIS),
    "cronjobs": (["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], CIS),
    "services": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
    "ingresses": (["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], []),
    "ingressclasses": (["NAME", "CONTROLLER", "PARAMETERS", "AGE"], []),
    "statefulsets": (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"]),
    "endpoints": (["NAME", "ENDPOINTS", "AGE"], []),
    "nodes": (
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
    ),
    "events": (
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
    ),
    "namespaces": (["NAME", "STATUS", "AGE"], []),
    "secrets": (["NAME", "TYPE", "DATA", "AGE"], []),
    "serviceaccounts": (["NAME", "SECRETS", "AGE"], []),
    "persistentvolumes": (
        [
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "persistentvolumeclaims": (
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "componentstatuses": (["NAME", "STATUS", "MESSAGE", "ERROR"], []),
    "deployments": (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], CIS),
    "horizontalpodautoscalers": (
        ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
        [],
    ),
    "configmaps": (["NAME", "DATA", "AGE"], []),
    "networkpolicies": (["NAME", "POD-SELECTOR", "AGE"], []),
    "rolebindings": (["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
    "clusterrolebindings": (["NAME", "ROLE", "AGE"], ["USERS", "GROUPS", "SERVICEACCOUNTS"]),
    "leases": (["NAME", "HOLDER", "AGE"], []),
    "storageclasses": (
        ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
        [],
    ),
    "controllerrevisions": (["NAME", "CONTROLLER", "REVISION", "AGE"], []),
    "resourcequotas": (["NAME", "REQUEST", "LIMIT", "AGE"], []),
    "priorityclasses": (["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE"], ["PREEMPTIONPOLICY"]),
    "endpointslices": (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
    # no printer in Kubernetes: the API server's default table
    "roles": (["NAME", "CREATED AT"], []),
    "clusterroles": (["NAME", "CREATED AT"], []),
    "limitranges": (["NAME", "CREATED AT"], []),
}

#: Where the wide columns are not simply appended (printers.go keeps the definition order).
WIDE_ORDER = {
    "events": [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]
}

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""

_names = itertools.count()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster("kubectl-test", runtime="simulated", nodes=2)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"t{next(_names)}"
    assert cluster.kubectl(f"create namespace {name}") == f"namespace/{name} created"
    return name


@pytest.fixture
def web(cluster: Cluster, ns: str) -> str:
    out = cluster.kubectl(f"apply -n {ns} -f -", stdin=DEPLOYMENT)
    assert out.splitlines() == ["deployment.apps/web created", "service/web created"]
    cluster.wait("pods", namespace=ns, selector="app=web", condition="Ready", count=2, timeout=20)
    cluster.kubectl(f"rollout status deploy/web -n {ns} --timeout=20s")
    return ns


# --------------------------------------------------------------------------- get: tables


@pytest.mark.parametrize("plural", sorted(KUBECTL_COLUMNS))
def test_get_columns_match_kubectl(cluster: Cluster, plural: str) -> None:
    info = next(i for i in RESOURCES if i.plural == plural)
    normal, wide = KUBECTL_COLUMNS[plural]
    prefix = ["NAMESPACE"] if info.namespaced else []
    table = cluster.kubectl(f"get {plural} -A")
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == prefix + normal
    table = cluster.kubectl(f"get {plural} -A -o wide")
    assert list(table.columns) == prefix + WIDE_ORDER.get(plural, normal + wide)


def test_every_listable_kind_has_a_column_test() -> None:
    listable = {i.plural for i in RESOURCES if "list" in i.verbs}
    assert listable == set(KUBECTL_COLUMNS)


def test_get_rows_read_like_kubectl(cluster: Cluster, web: str) -> None:
    deploy = cluster.kubectl(f"get deploy -n {web}")
    assert deploy.to_dict("records") == [
        {"NAME": "web", "READY": "2/2", "UP-TO-DATE": "2", "AVAILABLE": "2", "AGE": deploy["AGE"][0]}
    ]
    pods = cluster.kubectl(f"get pods -n {web}")
    assert list(pods["READY"]) == ["2/2", "2/2"]
    assert list(pods["STATUS"]) == ["Running", "Running"]
    assert list(pods["RESTARTS"]) == ["0", "0"]
    wide = cluster.kubectl(f"get pods -n {web} -o wide")
    assert set(wide["NODE"]) <= {"kubectl-test-control-plane", "kubectl-test-agent-0"}
    assert all(ip.startswith("10.244.") for ip in wide["IP"])
    svc = cluster.kubectl(f"get svc web -n {web}").iloc[0]
    assert svc["TYPE"] == "ClusterIP" and svc["PORT(S)"] == "80/TCP" and svc["EXTERNAL-IP"] == "<none>"
    text = render(deploy)
    assert text.splitlines()[0] == "NAME   READY   UP-TO-DATE   AVAILABLE   AGE"


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("po", "Pod"),
        ("deploy", "Deployment"),
        ("svc", "Service"),
        ("rs", "ReplicaSet"),
        ("sts", "StatefulSet"),
        ("ds", "DaemonSet"),
        ("cj", "CronJob"),
        ("ns", "Namespace"),
        ("cm", "ConfigMap"),
        ("ev", "Event"),
        ("no", "Node"),
        ("ep", "Endpoints"),
        ("pod", "Pod"),
        ("pods", "Pod"),
        ("deployment.apps", "Deployment"),
        ("deployments.apps", "Deployment"),
        ("jobs.batch", "Job"),
        ("Deployment", "Deployment"),
        ("deployments.v1.apps", "Deployment"),
        ("hpa", "HorizontalPodAutoscaler"),
    ],
)
def test_kind_names(cluster: Cluster, word: str, kind: str) -> None:
    table = cluster.kubectl(f"get {word} -A")
    assert table.attrs["nbcluster.kind"] == kind


def test_get_all_groups_tables_with_kind_prefixes(cluster: Cluster, web: str) -> None:
    result = cluster.kubectl(f"get all -n {web}")
    assert isinstance(result, TableGroup)
    assert list(result) == ["pods", "services", "deployments.apps", "replicasets.apps"]
    assert all(name.startswith("pod/web-") for name in result["pods"]["NAME"])
    assert list(result["deployments.apps"]["NAME"]) == ["deployment.apps/web"]
    assert "service/web" in result.text()
    two = cluster.kubectl(f"get deploy,svc -n {web}")
    assert list(two) == ["services", "deployments.apps"] or list(two) == ["deployments.apps", "services"]


def test_get_named_objects_and_not_found(cluster: Cluster, web: str) -> None:
    assert list(cluster.kubectl(f"get deploy web -n {web}")["NAME"]) == ["web"]
    assert list(cluster.kubectl(f"get deployment.apps/web svc/web -n {web}")) == [
        "deployments.apps",
        "services",
    ]
    with pytest.raises(NotFound) as info:
        cluster.kubectl(f"get pod nope -n {web}")
    assert format_error(info.value) == 'Error from server (NotFound): pods "nope" not found'
    assert cluster.kubectl(f"get pod nope -n {web} --ignore-not-found") == ""


def test_empty_list_says_no_resources_found(cluster: Cluster, ns: str) -> None:
    table = cluster.kubectl(f"get pods -n {ns}")
    assert table.empty and list(table.columns) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table.attrs[EMPTY_ATTR] == f"No resources found in {ns} namespace."
    assert render(table) == f"No resources found in {ns} namespace."


def test_selectors_labels_and_sorting(cluster: Cluster, web: str) -> None:
    assert len(cluster.kubectl(f"get pods -n {web} -l app=web")) == 2
    assert cluster.kubectl(f"get pods -n {web} -l app=nope").empty
    running = cluster.kubectl(f"get pods -n {web} --field-selector status.phase=Running")
    assert len(running) == 2
    labelled = cluster.kubectl(f"get pods -n {web} --show-labels")
    assert labelled.columns[-1] == "LABELS" and "app=web" in labelled["LABELS"][0]
    columns = cluster.kubectl(f"get pods -n {web} -L tier,app")
    assert list(columns.columns[-2:]) == ["TIER", "APP"] and set(columns["TIER"]) == {"front"}
    names = list(cluster.kubectl(f"get pods -n {web} --sort-by=.metadata.name")["NAME"])
    assert names == sorted(names)
    everywhere = cluster.kubectl("get pods -A")
    assert everywhere.columns[0] == "NAMESPACE" and web in set(everywhere["NAMESPACE"])


def test_output_formats(cluster: Cluster, web: str) -> None:
    names = cluster.kubectl(f"get pods -n {web} -o name")
    assert all(line.startswith("pod/web-") for line in names.splitlines())
    single = yaml.safe_load(cluster.kubectl(f"get deploy web -n {web} -o yaml"))
    assert single["kind"] == "Deployment" and single["spec"]["replicas"] == 2
    listed = json.loads(cluster.kubectl(f"get deploy -n {web} -o json"))
    assert listed["kind"] == "List" and listed["items"][0]["metadata"]["name"] == "web"
    text = cluster.kubectl(f"get pods -n {web} -o jsonpath={{.items[*].spec.containers[0].image}}")
    assert text == "nginx:1.25 nginx:1.25"
    text = cluster.kubectl(f"get deploy web -n {web} -o 'jsonpath={{.spec.template.metadata.labels}}'")
    assert text == '{"app":"web","tier":"front"}'
    ranged = cluster.kubectl(
        f"get pods -n {web} -o "
        'jsonpath=\'{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}\''
    )
    assert [line.split("\t")[1] for line in ranged.splitlines()] == ["Running", "Running"]
    ready = cluster.kubectl(
        f"get pods -n {web} -o jsonpath='{{.items[*].status.conditions[?(@.type==\"Ready\")].status}}'"
    )
    assert ready == "True True"
    custom = cluster.kubectl(
        f"get pods -n {web} -o custom-columns=NAME:.metadata.name,"
        "IMAGES:.spec.containers[*].image,GONE:.status.nothing"
    )
    assert list(custom.columns) == ["NAME", "IMAGES", "GONE"]
    assert set(custom["IMAGES"]) == {"nginx:1.25,busybox:1.36"} and set(custom["GONE"]) == {"<none>"}
    with pytest.raises(UsageError, match='unable to match a printer suitable for the output format "tabel"'):
        cluster.kubectl("get pods -o tabel")


def test_age_reads_like_kubectl() -> None:
    clock = ManualClock()
    c = Cluster("age-test", runtime="simulated", clock=clock, start=False)
    try:
        c.api.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}}
        )
        ages = []
        for step in (5, 187, 2 * 86400 + 4 * 3600 - 192):
            clock.advance(step)
            ages.append(c.kubectl("get cm a")["AGE"][0])
        assert ages == ["5s", "3m12s", "2d4h"]
    finally:
        c.stop()


# --------------------------------------------------------------------------- the other verbs


def test_describe(cluster: Cluster, web: str) -> None:
    text = cluster.kubectl(f"describe deploy web -n {web}")
    lines = text.splitlines()
    assert lines[0].startswith("Name:") and lines[0].split() == ["Name:", "web"]
    assert "Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable" in lines
    assert any(line.split()[:2] == ["Normal", "ScalingReplicaSet"] for line in lines)
    pod = cluster.objects("pods", namespace=web)[0]["metadata"]["name"]
    text = cluster.kubectl(f"describe pod {pod} -n {web}")
    lines = text.splitlines()
    assert "Containers:" in lines and "Events:" in lines
    controlled = next(line for line in lines if line.startswith("Controlled By:"))
    assert controlled.split()[2].startswith("ReplicaSet/web-")
    # tabwriter: the values of one block share a column
    assert lines[0].index("web-") == lines[1].index(web) == controlled.index("ReplicaSet/")
    # kubectl describe falls back to a name prefix
    assert cluster.kubectl(f"describe pods web -n {web}").count("\nControlled By:") == 2


def _talkers(cluster: Cluster, ns: str, seconds: str) -> None:
    for name in ("talk-a", "talk-b"):
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "labels": {"app": "talk"},
                    "annotations": {
                        "sim.nbcluster.io/logs": f"{name} 1\n{name} 2\n{name} 3",
                        "sim.nbcluster.io/duration": seconds,
                    },
                },
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
            },
            namespace=ns,
        )
    cluster.wait("pods", namespace=ns, selector="app=talk", condition="Running", count=2, timeout=20)


def test_logs_follow_prints_each_stream_as_it_comes_until_the_containers_exit(
    cluster: Cluster, ns: str
) -> None:
    _talkers(cluster, ns, "1.5")
    printed: list[tuple[float, str]] = []
    started = time.monotonic()
    out = cluster.kubectl(
        f"logs -f -l app=talk -n {ns} --tail=2",
        out=lambda line: printed.append((time.monotonic(), line)),
    )
    ended = time.monotonic()
    assert out is None  # everything went to the printer, line by line
    lines = sorted(line for _at, line in printed)
    # several streams: prefixed as kubectl does; --tail applies to each container
    assert lines == [f"[pod/{p}/c] {p} {n}" for p in ("talk-a", "talk-b") for n in (2, 3)]
    # printed at once, while the containers still ran; the command ended when they exited
    assert all(at - started < 1.0 for at, _line in printed)
    assert ended - started >= 0.5
    assert all(p["status"]["phase"] == "Succeeded" for p in cluster.objects("pods", namespace=ns))
    # without a printer the lines come back at the end
    assert cluster.kubectl(f"logs -f talk-a -n {ns}").splitlines() == ["talk-a 1", "talk-a 2", "talk-a 3"]
    cluster.kubectl(f"delete pods --all -n {ns}")  # bare pods would hold up other tests' drains


def test_logs_follow_of_a_waiting_container_is_kubectls_error(cluster: Cluster, ns: str) -> None:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stuck"},
            "spec": {"containers": [{"name": "c", "image": "nothing-does-not-exist"}]},
        },
        namespace=ns,
    )
    cluster.wait(
        "pods",
        namespace=ns,
        condition=lambda p: "ErrImagePull" in str(p.get("status", {}).get("containerStatuses")),
        timeout=20,
    )
    with pytest.raises(BadRequest) as caught:
        cluster.kubectl(f"logs -f stuck -n {ns}")
    assert format_error(caught.value).startswith(
        'Error from server (BadRequest): container "c" in pod "stuck" is waiting to start:'
    )
    cluster.kubectl(f"delete pod stuck -n {ns}")


def test_logs_and_exec(cluster: Cluster, web: str) -> None:
    pod = cluster.objects("pods", namespace=web)[0]["metadata"]["name"]
    notices: list[str] = []
    logs = cluster.kubectl(f"logs {pod} -n {web}", err=notices.append)
    assert isinstance(logs, Output) and "nginx" in logs
    assert notices == ['Defaulted container "nginx" out of: nginx, sidecar']
    assert "busybox" in cluster.kubectl(f"logs {pod} -n {web} -c sidecar")
    assert len(cluster.kubectl(f"logs {pod} -n {web} -c nginx --tail=1").splitlines()) <= 1
    assert cluster.kubectl(f"logs deploy/web -n {web} -c nginx")
    both = cluster.kubectl(f"logs -l app=web -n {web} -c nginx --prefix")
    assert all(line.startswith("[pod/web-") for line in both.splitlines())
    with pytest.raises(UsageError, match=f"error: container nope is not valid for pod {pod}"):
        cluster.kubectl(f"logs {pod} -n {web} -c nope")
    with pytest.raises(NbClusterError, match="previous terminated container"):
        cluster.kubectl(f"logs {pod} -n {web} -c nginx --previous")
    result = cluster.kubectl(f"exec {pod} -n {web} -c nginx -- echo hello")
    assert isinstance(result, ExecOutput) and result.exit_code == 0 and "hello" in result
    with pytest.raises(UsageError, match=r"exec \[POD\] \[COMMAND\] is not supported anymore"):
        cluster.kubectl(f"exec {pod} -n {web} date")
    with pytest.raises(UsageError, match="you must specify at least one command"):
        cluster.kubectl(f"exec {pod} -n {web} --")


def test_scale_and_rollout(cluster: Cluster, web: str) -> None:
    assert cluster.kubectl(f"scale deploy/web --replicas=3 -n {web}") == "deployment.apps/web scaled"
    progress: list[str] = []
    assert cluster.kubectl(f"rollout status deploy/web -n {web} --timeout=20s", out=progress.append) is None
    assert progress[-1] == 'deployment "web" successfully rolled out'
    assert cluster.kubectl(f"get deploy web -n {web}")["READY"][0] == "3/3"
    assert (
        cluster.kubectl(f"set image deploy/web nginx=nginx:1.26 -n {web}")
        == "deployment.apps/web image updated"
    )
    text = cluster.kubectl(f"rollout status deploy/web -n {web} --timeout=20s")
    assert text.splitlines()[-1] == 'deployment "web" successfully rolled out'
    history = cluster.kubectl(f"rollout history deploy/web -n {web}").splitlines()
    assert history[:2] == ["deployment.apps/web ", "REVISION  CHANGE-CAUSE"] and len(history) == 4
    assert cluster.kubectl(f"rollout undo deploy/web -n {web}") == "deployment.apps/web rolled back"
    cluster.kubectl(f"rollout status deploy/web -n {web} --timeout=20s")
    images = cluster.kubectl(
        f"get deploy web -n {web} -o jsonpath={{.spec.template.spec.containers[0].image}}"
    )
    assert images == "nginx:1.25"
    assert cluster.kubectl(f"rollout pause deploy/web -n {web}") == "deployment.apps/web paused"
    with pytest.raises(UsageError, match="can't restart paused deployment"):
        cluster.kubectl(f"rollout restart deploy/web -n {web}")
    assert cluster.kubectl(f"rollout resume deploy/web -n {web}") == "deployment.apps/web resumed"
    assert cluster.kubectl(f"rollout restart deploy/web -n {web}") == "deployment.apps/web restarted"
    with pytest.raises(
        UsageError, match='unknown command "stauts" for "kubectl rollout"\n\nDid you mean this'
    ):
        cluster.kubectl(f"rollout stauts deploy/web -n {web}")


def test_label_annotate_delete(cluster: Cluster, web: str) -> None:
    assert cluster.kubectl(f"label deploy web tier=gold -n {web}") == "deployment.apps/web labeled"
    with pytest.raises(UsageError, match="'tier' already has a value \\(gold\\), and --overwrite is false"):
        cluster.kubectl(f"label deploy web tier=silver -n {web}")
    assert (
        cluster.kubectl(f"label deploy web tier=silver --overwrite -n {web}") == "deployment.apps/web labeled"
    )
    assert cluster.kubectl(f"label deploy web tier- -n {web}") == "deployment.apps/web labeled"
    assert cluster.kubectl(f"annotate svc web owner=me -n {web}") == "service/web annotated"
    assert cluster.kubectl(f"get svc web -n {web} -o jsonpath={{.metadata.annotations.owner}}") == "me"
    assert cluster.kubectl(f"delete svc web -n {web}") == 'service "web" deleted'
    assert cluster.kubectl(f"delete svc web -n {web} --ignore-not-found") == ""
    with pytest.raises(NotFound):
        cluster.kubectl(f"delete svc web -n {web}")


def test_nodes_cordon_drain(cluster: Cluster, web: str) -> None:
    node = "kubectl-test-agent-0"
    try:
        assert cluster.kubectl(f"cordon {node}") == f"node/{node} cordoned"
        assert cluster.kubectl(f"cordon {node}") == f"node/{node} already cordoned"
        assert cluster.kubectl(f"get node {node}")["STATUS"][0] == "Ready,SchedulingDisabled"
        text = cluster.kubectl(f"drain {node} --ignore-daemonsets")
        assert text.splitlines()[0] == f"node/{node} already cordoned"
        assert text.splitlines()[-1] == f"node/{node} drained"
    finally:
        assert cluster.kubectl(f"uncordon {node}") == f"node/{node} uncordoned"


def test_top_port_forward_and_discovery(cluster: Cluster) -> None:
    # Metrics come from the runtime; this namespace has no pods: kubectl top's own answer.
    assert str(cluster.kubectl("top pods")).startswith("No resources found in")
    with pytest.raises(BadRequest) as forward:
        cluster.kubectl("port-forward deploy/web 8080:80")
    assert "needs a runtime that runs real processes" in str(forward.value)
    resources = cluster.kubectl("api-resources")
    assert list(resources.columns) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    row = resources[resources["NAME"] == "deployments"].iloc[0]
    assert (row["SHORTNAMES"], row["APIVERSION"], row["NAMESPACED"], row["KIND"]) == (
        "deploy",
        "apps/v1",
        "true",
        "Deployment",
    )
    wide = cluster.kubectl("api-resources -o wide")
    assert list(wide.columns[-2:]) == ["VERBS", "CATEGORIES"]
    explained = cluster.kubectl("explain deploy.spec.replicas")
    assert explained.splitlines()[:5] == [
        "GROUP:      apps",
        "KIND:       Deployment",
        "VERSION:    v1",
        "",
        "FIELD: replicas <integer>",
    ]
    assert "  containers\t<[]Container> -required-" in cluster.kubectl("explain pods.spec")
    with pytest.raises(UsageError, match='field "replicaz" does not exist'):
        cluster.kubectl("explain deploy.spec.replicaz")


def test_events(cluster: Cluster, web: str) -> None:
    events = cluster.kubectl(f"events -n {web}")
    assert list(events.columns) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "Deployment/web" in set(events["OBJECT"])
    mine = cluster.kubectl(f"events -n {web} --for deploy/web")
    assert set(mine["OBJECT"]) == {"Deployment/web"} and set(mine["REASON"]) == {"ScalingReplicaSet"}
    assert cluster.kubectl("events -A").columns[0] == "NAMESPACE"
    with pytest.raises(UsageError, match="valid --types are Normal or Warning"):
        cluster.kubectl("events --types=Bad")


def test_create_run_and_apply_file(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    assert (
        cluster.kubectl(f"create deployment api --image=nginx --replicas=1 -n {ns}")
        == "deployment.apps/api created"
    )
    assert (
        cluster.kubectl(f"create configmap settings --from-literal=a=1 -n {ns}")
        == "configmap/settings created"
    )
    assert cluster.kubectl(f"run one --image=busybox -n {ns} -- sleep 3600") == "pod/one created"
    folder = tmp_path / "manifests"
    (folder / "nested").mkdir(parents=True)
    (folder / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\ndata: {a: '1'}\n"
    )
    (folder / "nested" / "cm2.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\n")
    assert cluster.kubectl(f"apply -f {folder} -n {ns}") == "configmap/from-file created"
    assert cluster.kubectl(f"apply -f {folder} -R -n {ns}").splitlines() == [
        "configmap/from-file unchanged",
        "configmap/deep created",
    ]
    assert (
        cluster.kubectl(f"apply -f {folder}/cm.yaml -n {ns} --dry-run=client")
        == "configmap/from-file unchanged (dry run)"
    )
    assert cluster.kubectl(f"delete -f {folder} -R -n {ns}").splitlines() == [
        'configmap "from-file" deleted',
        'configmap "deep" deleted',
    ]


# --------------------------------------------------------------------------- help and mistakes


def test_help(cluster: Cluster) -> None:
    general = cluster.kubectl("--help")
    assert (
        "Basic Commands (Intermediate):" in general
        and "  get             Display one or many resources" in general
    )
    get_help = cluster.kubectl("get --help")
    assert get_help.startswith("Display one or many resources.") and "Usage:\n  kubectl get" in get_help
    assert "--all-namespaces=false:" in get_help
    assert cluster.kubectl("help logs").startswith("Print the logs for a container in a pod.")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("gte pods", 'error: unknown command "gte" for "kubectl"\n\nDid you mean this?\n\tget'),
        (
            "get deploymnets",
            'the server doesn\'t have a resource type "deploymnets"\ndid you mean deployments?',
        ),
        ("get pods --namspace x", "error: unknown flag: --namspace\nDid you mean --namespace?"),
        ("get pods -z", "error: unknown shorthand flag: 'z' in -z"),
        ("scale deploy/web", "error: the following arguments are required: --replicas"),
        ("get", "error: You must specify the type of resource to get."),
        ("logs", "POD or TYPE/NAME is a required argument for the logs command"),
    ],
)
def test_mistakes_answer_like_kubectl(cluster: Cluster, line: str, message: str) -> None:
    with pytest.raises(NbClusterError) as info:
        cluster.kubectl(line)
    assert format_error(info.value).startswith(message) or message in format_error(info.value)
    assert format_error(info.value).startswith(("error:", "Error from server"))


# --------------------------------------------------------------------------- contexts and clusters


def test_contexts_and_clusters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NBCLUSTER_RUNTIME", "simulated")
    registry = contexts.Registry(tmp_path / "state")
    kubectl = Kubectl(None, registry)
    try:
        with pytest.raises(UsageError, match="current-context is not set"):
            kubectl.run("config current-context")
        created = kubectl.run("cluster create one")
        assert created.splitlines() == [
            'Cluster "one" created: 1 control-plane node and 0 agents on the simulated runtime '
            "(NBCLUSTER_RUNTIME=simulated).",
            'Switched to context "one".',
        ]
        kubectl.run("cluster create two --agents 2")
        assert kubectl.run("config current-context") == "two"
        listed = kubectl.run("cluster list")
        assert listed.to_dict("records")[1] == {
            "NAME": "two",
            "SERVERS": "1/1",
            "AGENTS": "2/2",
            "RUNTIME": "simulated",
            "CURRENT": "*",
        }
        nodes = registry.get("two").kubectl("get nodes")
        assert list(nodes["NAME"]) == ["two-agent-0", "two-agent-1", "two-control-plane"]
        assert kubectl.run("config use-context one") == 'Switched to context "one".'
        assert (
            kubectl.run("config set-context --current --namespace=kube-system") == 'Context "one" modified.'
        )
        assert registry.current().namespace == "kube-system"
        contexts_table = kubectl.run("config get-contexts")
        assert list(contexts_table.columns) == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
        assert contexts_table.to_dict("records")[0] == {
            "CURRENT": "*",
            "NAME": "one",
            "CLUSTER": "one",
            "AUTHINFO": "one",
            "NAMESPACE": "kube-system",
        }
        view = yaml.safe_load(kubectl.run("config view"))
        assert view["current-context"] == "one" and [c["name"] for c in view["contexts"]] == ["one", "two"]
        assert view["contexts"][0]["context"]["namespace"] == "kube-system"
        for name in ("one", "two"):
            on_disk = yaml.safe_load((tmp_path / "state" / name / "kubeconfig").read_text())
            assert on_disk == view
        with pytest.raises(UsageError, match='no context exists with the name: "three"'):
            kubectl.run("config use-context three")
        with pytest.raises(NbClusterError, match="already exists"):
            kubectl.run("cluster create two")
        assert kubectl.run("cluster delete one").splitlines() == [
            'Cluster "one" deleted.',
            'Current context: "two".',
        ]
        assert registry.names() == ["two"]
        assert not (tmp_path / "home" / ".kube").exists()
    finally:
        registry.stop_all()


def test_runtime_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCLUSTER_RUNTIME", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    name, reason = contexts.choose_runtime("auto")
    no_docker = f"no Docker daemon answered at unix://{tmp_path}/no-docker.sock"
    if contexts._runtime_built("process"):
        assert (name, reason) == ("process", no_docker)
    else:
        assert (name, reason) == ("simulated", f"{no_docker}; the process runtime is not available yet")
    monkeypatch.setenv("NBCLUSTER_RUNTIME", "simulated")
    assert contexts.choose_runtime("auto") == ("simulated", "NBCLUSTER_RUNTIME=simulated")
    assert contexts.choose_runtime("simulated") == ("simulated", "asked for")
    monkeypatch.setenv("NBCLUSTER_RUNTIME", "podman")
    with pytest.raises(UsageError, match='NBCLUSTER_RUNTIME="podman" is not a runtime'):
        contexts.choose_runtime("auto")


def test_tabwriter_is_gos() -> None:
    # text/tabwriter: a column block ends at a line without that cell
    text = "a:\tb\nlong name:\tc\nno tab\nx:\ty"
    assert tabwrite(text, padding=2).splitlines() == [
        "a:" + " " * 10 + "b",
        "long name:  c",
        "no tab",
        "x:  y",
    ]


def test_run_attached_prints_the_output_and_rm_deletes_the_pod(cluster: Cluster, ns: str) -> None:
    sim = "--annotations=sim.nbcluster.io/logs=hello --annotations=sim.nbcluster.io/duration=0.3"
    printed: list[str] = []
    out = cluster.kubectl(
        f"run hi -n {ns} -it --rm --restart=Never --image=busybox {sim} -- echo hello", out=printed.append
    )
    assert printed == ["hello", 'pod "hi" deleted'] and out == ""
    assert cluster.objects("pods", namespace=ns) == []
    # without a printer the lines come back; a failing command is kubectl's error, after the output
    failing = f"{sim} --annotations=sim.nbcluster.io/exit-code=3"
    with pytest.raises(
        NbClusterError, match=f'hello\npod "bad" deleted\npod {ns}/bad terminated \\(Error\\)'
    ):
        cluster.kubectl(f"run bad -n {ns} -i --rm --restart=Never --image=busybox {failing} -- false")
    with pytest.raises(UsageError, match="--rm should only be used for attached containers"):
        cluster.kubectl(f"run x -n {ns} --rm --image=busybox")
    assert cluster.kubectl(f"run kept -n {ns} --attach --restart=Never --image=busybox {sim}") == "hello"
    assert cluster.api.get("pods", "kept", namespace=ns)["status"]["phase"] == "Succeeded"
