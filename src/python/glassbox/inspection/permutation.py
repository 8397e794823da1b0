"""Permutation importance: how much a score drops when a feature (group) is permuted."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._names import feature_labels
from glassbox._validation import MAX_COUNT, check_int, check_seed
from glassbox.inspection._common import (
    Run,
    check_features,
    check_vector,
    check_weights,
    prepare,
)
from glassbox.progress import ProgressArg
from glassbox.tables import Tabular, importance_frame

CLASSIFICATION = ("accuracy", "balanced_accuracy", "log_loss", "roc_auc")
REGRESSION = ("r2", "mse", "mae")
#: The random streams of permutation importance (seeded draws: ``(seed, stream, group, ...)``).
SHUFFLE_STREAM, ROWS_STREAM = 20, 21


@dataclass(frozen=True)
class PermutationImportance(Tabular):
    """The result of :func:`permutation_importance` (scikit-learn's attribute names).

    ``importances[g, r]`` is the baseline score minus the score with group ``g`` permuted in
    repeat ``r`` (scores are "higher is better": losses are negated, as scikit-learn's
    ``neg_*`` scorers). ``permutation_indices()`` gives the exact rows each job read.
    ``group_names`` name the rows of ``importances`` (the features' names, x0, x1, ... when
    unnamed); ``feature_names`` / ``output_names`` are the data's and the model's (None:
    unnamed).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> model = gb.wrap(lambda X: 2 * X[:, 0], n_inputs=2)  # feature 1 is unused
    >>> result = gb.permutation_importance(model, X, 2 * X[:, 0], metric="r2", n_repeats=3)
    >>> result.importances.shape, result.importances_mean.round(1)  # (features, repeats)
    ((2, 3), array([2.1, 0. ]))
    """

    importances_mean: np.ndarray
    importances_std: np.ndarray
    importances: np.ndarray
    baseline_score: float
    metric: str
    groups: list[list[int]]
    n_rows: int
    max_samples: int
    n_repeats: int
    seed: int
    group_names: list[str] | None = None
    feature_names: list[str] | None = None
    output_names: list[str] | None = None

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame (``to_pandas`` is the same). ``kind="wide"``: one row per feature
        (or group) with columns ``feature`` (its name), ``importances_mean`` and
        ``importances_std``; ``kind="long"``: one row per (feature, repeat) with columns
        ``feature``, ``repeat`` and ``importance``."""
        return importance_frame(self, kind)

    def permutation_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, sources)``: job (g, r) scored ``X[rows[g]]`` with the columns of group ``g``
        taken from ``X[rows[g][sources[g, r]]]`` (shapes (groups, max_samples) and
        (groups, repeats, max_samples)); y and sample_weight were indexed by ``rows[g]``."""
        indices = _core.permutation_indices(
            self.seed,
            n_rows=self.n_rows,
            max_samples=self.max_samples,
            n_groups=len(self.groups),
            n_repeats=self.n_repeats,
        )
        return np.asarray(indices.rows), np.asarray(indices.sources)

    def permuted_data(self, X: np.ndarray, group: int, repeat: int) -> np.ndarray:
        """The rows job (``group``, ``repeat``) evaluated, as a new array (for oracle tests)."""
        group = check_int(group, "group", 0, len(self.groups) - 1)
        repeat = check_int(repeat, "repeat", 0, self.n_repeats - 1)
        rows, sources = self.permutation_indices()
        data = np.array(X)[rows[group]]
        columns = self.groups[group]
        data[:, columns] = np.array(X)[rows[group][sources[group, repeat]]][:, columns]
        return data


def _max_samples(max_samples: object, n_rows: int) -> int:
    if max_samples is None:
        return n_rows
    if isinstance(max_samples, numbers.Integral):  # a bool too: check_int rejects it
        count = check_int(max_samples, "max_samples", 1, n_rows)
        return count
    if isinstance(max_samples, numbers.Real) and 0 < float(max_samples) <= 1:  # NaN fails
        return max(1, int(float(max_samples) * n_rows))
    raise ValueError(
        f"max_samples: expected an integer between 1 and {n_rows} (the rows of X) or a float "
        f"in (0, 1], got {max_samples!r}"
    )


def _groups(
    groups: object, n_features: int, names: list[str] | None
) -> tuple[list[list[int]], list[str]]:
    """The groups as lists of feature indices (given by index or name) and their names: a dict's
    keys, else the names of the group's features joined by "+" (x0, x1, ... when unnamed)."""
    labels = feature_labels(names, n_features)
    if groups is None:
        return [[feature] for feature in range(n_features)], labels
    if isinstance(groups, Mapping):
        given: list[str] | None = [str(key) for key in groups]
        groups = list(groups.values())
    else:
        given = None
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence) or not groups:
        raise TypeError(
            "groups: expected a non-empty sequence of sequences of feature indices or names, or "
            "a dict group name -> features"
        )
    members = [check_features(group, n_features, "groups", names) for group in groups]
    return members, given or ["+".join(labels[f] for f in group) for group in members]


