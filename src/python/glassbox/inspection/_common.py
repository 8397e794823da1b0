"""What the inspection functions share: model and data checks, run options, output selection."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._names import is_name, resolve
from glassbox._validation import (
    as_batch,
    check_model_outputs,
    core_job,
    named_nonfinite_rows,
    run_options,
    warn_nonfinite,
)
from glassbox.data import Schema, check_finite_rows, check_numeric, frame_kind, read_table
from glassbox.models.agnostic import (
    AgnosticModel,
    accepts_missing,
    as_model,
    core_model,
    evaluate,
)
from glassbox.models.callable import CallableModel
from glassbox.progress import ProgressArg, check_progress


@dataclass(frozen=True)
class Run:
    """A checked model with the run options every core call takes, and the names of the data's
    features and the model's outputs (None: unnamed) that results carry."""

    model: AgnosticModel
    options: _core.RunOptions
    progress: ProgressArg = None
    what: str = "job"
    feature_names: list[str] | None = None
    output_names: list[str] | None = None
    schema: Schema | None = None  # the DataFrame X's columns (None: an array)

    @property
    def names(self) -> dict[str, list[str] | None]:
        """``feature_names`` and ``output_names``, as the keyword arguments of a result."""
        return {"feature_names": self.feature_names, "output_names": self.output_names}

    @property
    def core(self) -> object:
        return core_model(self.model)

    @property
    def n_outputs(self) -> int:
        return self.model.n_outputs

    def call(self, function: Callable[..., Any], X: np.ndarray, **arguments: Any) -> Any:
        """``function(model, X=X, n_outputs=..., options=..., **arguments)``: one core call on
        the model the core evaluates, with the run options."""
        with self.tracked(int(X.shape[0]), X):
            return function(
                self.core, X=X, n_outputs=self.n_outputs, options=self.options, **arguments
            )

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """The model's outputs on the rows ``X`` (n, n_outputs), with these options."""
        with named_nonfinite_rows(self.what, self.model, X):
            return evaluate(self.model, X, options=self.options)

    def replaced_predictions(self, rows: int, **arguments: Any) -> np.ndarray:
        """``_core.replaced_predictions`` on the model with these options (its progress counted
        as ``rows`` rows; ``background`` are the rows given)."""
        with self.tracked(rows, arguments.get("background")):
            return np.asarray(
                _core.replaced_predictions(
                    self.core, n_outputs=self.n_outputs, options=self.options, **arguments
                )
            )

    def tracked(
        self, rows: int, X: np.ndarray | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """The context of one core call with these options (``core_job``): its progress, as
        ``rows`` rows, and a Python model's NaN / Inf outputs named by the rows of ``X``."""
        return core_job(self.what, self.model, X, self.options, self.progress, rows)

    def check_finite(self, X: np.ndarray, **fields: Any) -> None:
        """The non-finite policy for a result (docs/methods.md): ``fields`` all finite (one
        ``np.isfinite`` pass), nothing more; else the model's outputs on X are computed: not
        finite, a ValueError naming the rows; finite, a NonFiniteWarning naming the fields."""
        arrays = {name: np.asarray(v) for name, v in fields.items() if v is not None}
        if all(np.isfinite(a).all() for a in arrays.values()):
            return
        check_model_outputs(self.what, self.evaluate(X))
        warn_nonfinite(self.what, arrays)


def prepare(
    model: object,
    X: object,
    n_threads: int | None,
    memory_budget: int | None,
    progress: object = None,
    what: str = "job",
    missing_ok: bool = True,
    moves_values: bool = False,
) -> tuple[Run, np.ndarray]:
    """The model as an agnostic model and X as a checked float32 (n, n_features) batch.

    A DataFrame X names the features and, for a Python model, is what the model is called with
    (``CallableModel.framed``). Missing values (NaN) pass to a Python model when ``missing_ok``
    (the method only moves values between rows), else they are an error naming ``what``.
    ``moves_values``: the method only copies values between rows (never computes on them), so a
    Python model's DataFrame is coded column by column (exact, and cheap to rebuild).
    """
    if frame_kind(X) is None:
        table = read_table(X)
        shape = table.rows.shape
        if len(shape) != 2:
            raise ValueError(f"X: expected a 2-D array (n_rows, n_features), got shape {shape}")
        agnostic = as_model(model, n_inputs=int(shape[1]))
    else:  # a Python model and a method that only moves values: numeric columns coded too
        agnostic = as_model(model, n_inputs=len(X.columns))  # type: ignore[attr-defined]
        code = moves_values and isinstance(agnostic, CallableModel)
        table = read_table(X, code_numbers=code)
        shape = table.rows.shape
    schema = table.schema
    framed = isinstance(agnostic, CallableModel) and schema is not None
    if framed:
        agnostic = agnostic.framed(schema, table.rows[:1])  # type: ignore[arg-type,union-attr]
    elif schema is not None and schema.coded:
        raise TypeError(
            f"X: columns {schema.coded} are not numeric, and a native network computes on "
            "numbers; encode them as the network was trained"
        )
    allow_nan = accepts_missing(agnostic) and missing_ok  # a Python model may impute, trees route
    if not allow_nan and table.rows.dtype.kind == "f":
        check_finite_rows(table.rows, schema, what)
    batch = as_batch(table.rows, (int(shape[1]),), allow_nan=allow_nan)
    options = run_options(n_threads, memory_budget)
    names = table.feature_names or agnostic.feature_names, agnostic.output_names
    return Run(agnostic, options, check_progress(progress), what, *names, schema), batch


def feature_column(run: Run, X: object, batch: np.ndarray, feature: int) -> np.ndarray:
    """The values of one feature a grid is built from (float64): X's own values for an array
    (float64 when X is, as scikit-learn), the core's rows for a DataFrame (codes for a coded
    column, whose grid is its values), without missing values."""
    if run.schema is None:
        return np.asarray(X)[:, feature].astype(np.float64)
    column = batch[:, feature].astype(np.float64)
    return column[~np.isnan(column)]


def grid_values(run: Run, feature: int, axis: np.ndarray) -> np.ndarray:
    """A grid axis as the user reads it: the values of a coded column, else the axis itself."""
    if run.schema is None or not run.schema.columns[feature].coded:
        return axis
    return run.schema.columns[feature].decode(axis.astype(np.float32))


def check_ordered(run: Run, batch: np.ndarray, features: list[int], why: str) -> None:
    """The features a method orders or cuts into intervals (``why``) hold numbers, no NaN."""
    check_numeric(run.schema, run.what, why, features)
    for feature in features:
        if np.isnan(batch[:, feature]).any():
            name = run.feature_names[feature] if run.feature_names else f"feature {feature}"
            raise ValueError(
                f"X: {run.what} {why}, and {name!r} has missing values (NaN); impute or drop "
                "those rows"
            )


def check_feature(
    value: object, n_features: int, name: str = "features", names: Sequence[str] | None = None
) -> int:
    """One feature index in [0, n_features) from an index (negative ones count from the end) or
    a name among ``names`` (x0, x1, ... when the features are unnamed)."""
    return resolve(value, names, n_features, name)


def check_features(
    values: object, n_features: int, name: str = "features", names: Sequence[str] | None = None
) -> list[int]:
    """A non-empty list of distinct feature indices, from indices or names (one or a sequence)."""
    one = is_name(values) or (
        isinstance(values, (numbers.Integral, np.integer)) and not isinstance(values, bool)
    )
    if one:
        values = [values]
    elif hasattr(values, "tolist") and not isinstance(values, np.ndarray):
        values = values.tolist()  # a pandas Index of column names, a Series
    if not isinstance(values, (Sequence, np.ndarray)) or len(values) == 0:
        raise TypeError(
            f"{name}: expected a feature name or index (an integer between {-n_features} and "
            f"{n_features - 1}) or a non-empty sequence of them, got {values!r}"
        )
    features = [check_feature(v, n_features, name, names) for v in values]
    if len(set(features)) != len(features):
        raise ValueError(f"{name}: features repeat in {features}")
    return features


def select_outputs(target: object, n_outputs: int, names: Sequence[str] | None = None) -> list[int]:
    """The outputs a result reports: all of them for None, else the given output(s), by index
    or by name among ``names``."""
    if target is None:
        return list(range(n_outputs))
    one = is_name(target) or isinstance(target, (numbers.Integral, np.integer))
    values = [target] if one else target
    if isinstance(target, bool) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(
            f"target: expected None, an output name or an integer between 0 and {n_outputs - 1}, "
            f"or a sequence of them, got {target!r}"
        )
    return [
        resolve(value, names, n_outputs, "target", what="output", negative=False)
        for value in values
    ]


def check_vector(values: object, n_rows: int, name: str) -> np.ndarray:
    """A finite float64 vector of one value per row."""
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n_rows:
        raise ValueError(
            f"{name}: expected shape ({n_rows},) (one per row of X), got {array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name}: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or Inf")
    return array


def check_weights(sample_weight: object, n_rows: int) -> np.ndarray | None:
    """None, or one non-negative finite weight per row with a positive sum (float64)."""
    if sample_weight is None:
        return None
    weights = check_vector(sample_weight, n_rows, "sample_weight")
    if weights.min() < 0 or weights.sum() <= 0:
        raise ValueError("sample_weight: expected non-negative weights with a positive sum")
    return weights
