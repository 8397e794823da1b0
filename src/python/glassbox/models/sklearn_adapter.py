"""Translate a fitted scikit-learn estimator into a native glassbox network (``from_sklearn``).

Supported: ``MLPClassifier`` / ``MLPRegressor``, the linear models listed in
``SUPPORTED_ESTIMATORS``, and a ``Pipeline`` of affine scalers (``SUPPORTED_SCALERS``) followed by
one of them. The scalers become one leading ``batch_norm`` layer (``x * scale + offset`` per
feature, named after the scaler steps joined by ``+``), so the network reads the raw (unscaled)
features and its dense layers hold the estimator's own coefficients (``coefs_`` / ``coef_``):
weight statistics, pruning and quantisation see the weights the estimator learned. LRP's
canonizer folds that layer into the first dense layer, as it folds any batch norm.

Layer names: the estimator's name is its pipeline step name (or its class name in lower case, as
``make_pipeline`` names steps). A linear model is one dense layer with that name; an MLP has dense
layers ``"{name}.{i}"`` (``i`` indexes ``coefs_``) followed by activations ``"{name}.{i}/{act}"``.
Layers added for the probability head are named ``"{name}/probabilities"`` (and
``"{name}/probabilities/..."`` for the helper layers of a one-vs-rest head).

``output="model"`` is ``predict_proba`` for classifiers that have it (binary problems give two
columns), ``predict`` for regressors, and ``decision_function`` for classifiers without
probabilities (``LinearSVC``, ``RidgeClassifier``, ``SGDClassifier`` with a non-log loss).
``output="logits"`` is ``decision_function`` (one column for binary problems).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import build_network
from glassbox.models.output_head import HEAD_NAME, apply_output, check_output, output_width
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    from glassbox.models.native import NativeModel

#: Linear regressors: ``predict`` is ``X @ coef_.T + intercept_``.
LINEAR_REGRESSORS: tuple[str, ...] = (
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "Lasso",
    "LassoCV",
    "ElasticNet",
    "ElasticNetCV",
    "SGDRegressor",
)
#: Linear classifiers with probabilities.
PROBABILISTIC_CLASSIFIERS: tuple[str, ...] = (
    "LogisticRegression",
    "LogisticRegressionCV",
    "SGDClassifier (loss='log_loss')",
)
#: Linear classifiers without ``predict_proba``: only their decision function is available.
SCORE_CLASSIFIERS: tuple[str, ...] = (
    "LinearSVC",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "SGDClassifier (other losses)",
)
SUPPORTED_ESTIMATORS: tuple[str, ...] = (
    "MLPClassifier",
    "MLPRegressor",
    *LINEAR_REGRESSORS,
    *PROBABILISTIC_CLASSIFIERS,
    *SCORE_CLASSIFIERS,
)
SUPPORTED_SCALERS: tuple[str, ...] = (
    "StandardScaler",
    "MinMaxScaler (clip=False)",
    "MaxAbsScaler",
    "RobustScaler",
)

_MLP_HIDDEN = {"identity": None, "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


def from_sklearn(
    estimator: Any,
    *,
    output: str = "model",
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> NativeModel:
    """Copy a fitted scikit-learn estimator (or scaler pipeline) into a native network.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted estimator from ``SUPPORTED_ESTIMATORS``, or a fitted ``Pipeline`` of scalers
        from ``SUPPORTED_SCALERS`` followed by one. It is not modified.
    output : {"model", "logits", "probabilities"}
        ``"model"``: ``predict_proba`` for probabilistic classifiers, ``predict`` for regressors,
        ``decision_function`` for other classifiers. ``"logits"``: the decision function (one
        column for a binary problem; an MLP's last pre-activation). ``"probabilities"``:
        ``predict_proba`` (raises ``ValueError`` for estimators without probabilities).
    feature_names : sequence of str, optional
        Default: the estimator's ``feature_names_in_`` if it was fitted on a DataFrame.
    output_names : sequence of str, optional
        Default: the class labels (``classes_``) for classifiers.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If the estimator is not fitted, or its coefficients hold NaN or infinite values (the
        message names the layer).
    UnsupportedLayerError
        If the estimator (or a pipeline step) has no native equivalent.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = from_sklearn(LogisticRegression(max_iter=500).fit(X, y))
    >>> model.predict(X[:1]).shape
    (1, 3)
    """
    check_output(output)
    scalers, name, final = _split_pipeline(estimator)
    _check_fitted(final, name)
    for step_name, scaler in scalers:
        _check_fitted(scaler, step_name)
    scaling = _scaling_layer(scalers)
    builder = _mlp if type(final).__name__ in ("MLPClassifier", "MLPRegressor") else _linear
    spec, head, classifier, names = builder(final, name, scaling, output)
    spec = apply_output(
        spec,
        output,
        head=head,
        classifier=classifier,
        what=f"a {type(final).__name__}",
        head_name=f"{name}/{HEAD_NAME}",
    )
    if feature_names is None:
        feature_names = _feature_names_in(estimator)
    if output_names is None and names is not None:
        # A binary decision function has one column: the score of classes_[1].
        output_names = names[1:] if len(names) == 2 and output_width(spec) == 1 else names
    return build_network(spec, feature_names=feature_names, output_names=output_names)


# -- pipeline and scalers -------------------------------------------------------------------


def _split_pipeline(estimator: Any) -> tuple[list[tuple[str, Any]], str, Any]:
    """Return ``(scaler steps, estimator name, final estimator)``."""
    steps = getattr(estimator, "steps", None)
    if type(estimator).__name__ != "Pipeline" or not isinstance(steps, list):
        return [], type(estimator).__name__.lower(), estimator
    scalers: list[tuple[str, Any]] = []
    for step_name, step in steps[:-1]:
        if step is None or step == "passthrough":
            continue
        if type(step).__name__ not in {s.split(" ")[0] for s in SUPPORTED_SCALERS}:
            raise UnsupportedLayerError(
                f"pipeline step {step_name!r} ({type(step).__name__}) is not supported by "
                f"from_sklearn; pipeline steps before the estimator must be one of "
                f"{', '.join(SUPPORTED_SCALERS)}. Use glassbox.wrap(pipeline.predict_proba, ...) "
                "for model-agnostic methods."
            )
        scalers.append((step_name, step))
    step_name, final = steps[-1]
    return scalers, step_name, final


def _check_fitted(estimator: Any, name: str) -> None:
    try:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError as exc:  # pragma: no cover - sklearn objects imply sklearn
        raise ImportError("from_sklearn needs scikit-learn installed") from exc
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise ValueError(
            f"estimator: {name!r} ({type(estimator).__name__}) is not fitted; call fit() before "
            "from_sklearn"
        ) from exc
    except TypeError as exc:
        raise UnsupportedLayerError(
            f"estimator: {name!r} ({type(estimator).__name__}) is not a scikit-learn estimator; "
            f"from_sklearn supports {', '.join(SUPPORTED_ESTIMATORS)}"
        ) from exc


def _fold_scalers(scalers: list[tuple[str, Any]]) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Compose the scalers into one affine map ``x -> x * scale + offset`` (float64)."""
    scale: np.ndarray | float = 1.0
    offset: np.ndarray | float = 0.0
    for step_name, scaler in scalers:
        kind = type(scaler).__name__
        if kind in ("StandardScaler", "RobustScaler"):
            standard = kind == "StandardScaler"
            centers = scaler.with_mean if standard else scaler.with_centering
            scales = scaler.with_std if standard else scaler.with_scaling
            # mean_ is fitted even when with_mean=False: the flags say what transform() uses.
            center = getattr(scaler, "mean_" if standard else "center_", None) if centers else None
            divisor = getattr(scaler, "scale_", None) if scales else None
            a = 1.0 if divisor is None else 1.0 / np.asarray(divisor, np.float64)
            b = 0.0 if center is None else -np.asarray(center, np.float64) * a
        elif kind == "MinMaxScaler":
            if scaler.clip:
                raise UnsupportedLayerError(
                    f"pipeline step {step_name!r} (MinMaxScaler with clip=True) is not supported "
                    "by from_sklearn: clipping is not affine; refit with clip=False"
                )
            a = np.asarray(scaler.scale_, np.float64)
            b = np.asarray(scaler.min_, np.float64)
        else:  # MaxAbsScaler
            a = 1.0 / np.asarray(scaler.scale_, np.float64)
            b = 0.0
        scale = scale * a
        offset = offset * a + b
    return scale, offset


# The scalers as (layer name, scale, offset), or None when the pipeline has no scaler.
_Scaling = "tuple[str, np.ndarray | float, np.ndarray | float] | None"


def _scaling_layer(scalers: list[tuple[str, Any]]) -> _Scaling:
    if not scalers:
        return None
    scale, offset = _fold_scalers(scalers)
    return "+".join(step_name for step_name, _ in scalers), scale, offset


def _start(n_inputs: int, scaling: _Scaling) -> NetworkSpec:
    """A spec of ``n_inputs`` features, beginning with the pipeline's scaling layer if any."""
    spec = NetworkSpec(input_shape=(n_inputs,))
    if scaling is not None:
        name, scale, offset = scaling
        spec.add(
            "batch_norm",
            name,
            scale=np.broadcast_to(np.asarray(scale, np.float64), (n_inputs,)),
            shift=np.broadcast_to(np.asarray(offset, np.float64), (n_inputs,)),
        )
    return spec


def _feature_names_in(estimator: Any) -> list[str] | None:
    try:
        names = estimator.feature_names_in_
    except AttributeError:
        return None
    return [str(n) for n in names]


def _class_names(estimator: Any) -> list[str] | None:
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    return [str(c) for c in np.asarray(classes).ravel()]


# -- estimators -----------------------------------------------------------------------------


_Built = tuple[NetworkSpec, "str | None", bool, "list[str] | None"]


def _mlp(est: Any, name: str, scaling: _Scaling, output: str) -> _Built:
    hidden = _MLP_HIDDEN.get(est.activation, "unsupported")
    if hidden == "unsupported":
        raise UnsupportedLayerError(
            f"estimator {name!r} ({type(est).__name__}) uses activation={est.activation!r}; "
            f"supported: {', '.join(_MLP_HIDDEN)}"
        )
    n_in = int(est.coefs_[0].shape[0])
    spec = _start(n_in, scaling)
    last = len(est.coefs_) - 1
    for i, (coef, intercept) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        weight, bias = np.asarray(coef, np.float64).T, np.asarray(intercept, np.float64)
        spec.add("dense", f"{name}.{i}", weight=weight, bias=bias)
        if i < last and hidden is not None:
            spec.add(hidden, f"{name}.{i}/{est.activation}")
    out = est.out_activation_
    classifier = type(est).__name__ == "MLPClassifier"
    if out == "softmax":
        head: str | None = "softmax"
    elif out == "logistic":
        head = "binary" if est.coefs_[-1].shape[1] == 1 else "sigmoid"
    elif out == "identity":
        head = None
    elif output == "logits":
        head = None  # e.g. "exp" (Poisson loss): the linear predictor is still well defined
    else:
        raise UnsupportedLayerError(
            f"estimator {name!r} ({type(est).__name__}) has out_activation_={out!r}, which has "
            "no native layer; use output='logits' for its linear predictor"
        )
    return spec, head, classifier, _class_names(est) if classifier else None


def _linear(est: Any, name: str, scaling: _Scaling, output: str) -> _Built:
    kind = type(est).__name__
    coef = getattr(est, "coef_", None)
    if coef is None or not _is_linear_model(est):
        raise UnsupportedLayerError(
            f"estimator {name!r} ({kind}) is not supported by from_sklearn; supported: "
            f"{', '.join(SUPPORTED_ESTIMATORS)}, optionally in a Pipeline after "
            f"{', '.join(SUPPORTED_SCALERS)}. Use glassbox.wrap(estimator.predict, ...) for "
            "model-agnostic methods."
        )
    if hasattr(coef, "toarray"):
        coef = coef.toarray()
    weight = np.atleast_2d(np.asarray(coef, np.float64))
    intercept = np.asarray(getattr(est, "intercept_", 0.0), np.float64)
    bias = np.broadcast_to(intercept, (weight.shape[0],)).copy()
    spec = _start(int(weight.shape[1]), scaling)
    spec.add("dense", name, weight=weight, bias=bias)
    if kind in LINEAR_REGRESSORS:
        return spec, None, False, None
    binary = weight.shape[0] == 1
    names = _class_names(est)
    if kind in ("LogisticRegression", "LogisticRegressionCV"):
        head = "binary" if binary else ("ovr" if _legacy_ovr(est) else "softmax")
        return spec, head, True, names
    if kind == "SGDClassifier" and est.loss == "log_loss":
        return spec, "binary" if binary else "ovr", True, names
    if kind == "SGDClassifier" and est.loss == "modified_huber" and output != "logits":
        raise UnsupportedLayerError(
            f"estimator {name!r} (SGDClassifier with loss='modified_huber'): its predict_proba "
            "clips and renormalises the scores, which has no native layer; use output='logits' "
            "for the decision function"
        )
    # LinearSVC, RidgeClassifier, SGDClassifier(hinge, ...): scores only.
    return spec, None, False, names


def _is_linear_model(est: Any) -> bool:
    kind = type(est).__name__
    known = {s.split(" ")[0] for s in (*LINEAR_REGRESSORS, *PROBABILISTIC_CLASSIFIERS)}
    known |= {s.split(" ")[0] for s in SCORE_CLASSIFIERS}
    return kind in known


def _legacy_ovr(est: Any) -> bool:
    """True for scikit-learn < 1.8 one-vs-rest logistic regression (normalised sigmoids)."""
    multi_class = getattr(est, "multi_class", None)
    if multi_class == "ovr":
        return True
    return multi_class in ("auto", "deprecated", "warn") and getattr(est, "solver", "") == (
        "liblinear"
    )