def _as_labels(y: object, n_rows: int) -> np.ndarray:
    """y as float64 numbers, or as str class labels (strings, a pandas / polars Series or
    Categorical of strings), one per row."""
    array = np.asarray(y)  # a Series or Categorical gives its values
    if array.dtype.kind in "OUS" and array.shape == (n_rows,):
        if all(isinstance(v, (str, np.str_, bytes)) for v in array):
            return array.astype(str)
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in array):
            kinds = sorted({type(v).__name__ for v in array})
            raise TypeError(
                f"y: expected class labels (all strings) or numbers, got values of types "
                f"{', '.join(kinds)} (missing labels? drop those rows)"
            )
        array = array.astype(np.float64)
    return check_vector(array, n_rows, "y")


def _named_classes(y: np.ndarray, keys: list, metric: str, source: str) -> np.ndarray:
    """Labels as output indices: label ``keys[k]`` is output ``k`` (``source`` says where the
    keys come from, for errors). One output named by one class (a binary model's score of that
    class): that class is 1, the one other label 0."""
    uniques, inverse = np.unique(y, return_inverse=True)
    if len(keys) == 1:
        others = [u for u in uniques.tolist() if u != keys[0]]
        if len(others) > 1:
            raise ValueError(
                f"y: metric {metric!r} on a single-output model scores the class {keys[0]!r} "
                f"against one other; y holds {len(others)} other labels {others[:10]}"
            )
        return (y == keys[0]).astype(np.float64)
    position = {key: k for k, key in enumerate(keys)}
    unknown = [u for u in uniques.tolist() if u not in position]
    if unknown:
        raise ValueError(f"y: labels {unknown[:10]} are not among {source}: {keys[:20]}")
    lookup = np.array([position[u] for u in uniques.tolist()], dtype=np.float64)
    return lookup[inverse.ravel()]


def _label_keys(y: np.ndarray, names: list[str] | None) -> list | None:
    """The output names as the keys of y's labels: the names for string labels; for numbers,
    their values when every name is a number (integer classes named by ``str(class)``)."""
    if names is None or y.dtype.kind == "U":
        return names
    try:
        return [float(name) for name in names]
    except ValueError:
        return None


@dataclass(frozen=True)
class ClassCodes:
    """y as output indices: ``indices`` (float64, one per row), ``n_classes``, and ``labels``:
    the label of each class index (the model's output names, its ``classes_``, or the indices
    themselves when y held indices)."""

    indices: np.ndarray
    n_classes: int
    labels: list


def class_codes(y: np.ndarray, model: object, metric: str, run: Run) -> ClassCodes:
    """y as class indices 0..n_classes-1: labels through the model's output names (strings, or
    numbers all among the names when the names are numbers), or through an estimator's
    ``classes_`` when it has it; other numbers are indices."""
    n_outputs = run.n_outputs
    n_classes = 2 if n_outputs == 1 else n_outputs
    keys = _label_keys(y, run.output_names)
    # numbers: labels when every one is a named class, else output indices (below)
    if keys is not None and (y.dtype.kind == "U" or np.isin(y, keys).all()):
        hint = "its classes_" if hasattr(model, "classes_") else "pass output_names= naming classes"
        source = f"the model's output names ({hint})"
        indices = _named_classes(y, keys, metric, source)
        if len(keys) == 1:  # one output scoring one class against the one other label
            others = [u for u in np.unique(y).tolist() if u != keys[0]]
            keys = [others[0] if others else f"not {keys[0]}", keys[0]]
        return ClassCodes(indices, n_classes, keys)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        classes = np.asarray(classes)
        keys = (classes.astype(str) if y.dtype.kind == "U" else classes).tolist()
        indices = _named_classes(y, keys, metric, "the model's classes_")
        return ClassCodes(indices, len(classes), keys)
    if y.dtype.kind == "U":
        raise ValueError(
            f"y: string labels need the model's output names (the class of each output) or an "
            f"estimator's classes_; the model has neither (pass output_names=, or y as output "
            f"indices 0..{n_classes - 1})"
        )
    if not np.array_equal(y, np.round(y)):
        raise ValueError(f"y: metric {metric!r} needs class labels; y has continuous values")
    if y.min() < 0 or y.max() >= n_classes:
        named = "" if keys is None else f" or among the model's output names {keys[:20]}"
        raise ValueError(
            f"y: metric {metric!r} needs labels 0..{n_classes - 1} (one per model "
            f"output){named}, got values from {y.min():g} to {y.max():g}"
        )
    return ClassCodes(y, n_classes, list(range(n_classes)))


