"""The report's HTML: escaping, small tables, one section's markup and the whole page.

Everything that comes from the user's data, names or errors goes through ``escape``; the page
holds its styles inline and loads nothing (no scripts, fonts, images or links to other pages).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The page's styles (inline: the file opens with no network).
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;
max-width:1100px;padding:1em 2em;color:#1d2327;background:#fff;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#57606a;font-size:.92em}
.facts{display:flex;flex-wrap:wrap;gap:.4em 1.6em;margin:.5em 0;font-size:.92em}
.facts span b{color:#57606a;font-weight:600}
.read{background:#f6f8fa;border-left:4px solid #2f7fc1;padding:.5em .9em;margin:.6em 0;
font-size:.93em}
.skipped{background:#fff8c5;border-left:4px solid #d4a72c;padding:.5em .9em}
.failed{background:#ffebe9;border:1px solid #ff8182;padding:.6em .9em;margin:.5em 0;
font-family:ui-monospace,monospace;font-size:.88em;white-space:pre-wrap}
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
figure.gb-figure{margin:.4em 0;max-width:100%}
figure.gb-figure svg,figure.gb-figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.88em;color:#57606a;max-width:60em}
table{border-collapse:collapse;font-size:.88em;margin:.5em 0}
th,td{border:1px solid #d0d7de;padding:.2em .6em;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f6f8fa}
nav ol{columns:2;font-size:.92em}
"""


def escape(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and quotes escaped (safe in attributes too).

    Examples
    --------
    >>> escape("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def number(value: object, digits: int = 4) -> str:
    """A number for a table: ``digits`` significant digits, integers as they are.

    Examples
    --------
    >>> number(3), number(0.000123456), number(float("nan"))
    ('3', '0.0001235', 'nan')
    """
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return escape(value)
    if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], numeric: int = 0) -> str:
    """An HTML table; cells are escaped; numbers (and the last ``numeric`` columns) align right.

    Examples
    --------
    >>> table(["a", "b"], [["<x>", 1.5]])[-59:]
    '<tr><td>&lt;x&gt;</td><td class="num">1.5</td></tr></table>'
    """
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in header), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for j, cell in enumerate(row):
            is_number = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            right = is_number or j >= len(row) - numeric
            text = number(cell) if is_number else escape(cell)
            out.append(f'<td class="num">{text}</td>' if right else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def anchor(title: str) -> str:
    """The id of a section from its title (letters, digits and dashes).

    Examples
    --------
    >>> anchor("Global importance")
    'global-importance'
    """
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


@dataclass
class Section:
    """One section of the report: what made it, how long it took, how good it is, and its body.

    ``facts`` are (label, value) pairs shown under the title (method, options, run time,
    quality figures); ``body`` is HTML already escaped; ``figures`` counts the figures drawn
    (failed ones not included); ``skipped`` says why the section is empty, when it is.
    """

    title: str
    how_to_read: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    figures: int = 0
    failed: int = 0
    skipped: str | None = None

    def fact(self, label: str, value: object) -> None:
        """Add a (label, value) fact: numbers formatted, everything else as text."""
        shown = number(value) if isinstance(value, (int, float)) else str(value)
        self.facts.append((label, shown))

    def add(self, fragment: str, figures: int = 0, failed: int = 0) -> None:
        """Append HTML ``fragment`` holding ``figures`` drawn and ``failed`` failed figures."""
        self.body.append(fragment)
        self.figures += figures
        self.failed += failed

    def to_html(self) -> str:
        parts = [f'<section id="{anchor(self.title)}"><h2>{escape(self.title)}</h2>']
        if self.facts:
            facts = "".join(
                f"<span><b>{escape(label)}:</b> {escape(value)}</span>"
                for label, value in self.facts
            )
            parts.append(f'<div class="facts">{facts}</div>')
        if self.skipped:
            parts.append(f'<p class="skipped">Not computed: {escape(self.skipped)}</p>')
        parts.extend(self.body)
        if self.how_to_read:
            parts.append(f'<p class="read"><b>How to read this:</b> {escape(self.how_to_read)}</p>')
        parts.append("</section>")
        return "\n".join(parts)


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole HTML document. ``<body data-figures="N">`` holds the count of figures drawn
    (what a browser test expects to find loaded)."""
    figures = sum(s.figures for s in sections)
    toc = "".join(f'<li><a href="#{anchor(s.title)}">{escape(s.title)}</a></li>' for s in sections)
    body = "\n".join(s.to_html() for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f'<body data-figures="{figures}">\n<h1>{escape(title)}</h1>'
        f'<p class="meta">{escape(subtitle)}</p>\n'
        f"<nav><ol>{toc}</ol></nav>\n{body}\n</body></html>\n"
    )


#: The longest error message a failure box shows (an error may print a whole array).
MAX_MESSAGE = 600


def failure(what: str, error: BaseException) -> str:
    """The box that replaces a figure (or a computation) that raised: the error's type and its
    message, whitespace folded, cut at ``MAX_MESSAGE`` characters."""
    message = " ".join(f"{type(error).__name__}: {error}".split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return f'<div class="failed">This {escape(what)} failed: {escape(message)}</div>'


def paragraph(text: str) -> str:
    """A paragraph of plain text (escaped)."""
    return f"<p>{escape(text)}</p>"


def details(summary: str, inner: str) -> str:
    """A collapsed block (``<details>``) with an escaped summary and HTML ``inner``."""
    return f"<details><summary>{escape(summary)}</summary>{inner}</details>"


def join(items: Iterable[Any], limit: int = 40) -> str:
    """Names joined by commas, elided after ``limit`` (plain text, escape it when used).

    Examples
    --------
    >>> join(["a", "b", "c"], limit=2)
    'a, b, ... (3 in all)'
    """
    items = [str(item) for item in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
