"""The notebooks run top to bottom with small run counts (CRISIS_SIM_NB_RUNS) and draw their figures.

They run from a folder outside the checkout, against the installed package (no walking up to
find the repository), and each executed notebook is written as HTML into ``docs/notebooks/``
(or ``$CRISIS_SIM_NOTEBOOK_HTML``), the rendered copy the docs link to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HTML_DIR = Path(os.environ.get("CRISIS_SIM_NOTEBOOK_HTML") or ROOT / "docs" / "notebooks")


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_quick_start", "02_levers_across_flashpoints", "03_sensitivity_and_discovery",
            "04_paths_and_reasons"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    from notebook_html import write

    monkeypatch.setenv("CRISIS_SIM_NB_RUNS", "150")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert params and "RUNS = " in params[0].source
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "parents" not in source and "sys.path" not in source  # the installed package, not the checkout
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # outside the checkout
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure drawn"
    assert "150" in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert os.environ["CRISIS_SIM_NB_RUNS"] == "150"
    page = write(nb, HTML_DIR / f"{path.stem}.html", note="Executed by tests/test_notebooks.py with "
                 "CRISIS_SIM_NB_RUNS=150 (small run counts: read the figures as a demonstration).")
    text = page.read_text()
    assert text.count("data:image/png;base64,") == sum("image/png" in o.get("data", {}) for o in outputs)


def test_notebook_html_shows_what_jupyter_shows():
    from notebook_html import render

    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Title\n\nSome *prose*."), v4.new_code_cell("run()")])
    nb.cells[1].outputs = [v4.new_output("stream", name="stderr", text="\r 50%|##"),
                           v4.new_output("stream", name="stderr", text="\r100%|####\n"),
                           v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    page = render(nb, "t")
    assert "<h1>Title</h1>" in page and "<em>prose</em>" in page and "run()" in page
    assert "100%|####" in page and "50%" not in page  # a progress bar's last state only
    assert page.count("data:image/png;base64,iVBORw0KGgo=") == 1