def _class_indices(y: np.ndarray, model: object, metric: str, run: Run) -> tuple[np.ndarray, int]:
    """y as class indices and the number of classes (see ``class_codes``)."""
    codes = class_codes(y, model, metric, run)
    return codes.indices, codes.n_classes


def _is_regressor(model: object) -> bool:
    """Whether a scikit-learn-style estimator declares itself a regressor."""
    tags = getattr(model, "__sklearn_tags__", None)
    if callable(tags):
        try:
            return getattr(tags(), "estimator_type", None) == "regressor"
        except Exception:  # an estimator with broken tags: fall back to the old attribute
            pass
    return getattr(model, "_estimator_type", None) == "regressor"


def _check_task(
    metric: str, model: object, run: Run, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, int]:
    """y prepared for a built-in metric; a metric that does not fit the task raises here."""
    k = run.n_outputs
    if metric in REGRESSION:
        if y.dtype.kind == "U":
            raise TypeError(f"y: metric {metric!r} needs numbers; y holds string labels")
        if k != 1:
            raise ValueError(
                f"metric: {metric!r} needs a single-output model (a regressor); the "
                f"model has {k} outputs (use a classification metric)"
            )
        return y, 1
    if _is_regressor(model):
        raise ValueError(f"metric: {metric!r} is a classification metric; the model is a regressor")
    labels, n_classes = _class_indices(y, model, metric, run)
    if k > 1 and k != n_classes:
        raise ValueError(f"y: {n_classes} classes but the model has {k} outputs")
    if metric == "roc_auc" and (n_classes != 2 or len(np.unique(labels)) != 2):
        raise ValueError("metric: 'roc_auc' needs a binary task (y with exactly two classes)")
    if metric == "log_loss":
        outputs = run.evaluate(X)
        if outputs.min() < 0 or outputs.max() > 1:
            raise ValueError(
                "metric: 'log_loss' needs class probabilities; the model's outputs "
                f"range from {outputs.min():g} to {outputs.max():g}"
            )
    return labels, n_classes


