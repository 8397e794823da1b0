"""Distillation probe: a small scikit-learn MLP fitted to a network's logits, returned as a
native network that takes the teacher's inputs and gives its outputs."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from glassbox._validation import (
    as_batch,
    check_choice,
    check_int,
    check_nonnegative,
    check_seed,
)
from glassbox.compress._model import CompressedModel, compressed, describe, native_model
from glassbox.models.native import NativeModel, build_network
from glassbox.models.spec import LayerSpec, NetworkSpec

#: Output layers the student is not fitted through: it learns their input (the logits) and
#: gets a copy of the layer on top.
HEADS = ("softmax", "log_softmax", "sigmoid")
ACTIVATIONS = ("relu", "tanh", "logistic", "identity")


def _logits_model(teacher: NativeModel) -> tuple[NativeModel, LayerSpec | None]:
    """The teacher without its output head (softmax, log_softmax or sigmoid reading the layer
    before it), and that head (None if the output is not one)."""
    spec = teacher.spec
    last = spec.layers[-1]
    if last.kind not in HEADS or list(last.inputs) != [len(spec.layers) - 2]:
        return teacher, None
    cut = NetworkSpec(input_shape=tuple(spec.input_shape), layers=list(spec.layers[:-1]))
    return build_network(cut), last


def _hidden(hidden: object) -> tuple[int, ...]:
    sizes = (hidden,) if isinstance(hidden, numbers.Integral) else hidden
    if not isinstance(sizes, Sequence) or isinstance(sizes, str):
        raise TypeError(f"hidden: expected a tuple of layer widths, got {hidden!r}")
    return tuple(check_int(size, "hidden", 1, 1_000_000) for size in sizes)


def distill(
    model: object,
    X: object,
    hidden: int | Sequence[int] = (32,),
    *,
    activation: str = "relu",
    max_iter: int = 1000,
    alpha: float = 1e-4,
    seed: int = 0,
) -> CompressedModel:
    """A student network fitted to the teacher ``model``'s logits over ``X``.

    A scikit-learn ``MLPRegressor`` (behind a ``StandardScaler``, folded into its first layer)
    is fitted to the teacher's outputs on ``X``; when the teacher ends in a softmax,
    log-softmax or sigmoid, to that layer's input (the logits), and the student gets the same
    head. The student is returned as a native network (``gb.from_sklearn``) with the teacher's
    input shape (images are flattened by its first layer) and names, so it can stand in for
    the teacher and ``fidelity`` can compare the two.

    Parameters
    ----------
    model : NativeModel
        The teacher (not changed).
    X : array
        Rows to fit on (n, *input_shape).
    hidden : int or tuple of int, default (32,)
        The student's hidden layer widths.
    activation : {"relu", "tanh", "logistic", "identity"}
    max_iter : int, default 1000
    alpha : float, default 1e-4
        ``MLPRegressor``'s L2 penalty.
    seed : int, default 0
        ``random_state``: the same seed gives the same student.

    Returns
    -------
    CompressedModel

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0], [-1.0, 1.0]]), bias=None)
    >>> _ = spec.add("softmax", "probabilities")
    >>> teacher = gb.build_network(spec)
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> student = gb.compress.distill(teacher, X, hidden=(8,))
    >>> [layer.kind for layer in student.spec.layers][-1], student.n_outputs
    ('softmax', 2)
    >>> bool((student.predict(X).argmax(1) == teacher.predict(X).argmax(1)).mean() > 0.95)
    True
    """
    sizes = _hidden(hidden)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    max_iter = check_int(max_iter, "max_iter", 1)
    alpha = check_nonnegative(alpha, "alpha")
    seed = check_seed(seed, 2**32 - 1)  # numpy's RandomState seeds are 32-bit
    teacher = native_model(model, X)
    batch = as_batch(X, teacher.input_shape)
    try:
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as error:
        raise ImportError("distill needs scikit-learn: pip install scikit-learn") from error
    body, head = _logits_model(teacher)
    logits = body.predict(batch)
    flat = batch.reshape(batch.shape[0], -1)
    student = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=sizes,
            activation=activation,
            max_iter=max_iter,
            alpha=alpha,
            random_state=seed,
        ),
    ).fit(flat, logits[:, 0] if logits.shape[1] == 1 else logits)
    from glassbox.models.sklearn_adapter import from_sklearn

    spec = _wrap(from_sklearn(student).spec, teacher.spec, head)
    return compressed(spec, describe(spec, "distill"), teacher)


def _wrap(student: NetworkSpec, teacher: NetworkSpec, head: LayerSpec | None) -> NetworkSpec:
    """The student's layers behind a flatten (for image inputs) and before a copy of the
    teacher's head: a network with the teacher's input shape and outputs."""
    layers: list[LayerSpec] = []
    shift = 0
    if len(teacher.input_shape) > 1:
        layers.append(LayerSpec("flatten", "student/flatten", [-1]))
        shift = 1
    for layer in student.layers:
        inputs = [i + shift if i >= 0 else (0 if shift else -1) for i in layer.inputs]
        layers.append(LayerSpec(layer.kind, layer.name, inputs, dict(layer.params), layer.weights))
    if head is not None:
        layers.append(LayerSpec(head.kind, head.name, [len(layers) - 1], dict(head.params)))
    return NetworkSpec(input_shape=tuple(teacher.input_shape), layers=layers)
