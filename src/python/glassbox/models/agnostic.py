"""Models for the model-agnostic methods: anything that maps a batch of rows to outputs.

The model-agnostic methods (Shapley values, permutation importance, PDP/ICE/ALE, LIME, occlusion)
accept a ``NativeModel`` (evaluated by the compiled engine under OpenMP, GIL released), a
``CallableModel`` from ``glassbox.wrap``, an estimator with ``predict_proba`` / ``predict``
(scikit-learn, XGBoost, LightGBM, ...), or a plain function of a batch. ``as_model`` turns each into
one of the first two; ``core_model`` gives what the core's chunk loop takes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_int, run_options
from glassbox.data import Schema
from glassbox.models.callable import CallableModel
from glassbox.models.native import NativeModel

AgnosticModel = NativeModel | CallableModel


def as_model(model: object, n_inputs: int | None = None) -> AgnosticModel:
    """``model`` as a ``NativeModel`` or ``CallableModel``.

    Estimators are called through ``predict_proba`` when they have it (classifiers: one output
    per class), else ``predict``. ``n_inputs`` (the width of the rows to be explained) is needed
    only for plain functions and estimators that do not record ``n_features_in_``; a native
    model converted without an input shape is built for rows of that width.

    Examples
    --------
    >>> import numpy as np
    >>> as_model(lambda X: X.sum(axis=1), n_inputs=3).predict(np.ones((1, 3)))
    array([[3.]], dtype=float32)
    """
    if n_inputs is not None:
        n_inputs = check_int(n_inputs, "n_inputs", 1)
    if isinstance(model, NativeModel) and not model.built and n_inputs is not None:
        model.build((n_inputs,))  # a lazy model given rows: built for rows of that width
    if isinstance(model, (NativeModel, CallableModel)):
        if n_inputs is not None and model.n_inputs != n_inputs:
            raise ValueError(f"model: takes {model.n_inputs} features, the data has {n_inputs}")
        return model
    fn: Any
    if hasattr(model, "predict_proba") and callable(model.predict_proba):
        fn = model.predict_proba
    elif hasattr(model, "predict") and callable(model.predict):
        fn = model.predict
    elif callable(model):
        fn = model
    else:
        raise TypeError(
            "model: expected a glassbox model (from_torch, from_sklearn, ..., wrap), an estimator "
            f"with predict_proba or predict, or a callable; got {type(model).__name__}"
        )
    width = getattr(model, "n_features_in_", None)
    if width is None:
        if n_inputs is None:
            raise TypeError("model: a plain callable needs n_inputs (use glassbox.wrap)")
        width = n_inputs
    elif n_inputs is not None and int(width) != n_inputs:
        raise ValueError(f"model: was fitted on {width} features, the data has {n_inputs}")
    wrapped = CallableModel(fn, n_inputs=check_int(int(width), "n_inputs", 1), **_names(model, fn))
    if wrapped.feature_names is not None:  # fitted on a DataFrame: called with DataFrames
        schema = Schema.numeric(wrapped.feature_names)
        if schema is not None:
            wrapped = wrapped.framed(schema)
    return wrapped


def _names(model: object, fn: object) -> dict[str, Any]:
    """What an estimator records about its inputs and outputs: ``feature_names_in_`` (fitted on
    a DataFrame) and, for ``predict_proba``, ``classes_`` (one output per class, named by it)."""
    found: dict[str, Any] = {}
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(names) == getattr(model, "n_features_in_", -1):
        found["feature_names"] = [str(name) for name in names]
    classes = getattr(model, "classes_", None)
    if fn == getattr(model, "predict_proba", None) and classes is not None:
        classes = np.asarray(classes)
        if classes.ndim == 1 and classes.size >= 2:  # one output per class
            found["n_outputs"] = int(classes.size)
            found["output_names"] = [str(c) for c in classes.tolist()]
    return found


def core_model(model: AgnosticModel) -> object:
    """What the core's model-agnostic loop evaluates: the compiled network or the function (of
    DataFrames, for a model framed by the data's schema)."""
    return model.network if isinstance(model, NativeModel) else model.batch_fn


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
