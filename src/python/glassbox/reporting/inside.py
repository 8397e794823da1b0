"""The report's look inside a native network: the layer table and graph of the "Model" section
(``glassbox.inspect.summary``), the "Weights and activations" section (``inspect.weights`` and
``inspect.activations`` on the report's rows) and, when y is given, the "Compression" section
(``compress.sweep``). A model glassbox can only call has no layers to show: these say so."""

from __future__ import annotations

from typing import Any

from glassbox.reporting.context import Context
from glassbox.reporting.html import Section, failure, table
from glassbox.reporting.sections import FIGURE_S, add_figure, on_figure, plots, timed

#: Rows the compression probes are compared on at most (a seeded sample of the report's rows).
COMPRESSION_ROWS = 2000
#: Pruning fractions of the compression curve, and its methods.
COMPRESSION_AMOUNTS = (0.25, 0.5, 0.75, 0.9)
COMPRESSION_METHODS = ("magnitude", "quantize")
#: Seconds of one activations pass over a row, in model evaluations (a forward and its sums).
ACTIVATION_EVALUATIONS = 1.5
#: Stream of the compression rows' sample (with the report's seed).
COMPRESSION_STREAM = 33


def _native(ctx: Context) -> Any:
    from glassbox.models.native import NativeModel

    return ctx.agnostic if isinstance(ctx.agnostic, NativeModel) else None


def layer_table(model: Any, section: Section) -> str:
    """The layers of a NativeModel (``inspect.summary``: name, kind, inputs read, output shape,
    parameters, multiply-adds) with the totals as facts, and the layer graph as a figure."""
    from glassbox.inspect import summary

    layers = summary(model)
    rows = [
        [
            name,
            kind,
            ", ".join(layers.source_names(i)),
            " x ".join(map(str, shape)),
            int(layers.params[i]),
            int(layers.macs[i]),
        ]
        for i, (name, kind, shape) in enumerate(
            zip(layers.layers, layers.kinds, layers.output_shapes, strict=True)
        )
    ]
    rows.append(["total", f"{len(rows)} layers", "", "", layers.total_params, layers.total_macs])
    section.fact("input shape", " x ".join(map(str, model.input_shape)))
    section.fact("parameters", layers.total_params)
    section.fact("multiply-adds per row", layers.total_macs)
    header = ["layer", "kind", "reads", "output shape", "parameters", "multiply-adds"]
    graph = (
        f'<figure class="gb-figure">{layers.graph_svg()}<figcaption>The layer graph '
        "(glassbox.inspect.summary(model).graph_svg()): arrows are tensors; an add or concat "
        "box is where branches merge</figcaption></figure>"
    )
    section.add(graph, figures=1)
    return table(header, rows, numeric=2)


