"""``diagnose(model, X, y)``: where and why a model errs, in one call."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._names import position_labels
from glassbox._validation import check_choice, check_int, check_seed
from glassbox.data import frame_kind
from glassbox.diagnosis.confusion import (
    TASKS,
    ConfusionMatrix,
    ErrorRows,
    Outcome,
    ResidualSummary,
    check_labels,
    confusion,
    error_rows,
    outcome,
    residual_summary,
)
from glassbox.diagnosis.contrast import Contrast, contrast, empty
from glassbox.diagnosis.error_tree import ErrorTree, error_tree
from glassbox.diagnosis.slices import Slices, slices
from glassbox.explainers.base import Explainer
from glassbox.inspection._common import Run, prepare
from glassbox.surrogate import SKLEARN_MAX_SEED
from glassbox.tables import Tabular

#: The random stream of the contrast's sample of rows (``default_rng([seed, stream])``).
SAMPLE_STREAM = 1
#: The parts of a Diagnosis ``to_frame(kind)`` tables.
PARTS = ("slices", "errors", "error_tree", "contrast", "confusion")
#: KernelShap's background rows and coalitions when it is the default explainer.
SHAP_BACKGROUND, SHAP_COALITIONS = 32, 256


@dataclass(frozen=True)
class Diagnosis(Tabular):
    """Where and why a model errs on (X, y): the result of :func:`diagnose`.

    Attributes
    ----------
    task : str
        "classification" or "regression".
    confusion : ConfusionMatrix or ResidualSummary
        The confusion matrix (classification) or the residual summary (regression).
    errors : ErrorRows
        The misclassified rows, most confident first (regression: the rows of largest
        |residual|).
    error_tree : ErrorTree
        A shallow tree of where the errors are; ``print(diagnosis.error_tree)`` reads it.
    slices : Slices
        Error rates by slice of every feature, worst first.
    contrast : Contrast
        Attributions on the error rows against the correct rows, with p-values.
    error_rate : float
        Misclassified share (classification) or mean |residual| (regression).
    n_rows, n_errors : int
        Rows diagnosed, and error rows (regression: above the ``error_quantile`` quantile of
        |residual|).
    feature_names, output_names : list of str or None

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(400, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> # a model right everywhere but where x2 > 1: there it always answers class 0
    >>> model = gb.wrap(lambda X: np.column_stack([(X[:, 0] <= 0) | (X[:, 2] > 1),
    ...                                            (X[:, 0] > 0) & (X[:, 2] <= 1)]) * 1.0,
    ...                 n_inputs=3)
    >>> d = gb.diagnose(model, X, y, explainer=False)
    >>> d.n_errors == int(((X[:, 0] > 0) & (X[:, 2] > 1)).sum()), d.error_tree.feature
    (True, 'x2')
    >>> d.slices.to_frame().iloc[0][["feature", "slice"]].tolist()
    ['x2', 'x2 > 0.73']
    """

    task: str
    confusion: ConfusionMatrix | ResidualSummary
    errors: ErrorRows
    error_tree: ErrorTree
    slices: Slices
    contrast: Contrast
    error_rate: float
    n_rows: int
    n_errors: int
    feature_names: list[str] | None = None
    output_names: list[str] | None = None

    def to_frame(self, kind: str = "slices") -> Any:
        """The table of one part: ``kind`` is "slices" (default), "errors", "error_tree",
        "contrast" or "confusion"."""
        return getattr(self, check_choice(kind, "kind", PARTS)).to_frame()

    def __str__(self) -> str:
        if self.task == "classification":
            head = (
                f"Diagnosis (classification): {self.n_errors} of {self.n_rows} rows "
                f"misclassified (error rate {self.error_rate:.2%})"
            )
        else:
            head = (
                f"Diagnosis (regression): {self.confusion}; {self.n_errors} rows of the "
                "largest |residual| contrasted"
            )
        lines = [head]
        worst = self.slices
        if len(worst):
            lines.append(
                f"worst slice: {worst.descriptions[0]} ({worst.n[0]} rows, "
                f"{worst.metric.replace('_', ' ')} {worst.error[0]:.4g}, lift {worst.lift[0]:.2f})"
            )
        tree = self.error_tree
        if tree.feature is not None:
            lines.append(f"error tree: first split {tree.feature} <= {tree.threshold:.6g}")
        c = self.contrast
        if len(c):
            top = int(np.argmax(np.abs(c.difference)))
            lines.append(
                f"contrast ({c.method}): {c.features[top]} differs most between errors and "
                f"correct rows ({c.difference[top]:+.4g}, p = {c.p_value[top]:.3g})"
            )
        elif c.note:
            lines.append(f"contrast: {c.note}")
        return "\n".join(lines)


def _rows_of(X: object) -> tuple[object, tuple[int, ...] | None]:
    """X as rows: an array of samples of several axes (images) flattened to (n, d), with the
    samples' shape (None for rows and DataFrames)."""
    if frame_kind(X) is not None or not hasattr(X, "__len__"):
        return X, None
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):  # ragged: prepare says why
        return X, None
    if array.ndim <= 2 or array.dtype.kind not in "biuf":
        return X, None
    return array.reshape(array.shape[0], -1), tuple(array.shape[1:])


