"""Token scores as highlighted text: ``text`` (matplotlib) and ``text_html`` (an HTML fragment).

Both colour each token by its score (``Explanation.token_values()``) on the diverging colour map
of the other plots (red positive, blue negative), symmetric about 0 at the row's largest
|score|, and leave padding tokens out (``skip``: the explanation's ``skip_tokens``, else
``"[PAD]"`` and ``"<pad>"``): they are neither drawn nor part of the colour scale.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from glassbox.plots._figure import diverging_cmap, finish, new_axes, symmetric_limit

#: Tokens that are padding unless the explanation or ``skip=`` says otherwise.
DEFAULT_SKIP = frozenset({"[PAD]", "<pad>"})
#: Advance of one character of the monospace font (DejaVu Sans Mono), in ems.
_CHAR_EM = 0.61


def token_rows(
    exp: Any, rows: Iterable[int], skip: Collection[str] | None
) -> list[tuple[list[str], np.ndarray]]:
    """Per row of ``rows``: its tokens and scores (float64) without the padding tokens."""
    from glassbox.explanation import Explanation

    if not isinstance(exp, Explanation):
        raise TypeError(f"exp: expected a glassbox Explanation, got {type(exp).__name__}")
    if exp.tokens is None:
        raise ValueError(
            "exp: this Explanation has no tokens; add them with exp.with_tokens(tokens) or "
            "exp.with_tokens(tokenizer=tokenizer)"
        )
    if skip is None:
        skip = DEFAULT_SKIP if exp.skip_tokens is None else exp.skip_tokens
    scores = np.atleast_2d(exp.token_values())
    shown = []
    for row in rows:
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
            raise TypeError(f"row: expected an integer, got {row!r}")
        if not 0 <= row < len(exp.tokens):
            raise IndexError(f"row: expected 0 <= row < {len(exp.tokens)}, got {row}")
        keep = [j for j, token in enumerate(exp.tokens[row]) if token not in skip]
        shown.append(([exp.tokens[row][j] for j in keep], scores[row, keep]))
    return shown


def token_colours(scores: np.ndarray) -> tuple[np.ndarray, float]:
    """RGBA colours (n, 4) of ``scores`` on the diverging map over [-limit, limit], and the
    limit (the largest finite |score|, 1 when all are zero)."""
    import matplotlib

    limit = symmetric_limit(scores)
    cmap = matplotlib.colormaps[diverging_cmap()]
    return cmap((np.asarray(scores, dtype=np.float64) + limit) / (2 * limit)), limit


def _ink(rgba: np.ndarray) -> str:
    """Black text on light boxes, white on dark ones."""
    luminance = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]
    return "black" if luminance > 0.45 else "white"


def text(
    exp: Any,
    row: int = 0,
    ax: Any = None,
    *,
    skip: Collection[str] | None = None,
    width: int = 60,
    fontsize: float = 11.0,
) -> Any:
    """Draw one row's tokens left to right, wrapped into lines of ``width`` characters, each on
    a box coloured by its score, with a colour bar.

    Parameters
    ----------
    exp : Explanation
        With tokens (``exp.with_tokens``); values (rows, T) or (rows, T, D) (summed over D).
    row : int, default 0
        The row drawn (0 for a single-row Explanation).
    ax : matplotlib Axes, optional
        Drawn on (its axis is hidden); else a new figure sized to the text.
    skip : collection of str, optional
        Padding tokens, left out (default: ``exp.skip_tokens``, else "[PAD]" and "<pad>").
    width : int, default 60
        Characters per line (tokens are never split; the font shrinks to fit ``ax``).
    fontsize : float, default 11

    Returns
    -------
    matplotlib Axes
        Each token is a ``Text`` whose box (``get_bbox_patch()``) has the token's colour.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[0.8, -0.4, 0.1, 0.0]]),
    ...                      data=np.array([[5, 9, 2, 0]]))
    >>> exp = exp.with_tokens(["a", "dull", "film", "[PAD]"])
    >>> ax = gb.plots.text(exp)
    >>> [t.get_text() for t in ax.texts]
    ['a', 'dull', 'film']
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width: expected an integer >= 1 (characters per line), got {width!r}")
    [(tokens, scores)] = token_rows(exp, [row], skip)
    colours, limit = token_colours(scores)
    places, lines = _wrap([len(t) for t in tokens], int(width))
    ax = new_axes(ax, figsize=(max(4.0, width * _CHAR_EM * fontsize / 72 + 1), 1.6 + 0.3 * lines))
    ax.set_ylim(max(lines, 1) - 0.5, -0.5)
    ax.set_axis_off()
    mappable = ScalarMappable(Normalize(-limit, limit), diverging_cmap())
    bar = ax.figure.colorbar(mappable, ax=ax, orientation="horizontal", shrink=0.6, aspect=40)
    bar.set_label(f"{exp.method or 'attribution'} score per token")
    finish(ax)
    # the font that fits `width` characters in the axes as laid out
    points = ax.get_window_extent().width * 72 / ax.figure.dpi
    size = min(float(fontsize), points / ((width + 1) * _CHAR_EM))
    ax.set_xlim(-0.5, points / (size * _CHAR_EM) - 0.5)  # a unit is a character's advance
    for token, (x, y), colour in zip(tokens, places, colours, strict=True):
        ax.text(
            x,
            y,
            token,
            family="monospace",
            fontsize=size,
            va="center",
            color=_ink(colour),
            parse_math=False,  # "$" in a token is text
            bbox={"facecolor": colour, "edgecolor": "none", "boxstyle": "square,pad=0.2"},
        )
    return ax


