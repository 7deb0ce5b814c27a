"""The notebooks run top to bottom with small run counts (CRISIS_SIM_NB_RUNS) and draw their figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_quick_start", "02_levers_across_flashpoints", "03_sensitivity_and_discovery",
            "04_paths_and_reasons"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("CRISIS_SIM_NB_RUNS", "150")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert params and "RUNS = " in params[0].source
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure drawn"
    assert "150" in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert os.environ["CRISIS_SIM_NB_RUNS"] == "150"
