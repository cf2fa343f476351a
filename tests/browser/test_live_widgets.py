"""Live widgets in a real browser: JupyterLab 4 + headless Chromium (Playwright).

``notebooks/live_widgets.ipynb`` starts a simulated cluster with a Deployment of 2,
shows a live pod table, a replica slider and the dashboard. The test runs the cells
one by one as a user would (Shift+Enter), and checks what the browser renders:

1. the live table shows 2 Running pods;
2. the slider, moved with the keyboard from 2 to 5, makes 5 Running rows appear;
3. the dashboard's "Delete pod" button deletes a pod and the replacement appears;
4. redraws keep a scrolled table where it was;
5. ``%kube get pods -w`` (the magic) shows the same live table;
6. while a cell runs ``time.sleep(20)`` (the kernel busy), a scale made from a
   background thread shows in the table, and AGE keeps ticking — widget updates
   sent from the hub thread reach the browser while the kernel is busy.

A screenshot of each step is saved under test-artifacts/screenshots/ (paths printed).
JupyterLab readiness (see ENVIRONMENT.md): wait for the kernel to read Idle, and
confirm a cell really started (its prompt turns to ``[*]`` or a number) — else press
again — before waiting on what it shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "live_widgets.ipynb"
SETUP, TABLE, SLIDER, DASHBOARD, MAGIC, SLEEP = 1, 2, 3, 4, 5, 6  # cell indexes (0 is the title)

_ROWS_JS = """([index, scope]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const box = cell && cell.querySelector(scope + ' .nbcluster-live-table');
  if (!box) return null;
  const table = box.querySelector('table.nbcluster-live');
  if (!table) return [];
  const head = Array.from(table.tHead.rows[0].cells).map(c => c.textContent);
  return Array.from(table.tBodies[0].rows).map(
    r => Object.fromEntries(Array.from(r.cells).map((c, j) => [head[j], c.textContent])));
}"""


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Notebook:
    """The open notebook page: run cells, read prompts and rendered tables."""

    def __init__(self, page: Any, lab: Any) -> None:
        self.page = page
        self.lab = lab

    def kernel_busy(self) -> bool:
        return any(k.get("execution_state") == "busy" for k in self.lab.api("kernels"))

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def prompt(self, index: int) -> str:
        return str(self.cell(index).locator(".jp-InputPrompt").inner_text()).strip()

    def wait_idle(self, timeout: float = 120) -> None:
        def idle() -> bool:
            dialog = self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
            if dialog.count():  # a "Select Kernel" dialog (slow start): take the default, python3
                dialog.first.click()
            texts = self.page.locator(".jp-StatusBar-TextItem").all_text_contents()
            return any(re.search(r"\|\s*Idle", t) for t in texts)

        wait_for(idle, timeout, "the kernel to read Idle", interval=0.25)

    def run(self, index: int, *, wait: bool = True, timeout: float = 60) -> None:
        """Run one cell with Shift+Enter; confirm it started; optionally wait until it finished."""
        before = self.prompt(index)
        for _attempt in range(3):
            self.cell(index).scroll_into_view_if_needed()
            self.cell(index).locator(".jp-InputArea-editor").click()
            self.page.keyboard.press("Shift+Enter")
            try:
                # started: the prompt changed (to [*] or a number), or the kernel is busy running it
                wait_for(
                    lambda: self.prompt(index) != before or self.kernel_busy(), 5, f"cell {index} to start"
                )
                break
            except AssertionError:
                continue  # the readiness flake: the key press went nowhere; press again
        else:
            raise AssertionError(f"cell {index} never started (prompt stays {before!r})")
        if wait:
            wait_for(
                lambda: re.fullmatch(r"\[\d+\]:", self.prompt(index)), timeout, f"cell {index} to finish"
            )
            text = str(self.cell(index).locator(".jp-Cell-outputArea").inner_text())
            assert "Traceback" not in text, text

    def rows(self, index: int, scope: str = "") -> list[dict[str, str]] | None:
        return self.page.evaluate(_ROWS_JS, [index, scope])

    def running(self, index: int, scope: str = "") -> list[str]:
        return [r["NAME"] for r in self.rows(index, scope) or [] if r.get("STATUS") == "Running"]

    def show(self, index: int) -> None:
        self.cell(index).scroll_into_view_if_needed()


def test_live_widgets_in_jupyterlab(browser: Any, lab: Any, shots: Callable[[Any], Any]) -> None:
    started = time.monotonic()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    shot = shots(page)
    try:
        page.goto(lab.url(f"lab/tree/{NOTEBOOK}"))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        nb = Notebook(page, lab)
        nb.wait_idle()
        assert [k["execution_state"] for k in lab.api("kernels")] == ["idle"]

        # 1. a simulated cluster, a Deployment of 2 and a live table of its pods
        nb.run(SETUP)
        nb.run(TABLE)
        wait_for(lambda: len(nb.running(TABLE)) == 2, 10, "2 Running rows in the live table")
        shot("live table with two pods")

        # 2. the slider, moved with the keyboard from 2 to 5
        nb.run(SLIDER)
        handle = nb.cell(SLIDER).locator(".nbcluster-scale-slider .noUi-handle")
        handle.wait_for(timeout=10_000)
        assert handle.get_attribute("aria-valuenow") == "2.0"
        handle.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        wait_for(lambda: handle.get_attribute("aria-valuenow") == "5.0", 5, "the slider at 5")
        shot("slider moved to five")
        wait_for(
            lambda: len(nb.running(TABLE)) == 5 and len(nb.rows(TABLE) or []) == 5,
            30,
            "5 Running rows after the slider moved",
        )
        readout = nb.cell(SLIDER).locator(".nbcluster-scale-readout")
        wait_for(lambda: re.search(r"5\s*/\s*5 ready", readout.inner_text()), 10, "the readout at 5/5 ready")
        nb.show(TABLE)
        shot("five running pods in the live table")

        # 3. delete a pod from the dashboard; its replacement appears
        nb.run(DASHBOARD)
        scope = ".nbcluster-live-pods"
        before = set(
            wait_for(
                lambda: len(nb.running(DASHBOARD, scope)) == 5 and nb.running(DASHBOARD, scope),
                10,
                "the dashboard's Pods tab with 5 Running pods",
            )
        )
        nb.show(DASHBOARD)
        shot("dashboard pods tab")
        picked = nb.cell(DASHBOARD).locator("select").first.input_value()
        nb.cell(DASHBOARD).get_by_role("button", name="Delete pod").click()
        message = nb.cell(DASHBOARD).locator(".nbcluster-dashboard-message")
        wait_for(lambda: "deleted" in message.inner_text(), 5, "the dashboard to say the pod was deleted")

        def replaced() -> bool:
            now = set(nb.running(DASHBOARD, scope))
            return len(now) == 5 and len(now - before) == 1

        wait_for(replaced, 30, "a replacement pod Running in the dashboard")
        new_pod = (set(nb.running(DASHBOARD, scope)) - before).pop()
        assert new_pod not in before and picked
        shot("replacement pod after delete")
        nb.cell(DASHBOARD).get_by_role("tab", name=re.compile("Events")).click()
        events = nb.cell(DASHBOARD).locator(".nbcluster-live-events table.nbcluster-live")
        wait_for(lambda: f"Created pod: {new_pod}" in events.inner_text(), 10, "the SuccessfulCreate event")
        shot("events tab after delete")
        # redraws keep the scroll position: scroll the events box, wait for a redraw (AGE ticks)
        box = nb.cell(DASHBOARD).locator(".nbcluster-live-events .nbcluster-live-table")
        box.evaluate("el => { el.scrollTop = 120; }")
        assert box.evaluate("el => el.scrollTop") == 120, "the events table should scroll"
        body = box.evaluate("el => el.querySelector('tbody').innerHTML")
        wait_for(
            lambda: box.evaluate("el => el.querySelector('tbody').innerHTML") != body, 5, "an events redraw"
        )
        assert box.evaluate("el => el.scrollTop") == 120, "a redraw must not reset the scroll position"

        # 4. the magics: %kube get -w is the same live table
        nb.run(MAGIC)
        wait_for(lambda: len(nb.running(MAGIC)) == 2, 15, "%kube get pods -w showing 2 Running pods")
        nb.show(MAGIC)
        shot("kube get -w magic")

        # 5. a busy kernel: time.sleep(20) runs while a background thread scales to 3
        nb.show(TABLE)
        ages_before = {r["NAME"]: r["AGE"] for r in nb.rows(TABLE) or []}
        nb.run(SLEEP, wait=False)
        wait_for(lambda: nb.prompt(SLEEP) == "[*]:", 5, "the sleep cell to show it runs")
        wait_for(
            lambda: len(nb.running(TABLE)) == 3 and len(nb.rows(TABLE) or []) == 3,
            15,
            "the table to follow a scale to 3 while the kernel sleeps",
        )
        assert nb.prompt(SLEEP) == "[*]:", "the table must have updated while the kernel was still busy"
        ages_now = {r["NAME"]: r["AGE"] for r in nb.rows(TABLE) or []}
        assert any(ages_before.get(name) not in (None, age) for name, age in ages_now.items()), (
            f"AGE should keep ticking while the kernel is busy: {ages_before} -> {ages_now}"
        )
        nb.show(TABLE)  # the status bar at the bottom reads "Busy"
        shot("table updated while the kernel sleeps")
    except Exception:
        shot("failure")
        print(lab.log_tail(), flush=True)
        raise
    finally:
        page.close()
    print(f"browser test took {time.monotonic() - started:.1f}s", flush=True)