def _callable_scores(
    metric: Callable[..., float],
    run: Run,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    plan: dict[str, Any],
) -> tuple[float, np.ndarray]:
    """Baseline and (groups, repeats) scores of a Python metric: the core evaluates the permuted
    rows in job blocks that fit the memory budget; the metric is called once per job. ``plan``
    holds the jobs' groups, n_repeats, seed and max_samples."""

    def score(y_part: np.ndarray, outputs: np.ndarray, w: np.ndarray | None) -> float:
        pred = outputs[:, 0] if outputs.shape[1] == 1 else outputs
        value = metric(y_part, pred) if w is None else metric(y_part, pred, sample_weight=w)
        return float(value)

    k = run.n_outputs
    groups, n_repeats, seed, n_samples = (
        plan[key] for key in ("groups", "n_repeats", "seed", "max_samples")
    )
    baseline = score(y, run.evaluate(X), weights)
    rows = _core.permutation_indices(
        seed, n_rows=X.shape[0], max_samples=n_samples, n_groups=len(groups), n_repeats=1
    ).rows
    n_jobs = len(groups) * n_repeats
    # blocks of jobs whose outputs (and drawn indices) fit the budget, each of at least 1024
    # rows (one model call)
    width = 4 * n_samples * (k + X.shape[1]) + 16 * n_samples
    block = min(n_jobs, max(run.options.memory_budget // width, -(-1024 // n_samples)))
    scores = np.empty(n_jobs)
    for first in range(0, n_jobs, block):
        count = min(block, n_jobs - first)
        outputs = np.asarray(
            run.call(_core.permuted_predictions, X, job_first=first, job_count=count, **plan)
        ).reshape(count, n_samples, k)
        for j in range(count):
            g = (first + j) // n_repeats
            w = None if weights is None else weights[rows[g]]
            scores[first + j] = score(y[rows[g]], outputs[j], w)
    return baseline, scores.reshape(len(groups), n_repeats)


def permutation_importance(
    model: object,
    X: object,
    y: object,
    *,
    metric: str | Callable[..., float] = "accuracy",
    n_repeats: int = 5,
    groups: Sequence[Sequence[int | str]] | Mapping[str, Sequence[int | str]] | None = None,
    max_samples: int | float | None = None,
    sample_weight: object = None,
    seed: int = 0,
    greater_is_better: bool = True,
    n_threads: int | None = None,
    progress: ProgressArg = None,
    memory_budget: int | None = None,
) -> PermutationImportance:
    """Permutation feature importance with scikit-learn's semantics.

    For each feature (or group of features permuted together) and repeat, the rows of X (a
    subsample of ``max_samples`` rows per group, as scikit-learn) are scored with that group's
    columns permuted; the importance is the baseline score on all of X minus that score.
    Permuted columns are written into the core's chunk buffers, never into copies of X;
    jobs run under OpenMP for native networks, and a Python model gets chunks of many rows.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
        Classifiers output class probabilities or scores (label = argmax; a single column is the
        probability of class 1); regressors one value per row.
    X : array of shape (n_rows, n_features)
    y : array, pandas / polars Series or Categorical, of shape (n_rows,)
        Class labels (indices of the model's outputs, names among the model's output names, or
        values of an estimator's ``classes_``) or regression targets. For a single-output model
        named by one class, that class is 1 and the one other label 0.
    metric : str or callable
        "accuracy", "balanced_accuracy", "log_loss", "roc_auc", "r2", "mse" or "mae", or a function.
        Built-in metrics are computed in C++ (losses negated). A callable
        ``metric(y, pred[, sample_weight=...])`` gets the model's outputs ((n,) for one output,
        else (n, n_outputs)) and is called once per (group, repeat).
    n_repeats : int
        Permutations per group (>= 1).
    groups : sequence of sequences of feature indices or names, or dict name -> them, optional
        Features permuted together; default: each feature alone. ``group_names`` of the result
        are the dict's keys, else the features' names joined by "+".
    max_samples : int or float, optional
        Rows scored per group: a count, or a fraction of the rows.
    sample_weight : array of shape (n_rows,), optional
    seed : int
        Permutations are keyed by ``(seed, stream 20, group, repeat)``, subsamples by
        ``(seed, stream 21, group)``; ``result.permutation_indices()`` returns them.
    greater_is_better : bool
        For a callable metric: False when it is a loss (its value is negated).
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Returns
    -------
    PermutationImportance

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> result = gb.permutation_importance(model, data.data, data.target, metric="r2", n_repeats=3)
    >>> [data.feature_names[i] for i in np.argsort(-result.importances_mean)[:3]]
    ['bmi', 's5', 'bp']
    """
    run, batch = prepare(
        model, X, n_threads, memory_budget, progress, "permutation_importance", moves_values=True
    )
    n_rows, n_features = batch.shape
    target = _as_labels(y, n_rows)
    weights = check_weights(sample_weight, n_rows)
    repeats = check_int(n_repeats, "n_repeats", 1)
    group_list, group_names = _groups(groups, n_features, run.feature_names)
    if len(group_list) * repeats > MAX_COUNT:  # the scores table: one value per job
        raise ValueError(
            f"n_repeats: {len(group_list)} groups x {repeats} repeats is more than {MAX_COUNT} "
            "permutation jobs"
        )
    n_samples = _max_samples(max_samples, n_rows)
    plan = {"groups": group_list, "n_repeats": repeats, "seed": check_seed(seed)}
    plan["max_samples"] = n_samples
    if callable(metric):
        sign = 1.0 if greater_is_better else -1.0
        baseline, scores = _callable_scores(
            lambda *a, **k: sign * metric(*a, **k), run, batch, target, weights, plan
        )
        name = getattr(metric, "__name__", "callable")
    else:
        if not isinstance(metric, str) or metric not in CLASSIFICATION + REGRESSION:
            raise ValueError(
                f"metric: expected one of {', '.join(CLASSIFICATION + REGRESSION)} "
                f"or a callable, got {metric!r}"
            )
        labels, n_classes = _check_task(metric, model, run, batch, target)
        result = run.call(
            _core.permutation_scores,
            batch,
            y=labels,
            sample_weight=np.empty(0) if weights is None else weights,
            metric=metric,
            n_classes=n_classes,
            **plan,
        )
        baseline, scores = result.baseline, result.scores
        name = metric
    importances = float(baseline) - np.asarray(scores, dtype=np.float64)
    run.check_finite(batch, baseline_score=baseline, importances=importances)
    return PermutationImportance(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
        baseline_score=float(baseline),
        metric=name,
        n_rows=n_rows,
        **plan,
        group_names=group_names,
        **run.names,
    )
