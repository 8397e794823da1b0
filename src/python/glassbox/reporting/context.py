"""The report's inputs, checked once: the model as glassbox evaluates it, the data (an array or a
pandas / polars DataFrame, kept as given so a Python model is called as it was fitted), y, the
names, the model's outputs on every row, the output explained and the rows shown one by one.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassbox._names import feature_labels, output_labels, resolve
from glassbox.data import frame_kind
from glassbox.inspection._common import Run, prepare
from glassbox.inspection.permutation import _as_labels, _class_indices
from glassbox.reporting.plan import Clock

#: Rows shown one by one when ``rows=`` is not given: the most confident, and the worst
#: predicted when there is y.
CHOSEN_PER_KIND = 2


@dataclass
class Context:
    """Everything the sections read (see the module docstring)."""

    model: Any
    run: Run
    X: Any
    batch: np.ndarray
    y: np.ndarray | None
    names: list[str]
    outputs: np.ndarray
    clock: Clock
    seed: int = 0
    n_threads: int | None = None
    progress: Any = None
    rename: bool = False
    cost: float = 0.0  # seconds per model evaluation (plan.seconds_per_row)
    target: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    global_target: int = 0
    target_text: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return int(self.batch.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.batch.shape[1])

    @property
    def output_names(self) -> list[str]:
        return output_labels(self.run.output_names, self.run.n_outputs)

    @property
    def agnostic(self) -> Any:
        """The model as glassbox runs it (a NativeModel or CallableModel)."""
        return self.run.model

    def coded(self, feature: int) -> bool:
        """Whether a feature is a non-numeric DataFrame column (the core sees codes)."""
        schema = self.run.schema
        return schema is not None and schema.columns[feature].coded

    def take(self, rows: np.ndarray) -> Any:
        """The rows ``rows`` of X, in X's own type (array or DataFrame)."""
        kind = frame_kind(self.X)
        if kind == "pandas":
            return self.X.iloc[rows]
        if kind == "polars":
            return self.X[rows.tolist()]
        return np.asarray(self.X)[rows]

    def named(self, result: Any) -> Any:
        """``result`` with the report's feature names (when ``feature_names=`` named them)."""
        if not self.rename or not hasattr(result, "feature_names"):
            return result
        changes: dict[str, Any] = {"feature_names": list(self.names)}
        if getattr(result, "group_names", None) is not None and len(result.groups) == len(
            self.names
        ):
            changes["group_names"] = [self.names[g[0]] for g in result.groups]
        return dataclasses.replace(result, **changes)

    def common(self) -> dict[str, Any]:
        """The keyword arguments every glassbox method of the report takes."""
        return {"n_threads": self.n_threads, "progress": self.progress}


