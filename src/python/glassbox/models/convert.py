"""The one place a user's model becomes something glassbox evaluates (``convert``).

``as_model`` and every explainer's model check call ``convert``. A ``NativeModel`` or
``CallableModel`` is kept; a raw ``torch.nn.Module`` or Keras model is translated to a native
network (``from_torch`` / ``from_keras``), or, when it has layers with no native equivalent and
the method does not need gradients, called in batches at inference (torch: ``eval()`` and
``no_grad()`` for the call, the module's ``training`` flag restored afterwards; Keras:
``model(x, training=False)``, no progress bars); a scikit-learn estimator goes native for the
gradient methods (``from_sklearn``) and is called through ``predict_proba`` / ``predict`` by the
model-agnostic ones (the estimator's own outputs, and DataFrames passed through), except a tree
model (scikit-learn, XGBoost or LightGBM, estimator or ``Booster``), evaluated natively
(``TreeModel``) when that gives the same numbers; a plain
function is called as it is. A function or module is given batches in the shape of the data it
was first given (``(n, C, H, W)`` images stay images). When that shape is not known yet (no
background, no training data), ``convert`` returns a ``Pending`` model that the explainer
resolves from its first batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from glassbox._validation import check_int, check_sample_shape, layout_hint
from glassbox.data import Schema
from glassbox.errors import UnsupportedLayerError
from glassbox.models.callable import CallableModel
from glassbox.models.native import NativeModel
from glassbox.models.trees.model import TreeModel
from glassbox.models.trees.spec import TreeEnsembleSpec


def framework(model: object) -> str | None:
    """ "torch", "keras" or "sklearn" for a raw model of that framework, else None (found by
    the classes' modules: no framework is imported to ask).

    Examples
    --------
    >>> framework(lambda X: X), framework(None)
    (None, None)
    """
    modules = {(c.__module__.split(".")[0], c.__name__) for c in type(model).__mro__}
    if any(root == "keras" and name in ("Model", "Layer") for root, name in modules):
        return "keras"  # before torch: on the torch backend a Keras model is a torch Module
    if ("torch", "Module") in modules:
        return "torch"
    if any(root == "sklearn" and name == "BaseEstimator" for root, name in modules):
        return "sklearn"
    return None


class Pending:
    """A model whose conversion waits for the shape of its data: ``resolve(sample_shape)``
    converts it (the explainer calls it with its first batch's per-sample shape)."""

    built = False

    def __init__(self, model: object, gradients: bool) -> None:
        self.raw = model
        self.gradients = gradients

    def resolve(self, sample_shape: tuple[int, ...]) -> NativeModel | CallableModel:
        converted = convert(self.raw, sample_shape, gradients=self.gradients)
        assert not isinstance(converted, Pending)
        return converted

    def __repr__(self) -> str:
        return f"Pending({type(self.raw).__name__}: converted at the first batch)"


def convert(
    model: object,
    sample_shape: tuple[int, ...] | None = None,
    *,
    gradients: bool = False,
    data: str = "X",
) -> NativeModel | CallableModel | Pending:
    """``model`` as a ``NativeModel`` or ``CallableModel`` (``Pending`` while its input shape is
    unknown). ``gradients``: the method needs a native network (no callable fallback);
    ``data``: the argument ``sample_shape`` comes from, for messages.

    Examples
    --------
    >>> import numpy as np
    >>> convert(lambda X: X.sum(axis=(1, 2)), (2, 3)).predict(np.ones((1, 6)))
    array([[6.]], dtype=float32)
    """
    if isinstance(model, NativeModel):
        if not model.built and sample_shape is not None:
            model.build(sample_shape)
        return model
    if isinstance(model, (CallableModel, TreeModel)):
        return model
    kind = framework(model)
    if kind in ("torch", "keras"):
        return _network(model, kind, sample_shape, gradients, data)
    if gradients:
        if kind == "sklearn":
            from glassbox.models.sklearn_adapter import from_sklearn

            return from_sklearn(model)
        raise TypeError(
            "model: this method needs gradients, so it needs a native network (a torch module, "
            "a Keras model, a scikit-learn MLP or linear model, or glassbox.from_torch / "
            f"from_sklearn / from_onnx / from_keras); got {type(model).__name__}. "
            "Model-agnostic methods (KernelShap, Lime, Occlusion, ...) accept any function."
        )
    trees = native_trees(model)
    if trees is not None:
        return trees
    fn = _predict_function(model)
    width = getattr(model, "n_features_in_", None)
    if width is not None:
        return _estimator(model, fn, (check_int(int(width), "n_inputs", 1),))
    if sample_shape is None:
        return Pending(model, gradients)
    return _estimator(model, fn, sample_shape)


def native_trees(model: Any) -> TreeModel | None:
    """A fitted scikit-learn, XGBoost or LightGBM tree model as the ``TreeModel`` computing what
    its ``predict_proba`` (classifiers) or ``predict`` gives, else None (not a tree model, not
    fitted, categorical splits, or outputs the native model does not give: an outlier score, a
    log-link regressor's predict, a ranking or margin-only objective's probabilities, a class
    label). ``glassbox.from_trees`` converts those too (its rows carry category codes)."""
    from glassbox.models.trees import _library

    library = _library(model)
    if library == "sklearn":
        spec = _sklearn_spec(model)
    elif library in ("xgboost", "lightgbm"):
        spec = _booster_spec(model, library)
    else:
        return None
    if spec is None:
        return None
    if np.any(np.asarray(spec.cat_starts) >= 0):
        # Categorical splits read category codes; a DataFrame's categories reach the core as
        # codes of their own (order of appearance), so the model keeps its own predict.
        return None
    proba = callable(getattr(model, "predict_proba", None))
    if spec.link == "logistic" and proba:  # predict_proba has a column per class: [1 - p, p]
        from glassbox.models.trees.sklearn_trees import two_class

        spec = two_class(spec)
    classes = getattr(model, "classes_", None) if proba else None
    if classes is not None and len(classes) == spec.n_outputs:  # named as _names names them
        spec = replace(spec, output_names=tuple(str(c) for c in np.asarray(classes).tolist()))
    return TreeModel(spec, "raw" if spec.link == "identity" else "probabilities")


def _sklearn_spec(model: Any) -> TreeEnsembleSpec | None:
    """A scikit-learn tree model's spec when its margin, through the link, is its output."""
    from glassbox.models.trees.sklearn_trees import SUPPORTED, spec_from_sklearn

    if type(model).__name__ not in SUPPORTED or not hasattr(model, "n_features_in_"):
        return None
    if framework(model) != "sklearn":
        return None
    try:
        spec = spec_from_sklearn(model)
    except ValueError:  # unsupported (a custom init, categories it cannot hold): called instead
        return None
    if spec.meta.get("predict") is None or not spec.meta.get("identity_predict", True):
        return None
    return spec


def _booster_spec(model: Any, library: str) -> TreeEnsembleSpec | None:
    """An XGBoost / LightGBM model's spec when its link gives what it computes: a classifier's
    ``predict_proba`` (logistic or softmax), else ``predict`` (``meta["response"]``: identity
    for the margin, logistic or softmax for probabilities)."""
    from glassbox.models.trees import spec_from_model

    try:
        spec = spec_from_model(model)
    except (TypeError, ValueError):  # not fitted, an objective or booster it does not take
        return None
    if callable(getattr(model, "predict_proba", None)):
        ok = spec.link != "identity" and spec.meta.get("probabilities") is True
    else:
        ok = spec.meta.get("response") == spec.link
    if spec.link == "logistic" and spec.n_outputs != 1:  # a multi-label model
        ok = False
    return spec if ok else None


def _estimator(model: object, fn: Callable[..., Any], shape: tuple[int, ...]) -> CallableModel:
    """An estimator or function called on batches of samples of ``shape``, named by what it
    records; an estimator fitted on a DataFrame is called with DataFrames."""
    wrapped = CallableModel(_shaped(fn, shape), n_inputs=int(np.prod(shape)), **_names(model, fn))
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


def _predict_function(model: object) -> Callable[[np.ndarray], Any]:
    """What computes an estimator's or function's outputs."""
    for name in ("predict_proba", "predict"):
        method = getattr(model, name, None)
        if callable(method):
            return method
    if callable(model):
        return model
    raise TypeError(
        "model: expected a glassbox model (from_torch, from_sklearn, ..., wrap), a torch module, "
        "a Keras model, an estimator with predict_proba or predict, or a function of a batch; "
        f"got {type(model).__name__}"
    )


def _shaped(fn: Callable[[np.ndarray], Any], shape: tuple[int, ...]) -> Callable[..., Any]:
    """``fn`` called with batches of samples of ``shape`` (the core hands over flat rows)."""
    if len(shape) < 2:
        return fn
    return lambda rows: fn(rows.reshape(rows.shape[0], *shape))


def _network(
    model: Any, kind: str, sample_shape: tuple[int, ...] | None, gradients: bool, data: str
) -> NativeModel | CallableModel | Pending:
    """A torch module or Keras model: native when every layer translates, else (model-agnostic
    methods only) called at inference once the sample shape is known."""
    if kind == "keras" and not getattr(model, "built", True) and not gradients:
        if sample_shape is None:  # a Keras model not built yet: called once the data is known
            return Pending(model, gradients)
        return CallableModel(_shaped(_keras_call(model), sample_shape), int(np.prod(sample_shape)))
    try:
        if kind == "torch":
            from glassbox.models.torch_adapter import from_torch

            native = from_torch(model, input_shape=sample_shape)
        else:
            from glassbox.models.keras_adapter import from_keras

            native = from_keras(model)
            if sample_shape is not None:
                native.build(sample_shape)
    except UnsupportedLayerError as error:
        if getattr(error, "needs_image", False) and sample_shape is not None:
            raise ValueError(
                f"model: this {type(model).__name__} takes images, but {data} has samples of "
                f"shape {sample_shape}; pass images (n, C, H, W), a batch even for one baseline "
                "(X[:1]), or convert it with glassbox.from_torch(module, input_shape=(C, H, W))"
            ) from error
        hint = "" if sample_shape is None else layout_hint(sample_shape, data)
        if hint:
            raise ValueError(f"{hint} ({error})") from error
        if gradients:
            raise
        if sample_shape is None and kind == "keras":
            sample_shape = _keras_shape(model)
        if sample_shape is None:
            return Pending(model, gradients)
        call = _torch_call(model) if kind == "torch" else _keras_call(model)
        return CallableModel(_shaped(call, sample_shape), n_inputs=int(np.prod(sample_shape)))
    if not native.built and sample_shape is None and not gradients:
        return Pending(model, gradients)  # built (or replaced by a callable) from the data
    return native


def _keras_shape(model: Any) -> tuple[int, ...] | None:
    """The per-sample input shape a built Keras model records, if complete."""
    inputs = getattr(model, "inputs", None) if getattr(model, "built", False) else None
    shape = tuple(inputs[0].shape[1:]) if inputs and len(inputs) == 1 else ()
    return shape if shape and all(isinstance(s, int) for s in shape) else None


def _torch_call(module: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The module on a batch in eval mode without gradients, on the device and dtype of its
    parameters; its ``training`` flag is restored after every call."""
    import torch

    def call(batch: np.ndarray) -> np.ndarray:
        parameter = next(module.parameters(), None)
        dtype = torch.float32 if parameter is None else parameter.dtype
        device = None if parameter is None else parameter.device
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(torch.as_tensor(batch, dtype=dtype, device=device))
        finally:
            module.train(was_training)
        return out.detach().float().cpu().numpy()

    return call


def _keras_call(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model on a batch at inference (``training=False``), silently."""
    import keras

    def call(batch: np.ndarray) -> np.ndarray:
        out = model(batch, training=False)
        if hasattr(out, "detach"):  # torch backend: np.array(tensor) warns under NumPy 2
            return out.detach().float().cpu().numpy()
        return np.asarray(keras.ops.convert_to_numpy(out))

    return call


__all__ = ["Pending", "convert", "framework", "native_network", "native_trees"]


def native_network(
    model: object,
    what: str,
    input_shape: object = None,
    *,
    built: bool = True,
    argument: str = "model",
) -> NativeModel:
    """``model`` as a built ``NativeModel``: a NativeModel as it is, a torch module, Keras model
    or scikit-learn MLP / linear model converted (``input_shape``, the per-sample shape, builds a
    CNN converted without one). ``what`` names the caller and ``argument`` the model's argument
    in the errors: TypeError for a model with no network glassbox can run inside (a function, a
    tree ensemble, a wrapped callable, a torch module with a layer the adapter cannot
    translate). ``built=False`` returns a lazy model as it is (the caller builds it from its
    data)."""
    shape = None if input_shape is None else check_sample_shape(input_shape)
    native, why = None, ""
    if isinstance(model, NativeModel):
        native = model
    elif not isinstance(model, CallableModel) and framework(model) is not None:
        try:
            converted = convert(model, shape, gradients=True)
        except (TypeError, UnsupportedLayerError) as error:
            # a layer or estimator the adapters cannot translate (the reason names it): glassbox
            # could only call this model, as as_model would
            converted, why = None, f" ({error})"
        native = converted if isinstance(converted, NativeModel) else None
    if native is None:
        raise TypeError(
            f"{argument}: {what} needs a network it can look inside (a glassbox NativeModel from "
            "from_torch / from_keras / from_onnx / from_sklearn, a torch module, a Keras model "
            f"or a scikit-learn MLP); got {type(model).__name__}, which glassbox can only "
            f"call{why}"
        )
    if shape is not None:
        native.build(shape)  # ValueError when a built model's input shape differs
    if built:  # ValueError now (saying how to build it) for a lazy model
        native.spec  # noqa: B018
    return native