def _wrap(lengths: list[int], width: int) -> tuple[list[tuple[int, int]], int]:
    """(character column, line) of each token, one space apart, a new line when the next
    token would pass ``width``; and the number of lines."""
    places, x, y = [], 0, 0
    for length in lengths:
        if x > 0 and x + length > width:
            x, y = 0, y + 1
        places.append((x, y))
        x += length + 1
    return places, y + 1 if lengths else 0


def text_html(
    exp: Any, rows: Iterable[int] | None = None, *, skip: Collection[str] | None = None
) -> str:
    """A self-contained HTML fragment of token scores: a line per row, each token a ``<span>``
    with the colour ``text`` gives it as background and its score as ``title`` (inline styles
    only: no scripts, no external URLs; tokens are HTML-escaped).

    Parameters
    ----------
    exp : Explanation
        With tokens (``exp.with_tokens``).
    rows : iterable of int, optional
        The rows shown (default: all).
    skip : collection of str, optional
        Padding tokens, left out (as ``text``).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -0.5]]), data=np.array([[4, 2]]))
    >>> fragment = gb.plots.text_html(exp.with_tokens(["<b>", "ok"]))
    >>> fragment.count("<span"), "&lt;b&gt;" in fragment, "<b>" in fragment
    (2, True, False)
    >>> fragment[fragment.index("<span") :].split(">")[0]  # the largest |score| is the darkest
    '<span title="1" style="background-color:#67001f;color:white;padding:1px 2px"'
    """
    from matplotlib.colors import to_hex

    if rows is None:
        rows = range(len(exp.tokens) if getattr(exp, "tokens", None) is not None else 1)
    rows = list(rows)
    lines = []
    for row, (tokens, scores) in zip(rows, token_rows(exp, rows, skip), strict=True):
        colours, _ = token_colours(scores)
        spans = [
            f'<span title="{score:.6g}" style="background-color:{to_hex(colour)};'
            f'color:{_ink(colour)};padding:1px 2px">{html.escape(token)}</span>'
            for token, score, colour in zip(tokens, scores, colours, strict=True)
        ]
        lines.append(f'<div class="gb-row" data-row="{row}">' + "\n".join(spans) + "</div>")
    return (
        '<div class="gb-tokens" style="font-family:monospace;line-height:2">\n'
        + "\n".join(lines)
        + "\n</div>"
    )
