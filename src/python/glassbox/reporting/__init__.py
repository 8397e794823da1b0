"""``glassbox.report``: one self-contained HTML page about a model and its data.

This module is imported by ``import glassbox``: it must not import matplotlib (or anything heavy)
at module level; the page's figures import ``glassbox.plots`` when the report is made.

Layout: ``context`` reads and checks the inputs, ``plan`` fits each method's settings to the time
budget, ``sections`` / ``attributions`` / ``effects`` compute and draw the sections, ``figures``
embeds matplotlib figures (inline SVG, base64 PNG), ``html`` writes the page.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from typing import Any

from glassbox.reporting.html import Section, page, table


def _given(explanations: Any) -> dict[str, Any]:
    """``explanations=`` sorted by kind: one Explanation, a PermutationImportance, an
    HStatistic, and lists of PartialDependence / ALE results."""
    from glassbox.explanation import Explanation
    from glassbox.inspection import ALE, HStatistic, PartialDependence, PermutationImportance

    items = [] if explanations is None else explanations
    if not isinstance(items, (list, tuple)):
        items = [items]
    found: dict[str, Any] = {"exp": None, "importance": None, "h": None, "pdp": [], "ale": []}
    for item in items:
        if isinstance(item, Explanation):
            key = "exp"
        elif isinstance(item, PermutationImportance):
            key = "importance"
        elif isinstance(item, HStatistic):
            key = "h"
        elif isinstance(item, (PartialDependence, ALE)):
            found["pdp" if isinstance(item, PartialDependence) else "ale"].append(item)
            continue
        else:
            raise TypeError(
                "explanations: expected glassbox results (Explanation, PermutationImportance, "
                f"PartialDependence, ALE, HStatistic) or a list of them, got {type(item).__name__}"
            )
        if found[key] is not None:
            raise ValueError(f"explanations: two {type(item).__name__} results; pass one")
        found[key] = item
    return found


def _check_budget(budget_s: object) -> float:
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not budget_s > 0:
        raise ValueError(f"budget_s: expected a number of seconds > 0, got {budget_s!r}")
    return float(budget_s)


def _about(ctx: Any) -> Section:
    """How the report was made: budget, time spent, what was sampled and skipped."""
    import glassbox

    section = Section(
        "About this report",
        "Every number above can be recomputed with the glassbox functions named in its section, "
        "with the same seed. Sections that did not fit the time budget say so; a larger "
        "budget_s= computes them.",
    )
    section.fact("glassbox", glassbox.__version__)
    section.fact("budget", f"{ctx.clock.budget_s:g} s")
    section.fact("time spent", f"{ctx.clock.spent():.2f} s")
    section.fact("seed", ctx.seed)
    section.fact("seconds per model evaluation", f"{ctx.cost:.3g}")
    if ctx.notes:
        section.add(table(["note"], [[note] for note in ctx.notes]))
    return section


def report(
    model: Any,
    X: Any,
    y: Any = None,
    path: str | os.PathLike[str] = "report.html",
    *,
    rows: int | Sequence[int] | None = None,
    budget_s: float = 20.0,
    explanations: Any = None,
    feature_names: Sequence[str] | None = None,
    target: int | str | None = None,
    seed: int = 0,
    n_threads: int | None = None,
    title: str | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
) -> str:
    """Write a self-contained HTML report about ``model`` on ``X`` to ``path``; return the path.

    The page holds its figures (inline SVG, base64 PNG for the dot-heavy summary plot) and
    styles; it loads nothing, so it opens offline and can be mailed as one file. Sections: the
    model (a layer table for a native network) and the data; global importance (permutation
    importance, which needs ``y``, and mean |attribution|); the summary plot; partial
    dependence with ICE curves and ALE for the top features; the H-statistic of their
    strongest interactions; a waterfall per chosen row; with ``y``, where the model errs
    (``glassbox.diagnose``: confusion, worst slices, error tree, attribution contrast). Each
    says which method and options made it, its run time and its quality figures (``delta``,
    ``stderr``). A figure that fails is a box naming the error; the rest of the page is still
    written.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator, torch / Keras model or callable
        Anything ``glassbox.as_model`` accepts.
    X : array (n_rows, n_features), pandas or polars DataFrame
        The rows to report on (a DataFrame names the features).
    y : array or Series of shape (n_rows,), optional
        True labels or values: permutation importance and the worst-predicted rows need it.
    path : str or PathLike
        Where the HTML file is written.
    rows : int or sequence of int, optional
        Rows of X shown one by one (waterfalls); default: the two most confident predictions
        (highest and lowest for one output) and, with ``y``, the two worst predicted.
    budget_s : float
        Seconds to spend. Attributions get about 30% of it (their settings shrink to fit:
        fewer KernelSHAP coalitions, rows explained, background rows); optional sections
        (permutation importance, curves, interactions) are skipped, saying why, once their
        estimated time does not fit what is left.
    explanations : result or list of results, optional
        An ``Explanation`` (rows x features, or with every output), ``PermutationImportance``,
        ``PartialDependence`` / ``ALE`` results and an ``HStatistic`` already computed: used
        instead of computing them. A given Explanation with as many rows as X is taken to be
        X's rows; otherwise ``rows=`` index its rows.
    feature_names : sequence of str, optional
        Names of X's columns (default: the DataFrame's columns, the model's names, x0, x1, ...).
    target : int or str, optional
        The output explained (index or name); default: the single output, the second of two
        (a binary classifier's positive class), or each row's predicted class.
    seed : int
        Seeds every sample the report draws (rows explained, background, ICE rows, ...).
    n_threads : int, optional
    title : str, optional
        The page's title.
    progress : bool, callable or None
        Passed to each glassbox method (see ``glassbox.progress``).

    Returns
    -------
    str
        ``path``, as a string.

    Examples
    --------
    >>> import pathlib, tempfile, numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> model = gb.wrap(lambda X: X[:, 0] - 2 * X[:, 1] * X[:, 2], n_inputs=3)
    >>> path = gb.report(model, X, path=pathlib.Path(tempfile.mkdtemp()) / "r.html", budget_s=5)
    >>> text = pathlib.Path(path).read_text(encoding="utf-8")
    >>> "<h2>Summary</h2>" in text, "<script" in text
    (True, False)
    """
    from glassbox.reporting import context as inputs
    from glassbox.reporting.plan import Clock, seconds_per_row
    from glassbox.reporting.sections import plots

    clock = Clock(_check_budget(budget_s))
    given = _given(explanations)
    ctx = inputs.read_inputs(
        model, X, y, feature_names=feature_names, clock=clock, seed=seed, n_threads=n_threads,
        progress=progress,
    )  # fmt: skip
    inputs.choose_target(ctx, target)
    ctx.cost = seconds_per_row(ctx.run.evaluate, ctx.batch)
    plots()  # matplotlib is needed (an ImportError naming the plot extra)
    found, chosen = _attributions(ctx, given["exp"], rows)
    parts = _sections(ctx, given, found, chosen)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = (
        f"{ctx.n_rows} rows x {ctx.n_features} features; explained output: {ctx.target_text}; "
        f"made {when} in {clock.spent():.1f} s (budget {clock.budget_s:g} s)"
    )
    text = page(title or f"glassbox report: {type(model).__name__}", subtitle, parts)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return os.fspath(path)


def _attributions(ctx: Any, given: Any, rows: Any) -> tuple[Any, list[tuple[int, str]]]:
    """The attributions (given or computed) and the rows shown one by one, with why."""
    from glassbox.reporting import attributions as attr
    from glassbox.reporting.context import check_rows, choose_rows

    if given is None:
        chosen = choose_rows(ctx, rows)
        return attr.compute_attributions(ctx, [r for r, _ in chosen]), chosen
    found = attr.given_attributions(ctx, given)
    if rows is not None:
        chosen = [(r, "asked for (rows=)") for r in check_rows(rows, len(found.exp))]
    elif found.rows is not None:
        chosen = choose_rows(ctx, None)
    else:
        chosen = _extreme_rows(found)
    return found, chosen


def _sections(
    ctx: Any, given: dict[str, Any], found: Any, chosen: list[tuple[int, str]]
) -> list[Section]:
    """Every section of the page, in order (optional ones skipped when the budget is spent)."""
    from glassbox.reporting import attributions as attr
    from glassbox.reporting import effects, inside, sections
    from glassbox.reporting.diagnosis import diagnosis_section
    from glassbox.reporting.plan import TOP_CURVES, TOP_INTERACTIONS

    parts = [sections.model_section(ctx), sections.data_section(ctx)]
    importance_part, importance = attr.importance_section(ctx, found, given["importance"])
    parts += [importance_part, attr.summary_section(ctx, found)]
    top = attr.top_features(found, importance, ctx.n_features, TOP_CURVES)
    parts.append(effects.pdp_section(ctx, top, given["pdp"]))
    parts.append(effects.ale_section(ctx, top, given["ale"]))
    pairs = attr.top_features(found, importance, ctx.n_features, TOP_INTERACTIONS)
    parts.append(effects.interactions_section(ctx, pairs, given["h"]))
    parts.append(attr.local_section(ctx, found, chosen))
    parts.append(diagnosis_section(ctx))
    parts += [inside.health_section(ctx), inside.compression_section(ctx)]
    parts.append(_about(ctx))
    return parts


def _extreme_rows(found: Any) -> list[tuple[int, str]]:
    """Rows of a given Explanation (not X's rows) to show: the largest and smallest sum of
    attributions (the strongest push up and down)."""
    import numpy as np

    total = np.asarray(found.exp.values, dtype=np.float64).sum(axis=1)
    high, low = int(total.argmax()), int(total.argmin())
    chosen = {high: "the largest sum of attributions"}
    chosen.setdefault(low, "the smallest sum of attributions")
    return list(chosen.items())
