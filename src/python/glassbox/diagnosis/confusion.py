"""What the model got wrong: the task, each row's prediction and error, the confusion matrix (or
residual summary) and the error rows, from the model's outputs and y."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.inspection.permutation import _as_labels, _is_regressor, class_codes
from glassbox.tables import Tabular, pandas

#: y as one finite number or string label per row (permutation importance's check).
check_labels = _as_labels

TASKS = ("auto", "classification", "regression")
#: Row sums of outputs within this of 1 (all outputs in [0, 1]): the outputs are probabilities.
PROBABILITY_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Outcome:
    """Each row's truth, prediction and error. Classification: ``true`` / ``predicted`` are class
    indices into ``labels``, ``confidence`` the predicted class's probability and ``error`` the
    0/1 error indicator; regression: ``true`` / ``predicted`` values, ``error`` |residual|.
    ``is_error`` marks the rows contrasted with the others (misclassified rows, or the
    regression rows whose |residual| is above the ``error_quantile`` quantile)."""

    task: str
    true: np.ndarray
    predicted: np.ndarray
    error: np.ndarray
    is_error: np.ndarray
    labels: list | None = None
    confidence: np.ndarray | None = None
    confidence_kind: str = ""


def infer_task(task: str, model: object, outputs: np.ndarray, y: np.ndarray) -> str:
    """``task`` when given; "auto": regression for a declared regressor, classification for
    several outputs, string labels or an estimator with ``classes_``, and for one output in
    [0, 1] with y all 0 / 1 (a probability); else regression."""
    if task != "auto":
        return task
    if _is_regressor(model):
        return "regression"
    if outputs.shape[1] > 1 or y.dtype.kind == "U" or hasattr(model, "classes_"):
        return "classification"
    in_unit = outputs.min() >= 0 and outputs.max() <= 1
    binary = np.isin(y, (0.0, 1.0)).all()
    return "classification" if in_unit and binary else "regression"


def probabilities(outputs: np.ndarray) -> tuple[np.ndarray, str]:
    """Class probabilities from a classifier's outputs and how they were read: as they are when
    they are probabilities (one output: P(class 1)), else softmax of the outputs (logits; one
    output: its sigmoid)."""
    if outputs.shape[1] == 1:
        p = outputs[:, 0]
        if p.min() < 0 or p.max() > 1:
            return np.column_stack([1 / (1 + np.exp(p)), 1 / (1 + np.exp(-p))]), "sigmoid"
        return np.column_stack([1 - p, p]), "probability"
    sums = outputs.sum(axis=1)
    in_unit = outputs.min() >= 0 and outputs.max() <= 1
    if in_unit and np.allclose(sums, 1, atol=PROBABILITY_TOLERANCE):
        return outputs, "probability"
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), "softmax"


def outcome(
    task: str,
    model: object,
    run: Any,
    outputs: np.ndarray,
    labels: np.ndarray,
    error_quantile: float,
) -> Outcome:
    """The Outcome of ``outputs`` (n, k) against the labels (``check_labels``), which must be
    classes the model has (for classification)."""
    n, k = outputs.shape
    task = infer_task(task, model, outputs, labels)
    if task == "regression":
        if labels.dtype.kind == "U":
            raise TypeError("y: regression needs numbers; y holds string labels")
        if k != 1:
            raise ValueError(
                f"task: regression needs a single-output model; the model has {k} outputs"
            )
        residual = outputs[:, 0] - labels
        error = np.abs(residual)
        cut = np.quantile(error, error_quantile)
        return Outcome(task, labels, outputs[:, 0], error, error > cut)
    info = types.SimpleNamespace(n_outputs=k, output_names=run.output_names)
    codes = class_codes(labels, model, "accuracy", info)  # type: ignore[arg-type]
    if k > 1 and k != codes.n_classes:
        raise ValueError(f"y: {codes.n_classes} classes but the model has {k} outputs")
    probs, kind = probabilities(outputs)
    predicted = probs.argmax(axis=1)
    true = codes.indices.astype(np.int64)
    wrong = predicted != true
    labels_out = [_plain(label) for label in codes.labels]
    return Outcome(
        "classification",
        true,
        predicted,
        wrong.astype(np.float64),
        wrong,
        labels_out,
        probs[np.arange(n), predicted],
        kind,
    )


def _plain(label: Any) -> Any:
    """A class label as printed: integral floats as ints, NumPy scalars as Python values."""
    if hasattr(label, "item"):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        return int(label)
    return label


@dataclass(frozen=True)
class ConfusionMatrix(Tabular):
    """Counts of rows by true class (rows of ``matrix``) and predicted class (columns).

    Attributes
    ----------
    matrix : ndarray of int64, shape (n_classes, n_classes)
        ``matrix[i, j]``: rows of class ``labels[i]`` predicted as ``labels[j]``
        (scikit-learn's ``confusion_matrix`` layout).
    labels : list
        The classes, in the order of the model's outputs.
    accuracy : float
    n_rows, n_errors : int
    """

    matrix: np.ndarray
    labels: list
    accuracy: float
    n_rows: int
    n_errors: int

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per true class: column ``true`` (its label), then one column per predicted
        class (named by its label, as a string) holding the counts."""
        pd = pandas()
        columns: dict[str, Any] = {"true": list(self.labels)}
        for j, label in enumerate(self.labels):
            columns[str(label)] = self.matrix[:, j]
        return pd.DataFrame(columns)

    def __str__(self) -> str:
        return (
            f"Confusion matrix ({self.n_rows} rows, accuracy {self.accuracy:.4f}, "
            f"{self.n_errors} errors; rows true, columns predicted)\n"
            f"{self.to_frame().to_string(index=False)}"
        )


@dataclass(frozen=True)
class ResidualSummary(Tabular):
    """How far a regressor's predictions are from y: ``residuals`` = prediction - y per row,
    their MAE, RMSE and R^2, and quantiles of the residuals (``quantiles`` at ``levels``)."""

    residuals: np.ndarray
    mae: float
    rmse: float
    r2: float
    levels: np.ndarray
    quantiles: np.ndarray
    n_rows: int

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per statistic: ``statistic`` (mae, rmse, r2, q05, q25, ...) and ``value``."""
        pd = pandas()
        names = ["mae", "rmse", "r2"] + [f"q{round(100 * q):02d}" for q in self.levels]
        values = [self.mae, self.rmse, self.r2, *self.quantiles.tolist()]
        return pd.DataFrame({"statistic": names, "value": values})

    def __str__(self) -> str:
        return (
            f"Residuals (prediction - y) on {self.n_rows} rows: MAE {self.mae:.4g}, "
            f"RMSE {self.rmse:.4g}, R^2 {self.r2:.4f}"
        )


@dataclass(frozen=True)
class ErrorRows(Tabular):
    """The rows the model got wrong, worst first.

    Classification: the misclassified rows sorted by ``confidence`` (the predicted class's
    probability, read as ``confidence_kind`` says: "probability" when the outputs are
    probabilities, "softmax" / "sigmoid" of the outputs otherwise), most confident first.
    Regression: the rows whose |residual| is above the ``error_quantile`` quantile, largest
    first. ``index`` holds X's row labels (a DataFrame's index; positions for arrays), ``rows``
    the positions.
    """

    task: str
    rows: np.ndarray
    index: np.ndarray
    true: list
    predicted: list
    confidence: np.ndarray | None = None
    residual: np.ndarray | None = None
    confidence_kind: str = ""

    def __len__(self) -> int:
        return int(self.rows.size)

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per error: ``index``, ``true``, ``predicted``, then ``confidence``
        (classification) or ``residual`` and ``abs_residual`` (regression)."""
        pd = pandas()
        columns: dict[str, Any] = {
            "index": self.index,
            "true": self.true,
            "predicted": self.predicted,
        }
        if self.task == "classification":
            columns["confidence"] = self.confidence
        else:
            columns["residual"] = self.residual
            columns["abs_residual"] = np.abs(np.asarray(self.residual))
        return pd.DataFrame(columns)