#: Categories of one non-numeric column the error tree may split on (the most frequent).
MAX_TREE_CATEGORIES = 50


def _categories(
    batch: np.ndarray, names: list[str], coded: list[bool], decode: Any
) -> tuple[list[tuple[int, float, str]], list[str]]:
    """The error tree's category indicators: (column, code, "name = value") for the values of
    each non-numeric column (its most frequent ``MAX_TREE_CATEGORIES``), and the columns whose
    rarer values were left out."""
    categories, capped = [], []
    for j in (j for j, is_coded in enumerate(coded) if is_coded):
        codes, counts = np.unique(batch[:, j], return_counts=True)
        if len(codes) > MAX_TREE_CATEGORIES:
            capped.append(names[j])
            codes = np.sort(codes[np.argsort(-counts, kind="stable")[:MAX_TREE_CATEGORIES]])
        values = decode(j, codes.astype(np.float32))
        categories += [
            (j, float(code), f"{names[j]} = {value}")
            for code, value in zip(codes, values, strict=True)
        ]
    return categories, capped


def _row_index(X: object, n: int) -> np.ndarray:
    """X's row labels: a pandas DataFrame's index, else positions."""
    if frame_kind(X) == "pandas":
        return np.asarray(X.index)  # type: ignore[attr-defined]
    return np.arange(n)


def _check_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number between 0 and 1, got {value!r}")
    if not 0.0 < float(value) < 1.0:  # NaN fails too
        raise ValueError(f"{name}: expected a number strictly between 0 and 1, got {value}")
    return float(value)


