"""nbcluster.ui.widgets, headless: widget state (traitlets) against a real simulated cluster.

One simulated cluster serves the module; each test works in its own namespace and
closes what it opens. What a browser would show is the widgets' trait values (the
HTML of a table, a slider's value); the browser itself is tested in tests/browser.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nbcluster.cluster import Cluster
from nbcluster.ui import widgets as live_widgets
from nbcluster.ui.widgets import _registry
from nbcluster.ui.widgets._hub import THREAD_NAME, hub

_names = itertools.count()


def deployment(name: str, replicas: int, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def bare_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"run": name}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }


def eventually(check: Callable[[], Any], timeout: float = 1.0, what: str = "condition") -> float:
    """Poll ``check`` until truthy; return the seconds it took (fail after ``timeout``)."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.02)


def widget_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster("widgets", runtime="simulated", nodes=2)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    name = f"w{next(_names)}"
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    live_widgets.close_all()
    for client in hub().clients:
        client._live_release("test over")  # type: ignore[attr-defined]
    assert not widget_threads()


def running(table: live_widgets.LiveTable) -> int:
    frame = table.df
    return int((frame["STATUS"] == "Running").sum()) if not frame.empty else 0


# ------------------------------------------------------------------------------ live tables


def test_live_table_df_follows_creates_and_deletes(cluster: Cluster, ns: str) -> None:
    table = live_widgets.live(cluster, "pods", namespace=ns)
    assert table.df.empty
    assert table.df.attrs["nbcluster.empty"] == f"No resources found in {ns} namespace."
    assert "No resources found" in table.html.value
    cluster.apply(bare_pod("one"), namespace=ns)
    cluster.apply(bare_pod("two"), namespace=ns)
    took = eventually(lambda: list(table.df["NAME"]) == ["one", "two"], what="two rows")
    assert took < 1.0
    eventually(lambda: running(table) == 2, timeout=5, what="two Running")
    # the same columns as `get` (kubectl's), and the HTML shows them coloured
    assert list(table.df.columns) == list(cluster.get("pods", namespace=ns).columns)
    eventually(lambda: '<td class="nb-ok">Running</td>' in table.html.value, what="Running cell in the HTML")
    assert re.findall(r"<th>([^<]+)</th>", table.html.value) == list(table.df.columns)
    cluster.api.delete("pods", "one", namespace=ns, grace_period_seconds=0)
    eventually(lambda: list(table.df["NAME"]) == ["two"], what="deleted row gone")
    eventually(lambda: ">one<" not in table.html.value, what="deleted row gone from the HTML")
    table.close()
    assert not table.live


def test_live_table_selector_and_all_namespaces(cluster: Cluster, ns: str) -> None:
    picked = live_widgets.live(cluster, "pods", namespace=ns, selector="run=keep")
    everywhere = live_widgets.live(cluster, "pods", all_namespaces=True)
    cluster.apply(bare_pod("keep"), namespace=ns)
    cluster.apply(bare_pod("other"), namespace=ns)
    eventually(lambda: list(picked.df["NAME"]) == ["keep"], what="selected row")
    eventually(lambda: {"keep", "other"} <= set(everywhere.df["NAME"]), what="all namespaces")
    assert everywhere.df.columns[0] == "NAMESPACE"
    # relabelled out of the selector: the row goes
    cluster.api.patch(
        "pods", "keep", {"metadata": {"labels": {"run": "gone"}}}, namespace=ns, patch_type="merge"
    )
    eventually(lambda: picked.df.empty, what="relabelled row gone")


def test_age_keeps_ticking_and_redraws_are_throttled(cluster: Cluster, ns: str) -> None:
    table = live_widgets.live(cluster, "pods", namespace=ns)
    cluster.apply(bare_pod("tick"), namespace=ns)
    eventually(lambda: ">tick<" in table.html.value, what="row shown")

    def age() -> str:
        return re.findall(r"<td>(\d+s)</td></tr>", table.html.value)[-1]

    first = age()
    eventually(lambda: age() != first, timeout=2.5, what="AGE ticking with no change")
    # a burst of 40 changes in ~1 s: at most 4 redraws a second (plus the AGE tick)
    before, started = table.redraws, time.monotonic()
    for i in range(40):
        cluster.api.patch(
            "pods", "tick", {"metadata": {"labels": {"n": str(i)}}}, namespace=ns, patch_type="merge"
        )
        time.sleep(0.025)
    time.sleep(0.3)
    elapsed = time.monotonic() - started
    assert table.redraws - before <= 4 * elapsed + 2


