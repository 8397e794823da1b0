"""scikit-learn tree models as a ``TreeEnsembleSpec`` (``spec_from_sklearn``).

Supported: ``DecisionTree*``, ``RandomForest*``, ``ExtraTrees*`` (single-output classifiers;
regressors with any number of outputs), ``GradientBoosting*`` (init estimator "zero" or the
default prior), ``HistGradientBoosting*`` (numeric and categorical splits, missing values; fitted
on arrays, or on DataFrames without categorical dtypes) and ``IsolationForest`` (shap's
convention: the margin is the average path length, ``depth + c(leaf samples)`` averaged over the
trees).

How each rule maps onto the spec's walk (``x <= threshold`` goes left, NaN to
``default_left``): scikit-learn trees compare float32 rows with float64 thresholds, so a
threshold is stored as the largest float32 not above it; their ``missing_go_to_left`` is
``default_left``. A histogram model with categorical features encodes them (an OrdinalEncoder:
raw category -> code, unknown -> missing) and puts them first; here features are the original
columns and bitsets hold raw categories (whole numbers in [0, 65536)). Its categorical node
sends codes in ``raw_left_cat_bitsets`` left, other known codes right and anything else the
NaN way: the spec node holds the left-going categories, or, when NaN goes left, the
right-going ones with the children swapped (so whatever is outside the set goes the NaN way).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from glassbox.models.trees._build import SpecBuilder, float32_floor
from glassbox.models.trees.spec import TreeEnsembleSpec

_FORESTS = {
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
}
_SINGLE = {"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier"}
_SINGLE |= {"ExtraTreeRegressor"}
SUPPORTED = sorted(
    _FORESTS
    | _SINGLE
    | {
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "IsolationForest",
    }
)


def _add_cart(
    builder: SpecBuilder,
    tree: Any,
    leaf_values: np.ndarray,
    output: int = 0,
    feature_map: np.ndarray | None = None,
) -> None:
    """A fitted ``sklearn.tree._tree.Tree`` with the given per-node leaf values."""
    features = np.asarray(tree.feature)
    if feature_map is not None:
        features = np.where(features >= 0, np.asarray(feature_map)[np.maximum(features, 0)], -1)
    missing = getattr(tree, "missing_go_to_left", None)
    builder.add(
        left=tree.children_left,
        right=tree.children_right,
        features=features,
        thresholds=float32_floor(tree.threshold),
        default_left=np.zeros(tree.node_count, bool) if missing is None else missing,
        covers=tree.weighted_n_node_samples,
        leaf_values=leaf_values,
        output=output,
    )


def _class_fractions(tree: Any) -> np.ndarray:
    """A classification tree's per-node class probabilities (predict_proba of the tree)."""
    value = np.asarray(tree.value, dtype=np.float64)[:, 0, :]
    total = value.sum(axis=1, keepdims=True)
    return value / np.where(total > 0, total, 1.0)


def _regression_values(tree: Any) -> np.ndarray:
    return np.asarray(tree.value, dtype=np.float64)[:, :, 0]


def _names(model: Any, classes: Any = None) -> dict[str, Any]:
    names = getattr(model, "feature_names_in_", None)
    found: dict[str, Any] = {}
    if names is not None:
        found["feature_names"] = tuple(str(n) for n in names)
    if classes is not None:
        found["output_names"] = tuple(str(c) for c in np.asarray(classes).tolist())
    return found


def _allows_nan(model: Any) -> bool:
    """Whether the estimator's predict accepts NaN (its input tags)."""
    try:
        return bool(model.__sklearn_tags__().input_tags.allow_nan)
    except AttributeError:  # pragma: no cover - scikit-learn < 1.6
        return False


def _forest(model: Any, name: str, trees: list[Any]) -> TreeEnsembleSpec:
    classifier = hasattr(model, "classes_")
    if classifier and getattr(model, "n_outputs_", 1) != 1:
        raise ValueError(
            f"model: a multi-output {name} (several targets) is not supported; fit one "
            "classifier per target"
        )
    builder = SpecBuilder()
    scale = 1.0 / len(trees)
    for estimator in trees:
        tree = estimator.tree_
        values = _class_fractions(tree) if classifier else _regression_values(tree)
        _add_cart(builder, tree, values * scale)
    classes = getattr(model, "classes_", None)
    n_outputs = len(classes) if classifier else int(getattr(model, "n_outputs_", 1))
    return builder.spec(
        model.n_features_in_,
        np.zeros(n_outputs),
        link="identity",
        source=f"sklearn.{name}",
        **_names(model, classes),
        meta={
            "kind": "classifier" if classifier else "regressor",
            "allow_nan": _allows_nan(model),
            "predict": "predict_proba" if classifier else "predict",
        },
    )


