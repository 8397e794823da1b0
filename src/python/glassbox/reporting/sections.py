"""The report's sections: each computes what it needs (unless it was given), draws its figures
through ``glassbox.plots`` and says which method and options made it, how long it took and how
good it is. A computation that raises becomes a failure box in its section, never a broken page;
an optional section whose estimated time does not fit the budget left says so and is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from glassbox.reporting.context import Context
from glassbox.reporting.figures import figure
from glassbox.reporting.html import Section, details, join, paragraph, table

#: Seconds a figure takes to draw, for the estimates of optional sections.
FIGURE_S = 0.4
#: Streams of the report's random draws (with ``seed``): rows explained, background, ICE rows.
EXPLAINED_STREAM, BACKGROUND_STREAM, ICE_STREAM = 30, 31, 32


def plots() -> Any:
    """``glassbox.plots`` (imports matplotlib: only when a report is made)."""
    from glassbox import plots

    return plots


def add_figure(
    section: Section,
    draw: Callable[[Any], object],
    *,
    size: tuple[float, float],
    caption: str,
    png: bool = False,
) -> None:
    """Draw one figure into ``section`` (a failure box when the plot raises)."""
    html, drawn, _ = figure(draw, size=size, caption=caption, png=png)
    section.add(html, figures=int(drawn), failed=int(not drawn))


def on_axes(plot: Callable[..., object], result: Any, **options: Any) -> Callable[[Any], object]:
    """A draw function: ``plot(result, ax=<one Axes of the figure>, **options)``."""
    return lambda fig: plot(result, ax=fig.add_subplot(), **options)


def on_figure(plot: Callable[..., object], result: Any) -> Callable[[Any], object]:
    """A draw function: ``plot(result, fig=<the figure>)`` (multi-panel plots)."""
    return lambda fig: plot(result, fig=fig)


def bar_height(count: int) -> float:
    """Inches for a horizontal bar chart of ``count`` rows (at most 20 shown)."""
    return 1.4 + 0.28 * min(count, 20)


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """``function()`` and the seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def quality(section: Section, exp: Any) -> None:
    """The quality figures of an Explanation as facts: max |delta|, stderr median / max, LIME's
    mean R^2."""
    if exp.delta is not None and np.size(exp.delta):
        section.fact("max |delta| (efficiency gap)", float(np.nanmax(np.abs(exp.delta))))
    if exp.stderr is not None and np.size(exp.stderr):
        stderr = np.asarray(exp.stderr, dtype=np.float64)
        section.fact("stderr median", float(np.nanmedian(stderr)))
        section.fact("stderr max", float(np.nanmax(stderr)))
    if exp.score is not None and np.size(exp.score):
        section.fact("mean local R^2", float(np.nanmean(exp.score)))


def skip_unless_fits(
    ctx: Context, section: Section, what: str, evaluations: float, n_fig: int
) -> bool:
    """Whether an optional section fits the budget left; if not, mark it skipped."""
    seconds = evaluations * ctx.cost + n_fig * FIGURE_S
    if ctx.clock.fits(seconds):
        return True
    section.skipped = ctx.clock.why_not(what, seconds)
    ctx.notes.append(f"{section.title}: skipped ({section.skipped})")
    return False


# -- model and data ------------------------------------------------------------------------------


def model_section(ctx: Context) -> Section:
    """The model's type and size; for a native network, a table of its layers."""
    from glassbox.models.native import NativeModel

    section = Section(
        "Model",
        "The network as glassbox runs it: each layer's output shape (per row) and parameter "
        "count. A model glassbox cannot look inside is described by its inputs and outputs.",
    )
    model, agnostic = ctx.model, ctx.agnostic
    section.fact("type", f"{type(model).__module__}.{type(model).__qualname__}")
    section.fact("evaluated as", type(agnostic).__name__)
    section.fact("inputs", agnostic.n_inputs)
    section.fact("outputs", f"{agnostic.n_outputs} ({join(ctx.output_names, 10)})")
    section.fact("explained output", ctx.target_text)
    if isinstance(agnostic, NativeModel):
        from glassbox.reporting.inside import layer_table

        section.add(layer_table(agnostic, section))
    return section


def data_section(ctx: Context) -> Section:
    """Rows, features (with their ranges) and a summary of y."""
    section = Section(
        "Data",
        "The rows the report was computed on. Ranges are of the values the model sees "
        "(non-numeric DataFrame columns are shown by their number of distinct values).",
    )
    section.fact("rows", ctx.n_rows)
    section.fact("features", ctx.n_features)
    section.fact("kind", "DataFrame" if ctx.run.schema is not None else "array")
    rows = []
    for j, name in enumerate(ctx.names):
        column = ctx.batch[:, j].astype(np.float64)
        column = column[~np.isnan(column)]
        if ctx.coded(j):
            rows.append([name, "categorical", f"{len(np.unique(column))} values", "", ""])
        elif column.size:
            low, mid, high = np.percentile(column, [0, 50, 100])
            rows.append([name, "numeric", float(low), float(mid), float(high)])
        else:
            rows.append([name, "numeric", "all missing", "", ""])
    features = table(["feature", "kind", "min", "median", "max"], rows, numeric=3)
    section.add(details(f"{ctx.n_features} features: {join(ctx.names, 12)}", features))
    section.add(y_summary(ctx))
    return section


def y_summary(ctx: Context) -> str:
    """y's classes and counts (labels, or few distinct integers), else its mean and range."""
    y = ctx.y
    if y is None:
        return paragraph("No y was given: permutation importance and worst-predicted rows need it.")
    values, counts = np.unique(y, return_counts=True)
    discrete = y.dtype.kind == "U" or (len(values) <= 20 and np.array_equal(y, np.round(y)))
    if discrete:
        rows = [[str(v), int(c), f"{c / len(y):.1%}"] for v, c in zip(values, counts, strict=True)]
        return paragraph("y: class labels") + table(["label", "rows", "share"], rows, numeric=2)
    stats = [["mean", y.mean()], ["std", y.std()], ["min", y.min()], ["max", y.max()]]
    return paragraph("y: numbers") + table(
        ["statistic", "value"], [[a, float(b)] for a, b in stats]
    )
