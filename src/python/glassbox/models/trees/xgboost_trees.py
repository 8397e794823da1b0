"""XGBoost models as a ``TreeEnsembleSpec`` (``spec_from_xgboost``), read from the JSON model.

Accepted: a ``Booster``, any fitted ``XGB*`` estimator (``XGBClassifier``, ``XGBRegressor``,
``XGBRFClassifier`` / ``XGBRFRegressor``, ...) and the JSON model itself (``Booster.save_raw
("json")`` as bytes / text, or parsed into a dict), for the "gbtree" and "dart" boosters (dart:
each tree's leaves times its ``weight_drop``).

How XGBoost's rules map onto the spec's walk:

- a numeric node goes left when ``x < split_condition`` (float32): stored as the float32 just
  below it; NaN goes to ``default_left``;
- a categorical node sends the categories in its set RIGHT and everything else (other and
  invalid categories) left: the spec node holds the same set with the children swapped and
  ``default_left`` flipped. Categorical features are read as the training category codes
  (pandas ``.cat.codes``, NaN for missing); XGBoost truncates a fractional code, the spec sends it
  the "not in the set" way;
- trees add into output ``tree_info[t]`` (multi-class: one tree per class per round); a
  ``multi_strategy="multi_output_tree"`` tree has vector leaves (``tree_widths`` = n_outputs);
  forests (``num_parallel_tree``) are summed as XGBoost sums them (their learning rate is
  already in the leaves);
- covers are the nodes' ``sum_hessian``;
- ``base_score`` is stored in the objective's output space: the spec's base is XGBoost's margin,
  the logit for ``binary:logistic`` / ``reg:logistic``, the log for ``count:poisson``,
  ``reg:gamma``, ``reg:tweedie``, ``survival:*`` and the value itself otherwise.

Links: "logistic" for ``binary:logistic`` and ``reg:logistic``, "softmax" for
``multi:softprob`` / ``multi:softmax``, "identity" for everything else. Probabilities are not
defined for the log-link (``count:poisson``, ``reg:gamma``, ``reg:tweedie``, ``survival:*``),
ranking (``rank:*``) and ``binary:logitraw`` models: their spec is the raw margin only
(``meta["probabilities"]`` is False; ``meta["response"]`` names the transform XGBoost's
``predict`` applies).

Iterations: an ``XGB*`` estimator keeps the trees its ``predict`` uses (up to
``best_iteration`` after early stopping); a ``Booster`` or a JSON model keeps all trees, as
``Booster.predict`` does. Slice a booster (``booster[a:b]``) to keep other iterations.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from glassbox.models.trees._build import SpecBuilder
from glassbox.models.trees._dump import (
    add_tree,
    bitset,
    field,
    float32_below,
    integer,
    numbers,
)
from glassbox.models.trees.spec import TreeEnsembleSpec

#: objective -> (base_score to margin, link, the transform XGBoost's predict applies)
_LOGISTIC = ("logit", "logistic", "logistic")
_LOG = ("log", "identity", "exp")
_RAW = ("identity", "identity", "identity")
_OBJECTIVES: dict[str, tuple[str, str, str]] = {
    "reg:squarederror": _RAW,
    "reg:squaredlogerror": _RAW,
    "reg:absoluteerror": _RAW,
    "reg:pseudohubererror": _RAW,
    "reg:quantileerror": _RAW,
    "reg:linear": _RAW,
    "reg:logistic": _LOGISTIC,
    "binary:logistic": _LOGISTIC,
    "binary:logitraw": _RAW,
    "binary:hinge": ("identity", "identity", "hinge"),
    "multi:softprob": ("identity", "softmax", "softmax"),
    "multi:softmax": ("identity", "softmax", "argmax"),
    "count:poisson": _LOG,
    "reg:gamma": _LOG,
    "reg:tweedie": _LOG,
    "survival:cox": _LOG,
    "survival:aft": _LOG,
    "rank:pairwise": _RAW,
    "rank:ndcg": _RAW,
    "rank:map": _RAW,
}


def spec_from_xgboost(model: Any) -> TreeEnsembleSpec:
    """The spec of a fitted XGBoost model (see the module docstring for the rules).

    Parameters
    ----------
    model : xgboost.Booster, a fitted ``XGB*`` estimator, or its JSON model (bytes, str or dict)

    Returns
    -------
    TreeEnsembleSpec
        Its ``predict`` margin equals XGBoost's ``predict(output_margin=True)``.

    Examples
    --------
    >>> import numpy as np, xgboost as xgb
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> model = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, X[:, 0] > 0)
    >>> spec = spec_from_xgboost(model)
    >>> spec.n_trees, spec.n_outputs, spec.link
    (4, 1, 'logistic')
    """
    document, last_iteration, names = _document(model)
    learner = field(document, "learner", "the JSON model", dict)
    params = field(learner, "learner_model_param", "learner", dict)
    objective = field(
        field(learner, "objective", "learner", dict), "name", "learner.objective", str
    )
    if objective not in _OBJECTIVES:
        raise ValueError(
            f"objective {objective!r} is not supported; supported: {', '.join(sorted(_OBJECTIVES))}"
        )
    to_margin, link, response = _OBJECTIVES[objective]
    n_features = integer(field(params, "num_feature", "learner_model_param"), "num_feature")
    n_classes = integer(params.get("num_class", 0), "learner_model_param.num_class")
    n_targets = integer(params.get("num_target", 1), "learner_model_param.num_target")
    n_outputs = n_classes if n_classes > 1 else max(n_targets, 1)
    if n_features < 1:
        raise ValueError(f"malformed model dump: num_feature is {n_features}")
    base = _base_margin(field(params, "base_score", "learner_model_param"), to_margin, n_outputs)

    booster = field(learner, "gradient_booster", "learner", dict)
    kind = field(booster, "name", "gradient_booster", str)
    weights = None
    if kind == "dart":
        weights = numbers(
            field(booster, "weight_drop", "gradient_booster", list), "weight_drop", np.float64
        )
        booster = field(booster, "gbtree", "gradient_booster", dict)
    elif kind != "gbtree":
        raise ValueError(f"booster {kind!r} is not a tree ensemble: only 'gbtree' and 'dart' are")
    forest = field(booster, "model", "gradient_booster", dict)
    trees = field(forest, "trees", "gradient_booster.model", list)
    tree_info = numbers(
        field(forest, "tree_info", "gradient_booster.model", list),
        "tree_info",
        np.int64,
        len(trees),
    )
    if weights is not None and len(weights) != len(trees):
        raise ValueError(
            f"malformed model dump: weight_drop has {len(weights)} entries for {len(trees)} trees"
        )
    n_trees = len(trees)
    if last_iteration is not None:
        n_trees = min(_iteration_end(forest, last_iteration, n_outputs), len(trees))

    builder = SpecBuilder()
    for t in range(n_trees):
        scale = 1.0 if weights is None else float(weights[t])
        _add_tree(builder, trees[t], f"trees[{t}]", int(tree_info[t]), n_features, n_outputs, scale)
    feature_names = learner.get("feature_names") or None
    if feature_names is not None and (
        not isinstance(feature_names, list) or len(feature_names) != n_features
    ):
        feature_names = None
    if not builder.outputs:
        raise ValueError("the model has no trees: fit it (or keep at least one iteration)")
    return builder.spec(
        n_features,
        base,
        link=link,
        source="xgboost",
        feature_names=None if feature_names is None else tuple(str(n) for n in feature_names),
        output_names=names if names is not None and len(names) == n_outputs else None,
        meta={
            "objective": objective,
            "n_classes": n_classes,
            "response": response,
            "probabilities": not _margin_only(objective),
        },
    )


def _iteration_end(forest: dict, iterations: int, n_outputs: int) -> int:
    """The number of trees in the first ``iterations`` rounds (``iteration_indptr``, or, in
    models from XGBoost < 2 without it, rounds of num_parallel_tree trees per output)."""
    if "iteration_indptr" in forest:
        indptr = numbers(forest["iteration_indptr"], "iteration_indptr", np.int64)
        if len(indptr) == 0:
            raise ValueError("malformed model dump: iteration_indptr is empty")
        return int(indptr[min(iterations, len(indptr) - 1)])
    params = field(forest, "gbtree_model_param", "gradient_booster.model", dict)
    parallel = integer(params.get("num_parallel_tree", 1), "num_parallel_tree")
    return iterations * max(parallel, 1) * n_outputs


def _margin_only(objective: str) -> bool:
    """Whether probabilities are undefined: the link cannot give what ``predict`` gives."""
    log_link = _OBJECTIVES[objective][0] == "log"
    return (
        log_link
        or objective.startswith(("rank:", "survival:"))
        or objective in {"binary:logitraw", "binary:hinge"}
    )


def _document(model: Any) -> tuple[Any, int | None, tuple[str, ...] | None]:
    """The parsed JSON model, the number of iterations to keep (None: all), output names."""
    if isinstance(model, dict):
        return model, None, None
    if isinstance(model, (bytes, bytearray, str)):
        try:
            return json.loads(model), None, None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"model is not an XGBoost JSON model: {error}") from None
    module = type(model).__module__.split(".")[0]
    if module != "xgboost" or not (hasattr(model, "save_raw") or hasattr(model, "get_booster")):
        raise TypeError(
            f"model should be an xgboost Booster, a fitted XGB* estimator or its JSON model; "
            f"got {type(model).__name__}"
        )
    last = None
    names = None
    if hasattr(model, "get_booster"):
        if getattr(model, "_Booster", None) is None:
            raise ValueError(f"{type(model).__name__} is not fitted: call fit first")
        # as XGBModel.predict: up to the best iteration after early stopping
        try:
            last = int(model.best_iteration) + 1
        except AttributeError:  # no early stopping: all trees
            last = None
        classes = getattr(model, "classes_", None)
        if classes is not None and len(classes) > 2:
            names = tuple(str(c) for c in classes)
        model = model.get_booster()
    return json.loads(bytes(model.save_raw("json"))), last, names


def _base_margin(text: Any, to_margin: str, n_outputs: int) -> np.ndarray:
    """XGBoost's ``base_score`` ("0.5" or "[a,b,c]", in output space) as margins."""
    try:
        values = np.atleast_1d(np.asarray(json.loads(str(text)), dtype=np.float64)).ravel()
    except (json.JSONDecodeError, TypeError, ValueError):
        raise ValueError(
            f"malformed model dump: base_score should be a number or a list, got {text!r}"
        ) from None
    if len(values) == 1:
        values = np.repeat(values, n_outputs)
    if len(values) != n_outputs or not np.all(np.isfinite(values)):
        raise ValueError(f"malformed model dump: base_score {text!r} for {n_outputs} outputs")
    if to_margin == "logit":
        p = np.clip(values, 1e-16, 1 - 1e-16)
        return np.log(p) - np.log1p(-p)
    if to_margin == "log":
        return np.log(np.maximum(values, 1e-16))
    return values


