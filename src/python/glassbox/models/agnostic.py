"""Models for the model-agnostic methods: anything that maps a batch of rows to outputs.

The model-agnostic methods (Shapley values, permutation importance, PDP/ICE/ALE, LIME, occlusion)
accept a ``NativeModel`` or a ``TreeModel`` (evaluated by the compiled engine under OpenMP, GIL
released), a ``CallableModel`` from ``glassbox.wrap``, an estimator with ``predict_proba`` /
``predict`` (scikit-learn, XGBoost, LightGBM, ...), or a plain function of a batch. ``as_model``
turns each into one of the first three (a scikit-learn, XGBoost or LightGBM tree model goes
native when that computes the numbers its ``predict_proba`` / ``predict`` gives);
``core_model`` gives what the core's chunk loop takes.
"""

from __future__ import annotations

import numpy as np

from glassbox import _core
from glassbox._validation import check_int, run_options
from glassbox.models.callable import CallableModel
from glassbox.models.convert import Pending, convert
from glassbox.models.native import NativeModel
from glassbox.models.trees.model import TreeModel

AgnosticModel = NativeModel | TreeModel | CallableModel


def as_model(model: object, n_inputs: int | None = None) -> AgnosticModel:
    """``model`` as a ``NativeModel``, ``TreeModel`` or ``CallableModel`` (through
    ``models.convert.convert``).

    A raw torch module or Keras model is translated to a native network, or, if it has layers
    with no native equivalent, called in batches at inference. Estimators are called through
    ``predict_proba`` when they have it (classifiers: one output per class), else ``predict``;
    a tree model (scikit-learn, XGBoost or LightGBM: an estimator or a ``Booster``) whose native
    ``TreeModel`` gives those same numbers is evaluated natively (a classifier's probabilities,
    one column per class; a regressor's or booster's ``predict``), anything else is called
    (``glassbox.from_trees`` gives the raw margin of any tree model).
    ``n_inputs`` (the width of the rows to be explained) is needed only for plain functions and
    estimators that do not record ``n_features_in_``; a native model converted without an input
    shape is built for rows of that width.

    Examples
    --------
    >>> import numpy as np
    >>> as_model(lambda X: X.sum(axis=1), n_inputs=3).predict(np.ones((1, 3)))
    array([[3.]], dtype=float32)
    """
    if n_inputs is not None:
        n_inputs = check_int(n_inputs, "n_inputs", 1)
    width = getattr(model, "n_features_in_", None)
    if width is not None and n_inputs is not None and int(width) != n_inputs:
        raise ValueError(f"model: was fitted on {width} features, the data has {n_inputs}")
    converted = convert(model, None if n_inputs is None else (n_inputs,))
    if isinstance(converted, Pending):
        raise TypeError(
            f"model: a plain function or a {type(model).__name__} of unknown input shape needs "
            "n_inputs, the width of its rows (or use glassbox.wrap(fn, n_inputs=...), or "
            "glassbox.from_torch(module, input_shape=...)); explainers infer it from their data"
        )
    if n_inputs is not None and converted.n_inputs != n_inputs:
        raise ValueError(f"model: takes {converted.n_inputs} features, the data has {n_inputs}")
    return converted


def core_model(model: AgnosticModel) -> object:
    """What the core's model-agnostic loop evaluates: the compiled network or tree ensemble, or
    the function (of DataFrames, for a model framed by the data's schema)."""
    if isinstance(model, NativeModel):
        return model.network
    return model.ensemble if isinstance(model, TreeModel) else model.batch_fn


def accepts_missing(model: object) -> bool:
    """Whether missing values (NaN) may reach ``model``: a Python model (it may impute them) or
    a tree model whose library routes them (each node's default direction)."""
    return isinstance(model, CallableModel) or (isinstance(model, TreeModel) and model.allow_nan)


def evaluate(
    model: AgnosticModel,
    X: np.ndarray,
    *,
    n_threads: int | None = None,
    memory_budget: int | None = None,
    chunk_rows: int = 0,
    options: _core.RunOptions | None = None,
) -> np.ndarray:
    """Outputs of ``model`` on a checked float32 (n, n_inputs) batch, via the core chunk loop.

    ``options`` (the core's ``RunOptions``, already checked) replaces ``n_threads`` and
    ``memory_budget``.
    """
    if options is None:
        options = run_options(n_threads or None, memory_budget)
    return np.asarray(
        _core.evaluate_model(
            core_model(model),
            X=X,
            n_outputs=model.n_outputs,
            options=options,
            chunk_rows=check_int(chunk_rows, "chunk_rows", 0),  # 0: planned from the budget
        )
    )
