"""The tutorials run top to bottom in a real kernel (nbclient), as CI and a newcomer would run them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data", {})
    return str(data.get("text/plain", ""))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel inherits this process' environment
    monkeypatch.setenv("NBCLUSTER_RUNTIME", "simulated")
    monkeypatch.setenv("NBCLUSTER_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH", "")])
    )
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"{cell.source!r} raised {output.get('ename')}"
            if output.get("name") == "stderr":
                text = _ANSI.sub("", _text(output))
                assert not text.startswith(("error", "Error")), f"{cell.source!r} printed {text!r}"
    if path.name == "00-quickstart.ipynb":
        everything = "\n".join(_ANSI.sub("", _text(o)) for cell in code for o in cell.get("outputs", []))
        assert (
            'nbcluster: cluster "nbcluster" runs on the simulated runtime (NBCLUSTER_RUNTIME=simulated)'
            in everything
        )
        assert "deployment.apps/web created" in everything
        assert 'deployment "web" successfully rolled out' in everything
        assert "deployment.apps/web scaled" in everything
        assert re.search(r"web\s+4/4\s+4\s+4", everything)
        assert "Replicas:" in everything and "Events:" in everything
        logs = next(cell for cell in code if "%kube logs" in cell.source)
        assert "nginx" in "".join(_text(o) for o in logs.get("outputs", []))  # the container's log lines
        assert 'deployment.apps "web" deleted' in everything
        assert not (tmp_path / "home" / ".kube").exists()
