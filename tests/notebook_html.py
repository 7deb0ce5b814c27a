"""An executed notebook as one self-contained HTML page (nbformat + markdown-it; nbconvert is not
a dependency). The notebook test writes one page per notebook into ``docs/notebooks/``, so the
docs show the tables and figures CI produced, and readers need no Jupyter."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:13px}pre.out{background:#fff;border-left:3px solid #ddd}
pre.err{background:#fee}img{max-width:100%}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ddd;padding:2px 6px}.note{color:#666;font-size:13px}"""


def _final_text(text: str) -> str:
    """What a terminal would show: each line after its last carriage return (a progress bar's
    last state, not every redraw)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _merged(outputs: list[Any]) -> list[Any]:
    """Consecutive writes to the same stream as one output, as Jupyter shows them."""
    merged: list[Any] = []
    for out in outputs:
        if merged and out.output_type == "stream" and merged[-1].output_type == "stream" \
                and merged[-1].name == out.name:
            merged[-1] = type(out)({**merged[-1], "text": merged[-1].text + out.text})
        else:
            merged.append(out)
    return merged


def _output(out: Any) -> str:
    """One cell output: a figure as an embedded PNG, a table as its HTML, else preformatted text."""
    if out.output_type == "stream":
        return f'<pre class="out">{html.escape(_final_text(out.text).strip(chr(10)))}</pre>'
    if out.output_type == "error":
        return f'<pre class="err">{html.escape(out.ename)}: {html.escape(out.evalue)}</pre>'
    data = out.get("data", {})
    if "image/png" in data:
        return f'<img alt="figure" src="data:image/png;base64,{data["image/png"].strip()}">'
    if "text/html" in data:
        return str(data["text/html"])
    return f'<pre class="out">{html.escape(str(data.get("text/plain", "")))}</pre>'


def render(nb: Any, title: str, note: str = "") -> str:
    """The HTML page of an executed notebook: markdown rendered, code and its outputs in order."""
    md = MarkdownIt("commonmark").enable("table")
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"]
    if note:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(md.render(cell.source))
        elif cell.cell_type == "code":
            parts.append(f"<pre><code>{html.escape(cell.source)}</code></pre>")
            parts.extend(_output(o) for o in _merged(cell.get("outputs", [])))
    return "\n".join(parts) + "\n"


def write(nb: Any, out: Path, note: str = "") -> Path:
    """Write the page (folders made as needed); return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(nb, out.stem, note), encoding="utf-8")
    return out