def read_inputs(
    model: Any,
    X: Any,
    y: Any,
    *,
    feature_names: Any,
    clock: Clock,
    seed: int,
    n_threads: int | None,
    progress: Any,
) -> Context:
    """Check and read the report's inputs (ValueError / TypeError naming the argument)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an integer, got {seed!r}")
    run, batch = prepare(model, X, n_threads, None, progress, "report")
    n, d = batch.shape
    if n < 2:
        raise ValueError(f"X: the report needs at least 2 rows, got {n}")
    names = feature_labels(run.feature_names, d)
    rename = feature_names is not None
    if rename:
        names = [str(name) for name in feature_names]
        if len(names) != d:
            raise ValueError(
                f"feature_names: expected {d} names (one per column of X), got {len(names)}"
            )
    labels = None if y is None else _as_labels(y, n)
    outputs = np.asarray(run.evaluate(batch), dtype=np.float64)
    return Context(
        model, run, X, batch, labels, names, outputs, clock, int(seed), n_threads, progress, rename
    )


def choose_target(ctx: Context, target: Any) -> None:
    """Set the output explained: ``target=`` (an output index or name), else the single output,
    the second of two (a binary classifier's positive class), or each row's predicted class
    (curves and interactions then use the class predicted most often)."""
    k = ctx.run.n_outputs
    labels = ctx.output_names
    predicted = ctx.outputs.argmax(axis=1)
    if target is not None:
        t = resolve(target, ctx.run.output_names, k, "target", what="output", negative=False)
        text = f"output {labels[t]!r} (chosen with target=)"
    elif k == 1:
        t, text = 0, f"the model's single output {labels[0]!r}"
    elif k == 2:
        t = 1
        text = f"output {labels[1]!r}, the second of two (a binary classifier's positive class)"
    else:
        t = int(np.bincount(predicted, minlength=k).argmax())
        ctx.target = predicted.astype(np.int64)
        ctx.global_target = t
        ctx.target_text = (
            f"each row's predicted class (the output with the largest value); curves and "
            f"interactions show {labels[t]!r}, the class predicted most often"
        )
        return
    ctx.target = np.full(ctx.n_rows, t, dtype=np.int64)
    ctx.global_target, ctx.target_text = t, text


def check_rows(rows: Any, n: int) -> list[int]:
    """``rows=`` as distinct row indices in [0, n) (negative ones count from the end)."""
    values = [rows] if isinstance(rows, numbers.Integral) else list(np.ravel(rows))
    out = []
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"rows: expected row indices (integers), got {value!r}")
        if not -n <= int(value) < n:
            raise ValueError(f"rows: row {int(value)} is out of range for X's {n} rows")
        out.append(int(value) % n)
    if not out:
        raise ValueError("rows: expected at least one row index (or None: chosen rows)")
    return list(dict.fromkeys(out))


def true_class(ctx: Context) -> np.ndarray | None:
    """y as output indices (None when y is not class labels the model's outputs name)."""
    if ctx.y is None or ctx.run.n_outputs < 2:
        return None
    info = types.SimpleNamespace(n_outputs=ctx.run.n_outputs, output_names=ctx.run.output_names)
    try:
        indices, _ = _class_indices(ctx.y, ctx.model, "accuracy", info)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        ctx.notes.append(f"worst-predicted rows not chosen: {error}")
        return None
    return indices.astype(np.int64)


def choose_rows(ctx: Context, rows: Any) -> list[tuple[int, str]]:
    """The rows shown one by one, each with why it was chosen."""
    if rows is not None:
        return [(r, "asked for (rows=)") for r in check_rows(rows, ctx.n_rows)]
    k = ctx.run.n_outputs
    labels = ctx.output_names
    chosen: dict[int, str] = {}
    if k == 1:
        f = ctx.outputs[:, 0]
        chosen[int(f.argmax())] = f"the highest prediction ({labels[0]} = {f.max():.4g})"
        chosen.setdefault(int(f.argmin()), f"the lowest prediction ({labels[0]} = {f.min():.4g})")
    else:
        best = ctx.outputs.max(axis=1)
        for r in np.argsort(-best, kind="stable")[:CHOSEN_PER_KIND]:
            c = int(ctx.outputs[r].argmax())
            chosen[int(r)] = f"among the most confident: {labels[c]!r} scores {best[r]:.4g}"
    for r, why in worst_rows(ctx):
        chosen.setdefault(r, why)
    return list(chosen.items())


def worst_rows(ctx: Context) -> list[tuple[int, str]]:
    """The worst-predicted rows when there is y: the largest |f(x) - y| for one numeric output,
    the lowest score of the true class for a classifier."""
    if ctx.y is None:
        return []
    if ctx.run.n_outputs == 1:
        if ctx.y.dtype.kind == "U":
            return []
        error = np.abs(ctx.outputs[:, 0] - ctx.y)
        order = np.argsort(-error, kind="stable")[:CHOSEN_PER_KIND]
        return [(int(r), f"among the worst predicted (|f(x) - y| = {error[r]:.4g})") for r in order]
    classes = true_class(ctx)
    if classes is None:
        return []
    score = ctx.outputs[np.arange(ctx.n_rows), classes]
    order = np.argsort(score, kind="stable")[:CHOSEN_PER_KIND]
    labels = ctx.output_names
    return [
        (
            int(r),
            f"among the worst predicted: the true {labels[classes[r]]!r} scores {score[r]:.4g}",
        )
        for r in order
    ]