def test_thirty_widgets_share_one_watch(cluster: Cluster, ns: str) -> None:
    watches = cluster.api.store.watch_count
    tables = [live_widgets.live(cluster, "pods", namespace=ns, selector=f"n={i}") for i in range(30)]
    assert cluster.api.store.watch_count == watches + 1
    assert len(widget_threads()) == 1
    for table in tables:
        table.close()
    assert cluster.api.store.watch_count == watches
    assert not widget_threads()


# ------------------------------------------------------------------------------ sliders


def test_slider_scales_once_per_burst(cluster: Cluster, ns: str) -> None:
    cluster.apply(deployment("web", 2), namespace=ns)
    slider = live_widgets.scale_widget(cluster, "deploy/web", namespace=ns, max=8)
    table = live_widgets.live(cluster, "pods", namespace=ns)
    assert (slider.slider.value, slider.slider.max, slider.slider.continuous_update) == (2, 8, False)
    for value in (3, 4, 5):  # three key presses: one scale
        slider.slider.value = value
    eventually(
        lambda: cluster.api.get("deployments", "web", namespace=ns)["spec"]["replicas"] == 5, what="scaled"
    )
    eventually(lambda: running(table) == 5, timeout=5, what="5 Running")
    assert slider.scale_calls == 1
    eventually(lambda: "<b>5</b>/5 ready" in slider.readout.value, what="readout")
    eventually(lambda: slider.chips.value.count('class="nb-ok"') == 5, what="five green chips")


def test_outside_scale_moves_the_slider(cluster: Cluster, ns: str) -> None:
    cluster.apply(deployment("api", 1), namespace=ns)
    slider = live_widgets.scale_widget(cluster, "deploy/api", namespace=ns)
    assert slider.slider.max == 10
    cluster.kubectl(f"scale deploy/api --replicas=3 -n {ns}")
    took = eventually(lambda: slider.slider.value == 3, what="slider at 3")
    assert took < 1.0
    cluster.api.scale("deployments", "api", 14, namespace=ns)  # beyond --max: the range grows
    eventually(lambda: (slider.slider.value, slider.slider.max) == (14, 14), what="slider at 14")
    time.sleep(slider.debounce + 0.2)
    assert slider.scale_calls == 0  # moving it from the cluster side sent nothing back


def test_statefulset_slider(cluster: Cluster, ns: str) -> None:
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "x"}]},
            },
        },
    }
    cluster.apply(sts, namespace=ns)
    slider = live_widgets.scale_widget(cluster, "sts/db", namespace=ns, max=4)
    slider.slider.value = 2
    eventually(
        lambda: cluster.api.get("statefulsets", "db", namespace=ns)["spec"]["replicas"] == 2, what="sts"
    )


# ------------------------------------------------------------------------------ rollout, logs


def test_rollout_shows_old_and_new_replicasets(cluster: Cluster, ns: str) -> None:
    cluster.apply(deployment("roll", 3), namespace=ns)
    view = live_widgets.rollout_widget(cluster, "deploy/roll", namespace=ns)
    view.wait(10)
    cluster.kubectl(f"set image deploy/roll roll=nginx:1.26 -n {ns}")
    assert view.wait(10) == 'deployment "roll" successfully rolled out'
    eventually(lambda: [role for role, _rs in view.replica_sets()] == ["new", "old"], what="two ReplicaSets")
    (_, new), (_, old) = view.replica_sets()
    assert (new["spec"]["replicas"], old["spec"]["replicas"]) == (3, 0)
    view.refresh()
    assert "nginx:1.26" in view.sets.value and "nginx:1.25" in view.sets.value
    assert (view.updated.value, view.updated.max, view.ready.value) == (3, 3, 3)
    assert any("Waiting" in m for m in view.messages) or view.messages[-1].endswith("rolled out")


