"""What compression did to a model: agreement of the predictions, output error, accuracy, size,
and agreement of the attributions (rank correlation of Integrated Gradients maps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._validation import as_batch, as_targets, check_choice, check_int
from glassbox.compress._model import model_size, native_model
from glassbox.models.native import NativeModel
from glassbox.tables import KINDS, Tabular, pandas

#: The columns of ``Fidelity.to_frame()``, in order.
COLUMNS = (
    "agreement",
    "output_mse",
    "max_error",
    "accuracy_before",
    "accuracy_after",
    "attribution_agreement",
    "params_before",
    "params_after",
    "bytes_before",
    "bytes_after",
)


@dataclass(frozen=True)
class Fidelity(Tabular):
    """How far a compressed model ``other`` is from ``model`` on the rows ``X``.

    Attributes
    ----------
    agreement : float
        Fraction of rows where both predict the same class (top-1; for one sigmoid output, the
        same side of 0.5); NaN for regression (one output that is not a sigmoid).
    output_mse, max_error : float
        Mean squared and largest absolute difference of the outputs.
    accuracy_before, accuracy_after : float
        Accuracy of each on ``y`` (classification with ``y`` given; else NaN).
    attribution_agreement : float
        Mean over rows of the Spearman rank correlation of the two models' Integrated Gradients
        maps (both for the original model's predicted output, baseline 0); rows where a map is
        constant are left out. NaN when not computed.
    params_before, params_after, bytes_before, bytes_after : int
        Nonzero parameters and the bytes to store them (quantised weights at their bit width
        plus their float32 scales, the rest float32; sparse index overhead not counted).
    task : str
        "classification" or "regression".
    n_rows : int
    """

    agreement: float
    output_mse: float
    max_error: float
    accuracy_before: float
    accuracy_after: float
    attribution_agreement: float
    params_before: int
    params_after: int
    bytes_before: int
    bytes_after: int
    task: str
    n_rows: int

    def to_frame(self, kind: str = "wide") -> Any:
        """One row: the columns ``agreement``, ``output_mse``, ``max_error``,
        ``accuracy_before``, ``accuracy_after``, ``attribution_agreement``, ``params_before``,
        ``params_after``, ``bytes_before``, ``bytes_after``."""
        check_choice(kind, "kind", KINDS)  # one row per item: both layouts are this table
        return pandas().DataFrame({column: [getattr(self, column)] for column in COLUMNS})

    def plot(self, **kwargs: Any) -> Any:
        """A Fidelity is one comparison and has no plot: draw figures across amounts with
        ``gb.compress.sweep(...).plot()`` or a compressed model's layers with
        ``gb.plots.compression(model)``."""
        raise TypeError(
            "Fidelity: one comparison has no plot; plot gb.compress.sweep(model, X, y) (figures "
            "across amounts) or gb.plots.compression(compressed_model) (its layers)"
        )


def task_of(model: NativeModel) -> str:
    """ "classification" for several outputs or one sigmoid output, else "regression"."""
    if model.n_outputs > 1 or model.spec.layers[-1].kind == "sigmoid":
        return "classification"
    return "regression"


def classes(model: NativeModel, outputs: np.ndarray) -> np.ndarray:
    """The predicted class of each row of ``outputs`` (one sigmoid output: above 0.5)."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def check_labels(y: object, n_rows: int, model: NativeModel) -> np.ndarray | None:
    """``y`` as class indices (classification) or None (regression), checked: one per row of
    X, class indices or the model's output names."""
    if y is None:
        return None
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(
            f"y: expected {n_rows} labels (one per row of X), got shape {labels.shape}"
        )
    if task_of(model) == "regression":
        if labels.dtype.kind not in "biuf" or not np.isfinite(labels.astype(float)).all():
            raise ValueError("y: expected finite numbers for a regression model")
        return None
    width = max(model.n_outputs, 2)  # one sigmoid output: classes 0 and 1
    if (
        labels.dtype.kind == "f"
        and np.isfinite(labels).all()
        and (labels == np.round(labels)).all()
    ):
        labels = labels.astype(np.int64)  # class indices stored as floats (0.0, 1.0)
    try:
        return as_targets(labels, n_rows, width, model.output_names)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"y: expected class indices 0..{width - 1} or the model's output names "
            f"({str(error).removeprefix('target: ')})"
        ) from None