def _add_tree(
    builder: SpecBuilder,
    tree: Any,
    where: str,
    output: int,
    n_features: int,
    n_outputs: int,
    scale: float,
) -> None:
    field(tree, "left_children", where, list)
    n = len(tree["left_children"])

    def ints(key: str) -> np.ndarray:
        return numbers(field(tree, key, where, list), f"{where}.{key}", np.int64, n)

    left, right = ints("left_children"), ints("right_children")
    features, default_left, split_type = (
        ints("split_indices"),
        ints("default_left"),
        ints("split_type"),
    )
    conditions = numbers(
        field(tree, "split_conditions", where, list), f"{where}.split_conditions", np.float64, n
    )
    covers = numbers(field(tree, "sum_hessian", where, list), f"{where}.sum_hessian", np.float64, n)
    width = integer(
        field(field(tree, "tree_param", where, dict), "size_leaf_vector", f"{where}.tree_param"),
        "size_leaf_vector",
    )
    leaf = left < 0
    if width > 1:
        if width != n_outputs:
            raise ValueError(
                f"malformed model dump: {where} has {width}-value leaves for {n_outputs} outputs"
            )
        # vector leaves: a leaf's right child is its index into leaf_weights
        leaf_weights = numbers(
            field(tree, "leaf_weights", where, list), f"{where}.leaf_weights", np.float64
        )
        index = np.where(leaf, right, 0)
        bad = np.any(index < 0) or np.any(index[leaf] * width + width > len(leaf_weights))
        if bad or len(leaf_weights) % width:
            raise ValueError(f"malformed model dump: {where} has a leaf index outside leaf_weights")
        leaf_values = (
            leaf_weights.reshape(-1, width)[index] if len(leaf_weights) else np.zeros((n, width))
        )
        right = np.where(leaf, -1, right)
        output = 0
    else:
        leaf_values = conditions[:, None]
        if not 0 <= output < n_outputs:
            raise ValueError(
                f"malformed model dump: {where} adds into output {output} of {n_outputs}"
            )
    if np.any(np.isnan(conditions[~leaf])):
        raise ValueError(f"malformed model dump: {where} has a NaN split_condition")
    with np.errstate(over="ignore"):  # beyond float32: the library's float32 is infinite
        thresholds = float32_below(conditions)
    default_left = default_left.astype(bool)
    cat_words = {}
    for node, categories in _categories(tree, where, n).items():
        if leaf[node] or split_type[node] != 1:
            raise ValueError(
                f"malformed model dump: {where} lists categories for a non-categorical node {node}"
            )
        # XGBoost sends its set right: the spec sends it left, so swap and flip
        cat_words[node] = bitset(categories, f"{where}.categories")
        left[node], right[node] = right[node], left[node]
        default_left[node] = not default_left[node]
    if np.any((split_type == 1) & ~leaf & ~np.isin(np.arange(n), list(cat_words))):
        raise ValueError(f"malformed model dump: {where} has a categorical node without categories")
    add_tree(
        builder,
        left=left,
        right=right,
        features=features,
        thresholds=thresholds,
        default_left=default_left,
        covers=covers,
        leaf_values=leaf_values * scale,
        output=output,
        cat_words=cat_words,
        n_features=n_features,
        where=where,
    )


def _categories(tree: Any, where: str, n: int) -> dict[int, np.ndarray]:
    """Each categorical node's category set (XGBoost's categories_nodes / segments / sizes)."""
    nodes = numbers(tree.get("categories_nodes", []), f"{where}.categories_nodes", np.int64)
    if len(nodes) == 0:
        return {}
    segments = numbers(
        field(tree, "categories_segments", where),
        f"{where}.categories_segments",
        np.int64,
        len(nodes),
    )
    sizes = numbers(
        field(tree, "categories_sizes", where), f"{where}.categories_sizes", np.int64, len(nodes)
    )
    categories = numbers(field(tree, "categories", where), f"{where}.categories", np.int64)
    out = {}
    for node, start, size in zip(nodes, segments, sizes, strict=True):
        if not 0 <= node < n or start < 0 or size < 0 or start + size > len(categories):
            raise ValueError(f"malformed model dump: {where} has a category segment out of range")
        out[int(node)] = categories[start : start + size]
    return out
