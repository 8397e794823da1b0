"""The report's "Errors" section: ``glassbox.diagnose`` on the report's rows when y is given."""

from __future__ import annotations

from typing import Any

from glassbox.reporting.context import Context
from glassbox.reporting.html import Section, details, escape, failure, paragraph, table
from glassbox.reporting.sections import FIGURE_S, add_figure, on_figure, plots, timed

#: Rows of each table shown (worst slices, contrast, error rows).
SHOWN = 10
#: Model evaluations of one row of the default KernelShap contrast (background x coalitions).
SHAP_EVALUATIONS = 32 * 258
#: Integrated Gradients' path points per row (forward + backward each about two evaluations).
IG_EVALUATIONS = 2 * 50


def diagnosis_section(ctx: Context) -> Section:
    """Where and why the model errs (``gb.diagnose``): the figure of ``plots.errors``, the
    error tree's rules and tables of the worst slices, the contrast and the error rows."""
    from glassbox.diagnosis import diagnose
    from glassbox.models.native import NativeModel

    section = Section(
        "Errors",
        "Where the model is wrong on these rows and what its attributions look like there. The "
        "error tree and the slices locate the errors (a slice's lift is its error rate over "
        "the overall rate); the contrast compares each feature's mean attribution on the "
        "error rows with the correct rows (p: a permutation test of the difference; '*' in "
        "the figure marks p < 0.05). See docs/methods.md, 'Diagnosing errors'.",
    )
    if ctx.y is None:
        section.skipped = "the diagnosis needs y (the true labels or values): pass y="
        return section
    native = isinstance(ctx.agnostic, NativeModel)
    per_row = IG_EVALUATIONS if native else SHAP_EVALUATIONS
    # the contrast's attributions are the costly part; without them the rest is cheap
    estimate = ctx.n_rows * per_row * ctx.cost + FIGURE_S
    explainer: Any = None if ctx.clock.fits(estimate) else False
    # an estimator keeps its classes_ (how y's labels map to outputs)
    model = ctx.model if hasattr(ctx.model, "classes_") else ctx.agnostic
    try:
        result, seconds = timed(
            lambda: diagnose(model, ctx.X, ctx.y, explainer, seed=ctx.seed, n_threads=ctx.n_threads)
        )
    except Exception as error:
        section.add(failure("diagnosis", error))
        return section
    section.fact("method", f"glassbox.diagnose (seed={ctx.seed}), {seconds:.2f} s")
    section.fact("task", result.task)
    rate = "error rate" if result.task == "classification" else "mean |residual|"
    section.fact(rate, result.error_rate)
    section.fact("error rows", result.n_errors)
    if explainer is False:
        why = ctx.clock.why_not("its attributions", estimate)
        section.fact("contrast", f"skipped: {why}")
        ctx.notes.append(f"{section.title}: contrast skipped ({why})")
    add_figure(
        section,
        on_figure(plots().errors, result),
        size=(16.0, 6.0),
        caption="Confusion (or residuals), worst slices and the attribution contrast",
    )
    section.add(f"<pre>{escape(str(result.error_tree))}</pre>")
    section.add(_frame_table("Worst slices", result.slices.to_frame().head(SHOWN)))
    if len(result.contrast):
        columns = ["feature", "mean_errors", "mean_correct", "difference", "p_value"]
        frame = result.contrast.to_frame()[columns].head(SHOWN)
        section.add(_frame_table("Attributions: errors vs correct rows", frame))
    elif result.contrast.note:
        section.add(paragraph(f"Contrast: {result.contrast.note}"))
    errors = result.errors.to_frame().head(SHOWN)
    section.add(details(f"The worst {len(errors)} error rows", _html(errors)))
    return section


def _html(frame: Any) -> str:
    """A DataFrame as the report's table (numbers formatted)."""
    split = frame.to_dict("split")  # Python numbers, which the table formats
    return table([str(c) for c in split["columns"]], split["data"])


def _frame_table(title: str, frame: Any) -> str:
    return paragraph(title) + _html(frame)