def health_section(ctx: Context) -> Section:
    """Each affine layer's weight statistics and each activation layer's units over the rows."""
    from glassbox.inspect import activations, weights

    section = Section(
        "Weights and activations",
        "Weights: per dense / convolution layer, the spread of its weights, the fraction of "
        "exact zeros, its spectral norm and stable rank, and alpha, the heavy-tail exponent of "
        "its spectrum (WeightWatcher: 2 to 6 for well-trained layers; n/a for layers too small "
        "to fit). Activations: per layer over the report's rows, the units that are zero on "
        "every row (dead) or saturated on every row, and the histogram of its values.",
    )
    native = _native(ctx)
    if native is None:
        section.skipped = "the model is not a network glassbox runs natively: no layers to show"
        return section
    try:
        stats, seconds = timed(lambda: weights(native))
    except Exception as error:
        section.add(failure("weight statistics", error))
    else:
        section.fact("weights", f"glassbox.inspect.weights, {seconds:.2f} s")
        columns = ["layer", "shape", "std", "zero_fraction", "spectral_norm", "stable_rank"]
        frame = stats.to_frame()
        rows = [[*(r[c] for c in columns), r["alpha"]] for r in frame.to_dict("records")]
        section.add(table([*columns, "alpha"], rows, numeric=2))
        size = (12.0, 2.6 * ((len(stats.layers) + 3) // 4) + 0.6)
        add_figure(section, on_figure(plots().weights, stats), size=size, caption="Weights")
    estimate = ctx.n_rows * ACTIVATION_EVALUATIONS * ctx.cost + FIGURE_S
    if not ctx.clock.fits(estimate):
        why = ctx.clock.why_not("the activation statistics", estimate)
        section.fact("activations", f"skipped: {why}")
        ctx.notes.append(f"{section.title}: activations skipped ({why})")
        return section
    try:
        found, seconds = timed(
            lambda: activations(native, ctx.batch, n_threads=ctx.n_threads, progress=ctx.progress)
        )
    except Exception as error:
        section.add(failure("activation statistics", error))
        return section
    section.fact(
        "activations", f"glassbox.inspect.activations on {ctx.n_rows} rows, {seconds:.2f} s"
    )
    frame = found.to_frame()
    rows = [
        [
            layer,
            len(part),
            int(part["dead"].sum()),
            int(part["saturated"].sum()),
            float(part["zero_fraction"].mean()),
            float(part["saturated_fraction"].mean()),
        ]
        for layer, part in frame.groupby("layer", sort=False)
    ]
    header = ["layer", "units", "dead", "always saturated", "zero fraction", "saturated fraction"]
    section.add(table(header, rows, numeric=1))
    size = (12.0, 2.6 * ((len(found.layers) + 2) // 3) + 0.6)
    add_figure(section, on_figure(plots().activations, found), size=size, caption="Activations")
    return section


def compression_section(ctx: Context) -> Section:
    """What magnitude pruning and weight quantisation would do to the predictions (with y)."""
    import numpy as np

    from glassbox.compress import sweep
    from glassbox.reporting.plan import sample_rows

    section = Section(
        "Compression",
        "Copies of the network with a fraction of its weights pruned by magnitude (per layer, "
        "torch's l1_unstructured) or quantised (symmetric per-channel; the fraction of weight "
        "bits removed), compared with the original on the report's rows: agreement is the "
        "fraction of rows with the same predicted class, accuracy is against y. Nothing is "
        "fine-tuned: this is what compression does to the trained network as it is.",
    )
    native = _native(ctx)
    if native is None:
        section.skipped = "the model is not a network glassbox runs natively: nothing to compress"
        return section
    if ctx.y is None:
        section.skipped = "the compression curve needs y (the true labels): pass y="
        return section
    rows = sample_rows(ctx.n_rows, COMPRESSION_ROWS, ctx.seed, COMPRESSION_STREAM)
    steps = len(COMPRESSION_AMOUNTS) * len(COMPRESSION_METHODS)
    estimate = steps * len(rows) * 2 * ctx.cost + FIGURE_S
    if not ctx.clock.fits(estimate):
        section.skipped = ctx.clock.why_not("the compression curve", estimate)
        ctx.notes.append(f"{section.title}: skipped ({section.skipped})")
        return section
    y = np.asarray(ctx.y)[rows]
    try:
        found, seconds = timed(
            lambda: sweep(native, ctx.batch[rows], y, COMPRESSION_AMOUNTS, COMPRESSION_METHODS)
        )
    except Exception as error:
        section.add(failure("compression sweep", error))
        return section
    section.fact(
        "method",
        f"glassbox.compress.sweep (amounts {', '.join(map(str, COMPRESSION_AMOUNTS))}; "
        f"{' and '.join(COMPRESSION_METHODS)}) on {len(rows)} rows, {seconds:.2f} s",
    )
    frame = found.to_frame()
    columns = ["method", "amount", "bits", "sparsity", "agreement", "accuracy", "bytes"]
    section.add(table(columns, [[r[c] for c in columns] for r in frame.to_dict("records")], 1))
    add_figure(
        section,
        on_figure(plots().compression, found),
        size=(10.0, 3.6),
        caption="Agreement and accuracy against the fraction compressed",
    )
    return section
