"""nbcluster.ui.magics: %load_ext nbcluster, %kube and %%kube, driven through a real IPython shell.

The shell is IPython's test shell (``IPython.testing.globalipapp``); NBCLUSTER_RUNTIME=simulated
and the state root is a temporary folder. What a user sees is captured from stdout/stderr:
mistakes must show kubectl's message and never a Python traceback.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nbcluster
from nbcluster.api.yamlio import dump_yaml, load_documents
from nbcluster.cli import contexts
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_names = itertools.count()


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    saved = {key: os.environ.get(key) for key in ("NBCLUSTER_RUNTIME", "NBCLUSTER_NODES")}
    os.environ["NBCLUSTER_RUNTIME"] = "simulated"
    os.environ["NBCLUSTER_NODES"] = "2"
    contexts.set_state_root(tmp_path_factory.mktemp("state"))
    ip = start_ipython() or get_ipython()  # start_ipython() answers None once the test shell exists
    ip.run_line_magic("load_ext", "nbcluster")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "nbcluster")
        contexts.set_state_root(None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Seen:
    """What one cell printed and returned."""

    def __init__(self, result: Any, out: str, err: str) -> None:
        self.result = result
        self.value = result.result
        self.out = _ANSI.sub("", out)
        self.err = _ANSI.sub("", err)
        self.raw_err = err

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def run(shell: Any, capsys: pytest.CaptureFixture[str]) -> Any:
    def run_cell(source: str) -> Seen:
        capsys.readouterr()
        result = shell.run_cell(source)
        captured = capsys.readouterr()
        seen = Seen(result, captured.out, captured.err)
        return seen

    return run_cell


@pytest.fixture
def ns(run: Any) -> str:
    name = f"m{next(_names)}"
    assert run(f"%kube create namespace {name}").value == f"namespace/{name} created"
    return name


def no_traceback(seen: Seen) -> None:
    assert seen.result.success, seen.result.error_in_exec
    assert "Traceback" not in seen.text and "most recent call last" not in seen.text


# --------------------------------------------------------------------------- loading


def test_importing_nbcluster_does_not_import_ipython() -> None:
    import subprocess

    code = "import nbcluster, sys; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_load_starts_one_cluster_and_loading_again_reattaches(shell: Any, run: Any, capsys: Any) -> None:
    registry = contexts.default_registry()
    assert registry.names() == ["nbcluster"]
    cluster = registry.current()
    assert cluster.runtime.name == "simulated" and len(cluster.options.nodes) == 2
    again = run("%load_ext nbcluster")
    assert "already loaded" in again.text
    capsys.readouterr()
    nbcluster.load_ipython_extension(shell)  # a second load, straight through the hook
    line = capsys.readouterr().out
    assert line.startswith('nbcluster: re-attached to cluster "nbcluster"')
    assert registry.names() == ["nbcluster"] and registry.current() is cluster


def test_load_line_says_runtime_reason_nodes_and_help(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from nbcluster.ui import magics

    monkeypatch.setenv("NBCLUSTER_RUNTIME", "simulated")
    monkeypatch.setenv("NBCLUSTER_NODES", "1")
    registry = contexts.Registry(tmp_path)
    try:
        line = magics._start_default(registry)
    finally:
        registry.stop_all()
    assert line == (
        'nbcluster: cluster "nbcluster" runs on the simulated runtime (NBCLUSTER_RUNTIME=simulated); '
        "1 node. Try %kube get nodes, or %kube --help."
    )
    assert "\n" not in line


# --------------------------------------------------------------------------- %kube


def test_line_magic_is_cluster_kubectl(run: Any, ns: str) -> None:
    run(f"%kube run one --image=busybox -n {ns}")
    seen = run(f"df = %kube get pods -n {ns}\ndf")
    no_traceback(seen)
    df = seen.value
    assert isinstance(df, pd.DataFrame) and list(df["NAME"]) == ["one"]
    same = contexts.default_registry().current().kubectl(f"get pods -n {ns}")
    assert list(df.columns) == list(same.columns) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NAME   READY   STATUS" in seen.out  # shown as kubectl prints it


def test_tables_display_styled_but_stay_plain(shell: Any, run: Any, ns: str) -> None:
    run(f"%kube run one --image=busybox -n {ns}")
    contexts.default_registry().current().wait("pods", namespace=ns, condition="Ready", timeout=20)
    df = run(f"%kube get pods -n {ns}").value
    assert type(df) is pd.DataFrame
    html = shell.display_formatter.formatters["text/html"]
    enabled, html.enabled = html.enabled, True  # a terminal shell shows no HTML; a notebook does
    try:
        data = shell.display_formatter.format(df)[0]
        plain = shell.display_formatter.format(pd.DataFrame({"a": [1]}))[0]
    finally:
        html.enabled = enabled
    assert "<th" in data["text/html"] and "color: #1a7f37" in data["text/html"]  # Running is green
    assert "color: #" not in plain["text/html"]  # other DataFrames look as usual


def test_python_variables_expand_in_line_magics(run: Any, ns: str) -> None:
    run(f"target = '{ns}'\nreplicas = 2")
    seen = run("%kube create deployment api --image=nginx --replicas=$replicas -n {target}")
    no_traceback(seen)
    assert seen.value == "deployment.apps/api created"
    # IPython expands all or nothing: with a variable on the line, JSONPath braces are doubled
    assert run("%kube get deploy api -n $target -o jsonpath={{.spec.replicas}}").value == "2"
    assert run(f"%kube get deploy api -n {ns} -o jsonpath={{.spec.replicas}}").value == "2"


def test_cell_magic_vars_are_opt_in(run: Any, ns: str) -> None:
    run(f"app_name = 'shop'\nns_name = '{ns}'")
    body = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app_name}\n  namespace: {ns_name}\n"
        "  labels: {{tier: back}}\ndata:\n  json: '{{\"a\": 1}}'\n"
    )
    seen = run("%%kube apply --vars\n" + body)
    no_traceback(seen)
    assert seen.value == "configmap/shop created"
    assert run(f"%kube get cm shop -n {ns} -o jsonpath={{.data.json}}").value == '{"a": 1}'
    # without --vars, braces are YAML: a flow mapping
    seen = run(
        f"%%kube apply -n {ns}\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: plain, labels: {{a: b}}}}\n"
    )
    assert seen.value == "configmap/plain created"
    seen = run("%%kube apply --vars\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: {missing}}\n")
    no_traceback(seen)
    assert "error: --vars: name 'missing' is not defined in the notebook" in seen.err


def test_dry_run_and_delete_cells(run: Any, ns: str) -> None:
    cell = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: {ns}\n"
    assert run("%%kube apply --dry-run=client\n" + cell).value == "configmap/dry created (dry run)"
    assert run("%%kube apply --dry-run=server\n" + cell).value == "configmap/dry created (server dry run)"
    assert run(f"%kube get cm -n {ns} -o name").value is None  # nothing was created
    assert run("%%kube create\n" + cell).value == "configmap/dry created"
    seen = run("%%kube create\n" + cell)
    no_traceback(seen)
    assert "Error from server (AlreadyExists)" in seen.err and 'configmaps "dry" already exists' in seen.err
    assert run("%%kube replace\n" + cell + "data: {a: b}\n").value == "configmap/dry replaced"
    seen = run("%%kube delete\n" + cell)
    assert 'configmap "dry" deleted' in seen.out


def test_apply_and_delete_files(run: Any, ns: str, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "sub" / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    assert run(f"%kube apply -f {tmp_path} -R -n {ns}").value == "configmap/a created\nconfigmap/b created"
    seen = run(f"%kube delete -f {tmp_path} -R -n {ns}")
    assert seen.out.splitlines() == ['configmap "a" deleted', 'configmap "b" deleted']


def test_help(shell: Any, run: Any) -> None:
    assert "Basic Commands (Beginner):" in run("%kube --help").out
    assert run("%kube scale --help").value.startswith("Set a new size for a deployment")
    seen = run("%kube?")
    no_traceback(seen)
    assert "%%kube apply" in seen.out and "%kube VERB" in seen.out


def test_rollout_status_prints_as_it_goes(run: Any, ns: str) -> None:
    run(f"%kube create deployment web --image=nginx --replicas=2 -n {ns}")
    seen = run(f"%kube rollout status deploy/web -n {ns} --timeout=30s")
    no_traceback(seen)
    assert seen.value is None
    assert seen.out.splitlines()[-1] == 'deployment "web" successfully rolled out'


def test_logs_and_exec(run: Any, ns: str) -> None:
    run(f"%kube run one --image=busybox -n {ns} -- sleep 1000")
    contexts.default_registry().current().wait("pods", namespace=ns, condition="Ready", timeout=20)
    assert "busybox" in run(f"%kube logs one -n {ns}").value
    assert "hi" in run(f"%kube exec one -n {ns} -- echo hi").value


def test_clusters_and_contexts(run: Any) -> None:
    seen = run("%kube cluster create second --agents 1")
    no_traceback(seen)
    try:
        assert 'Switched to context "second".' in seen.value
        assert run("%kube config current-context").value == "second"
        assert list(run("%kube get nodes").value["NAME"]) == ["second-agent-0", "second-control-plane"]
        assert run("%kube config use-context nbcluster").value == 'Switched to context "nbcluster".'
        assert len(run("%kube get nodes").value) == 2
    finally:
        assert run("%kube cluster delete second").value.startswith('Cluster "second" deleted.')
        run("%kube config use-context nbcluster")


def test_port_forward_and_top_say_why(run: Any) -> None:
    seen = run("%kube port-forward pod/x 8080:80")
    no_traceback(seen)
    assert "needs a runtime that runs real processes" in seen.err and "simulated runtime" in seen.err
    top = run("%kube top nodes")
    assert top.err == "" and "CPU(cores)" in top.out


# --------------------------------------------------------------------------- mistakes


def test_errors_are_red_on_stderr(run: Any) -> None:
    seen = run("%kube get deploymnets")
    assert seen.raw_err.startswith("\x1b[31m") and seen.out == ""


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "%kube get deploymnets",
            'error: the server doesn\'t have a resource type "deploymnets"\ndid you mean deployments?',
        ),
        ("%kube get pods --selecter app=web", "error: unknown flag: --selecter\nDid you mean --selector?"),
        ("%kube gett pods", 'error: unknown command "gett" for "kubectl"\n\nDid you mean this?\n\tget'),
        (
            "%%kube apply\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: Pod\n"
            "metadata:\n  name: y\n   labels: {}\n",
            "error: error parsing <cell>:10:10 (document 2): mapping values are not allowed",
        ),
        (
            "%%kube apply\napiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers:\n"
            "  - name: c\n    imag: nginx\n",
            'unknown field "spec.containers[0].imag"',
        ),
        (
            "%%kube apply\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typed}\nspec:\n  replicas: three\n"
            "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
            "    spec: {containers: [{name: c, image: nginx}]}\n",
            "spec.replicas",
        ),
        (
            "%%kube apply -n nowhere\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lost}\n",
            'Error from server (NotFound): error when applying document 1, ConfigMap "lost" at <cell>:1: '
            'namespaces "nowhere" not found',
        ),
        (
            "%%kube apply\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: k}\n",
            'no matches for kind "Deploymnet" in version "apps/v1"',
        ),
        (
            "%%kube get\nfoo: bar\n",
            'error: %%kube "get": the cell form takes apply, create, replace or delete',
        ),
        ("%%kube apply\n# only a comment\n", "error: no objects passed to apply"),
    ],
)
def test_mistakes_show_the_message_and_no_traceback(run: Any, cell: str, message: str) -> None:
    seen = run(cell)
    no_traceback(seen)
    assert message in seen.err, seen.err


def test_wrong_type_message(run: Any) -> None:
    seen = run(
        "%%kube apply\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typed}\nspec:\n"
        "  replicas: three\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
        "    spec: {containers: [{name: c, image: nginx}]}\n"
    )
    assert "spec.replicas" in seen.err and ("integer" in seen.err or "Invalid type" in seen.err)


def test_internal_errors_keep_their_traceback(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbcluster.cli.kubectl import Kubectl

    def broken(self: Kubectl, argv: list[str]) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Kubectl, "api_resources", broken)
    cluster = contexts.default_registry().current()
    monkeypatch.setitem(cluster._kubectl._verbs, "api-resources", broken.__get__(cluster._kubectl))
    seen = run("%kube api-resources")
    assert isinstance(seen.result.error_in_exec, RuntimeError)
    assert "RuntimeError" in seen.text


# --------------------------------------------------------------------------- following, exit codes, shutdown


def test_logs_follow_prints_until_the_container_stops(run: Any, ns: str) -> None:
    cell = (
        "%%kube apply\napiVersion: v1\nkind: Pod\nmetadata:\n  name: talker\n"
        f"  namespace: {ns}\n  annotations:\n    sim.nbcluster.io/duration: '1'\n"
        '    sim.nbcluster.io/logs: "one\\ntwo\\n"\nspec:\n  restartPolicy: Never\n'
        "  containers:\n  - name: c\n    image: busybox\n"
    )
    run(cell)
    contexts.default_registry().current().wait("pods", namespace=ns, condition="Running", timeout=20)
    seen = run(f"%kube logs -f talker -n {ns}")
    no_traceback(seen)
    assert seen.value is None
    assert seen.out.splitlines()[:2] == ["one", "two"]


def test_exec_exit_code_is_reported(run: Any, ns: str) -> None:
    cell = (
        "%%kube apply\napiVersion: v1\nkind: Pod\nmetadata:\n  name: failing\n"
        f"  namespace: {ns}\n  annotations:\n    sim.nbcluster.io/exec-exit-code: '3'\n"
        "spec:\n  containers:\n  - name: c\n    image: busybox\n"
    )
    run(cell)
    contexts.default_registry().current().wait("pods", namespace=ns, condition="Ready", timeout=20)
    seen = run(f"%kube exec failing -n {ns} -- false")
    no_traceback(seen)
    assert seen.err.strip() == "command terminated with exit code 3"


def test_kernel_exit_stops_the_clusters(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import atexit\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'nbcluster')\n"
        "from nbcluster.cli import contexts\n"
        "c = contexts.default_registry().current()\n"
        "print('running', c.running)\n"
        "atexit._run_exitfuncs()\n"
        "print('after exit', c.running)\n"
    )
    env = {**os.environ, "NBCLUSTER_RUNTIME": "simulated", "NBCLUSTER_STATE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "running True" in out.stdout and "after exit False" in out.stdout, out.stdout + out.stderr


# --------------------------------------------------------------------------- the shared examples


#: Objects whose re-apply kubectl itself reports as "configured": an atomic list (no patch merge
#: key) that the API server defaults (volumeClaimTemplates gain volumeMode, podFailurePolicy rules
#: gain status), so the three-way patch of current vs. the manifest is never empty.
CONFIGURED_ON_REAPPLY = {
    "statefulset.apps/web",
    "statefulset.apps/zk",
    "job.batch/job-pod-failure-policy-example",
}

#: Known bugs outside the notebook interface (see the report of issue 3).
KNOWN_BUGS: dict[str, str] = {}


def _manifests() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))


def _with_label(text: str, value: str | None) -> str:
    docs = []
    for document in load_documents(text, source="example"):
        obj = document.obj
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        if value is None:
            labels.pop("nbcluster-test", None)
            if not labels:
                del obj["metadata"]["labels"]
        else:
            labels["nbcluster-test"] = value
        docs.append(dump_yaml(obj))
    return "---\n".join(docs)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.xfail(reason=KNOWN_BUGS[p.stem])) if p.stem in KNOWN_BUGS else p
        for p in _manifests()
    ],
    ids=lambda p: p.stem,
)
def test_shared_example_applies_like_kubectl(run: Any, path: Path) -> None:
    text = path.read_text()
    documents = load_documents(text, source=path.name)
    own = {
        d.obj["metadata"].get("namespace") for d in documents if d.obj.get("metadata", {}).get("namespace")
    }
    for name in own - {"default", "kube-system"}:
        run(f"%kube create namespace {name}")
    flags = "" if own else f" -n x{next(_names)}"
    if flags:
        run(f"%kube create namespace {flags.split()[-1]}")
    try:
        first = run(f"%%kube apply{flags}\n{text}")
        no_traceback(first)
        assert first.err == ""
        lines = first.value.splitlines()
        assert len(lines) == len(documents) and all(line.endswith(" created") for line in lines), lines
        again = run(f"%%kube apply{flags}\n{text}")
        for line in again.value.splitlines():
            name = line.rsplit(" ", 1)[0]
            assert line.endswith(" configured" if name in CONFIGURED_ON_REAPPLY else " unchanged"), (
                again.value
            )
        changed = run(f"%%kube apply{flags}\n{_with_label(text, 'one')}")
        assert all(line.endswith(" configured") for line in changed.value.splitlines()), changed.value
        cluster = contexts.default_registry().current()
        namespace = flags.split()[-1] if flags else None

        def live_labels() -> list[dict[str, str]]:
            out = []
            for document in documents:
                meta = document.obj["metadata"]
                kind = (
                    f"{document.obj['kind'].lower()}.{document.obj['apiVersion'].rpartition('/')[0]}".rstrip(
                        "."
                    )
                )
                ns_flag = (
                    f" -n {meta.get('namespace') or namespace}"
                    if (meta.get("namespace") or namespace)
                    else ""
                )
                obj = cluster.kubectl(f"get {kind} {meta['name']}{ns_flag} -o json")
                import json

                out.append(json.loads(obj)["metadata"].get("labels") or {})
            return out

        assert all(labels.get("nbcluster-test") == "one" for labels in live_labels())
        removed = run(f"%%kube apply{flags}\n{_with_label(text, None)}")
        assert all(line.endswith(" configured") for line in removed.value.splitlines()), removed.value
        assert all("nbcluster-test" not in labels for labels in live_labels())
    finally:
        run(f"%%kube delete --wait=false --ignore-not-found{flags}\n{text}")


def test_unload_stops_everything_and_load_starts_again(shell: Any, run: Any) -> None:
    registry = contexts.default_registry()
    before = registry.current()
    run("%kube cluster create extra")
    seen = run("%unload_ext nbcluster")
    assert "nbcluster: stopped nbcluster, extra." in seen.out
    assert registry.names() == [] and not before.running
    assert "kube" not in shell.magics_manager.magics["line"]
    seen = run("%load_ext nbcluster")
    assert seen.out.startswith('nbcluster: cluster "nbcluster" runs on the simulated runtime')
    assert registry.current().running and registry.current() is not before
