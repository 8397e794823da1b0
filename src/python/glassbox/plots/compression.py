"""``compression(result)``: what a compression sweep did, one curve per method against the
amount removed, a panel per measure (agreement, accuracy, or output error); or what one probe
did to each layer (its fraction of zero weights, as bars)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox.plots._figure import finish, new_axes, new_figure

#: The measures a panel can show (columns of ``Sweep.to_frame()``).
MEASURES = ("agreement", "accuracy", "output_mse", "sparsity", "params", "bytes")
BASELINE_COLOUR = "#555555"


def _measures(result: Any, measures: Sequence[str] | str | None) -> list[str]:
    if measures is None:
        if result.task == "regression":
            return ["output_mse"]
        has_accuracy = bool(np.isfinite(result.accuracy).any())
        return ["agreement", "accuracy"] if has_accuracy else ["agreement"]
    chosen = [measures] if isinstance(measures, str) else list(measures)
    bad = [m for m in chosen if m not in MEASURES]
    if bad or not chosen:
        raise ValueError(f"measures: expected names among {MEASURES}, got {measures!r}")
    return chosen


def _layers(record: Any, ax: Any) -> Any:
    """One bar per layer (the first on top): its fraction of zero weights."""
    from glassbox.plots.bars import _barh

    ax = new_axes(ax, figsize=(6.4, 1.2 + 0.35 * len(record.layers)))
    names = [
        name if record.bits_of(name) == 32 else f"{name} ({record.bits_of(name)} bits)"
        for name in record.layers
    ]
    _barh(ax, np.array(list(record.sparsity.values())), names, "#4a6fa5")
    ax.set_xlim(0.0, 1.15)
    ax.set_xlabel(
        f"fraction of zero weights ({record.method}; all layers: {record.total_sparsity:.3g})"
    )
    return finish(ax)


def compression(
    result: Any,
    *,
    measures: Sequence[str] | str | None = None,
    fig: Any = None,
    ax: Any = None,
) -> Any:
    """A compression sweep: per measure a panel, per method a line over the amount removed; or
    one compressed model: per layer a bar, its fraction of zero weights.

    The x axis is the sweep's ``amount`` (the fraction of weights or units pruned; for
    "quantize", the fraction of weight bits removed, 1 - bits / 32), points sorted by it; the
    accuracy panel marks the original model's accuracy with a dashed line.

    A ``CompressedModel`` (or its ``Compression`` record) is drawn as horizontal bars, one per
    dense / conv2d layer in network order (the first on top), of length its ``sparsity``, the
    bit width in the name of quantised layers; on ``ax``, returning the Axes.

    Parameters
    ----------
    result : Sweep, CompressedModel or Compression
        From ``gb.compress.sweep``, or ``prune`` / ``quantize`` / ``distill``.
    measures : str or list of str, optional
        Columns to draw among ``MEASURES``. Default: agreement (and accuracy when the sweep had
        labels) for classifiers, output_mse for regression models.
    fig : matplotlib Figure, optional
        A sweep's figure.
    ax : matplotlib Axes, optional
        A compressed model's axes.

    Returns
    -------
    matplotlib Figure (a sweep) or Axes (a compressed model)

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(4,))
    >>> _ = spec.add("dense", "fc", weight=np.random.default_rng(0).normal(size=(3, 4)),
    ...              bias=None)
    >>> X = np.random.default_rng(1).normal(size=(50, 4))
    >>> fig = gb.plots.compression(gb.compress.sweep(gb.build_network(spec), X))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['magnitude', 'quantize']
    """
    from glassbox.compress import CompressedModel, Compression, Sweep

    if isinstance(result, (CompressedModel, Compression)):
        return _layers(getattr(result, "compression", result), ax)
    if not isinstance(result, Sweep):
        raise TypeError(
            f"result: expected a glassbox Sweep (gb.compress.sweep(...)) or a compressed model "
            f"(gb.compress.prune / quantize / distill), got {type(result).__name__}"
        )
    chosen = _measures(result, measures)
    figure = new_figure(fig, figsize=(5.0 * len(chosen), 4.0))
    methods = list(dict.fromkeys(result.method))
    method_of = np.asarray(result.method, dtype=object)
    for ax, measure in zip(figure.subplots(1, len(chosen), squeeze=False)[0], chosen, strict=True):
        values = np.asarray(getattr(result, measure), dtype=np.float64)
        for method in methods:
            rows = np.flatnonzero(method_of == method)
            rows = rows[np.argsort(result.amount[rows], kind="stable")]
            ax.plot(result.amount[rows], values[rows], marker="o", label=method)
        if measure == "accuracy" and np.isfinite(result.baseline_accuracy):
            ax.axhline(
                result.baseline_accuracy, linestyle="--", color=BASELINE_COLOUR, label="original"
            )
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("amount removed (weights, units or bits)")
        ax.set_ylabel(measure.replace("_", " "))
        ax.legend()
    return figure