def _gradient_boosting(model: Any, name: str) -> TreeEnsembleSpec:
    init = model.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in (
        "DummyClassifier",
        "DummyRegressor",
    ):
        raise ValueError(
            f"model: a {name} with a custom init estimator ({type(init).__name__}) is not "
            "supported (its initial prediction depends on the row); use init=None (the prior) "
            "or init='zero'"
        )
    n_features = model.n_features_in_
    base = model._raw_predict_init(np.zeros((1, n_features), np.float32))[0]
    builder = SpecBuilder()
    rate = float(model.learning_rate)
    for stage in model.estimators_:
        for k, estimator in enumerate(stage):
            _add_cart(builder, estimator.tree_, _regression_values(estimator.tree_) * rate, k)
    classes = getattr(model, "classes_", None)
    classifier = classes is not None
    link = "identity" if not classifier else ("logistic" if len(base) == 1 else "softmax")
    output_names = None if not classifier or len(base) == 1 else classes
    return builder.spec(
        n_features,
        base,
        link=link,
        source=f"sklearn.{name}",
        **_names(model, output_names),
        meta={
            "kind": "classifier" if classifier else "regressor",
            "allow_nan": _allows_nan(model),
            "predict": "predict_proba" if classifier else "predict",
            "classes": None if classes is None else list(np.asarray(classes).tolist()),
        },
    )


# The largest raw category a histogram model's categorical feature may hold here (bitsets of
# up to 2048 words per node).
_MAX_CATEGORY = 1 << 16