def _default_explainer(
    run: Run, batch: np.ndarray, seed: int, options: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """IntegratedGradients (from the mean row) for a native network, else KernelShap on a
    seeded sample of the rows (``options``: n_threads, memory_budget); with the keyword
    arguments of its call."""
    from glassbox.explainers import IntegratedGradients
    from glassbox.explainers.shapley import KernelShap
    from glassbox.models.native import NativeModel

    if isinstance(run.model, NativeModel):
        return IntegratedGradients(run.model, **options), {"baselines": batch.mean(axis=0)}
    rows = np.random.default_rng(seed).permutation(batch.shape[0])[:SHAP_BACKGROUND]
    budget = min(SHAP_COALITIONS, 2 ** batch.shape[1] - 2) if batch.shape[1] > 1 else None
    background = batch[np.sort(rows)]
    return KernelShap(run.model, background=background, n_samples=budget, seed=seed, **options), {}


def sample_rows(is_error: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """A seeded sample of at most ``max_rows`` rows (sorted) with both groups in it: up to half
    of them error rows (more when there are fewer correct rows), the rest correct rows, each
    drawn without replacement by ``np.random.default_rng([seed, SAMPLE_STREAM])``."""
    errors, correct = np.flatnonzero(is_error), np.flatnonzero(~is_error)
    n_err = min(errors.size, max(max_rows // 2, max_rows - correct.size))
    n_ok = min(correct.size, max_rows - n_err)
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    chosen = [rng.choice(errors, n_err, replace=False), rng.choice(correct, n_ok, replace=False)]
    return np.sort(np.concatenate(chosen))


def _take(X: object, rows: np.ndarray) -> object:
    """The rows ``rows`` of X, in X's own type (array or DataFrame)."""
    kind = frame_kind(X)
    if kind == "pandas":
        return X.iloc[rows]  # type: ignore[attr-defined]
    if kind == "polars":
        return X[rows.tolist()]  # type: ignore[index]
    return np.asarray(X)[rows]


def _given(explainer: Any, n: int, d: int) -> tuple[np.ndarray, str] | None:
    """Attributions given beforehand (an Explanation or array of one value per row and
    feature), checked, with the method's name; None for an explainer to call (or none)."""
    from glassbox.explanation import Explanation

    if explainer is None or explainer is False or isinstance(explainer, Explainer):
        return None
    if isinstance(explainer, Explanation):
        values, method = explainer.values, explainer.method or "attribution"
    elif isinstance(explainer, np.ndarray):
        values, method = explainer, "attribution"
    else:
        raise TypeError(
            "explainer: expected None (the default), False (no contrast), a glassbox explainer "
            f"(e.g. gb.KernelShap(model, background=...)), or an Explanation / array of "
            f"attributions of shape ({n}, {d}); got {type(explainer).__name__}"
        )
    values = np.asarray(values, dtype=np.float64)
    if values.size == n * d and values.ndim > 2:  # samples of several axes: one per position
        values = values.reshape(n, d)
    if values.shape != (n, d):
        raise ValueError(
            f"explainer: attributions of shape {values.shape}; expected ({n}, {d}), one per row "
            "and feature of X for one output (explain each row's predicted class)"
        )
    if not np.isfinite(values).all():
        raise ValueError("explainer: the attributions contain NaN or Inf")
    return values, method


def _attributions(
    explainer: Explainer | None,
    run: Run,
    X: object,
    batch: np.ndarray,
    target: np.ndarray,
    plan: dict[str, Any],
    rows: np.ndarray | None,
) -> tuple[np.ndarray, str]:
    """Attributions of the rows ``rows`` (None: every row) for their ``target`` output, and
    the method's name: ``explainer`` is called on those rows of X (None: the default one, with
    ``plan``'s seed, n_threads and memory_budget)."""
    n, d = batch.shape
    picked = slice(None) if rows is None else rows
    # a native network's samples as it takes them (images: (C, H, W))
    shaped = batch.reshape(n, *(getattr(run.model, "input_shape", None) or (d,)))
    if explainer is None:
        options = {key: plan[key] for key in ("n_threads", "memory_budget")}
        explainer, extra = _default_explainer(run, shaped, plan["seed"], options)
        values = explainer(shaped[picked], target=target[picked], **extra).values
    else:
        data = shaped if run.schema is None else X
        data = data if rows is None else _take(data, rows)
        values = explainer(data, target=target[picked]).values
    count = n if rows is None else len(rows)
    return np.asarray(values, dtype=np.float64).reshape(count, d), explainer.method_name


def diagnose(
    model: object,
    X: object,
    y: object,
    explainer: Any = None,
    *,
    task: str = "auto",
    max_depth: int = 3,
    n_bins: int = 4,
    max_values: int = 10,
    min_size: int = 10,
    error_quantile: float = 0.9,
    n_permutations: int = 1000,
    max_rows: int = 2000,
    feature_names: list[str] | None = None,
    seed: int = 0,
    n_threads: int | None = None,
    memory_budget: int | None = None,
) -> Diagnosis:
    """Find where and why ``model`` errs on ``(X, y)``.

    Computes the confusion matrix (or residual summary), the error rows, an error tree,
    error rates by slice of every feature and a contrast of attributions between the error
    rows and the correct rows (docs/methods.md, "Diagnosing errors").

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
        A classifier outputs class probabilities or scores (logits), one per class (or one:
        P(class 1)); its prediction is the argmax. A regressor outputs one value.
    X : array or DataFrame of shape (n_rows, n_features), or images (n_rows, C, H, W)
        Samples of several axes are diagnosed per position (features named ``x{c}_{h}_{w}``):
        slices and the error tree over the pixels, the contrast over their attributions.
    y : array of shape (n_rows,)
        True labels (class names as the model's output names or ``classes_`` name them, or
        output indices) or values.
    explainer : None, False, Explainer, Explanation or array, optional
        The attributions of the contrast, each row explaining its predicted class (the output
        for a regressor). None: IntegratedGradients from the mean row of X for a native
        network, else KernelShap (32 background rows of X, 256 coalitions, ``seed``). An
        Explainer is called on X with those targets; an Explanation or array (n_rows,
        n_features) is used as it is. False: no contrast.
    task : {"auto", "classification", "regression"}
        "auto": regression for a declared regressor; classification for several outputs,
        string labels, an estimator with ``classes_``, or one output in [0, 1] with y all
        0 / 1; regression otherwise.
    max_depth : int, default 3
        Depth of the error tree.
    n_bins : int, default 4
        Quantile bins per feature (fewer when quantiles coincide).
    max_values : int, default 10
        Features of at most this many distinct integer values (and non-numeric DataFrame
        columns) get one slice per value.
    min_size : int, default 10
        Smallest slice reported and smallest leaf of the error tree.
    error_quantile : float, default 0.9
        Regression: the rows whose |residual| is above this quantile are the error rows.
    n_permutations : int, default 1000
        Permutations of the contrast's test.
    max_rows : int, default 2000
        The contrast explains at most this many rows: with more, a seeded sample of them, up
        to half error rows (all of them when fewer), the rest correct rows. Attributions
        given as an Explanation or array cover every row.
    feature_names : list of str, optional
        Names in the slices, rules and contrast; default the data's or the model's, else x0,
        x1, ...
    seed : int, default 0
        The permutations (``np.random.default_rng(seed)``), the error tree's tie-breaking
        and KernelShap's draws.
    n_threads, memory_budget : int, optional

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> model = LogisticRegression(C=0.01).fit(X, y)
    >>> d = gb.diagnose(model, X, y, explainer=False)
    >>> d.confusion.matrix  # rows: true class, columns: predicted
    array([[187,  25],
           [  1, 356]])
    >>> d.errors.to_frame().head(2).round(3)  # the most confident errors first
       index  true  predicted  confidence
    0    297     0          1       0.929
    1    135     0          1       0.822
    >>> print(d)
    Diagnosis (classification): 26 of 569 rows misclassified (error rate 4.57%)
    worst slice: -0.3412 < x23 <= 0.3576 (142 rows, error rate 0.1479, lift 3.24)
    error tree: first split x14 <= -1.21904
    contrast: no explainer (explainer=False)
    """
    task = check_choice(task, "task", TASKS)
    max_depth = check_int(max_depth, "max_depth", 1, 32)
    n_bins = check_int(n_bins, "n_bins", 2, 1000)
    max_values = check_int(max_values, "max_values", 1)
    min_size = check_int(min_size, "min_size", 1)
    quantile = _check_fraction(error_quantile, "error_quantile")
    n_permutations = check_int(n_permutations, "n_permutations", 1)
    max_rows = check_int(max_rows, "max_rows", 2)
    seed = check_seed(seed, SKLEARN_MAX_SEED)
    X, sample_shape = _rows_of(X)
    run, batch = prepare(model, X, n_threads, memory_budget, None, "diagnose", missing_ok=False)
    n, d = batch.shape
    labels = check_labels(y, n)  # one finite number or string per row
    given = _given(explainer, n, d)
    if feature_names is not None:
        feature_names = [str(name) for name in feature_names]
        if len(feature_names) != d:
            raise ValueError(f"feature_names: expected {d} names, got {len(feature_names)}")
    outputs = np.asarray(run.evaluate(batch), dtype=np.float64)
    out = outcome(task, model, run, outputs, labels, quantile)
    shape = sample_shape or tuple(getattr(run.model, "input_shape", None) or (d,))
    names = position_labels(feature_names or run.feature_names, shape)  # images: x{c}_{h}_{w}
    metric = "error_rate" if out.task == "classification" else "mean_abs_residual"
    schema = run.schema
    coded = [bool(schema and schema.columns[j].coded) for j in range(d)]

    def decode(j: int, codes: np.ndarray) -> np.ndarray:
        return schema.columns[j].decode(codes)  # type: ignore[union-attr]

    sliced = slices(
        batch,
        out.error,
        names,
        metric,
        n_bins=n_bins,
        max_values=max_values,
        min_size=min_size,
        coded=coded,
        decode=decode,
    )
    used = [j for j in range(d) if not coded[j]]
    categories, capped = _categories(batch, names, coded, decode)
    tree = error_tree(
        batch,
        out.error,
        names,
        metric,
        used=used,
        max_depth=max_depth,
        min_size=min_size,
        seed=seed,
        categories=categories,
        note=(
            f"only the {MAX_TREE_CATEGORIES} most frequent values of {', '.join(capped)} split on"
            if capped
            else ""
        ),
    )
    n_err = int(out.is_error.sum())
    plan = {"max_rows": max_rows, "n_permutations": n_permutations, "seed": seed}
    plan.update(n_threads=n_threads, memory_budget=memory_budget)
    explained = _contrast(explainer, given, run, X, batch, out, names, plan)
    parts = confusion(out) if out.task == "classification" else residual_summary(out)
    return Diagnosis(
        task=out.task,
        confusion=parts,
        errors=error_rows(out, _row_index(X, n)),
        error_tree=tree,
        slices=sliced,
        contrast=explained,
        error_rate=float(out.error.mean()),
        n_rows=n,
        n_errors=n_err,
        feature_names=feature_names or run.feature_names,
        output_names=run.output_names,
    )


def _contrast(
    explainer: Any,
    given: tuple[np.ndarray, str] | None,
    run: Run,
    X: object,
    batch: np.ndarray,
    out: Outcome,
    names: list[str],
    plan: dict[str, Any],
) -> Contrast:
    """The contrast of the error rows with the correct rows: of the ``given`` attributions, or
    of the explainer's on every row (a seeded sample beyond ``plan["max_rows"]``); empty, with
    a note, without an explainer or without one of the groups."""
    n = batch.shape[0]
    n_err = int(out.is_error.sum())
    max_rows, seed = plan["max_rows"], plan["seed"]
    why = _empty_contrast(n_err, n)
    if explainer is False or why:
        return empty("", n_err, n - n_err, why or "no explainer (explainer=False)", seed)
    several = out.task == "classification" and run.n_outputs > 1
    target = out.predicted.astype(np.int64) if several else np.zeros(n, np.int64)
    rows, note = None, ""
    if given is not None:
        values, method = given
    else:
        if n > max_rows:
            rows = sample_rows(out.is_error, max_rows, seed)
            note = f"attributions of a seeded sample of {rows.size} of the {n} rows "
            note += f"(max_rows={max_rows})"
        values, method = _attributions(explainer, run, X, batch, target, plan, rows)
    return contrast(
        values,
        out.is_error if rows is None else out.is_error[rows],
        names,
        method=method,
        n_permutations=plan["n_permutations"],
        seed=seed,
        note=note,
    )


def _empty_contrast(n_errors: int, n_rows: int) -> str:
    """Why there is nothing to contrast ("" when both groups have rows)."""
    if n_errors == 0:
        return "no error rows: nothing to contrast (the model is right on every row)"
    if n_errors == n_rows:
        return "no correct rows: nothing to contrast the errors with"
    return ""