def test_logs_follow_a_selector_with_prefixes(cluster: Cluster, ns: str) -> None:
    cluster.apply(deployment("log", 2), namespace=ns)
    cluster.wait("pods", namespace=ns, selector="app=log", condition="Running", count=2, timeout=5)
    view = live_widgets.logs_widget(cluster, selector="app=log", namespace=ns, max_lines=3)
    eventually(lambda: len(view.lines) == 2, timeout=3, what="two log lines")
    assert all(re.match(r"\[pod/log-[a-z0-9]+-[a-z0-9]+/log\] \[simulated\]", line) for line in view.lines)
    cluster.kubectl(f"scale deploy/log --replicas=4 -n {ns}")
    eventually(lambda: len(view.lines) == 3, timeout=5, what="bounded to 3 lines")
    # lines arrive on the control plane's loop; the hub redraws within a quarter second
    eventually(lambda: "[pod/log-" in view.output.value, timeout=2, what="lines drawn")


# ------------------------------------------------------------------------------ dashboard


def test_dashboard_delete_pod_and_node_buttons(cluster: Cluster, ns: str) -> None:
    cluster.apply(deployment("dash", 2), namespace=ns)
    cluster.wait("pods", namespace=ns, selector="app=dash", condition="Running", count=2, timeout=5)
    board = live_widgets.dashboard(cluster, namespace=ns)
    eventually(lambda: len(board.pod_pick.options) == 2, what="pods to pick")
    before = {value[1] for _label, value in board.pod_pick.options}
    board.delete_pod_button.click()
    assert "deleted" in board.message.value
    eventually(lambda: len(set(board.pods.df["NAME"]) - before) == 1, timeout=3, what="replacement pod")
    eventually(lambda: "nb-new-row" in board.events.html.value, timeout=3, what="marked events")
    eventually(
        lambda: "Events (+" in board.tabs.get_title(4), timeout=2, what="new events counted in the tab"
    )
    # nodes: capacity and allocation, stop and start
    nodes = board.nodes.df
    assert {"CPU REQUESTS", "MEMORY REQUESTS", "PODS"} <= set(nodes.columns)
    node = board.node_pick.options[0]
    board.node_pick.value = node
    board.stop_node_button.click()
    assert "stopped" in board.message.value and "NotReady" in board.message.value
    board.start_node_button.click()
    assert "started" in board.message.value
    eventually(lambda: "Deployment" in board.deployments.html.value or "dash" in board.deployments.html.value)
    eventually(lambda: len(board.sliders.sliders) == 1, what="a slider per Deployment")
    eventually(lambda: 'class="nb-pod"' in board.topology.svg.value, what="topology pods")
    assert 'class="nb-node"' in board.topology.svg.value
    board.close()
    assert not board.live and not board.pods.live and all(not s.live for s in board.sliders.sliders.values())


def test_service_urls_come_from_the_hook(cluster: Cluster, ns: str) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front"},
        "spec": {"selector": {"app": "front"}, "ports": [{"port": 80}]},
    }
    cluster.apply(svc, namespace=ns)
    live_widgets.set_service_url_provider(lambda _c, s: f"http://127.0.0.1:8080/{s['metadata']['name']}")
    try:
        board = live_widgets.dashboard(cluster, namespace=ns)
        assert 'href="http://127.0.0.1:8080/front"' in board.services.html.value
    finally:
        live_widgets.set_service_url_provider(None)


# ------------------------------------------------------------------------------ lifecycle


def test_close_releases_watches_and_thread(cluster: Cluster, ns: str) -> None:
    watches = cluster.api.store.watch_count
    cluster.apply(deployment("life", 1), namespace=ns)
    made = [
        live_widgets.live(cluster, "pods", namespace=ns),
        live_widgets.scale_widget(cluster, "deploy/life", namespace=ns),
        live_widgets.rollout_widget(cluster, "deploy/life", namespace=ns),
        live_widgets.logs_widget(cluster, selector="app=life", namespace=ns),
        live_widgets.topology_widget(cluster, namespace=ns),
        live_widgets.dashboard(cluster, namespace=ns),
    ]
    assert widget_threads()
    for widget in made:
        widget.close()
    assert cluster.api.store.watch_count == watches
    assert not widget_threads()
    assert not hub().clients