def _hist_categories(model: Any, name: str) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The original column of each internal feature (categorical columns come first inside a
    fitted model with categories) and each internal categorical feature's raw categories, by
    code (the model's OrdinalEncoder: codes 0..k-1; unknown values are encoded as missing)."""
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.arange(model.n_features_in_), {}
    is_cat = np.asarray(model.is_categorical_, dtype=bool)
    columns = np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
    categories: dict[int, np.ndarray] = {}
    for j, values in enumerate(pre.named_transformers_["encoder"].categories_):
        try:
            raw = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raw = np.array([np.inf])
        raw = raw[~np.isnan(raw)]
        if np.any((raw < 0) | (raw >= _MAX_CATEGORY) | (raw != np.floor(raw))):
            raise ValueError(
                f"model: this {name} has categories in column {int(columns[j])} that are not "
                f"whole numbers in [0, {_MAX_CATEGORY}) (strings or a pandas category dtype?); "
                "encode them as integer codes before fitting (e.g. OrdinalEncoder) to convert it"
            )
        categories[j] = raw.astype(np.int64)
    return columns, categories


def _words(categories: np.ndarray) -> np.ndarray:
    """The spec bitset (uint32 words) of a set of whole-number categories."""
    words = np.zeros(int(categories.max(initial=0)) // 32 + 1, np.uint32)
    np.bitwise_or.at(words, categories // 32, (np.uint32(1) << (categories % 32)).astype(np.uint32))
    return words


def _hist_split(node: Any, left_bits: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, bool]:
    """A histogram tree's categorical node in the spec's rule: its bitset and whether the
    children swap. The model sends codes in ``left_bits`` left, the other known codes right,
    and unknown values where NaN goes; when that is left, the spec node holds the right-going
    categories with the children swapped, so everything outside its set goes the NaN way."""
    codes = np.arange(len(raw))
    in_left = ((left_bits[codes // 32] >> (codes % 32).astype(np.uint32)) & 1).astype(bool)
    swap = bool(node["missing_go_to_left"])
    chosen = raw[~in_left] if swap else raw[in_left]
    return _words(chosen), swap


def _hist_gradient_boosting(model: Any, name: str) -> TreeEnsembleSpec:
    columns, categories = _hist_categories(model, name)
    base = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    builder = SpecBuilder()
    for iteration in model._predictors:
        for k, predictor in enumerate(iteration):
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
            default_left = nodes["missing_go_to_left"].astype(bool)
            cat_words: dict[int, np.ndarray] = {}
            for i in np.flatnonzero(~leaf & nodes["is_categorical"].astype(bool)):
                node = nodes[i]
                bits = predictor.raw_left_cat_bitsets[int(node["bitset_idx"])]
                cat_words[int(i)], swap = _hist_split(
                    node, bits, categories[int(node["feature_idx"])]
                )
                if swap:
                    left[i], right[i] = right[i], left[i]
                    default_left[i] = False
            builder.add(
                left=left,
                right=right,
                features=np.where(leaf, -1, columns[nodes["feature_idx"]]),
                thresholds=float32_floor(nodes["num_threshold"]),
                default_left=default_left,
                covers=nodes["count"].astype(np.float64),
                leaf_values=nodes["value"].astype(np.float64)[:, None],
                output=k,
                cat_words=cat_words,
            )
    classes = getattr(model, "classes_", None)
    classifier = classes is not None
    link = "identity" if not classifier else ("logistic" if len(base) == 1 else "softmax")
    loss_link = type(getattr(model._loss, "link", None)).__name__
    return builder.spec(
        model.n_features_in_,
        base,
        link=link,
        source=f"sklearn.{name}",
        **_names(model, None if not classifier or len(base) == 1 else classes),
        meta={
            "kind": "classifier" if classifier else "regressor",
            "allow_nan": True,
            "predict": "predict_proba" if classifier else "predict",
            # a regressor's predict equals the margin only through an identity link
            "identity_predict": classifier or loss_link == "IdentityLink",
            "classes": None if classes is None else list(np.asarray(classes).tolist()),
        },
    )


def _isolation_forest(model: Any) -> TreeEnsembleSpec:
    from sklearn.ensemble._iforest import _average_path_length

    builder = SpecBuilder()
    scale = 1.0 / len(model.estimators_)
    for estimator, features in zip(model.estimators_, model.estimators_features_, strict=True):
        tree = estimator.tree_
        depth = np.zeros(tree.node_count)
        for i in range(tree.node_count):  # parents precede their children in a fitted Tree
            for child in (tree.children_left[i], tree.children_right[i]):
                if child >= 0:
                    depth[child] = depth[i] + 1
        path = depth + _average_path_length(np.asarray(tree.n_node_samples))
        _add_cart(builder, tree, (path * scale)[:, None], feature_map=np.asarray(features))
    return builder.spec(
        model.n_features_in_,
        np.zeros(1),
        link="identity",
        source="sklearn.IsolationForest",
        **_names(model),
        meta={"kind": "outlier", "allow_nan": _allows_nan(model), "predict": None},
    )


def two_class(spec: TreeEnsembleSpec) -> TreeEnsembleSpec:
    """A binary (logistic, one output) spec as two softmax outputs with margins ``(0, m)``:
    probabilities ``(1 - p, p)``, a classifier's ``predict_proba``.

    >>> from sklearn.ensemble import GradientBoostingClassifier
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> spec = spec_from_sklearn(GradientBoostingClassifier(n_estimators=2).fit(X, [0, 0, 1, 1]))
    >>> (spec.n_outputs, spec.link), (two_class(spec).n_outputs, two_class(spec).link)
    ((1, 'logistic'), (2, 'softmax'))
    """
    if spec.link != "logistic" or spec.n_outputs != 1:
        raise ValueError(f"spec: expected a binary (logistic, one output) spec, got {spec.link}")
    classes = spec.meta.get("classes")
    return replace(
        spec,
        n_outputs=2,
        tree_outputs=np.asarray(spec.tree_outputs, np.int32) + 1,
        base_scores=np.concatenate([[0.0], np.asarray(spec.base_scores, np.float64)]),
        link="softmax",
        output_names=None if classes is None else tuple(str(c) for c in classes),
    )


def spec_from_sklearn(model: Any) -> TreeEnsembleSpec:
    """A fitted scikit-learn tree model as a ``TreeEnsembleSpec``.

    The margin is what shap's TreeExplainer explains: a forest's averaged ``predict`` /
    ``predict_proba`` (identity link), a gradient boosting model's ``decision_function`` /
    ``_raw_predict`` (logistic or softmax link for classifiers), an isolation forest's average
    path length.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> spec = spec_from_sklearn(DecisionTreeRegressor(max_depth=1).fit(X, [0, 0, 1, 1]))
    >>> spec.n_trees, spec.n_outputs, spec.link
    (1, 1, 'identity')
    """
    name = type(model).__name__
    if name not in SUPPORTED:
        raise TypeError(
            f"model: {name} is not a supported scikit-learn tree model; supported: "
            f"{', '.join(SUPPORTED)}"
        )
    fitted = "tree_" if name in _SINGLE else ("_predictors" if "Hist" in name else "estimators_")
    if not hasattr(model, fitted):
        raise ValueError(f"model: this {name} is not fitted; call fit(X, y) first")
    if name in _SINGLE:
        return _forest(model, name, [model])
    if name in _FORESTS:
        return _forest(model, name, list(model.estimators_))
    if name.startswith("GradientBoosting"):
        return _gradient_boosting(model, name)
    if name.startswith("HistGradientBoosting"):
        return _hist_gradient_boosting(model, name)
    return _isolation_forest(model)


__all__ = ["SUPPORTED", "spec_from_sklearn", "two_class"]
