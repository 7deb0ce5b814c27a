"""Shared HTML helpers for every page the project writes (reports, workshop views, printables)."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def esc(x: Any) -> str:
    """Text escaped for HTML element content and attribute values."""
    return html.escape(str(x), quote=True)


def png_base64(fig: Figure, *, dpi: float | None = None, tight: bool = False, facecolor: str | None = None) -> str:
    """A matplotlib figure as base64 PNG, so pages stand alone (no image files beside them).

    ``tight`` crops to the drawn area (``bbox_inches="tight"``); the figure is left open.
    """
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"format": "png"}
    if dpi is not None:
        kwargs["dpi"] = dpi
    if tight:
        kwargs["bbox_inches"] = "tight"
    if facecolor is not None:
        kwargs["facecolor"] = facecolor
    fig.savefig(buf, **kwargs)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig: Figure, caption: str = "", dpi: int = 110) -> str:
    """A figure as an embedded PNG with alt text (its title) and an optional caption."""
    data = png_base64(fig, dpi=dpi, tight=True, facecolor="white")
    alt = esc(fig.axes[0].get_title().split("\n")[0] if fig.axes else caption)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'
