"""The attribution sections: the Shapley values the report computes (or is given), global
importance (permutation importance and mean |attribution|), the summary plot and the local
waterfalls of the chosen rows.

Default method: exact Shapley values for up to 10 features, else KernelSHAP; the background is
a seeded sample of X's rows (the interventional value function averages over it); rows explained
are a seeded sample that always holds the rows shown one by one. ``plan.plan_attributions``
fits the settings to the budget.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.reporting import plan as planning
from glassbox.reporting.context import Context
from glassbox.reporting.html import Section, failure, paragraph, table
from glassbox.reporting.sections import (
    BACKGROUND_STREAM,
    EXPLAINED_STREAM,
    add_figure,
    bar_height,
    on_axes,
    plots,
    quality,
    skip_unless_fits,
    timed,
)


@dataclass
class Attributions:
    """The attributions of one output (rows x features), where their rows are in X (``rows``;
    None for a given Explanation whose rows are not X's), and how they were made."""

    exp: Any = None
    rows: np.ndarray | None = None
    seconds: float = 0.0
    how: str = ""
    error: BaseException | None = None

    def position(self, row: int) -> int | None:
        """The index in ``exp`` of X's row ``row`` (None when it was not explained)."""
        if self.rows is None:
            return row if self.exp is not None and row < len(self.exp) else None
        found = np.flatnonzero(self.rows == row)
        return int(found[0]) if found.size else None

    def mean_abs(self) -> np.ndarray:
        return np.abs(np.asarray(self.exp.values, dtype=np.float64)).mean(axis=0)


def one_output(exp: Any, target: int) -> Any:
    """A given Explanation as the attributions of one output, rows x features: values with an
    output axis (every output explained) give output ``target``."""
    from glassbox.explanation import Explanation

    if not isinstance(exp, Explanation) or exp.single_row:
        raise TypeError(
            "explanations: expected Explanations of several rows (exp, not exp[i]), got "
            f"{type(exp).__name__}"
        )
    if np.ndim(exp.values) == np.ndim(exp.data) + 1:
        pick = {"values": np.asarray(exp.values)[..., target]}
        for name in ("base_values", "delta"):
            value = getattr(exp, name)
            if value is not None and np.ndim(value) == 2:
                pick[name] = np.asarray(value)[:, target]
        if exp.stderr is not None:
            pick["stderr"] = np.asarray(exp.stderr)[..., target]
        pick["target"] = np.full(len(exp), target, dtype=np.int64)
        exp = dataclasses.replace(exp, **pick)
    if np.ndim(exp.values) != 2:
        raise ValueError(
            f"explanations: the report shows tabular attributions (rows x features); got values "
            f"of shape {np.shape(exp.values)} (draw image attributions with glassbox.plots.image)"
        )
    return exp


def given_attributions(ctx: Context, exp: Any) -> Attributions:
    """Attributions from ``explanations=``: rows are X's when there are as many as X has."""
    exp = ctx.named(one_output(exp, ctx.global_target))
    aligned = len(exp) == ctx.n_rows
    how = f"given (explanations=), {len(exp)} rows, " + (
        "taken as X's rows" if aligned else "not X's rows: rows= index them"
    )
    return Attributions(exp, np.arange(ctx.n_rows) if aligned else None, 0.0, how)


def compute_attributions(ctx: Context, keep: list[int]) -> Attributions:
    """Shapley values of the explained output for a sample of rows holding ``keep``."""
    from glassbox.explainers.shapley import ExactShapley, KernelShap

    settings = planning.plan_attributions(
        ctx.n_rows, ctx.n_features, ctx.cost, planning.ATTRIBUTION_SHARE * ctx.clock.budget_s
    )
    rows = planning.sample_rows(ctx.n_rows, settings.n_explained, ctx.seed, EXPLAINED_STREAM, keep)
    background = planning.sample_rows(
        ctx.n_rows, settings.n_background, ctx.seed, BACKGROUND_STREAM
    )
    common = {"background": ctx.take(background), "seed": ctx.seed, **ctx.common()}
    if settings.method == "exact_shapley":
        explainer = ExactShapley(ctx.agnostic, **common)
        budget = f"all {2**ctx.n_features} coalitions (exact)"
    else:
        explainer = KernelShap(ctx.agnostic, n_samples=settings.n_coalitions, **common)
        budget = f"{settings.n_coalitions} coalitions per row (n_samples)"
    how = (
        f"{len(rows)} of {ctx.n_rows} rows explained (a sample drawn with seed={ctx.seed}, "
        f"holding the rows shown one by one); background: {len(background)} rows of X "
        f"(sampled with seed={ctx.seed}); {budget}"
    )
    ctx.notes.extend(f"attributions: {note}" for note in settings.notes)
    try:
        exp, seconds = timed(lambda: explainer(ctx.take(rows), target=ctx.target[rows]))
    except Exception as error:  # the page says so; the other sections go on
        return Attributions(None, rows, 0.0, how, error)
    return Attributions(ctx.named(exp), rows, seconds, how)


def describe(section: Section, found: Attributions) -> None:
    """Method, options, run time and quality figures of the attributions, as facts."""
    if found.exp is None:
        section.add(failure("attribution", found.error or ValueError("not computed")))
        return
    section.fact("method", found.exp.method)
    section.fact("options", found.how)
    section.fact("run time", f"{found.seconds:.2f} s")
    quality(section, found.exp)


def top_features(found: Attributions, importance: Any, n_features: int, count: int) -> list[int]:
    """The ``count`` most important features: by mean |attribution|, else by permutation
    importance, else the first ones."""
    if found.exp is not None:
        scores = found.mean_abs()
    elif importance is not None:
        scores = np.asarray(importance.importances_mean)
    else:
        return list(range(min(count, n_features)))
    return [int(j) for j in np.argsort(-scores, kind="stable")[:count]]


def metric_for(ctx: Context) -> str:
    """Permutation importance's metric: accuracy for classes, R^2 for numbers."""
    y = ctx.y
    if y is None or ctx.run.n_outputs > 1 or y.dtype.kind == "U":
        return "accuracy"
    binary = set(np.unique(y).tolist()) <= {0.0, 1.0}
    probabilities = ctx.outputs.min() >= 0 and ctx.outputs.max() <= 1
    return "accuracy" if binary and probabilities else "r2"


def compute_importance(ctx: Context, section: Section) -> Any:
    """Permutation importance (None with a reason in ``section`` when there is no y, it does
    not fit the budget, or it fails)."""
    from glassbox.inspection import permutation_importance

    if ctx.y is None:
        section.add(
            paragraph(
                "Permutation importance needs y (the true labels or values): "
                "pass y= (or --label COLUMN on the command line)."
            )
        )
        return None
    samples = min(ctx.n_rows, planning.PERMUTED_ROWS)
    work = ctx.n_features * planning.REPEATS * samples + ctx.n_rows
    if not skip_unless_fits(ctx, section, "permutation importance", work, 1):
        return None
    # an estimator keeps its classes_ (how y's labels map to outputs)
    model = ctx.model if hasattr(ctx.model, "classes_") else ctx.agnostic
    metric = metric_for(ctx)
    try:
        result, seconds = timed(
            lambda: permutation_importance(
                model,
                ctx.X,
                ctx.y,
                metric=metric,
                n_repeats=planning.REPEATS,
                max_samples=samples,
                seed=ctx.seed,
                **ctx.common(),
            )
        )
    except Exception as error:
        section.add(failure("permutation importance", error))
        return None
    section.fact(
        "permutation importance",
        f"metric {metric}, {planning.REPEATS} repeats, "
        f"{samples} rows per feature, seed={ctx.seed}, {seconds:.2f} s",
    )
    return ctx.named(result)


def importance_section(ctx: Context, found: Attributions, importance: Any) -> tuple[Section, Any]:
    """Permutation importance and mean |attribution| as bar charts, and a table of both."""
    section = Section(
        "Global importance",
        "Permutation importance: how much the model's score drops when a feature's values are "
        "shuffled among the rows (the bar is the mean over repeats, the whisker their spread); "
        "it needs y and measures what the model's accuracy relies on. Mean |attribution|: the "
        "average size of each feature's Shapley value over the explained rows; it measures how "
        "much the feature moves the explained output, whatever the truth.",
    )
    if importance is None:
        importance = compute_importance(ctx, section)
    else:
        section.fact("permutation importance", f"given (explanations=), metric {importance.metric}")
    if importance is not None:
        section.fact("baseline score", float(importance.baseline_score))
        section.fact("largest std over repeats", float(np.max(importance.importances_std)))
        add_figure(
            section,
            on_axes(plots().bar, importance),
            size=(6.4, bar_height(ctx.n_features)),
            caption=f"Permutation importance ({importance.metric} drop)",
        )
    if found.exp is not None:
        add_figure(
            section,
            on_axes(plots().bar, found.exp),
            size=(6.4, bar_height(ctx.n_features)),
            caption=f"Mean |{found.exp.method}| over {len(found.exp)} rows",
        )
    section.add(ranking(ctx, found, importance))
    return section, importance


def ranking(ctx: Context, found: Attributions, importance: Any) -> str:
    """The top features with their mean |attribution| and permutation importance."""
    order = top_features(found, importance, ctx.n_features, 15)
    mean_abs = found.mean_abs() if found.exp is not None else None
    rows = []
    for rank, j in enumerate(order, start=1):
        row: list[Any] = [rank, ctx.names[j]]
        row.append(float(mean_abs[j]) if mean_abs is not None else "")
        if importance is not None:
            row.append(
                f"{importance.importances_mean[j]:.4g} ± {importance.importances_std[j]:.2g}"
            )
        rows.append(row)
    header = ["rank", "feature", "mean |attribution|"]
    if importance is not None:
        header.append("permutation importance (mean ± std)")
    return table(header, rows, numeric=2)


def row_outcome(ctx: Context, one: Any) -> str:
    """The explained output of one row, its base value and f(x) = base + sum of values."""
    target = "" if one.target is None else f"output {ctx.output_names[int(one.target)]!r}: "
    if one.base_values is None:
        return f"{target}sum of attributions {float(np.sum(one.values)):.4g}"
    base = float(np.asarray(one.base_values))
    return f"{target}base value {base:.4g}, f(x) = {base + float(np.sum(one.values)):.4g}"


def summary_section(ctx: Context, found: Attributions) -> Section:
    """The beeswarm of the attributions (PNG: one dot per row and feature)."""
    section = Section(
        "Summary",
        "One dot per explained row and feature: its position is the feature's attribution in "
        "that row (right: pushes the explained output up), its colour the feature's value (blue "
        "low, red high). Features are sorted by mean |attribution|; the bottom row sums the "
        "rest.",
    )
    describe(section, found)
    if found.exp is not None:
        add_figure(
            section,
            on_axes(plots().beeswarm, found.exp),
            size=(7.5, bar_height(ctx.n_features) + 0.6),
            caption=f"{found.exp.method} values of {len(found.exp)} rows",
            png=True,
        )
    return section


def local_section(ctx: Context, found: Attributions, chosen: list[tuple[int, str]]) -> Section:
    """A waterfall for each chosen row: from the base value to f(x), feature by feature."""
    section = Section(
        "Local explanations",
        "Each waterfall starts at the base value (the average output over the background) and "
        "adds one feature's attribution at a time, largest first, ending at the model's output "
        "f(x) for that row; the feature's value in the row is printed beside its name.",
    )
    if found.exp is None:
        section.skipped = "no attributions (see the Summary section)"
        return section
    section.fact("rows", "; ".join(f"row {r}: {why}" for r, why in chosen))
    section.add('<div class="figures">')
    for row, why in chosen:
        at = found.position(row)
        if at is None:
            section.add(paragraph(f"Row {row} is not among the explained rows."))
            continue
        one = found.exp[at]
        add_figure(
            section,
            on_axes(plots().waterfall, one),
            size=(5.2, bar_height(min(ctx.n_features, 10))),
            caption=f"Row {row} ({why}); {row_outcome(ctx, one)}",
        )
    section.add("</div>")
    return section
