"""The effect sections: partial dependence with ICE curves and accumulated local effects for the
top features, and the H-statistic of the strongest interactions among them. All are optional:
each is skipped (and says why) when its estimated time does not fit the budget left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassbox.reporting import plan as planning
from glassbox.reporting.context import Context
from glassbox.reporting.html import Section, failure, paragraph, table
from glassbox.reporting.sections import (
    ICE_STREAM,
    add_figure,
    on_axes,
    on_figure,
    plots,
    skip_unless_fits,
    timed,
)

#: How to read the curves (the sections' notes).
PDP_HOW = (
    "Each thin line (ICE) is one row: the model's output as this feature alone is moved along "
    "the grid, the row's other features kept. The thick line is their average, the partial "
    "dependence. Parallel lines mean the feature acts alone; crossing lines mean it interacts "
    "with others. The ticks on the x axis show where the data lie."
)
ALE_HOW = (
    "ALE: the average change of the output as the feature moves through each quantile bin, "
    "accumulated and centred at 0, computed from rows that are actually in the bin. Unlike "
    "partial dependence it does not evaluate the model on unlikely combinations when features "
    "are correlated."
)


def curve_results(
    ctx: Context,
    section: Section,
    compute: Callable[[int], Any],
    features: Sequence[int],
) -> tuple[list[Any], float]:
    """``compute(feature)`` for each feature (a failure box for one that raises) and the total
    seconds."""
    results, total = [], 0.0
    for feature in features:
        try:
            result, seconds = timed(lambda f=feature: compute(f))
        except Exception as error:
            section.add(failure(f"computation for {ctx.names[feature]!r}", error))
            continue
        results.append(ctx.named(result))
        total += seconds
    return results, total


def draw_curves(section: Section, plot: Callable[..., object], results: Sequence[Any]) -> None:
    """One figure per result (each a 1-D curve of one feature), side by side."""
    section.add('<div class="figures">')
    for result in results:
        name = ", ".join(
            result.feature_names[f] if result.feature_names else f"x{f}" for f in result.features
        )
        add_figure(section, on_figure(plot, result), size=(4.6, 3.4), caption=name)
    section.add("</div>")


def curve_section(
    ctx: Context,
    section: Section,
    plot: Callable[..., object],
    given: Sequence[Any],
    run: tuple[Callable[[int], Any], list[int], float],
    method: str,
    options: str,
) -> Section:
    """Fill a section of curves: the ``given`` results, or ``run = (compute, features,
    evaluations)`` when its estimate fits the budget left."""
    if given:
        section.fact("method", f"{method} (given: explanations=)")
        draw_curves(section, plot, given)
        return section
    compute, features, work = run
    if not skip_unless_fits(ctx, section, section.title.lower(), work, len(features)):
        return section
    results, seconds = curve_results(ctx, section, compute, features)
    section.fact("method", method)
    section.fact("options", options)
    section.fact("run time", f"{seconds:.2f} s")
    draw_curves(section, plot, results)
    return section


def pdp_section(ctx: Context, features: list[int], given: Sequence[Any] = ()) -> Section:
    """Partial dependence (average) with ICE curves (one per sampled row) of the top features."""
    from glassbox.inspection import partial_dependence

    section = Section("Partial dependence", PDP_HOW)
    n_ice = min(ctx.n_rows, planning.ICE_ROWS)
    X = ctx.take(planning.sample_rows(ctx.n_rows, n_ice, ctx.seed, ICE_STREAM))
    t = ctx.global_target

    def compute(feature: int) -> Any:
        return partial_dependence(
            ctx.agnostic, X, feature, kind="both", grid_resolution=planning.GRID, target=t,
            **ctx.common(),
        )  # fmt: skip

    options = (
        f"{planning.GRID}-point grid between the 5th and 95th percentiles; ICE on {n_ice} rows "
        f"sampled with seed={ctx.seed}; output {ctx.output_names[t]!r}; features: the top "
        f"{len(features)} by mean |attribution|"
    )
    work = len(features) * planning.GRID * n_ice
    method = "partial_dependence (brute force), kind='both'"
    run = (compute, features, work)
    return curve_section(ctx, section, plots().partial_dependence, given, run, method, options)


def ale_section(ctx: Context, features: list[int], given: Sequence[Any] = ()) -> Section:
    """Accumulated local effects of the top numeric features."""
    from glassbox.inspection import ale

    section = Section("Accumulated local effects", ALE_HOW)
    numeric = [f for f in features if not ctx.coded(f)]
    if not numeric and not given:
        section.skipped = "ALE needs numeric features; the top features are all categorical"
        return section
    t = ctx.global_target

    def compute(feature: int) -> Any:
        return ale(ctx.agnostic, ctx.X, feature, bins=planning.ALE_BINS, target=t, **ctx.common())

    options = f"{planning.ALE_BINS} quantile bins, all {ctx.n_rows} rows, output "
    options += repr(ctx.output_names[t])
    run = (compute, numeric, len(numeric) * 2 * ctx.n_rows)
    return curve_section(ctx, section, plots().ale, given, run, "ale (first order)", options)


def interactions_section(ctx: Context, features: list[int], given: Any = None) -> Section:
    """Friedman's H-statistic for the pairs of the top features, as a heat map and a table."""
    section = Section(
        "Interactions",
        "H² of a pair: the share of the variance of the pair's joint partial dependence that "
        "the two features' separate effects do not explain (0: they add up; 1: all of it is "
        "interaction). A pair with a large H² deserves a two-feature partial dependence plot.",
    )
    result = given
    if result is None:
        result = compute_interactions(ctx, section, features)
        if result is None:
            return section
    else:
        section.fact("method", "h_statistic (given: explanations=)")
    add_figure(
        section, on_axes(plots().interactions, result), size=(5.6, 4.6), caption="H² of each pair"
    )
    section.add(pair_table(result))
    return section


def compute_interactions(ctx: Context, section: Section, features: list[int]) -> Any:
    """The H-statistic of ``features`` (None with the reason in ``section`` when skipped)."""
    from glassbox.inspection import h_statistic

    if len(features) < 2:
        section.skipped = "the H-statistic needs at least two features"
        return None
    k, m = len(features), min(ctx.n_rows, planning.H_ROWS)
    work = (2 * k + k * (k - 1) // 2) * m * m
    if not skip_unless_fits(ctx, section, "the H-statistic", work, 1):
        return None
    t = ctx.global_target
    try:
        result, seconds = timed(
            lambda: h_statistic(
                ctx.agnostic, ctx.X, features, n_samples=m, seed=ctx.seed, target=t, **ctx.common()
            )
        )
    except Exception as error:
        section.add(failure("H-statistic", error))
        return None
    section.fact("method", "h_statistic (Friedman & Popescu)")
    section.fact(
        "options",
        f"the top {k} features by mean |attribution|, {m} rows sampled with "
        f"seed={ctx.seed}, output {ctx.output_names[t]!r}",
    )
    section.fact("run time", f"{seconds:.2f} s")
    return ctx.named(result)


def pair_table(result: Any) -> str:
    """The pairs, strongest first (at most 10), with H² and H."""
    names = result.feature_names
    pairwise = np.asarray(result.pairwise)[:, 0]
    rows = []
    for i in np.argsort(-pairwise, kind="stable")[:10]:
        a, b = result.pairs[i]
        label = (names[a], names[b]) if names else (f"x{a}", f"x{b}")
        rows.append([*label, float(pairwise[i]), float(np.sqrt(max(pairwise[i], 0.0)))])
    if not rows:
        return paragraph("No pairs.")
    return table(["feature", "feature", "H²", "H"], rows, numeric=2)