def confusion(out: Outcome) -> ConfusionMatrix:
    """The confusion matrix of a classification Outcome."""
    k = len(out.labels or [])
    matrix = np.bincount(out.true * k + out.predicted, minlength=k * k).reshape(k, k)
    n = int(out.true.size)
    errors = int(out.is_error.sum())
    labels = list(out.labels or [])
    return ConfusionMatrix(matrix.astype(np.int64), labels, 1 - errors / n, n, errors)


def residual_summary(out: Outcome) -> ResidualSummary:
    """MAE, RMSE, R^2 and residual quantiles of a regression Outcome."""
    residual = out.predicted - out.true
    total = float(((out.true - out.true.mean()) ** 2).sum())
    r2 = 1 - float((residual**2).sum()) / total if total > 0 else float("nan")
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    return ResidualSummary(
        residual,
        float(np.abs(residual).mean()),
        float(np.sqrt((residual**2).mean())),
        r2,
        levels,
        np.quantile(residual, levels),
        int(residual.size),
    )


def error_rows(out: Outcome, index: np.ndarray) -> ErrorRows:
    """The error rows of an Outcome, worst first (stable order among ties)."""
    rows = np.flatnonzero(out.is_error)
    if out.task == "classification":
        confidence = np.asarray(out.confidence)[rows]
        order = np.argsort(-confidence, kind="stable")
        rows = rows[order]
        labels = out.labels or []
        return ErrorRows(
            "classification",
            rows,
            index[rows],
            [labels[i] for i in out.true[rows]],
            [labels[i] for i in out.predicted[rows]],
            confidence=confidence[order],
            confidence_kind=out.confidence_kind,
        )
    rows = rows[np.argsort(-out.error[rows], kind="stable")]
    return ErrorRows(
        "regression",
        rows,
        index[rows],
        out.true[rows].tolist(),
        out.predicted[rows].tolist(),
        residual=out.predicted[rows] - out.true[rows],
    )