def fidelity(
    model: object,
    other: object,
    X: object,
    y: object = None,
    *,
    attributions: bool = True,
    n_steps: int = 32,
    n_threads: int | None = None,
) -> Fidelity:
    """Compare a compressed model ``other`` with ``model`` on the rows ``X`` (and labels ``y``).

    Parameters
    ----------
    model, other : NativeModel
        Same input shape and number of outputs (``other`` typically from ``prune``,
        ``quantize`` or ``distill``).
    X : array
        Rows (n, *input_shape).
    y : array, optional
        Class indices (or output names) for the accuracies; for a regression model its length
        is checked, and the accuracies are NaN.
    attributions : bool, default True
        Compute ``attribution_agreement`` (two Integrated Gradients runs of ``n_steps``).
    n_steps : int, default 32
    n_threads : int, optional

    Returns
    -------
    Fidelity

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]),
    ...              bias=None)
    >>> model = gb.build_network(spec)
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> same = gb.compress.fidelity(model, model, X)
    >>> same.agreement, same.max_error, same.attribution_agreement
    (1.0, 0.0, 1.0)
    """
    first = native_model(model, X)
    second = native_model(other, X, what="other")
    if second.input_shape != first.input_shape or second.n_outputs != first.n_outputs:
        raise ValueError(
            f"other: takes {second.input_shape} and gives {second.n_outputs} outputs, the model "
            f"{first.input_shape} and {first.n_outputs}; compare models of the same interface"
        )
    batch = as_batch(X, first.input_shape)
    labels = check_labels(y, batch.shape[0], first)
    if not isinstance(attributions, (bool, np.bool_)):
        raise TypeError(f"attributions: expected True or False, got {attributions!r}")
    n_steps = check_int(n_steps, "n_steps", 1)
    before = first.predict(batch, n_threads=n_threads)
    after = second.predict(batch, n_threads=n_threads)
    difference = before.astype(np.float64) - after.astype(np.float64)
    task = task_of(first)
    nan = float("nan")
    agreement = accuracy_before = accuracy_after = nan
    predicted = classes(first, before)
    if task == "classification":
        agreement = float(np.mean(predicted == classes(second, after)))
        if labels is not None:
            accuracy_before = float(np.mean(predicted == labels))
            accuracy_after = float(np.mean(classes(second, after) == labels))
    attribution = nan
    if attributions:
        target = predicted if first.n_outputs > 1 else 0
        attribution = _attribution_agreement(first, second, batch, target, n_steps, n_threads)
    params_before, bytes_before = model_size(first)
    params_after, bytes_after = model_size(second)
    return Fidelity(
        agreement=agreement,
        output_mse=float(np.mean(difference**2)),
        max_error=float(np.abs(difference).max()),
        accuracy_before=accuracy_before,
        accuracy_after=accuracy_after,
        attribution_agreement=attribution,
        params_before=params_before,
        params_after=params_after,
        bytes_before=bytes_before,
        bytes_after=bytes_after,
        task=task,
        n_rows=int(batch.shape[0]),
    )


def _attribution_agreement(
    first: NativeModel,
    second: NativeModel,
    batch: np.ndarray,
    target: object,
    n_steps: int,
    n_threads: int | None,
) -> float:
    from glassbox.explainers.gradients import IntegratedGradients

    maps = [
        IntegratedGradients(m, n_steps=n_steps, n_threads=n_threads)(
            batch, baselines=0.0, target=target
        ).values.reshape(batch.shape[0], -1)
        for m in (first, second)
    ]
    correlations = rank_correlation(*maps)
    if np.isnan(correlations).all():
        return float("nan")
    return float(np.nanmean(correlations))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (1-based) of each row's values, ties sharing their average rank."""
    n, m = values.shape
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    positions = np.broadcast_to(np.arange(m), (n, m))
    new_group = np.ones((n, m), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(new_group, positions, 0), axis=1)
    ends = np.ones((n, m), dtype=bool)
    ends[:, :-1] = new_group[:, 1:]
    last = np.minimum.accumulate(np.where(ends, positions, m)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((n, m))
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation of each row of ``a`` with the same row of ``b`` (NaN where a
    row is constant)."""
    ra, rb = average_ranks(np.asarray(a)), average_ranks(np.asarray(b))
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denominator = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (ra * rb).sum(axis=1) / denominator, np.nan)