def test_rerunning_a_cell_closes_its_widgets(cluster: Cluster, ns: str) -> None:
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython() or get_ipython()  # the test shell is started once per process
    _registry.install(ip)
    ip.user_ns.update(cluster=cluster, ns=ns)
    code = "from nbcluster.ui.widgets import live\nt = live(cluster, 'pods', namespace=ns)"
    ip.run_cell(code, cell_id="cell-a")
    first = ip.user_ns["t"]
    ip.run_cell(code, cell_id="cell-a")
    second = ip.user_ns["t"]
    assert not first.live and second.live
    # no cell id (a terminal): the same kind and target replaces the previous one
    ip.run_cell(code)
    third = ip.user_ns["t"]
    ip.run_cell(code)
    assert not third.live and ip.user_ns["t"].live
    live_widgets.close_all()
    assert not second.live and not ip.user_ns["t"].live


def test_cluster_stop_releases_everything() -> None:
    own = Cluster("widgets-stop", runtime="simulated", nodes=1)
    table = live_widgets.live(own, "pods")
    board = live_widgets.dashboard(own)
    assert widget_threads()
    own.stop()
    eventually(lambda: not table.live and not board.live, what="released")
    assert table.stopped_reason == "the cluster stopped"
    assert "stopped following the cluster" in table.status.value
    eventually(lambda: not widget_threads(), what="no widget thread")
    table.close()
    board.close()


# ------------------------------------------------------------------------------ %kube lines


class KernelShell:
    """Stands for a Jupyter kernel's shell: the widget forms that need a frontend are on."""

    kernel = object()


def test_kube_magic_lines_make_widgets(cluster: Cluster, ns: str, tmp_path: Any) -> None:
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    from nbcluster.cli import contexts
    from nbcluster.ui.magics import KubeMagics

    ip = start_ipython() or get_ipython()
    registry = contexts.Registry(tmp_path)
    registry.add(cluster, owned=False)
    magics = KubeMagics(ip, registry)
    cluster.apply(deployment("mag", 2), namespace=ns)
    table = magics.kube(f"get pods -w -n {ns} -l app=mag")
    assert isinstance(table, live_widgets.LiveTable) and table.selector == "app=mag"
    eventually(lambda: table.count == 2, timeout=3, what="two pods in the -w table")
    one = magics.kube(f"get deploy/mag --watch -n {ns} -o wide")
    assert isinstance(one, live_widgets.LiveTable) and list(one.df["NAME"]) == ["mag"]
    assert "SELECTOR" in one.df.columns  # -o wide
    slider = magics.kube(f"scale deploy/mag --widget --max 6 -n {ns}")
    assert isinstance(slider, live_widgets.ScaleSlider) and (slider.slider.value, slider.slider.max) == (2, 6)
    board = magics.kube(f"dashboard -n {ns}")
    assert isinstance(board, live_widgets.Dashboard) and board.namespace == ns
    assert magics.kube(f"get pods -w -o yaml -n {ns}") is None  # kubectl-style error, no widget
    assert magics.kube(f"get pods -n {ns}").shape[0] == 2  # ordinary lines are unchanged


def test_logs_follow_and_rollout_status_in_a_kernel(cluster: Cluster, ns: str) -> None:
    from nbcluster.ui.widgets import magic

    cluster.apply(deployment("kl", 1), namespace=ns)
    cluster.wait("pods", namespace=ns, selector="app=kl", condition="Running", count=1, timeout=5)
    assert magic.widget_for(cluster, f"logs -f -l app=kl -n {ns}") is None  # no kernel: kubectl prints
    view = magic.widget_for(cluster, f"logs -f -l app=kl -n {ns} --tail=5", shell=KernelShell())
    assert isinstance(view, live_widgets.LogsView)
    eventually(lambda: view.lines and view.lines[0].startswith("[pod/kl-"), timeout=3, what="log lines")
    cluster.kubectl(f"set image deploy/kl kl=nginx:1.26 -n {ns}")
    with magic.rollout_progress(cluster, f"rollout status deploy/kl -n {ns}", shell=KernelShell()) as bars:
        assert isinstance(bars, live_widgets.RolloutView) and bars.live
        out = cluster.kubectl(f"rollout status deploy/kl -n {ns} --timeout=20s")
    assert str(out).endswith('deployment "kl" successfully rolled out')
    assert not bars.live and bars.status == 'deployment "kl" successfully rolled out'
    assert bars.updated.value == bars.updated.max == 1
    with magic.rollout_progress(cluster, f"get pods -n {ns}", shell=KernelShell()) as nothing:
        assert nothing is None
