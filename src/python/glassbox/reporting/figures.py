"""Figures for the report: a plot drawn on a fresh matplotlib Figure (never pyplot: no window, no
global state), embedded as inline SVG or as a base64 PNG, or, when the plot raises, a visible
"this figure failed" box.

SVG keeps text and lines sharp and small; PNG is for dot-heavy figures (the beeswarm), whose SVG
would hold one element per dot. Each SVG's ids are prefixed so that several inline SVGs in one
page never share an id (matplotlib names clip paths and glyphs by content hashes).
"""

from __future__ import annotations

import base64
import io
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

from glassbox.reporting.html import escape, failure

#: The resolution of PNG figures (dots per inch).
PNG_DPI = 100
_counter = itertools.count()


def new_figure(size: tuple[float, float]) -> Any:
    """A matplotlib Figure of ``size`` inches that belongs to no pyplot window."""
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def svg_markup(fig: Any) -> str:
    """``fig`` as an inline ``<svg>`` element: no XML prolog, DOCTYPE or metadata, ids unique
    in the page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    prefix = f"gb{next(_counter)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)

    def reference(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}" if name in ids else match.group(0)

    return re.sub(r'(#)([^\s")\']+)', reference, text)


def png_markup(fig: Any, alt: str) -> str:
    """``fig`` as an ``<img>`` holding a base64 PNG (a data: URL: nothing is loaded)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def figure(
    draw: Callable[[Any], object],
    *,
    size: tuple[float, float] = (6.4, 4.2),
    caption: str = "",
    png: bool = False,
) -> tuple[str, bool, float]:
    """Run ``draw(fig)`` on a new Figure and embed the result.

    Returns ``(html, drawn, seconds)``: a ``<figure class="gb-figure">`` with one ``<svg>`` or
    ``<img>`` and the escaped ``caption``, or, when drawing or saving raised, the failure box
    naming the error (``drawn`` False); ``seconds`` is the time drawing and embedding took.
    """
    start = time.perf_counter()
    fig = new_figure(size)
    try:
        draw(fig)
        markup = png_markup(fig, caption) if png else svg_markup(fig)
    except Exception as error:  # any plot error becomes a box: the page is still written
        return failure("figure", error), False, time.perf_counter() - start
    finally:
        fig.clear()
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    html = f'<figure class="gb-figure">{markup}{text}</figure>'
    return html, True, time.perf_counter() - start
