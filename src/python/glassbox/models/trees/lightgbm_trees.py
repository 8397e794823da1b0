"""LightGBM models as a ``TreeEnsembleSpec`` (``spec_from_lightgbm``), read from ``dump_model()``.

Accepted: a ``Booster``, a fitted ``LGBMClassifier`` / ``LGBMRegressor`` / ``LGBMRanker`` and the
dump itself (the dict ``Booster.dump_model()`` returns). The dump holds the iterations
``predict`` uses by default (up to ``best_iteration`` after early stopping); to keep others,
pass ``booster.dump_model(start_iteration=..., num_iteration=...)``.

How LightGBM's rules map onto the spec's walk:

- a numeric node (decision_type "<=") goes left when ``x <= threshold`` (float64): stored as the
  largest float32 not above it. LightGBM reads any value in [-1e-35, 1e-35] of a dense row as 0,
  so such a band goes where 0 goes (the threshold moves to the band's far edge). Missing values
  by ``missing_type``: "NaN": NaN goes to
  ``default_left``; "None": NaN is read as 0, so it goes where 0 goes; "Zero"
  (``zero_as_missing=True``): NaN and every value in [-1e-35, 1e-35] go to ``default_left``,
  which the spec expresses by moving the threshold when that band lies next to the side it goes
  to, and otherwise (the band would be a hole in the other side) is rejected with a ValueError;
- a categorical node (decision_type "==") sends the categories listed in its threshold
  ("1||4||7") left and everything else (other, negative and NaN values) right, as the spec does.
  Categorical features are read as whole codes (pandas ``.cat.codes``, NaN for missing);
  LightGBM truncates a fractional value, the spec sends it right;
- tree ``t`` adds into output ``t % num_tree_per_iteration``; leaves already hold the learning
  rate and any ``boost_from_average`` / init score, so the base is 0; a random forest
  (``boosting="rf"``, ``average_output``) has its leaves divided by the number of iterations,
  so the margin is the average ``predict`` returns (its ``raw_score=True`` is the plain sum);
- covers are the nodes' sample counts (``internal_count`` / ``leaf_count``), as shap uses.

Objectives and links: regression ones ("regression", "regression_l1", "huber", "fair",
"quantile", "mape") -> "identity"; "binary" and "cross_entropy" -> "logistic" (with
``sigmoid`` s != 1 the leaves are multiplied by s, so the spec's margin is s times LightGBM's raw
score and the logistic link gives ``predict_proba``); "multiclass" -> "softmax". The raw margin
only (``meta["probabilities"]`` False) for "multiclassova" (one sigmoid per class, not a
softmax), log-link ("poisson", "gamma", "tweedie"), "cross_entropy_lambda", ranking and custom
objectives. ``meta["response"]`` names the transform ``predict`` applies when the spec's links
give it ("identity", "logistic", "softmax"; None otherwise). Linear trees
(``linear_tree=True``) are rejected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.models.trees._build import SpecBuilder, float32_floor
from glassbox.models.trees._dump import (
    add_tree,
    bitset,
    field,
    integer,
)
from glassbox.models.trees.spec import TreeEnsembleSpec

#: LightGBM's kZeroThreshold (a float32): |x| <= it is "zero" for missing_type "Zero"
_ZERO = float(np.float32(1e-35))
_IDENTITY = {"regression", "regression_l1", "huber", "fair", "quantile", "mape"}
_LOGISTIC = {"binary", "cross_entropy"}
_RAW_ONLY = {"multiclassova", "poisson", "gamma", "tweedie", "cross_entropy_lambda"}
_RAW_ONLY |= {"lambdarank", "rank_xendcg", "custom"}


def spec_from_lightgbm(model: Any) -> TreeEnsembleSpec:
    """The spec of a fitted LightGBM model (see the module docstring for the rules).

    Parameters
    ----------
    model : lightgbm.Booster, a fitted ``LGBM*`` estimator, or the dict of ``dump_model()``

    Returns
    -------
    TreeEnsembleSpec
        Its margin equals LightGBM's ``predict(raw_score=True)`` (times ``sigmoid`` for a
        binary objective with ``sigmoid`` != 1).

    Examples
    --------
    >>> import numpy as np, lightgbm as lgb
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> model = lgb.LGBMClassifier(n_estimators=4, num_leaves=4, verbose=-1).fit(X, X[:, 0] > 0)
    >>> spec = spec_from_lightgbm(model)
    >>> spec.n_trees, spec.n_outputs, spec.link
    (4, 1, 'logistic')
    """
    dump, names = _read_dump(model)
    n_features = integer(field(dump, "max_feature_idx", "the dump"), "max_feature_idx") + 1
    per_iteration = integer(
        field(dump, "num_tree_per_iteration", "the dump"), "num_tree_per_iteration"
    )
    trees = field(dump, "tree_info", "the dump", list)
    if n_features < 1 or per_iteration < 1:
        raise ValueError("malformed model dump: max_feature_idx or num_tree_per_iteration < 0")
    if len(trees) % per_iteration:
        raise ValueError(
            f"malformed model dump: {len(trees)} trees for {per_iteration} trees per iteration"
        )
    objective, params = _objective(dump.get("objective", "custom"))
    link = "identity"
    if objective in _LOGISTIC:
        link = "logistic"
    elif objective == "multiclass":
        link = "softmax"
    elif objective not in _IDENTITY | _RAW_ONLY:
        raise ValueError(f"objective {objective!r} is not supported")
    scale = float(params.get("sigmoid", 1.0)) if objective == "binary" else 1.0
    if dump.get("average_output", False):
        scale /= max(len(trees) // per_iteration, 1)

    builder = SpecBuilder()
    for t, tree in enumerate(trees):
        where = f"tree_info[{t}]"
        if not isinstance(tree, dict):
            raise ValueError(f"malformed model dump: {where} should be an object")
        nodes = _flatten(field(tree, "tree_structure", where, dict), where)
        _add_tree(builder, nodes, where, t % per_iteration, n_features, scale)
    feature_names = dump.get("feature_names")
    if not isinstance(feature_names, list) or len(feature_names) != n_features:
        feature_names = None
    if not builder.outputs:
        raise ValueError("the model has no trees: fit it (or keep at least one iteration)")
    return builder.spec(
        n_features,
        np.zeros(per_iteration),
        link=link,
        source="lightgbm",
        feature_names=None if feature_names is None else tuple(str(n) for n in feature_names),
        output_names=names if names is not None and len(names) == per_iteration else None,
        meta={
            "objective": objective,
            "n_classes": integer(dump.get("num_class", 1), "num_class"),
            "margin_scale": scale if objective == "binary" else 1.0,
            "probabilities": objective not in _RAW_ONLY,
            "response": _response(objective),
        },
    )


def _response(objective: str) -> str | None:
    """The transform LightGBM's ``predict`` applies to the margin: "identity", "logistic",
    "softmax", or None for one the spec's links do not give (exp, one sigmoid per class, ...).
    Ranking models predict their raw score."""
    if objective in _IDENTITY or objective in {"lambdarank", "rank_xendcg"}:
        return "identity"
    if objective in _LOGISTIC:
        return "logistic"
    return "softmax" if objective == "multiclass" else None


def _read_dump(model: Any) -> tuple[Any, tuple[str, ...] | None]:
    """The dump_model() dict and the output names."""
    if isinstance(model, dict):
        return model, None
    module = type(model).__module__.split(".")[0]
    if module != "lightgbm" or not (
        hasattr(model, "dump_model") or hasattr(type(model), "booster_")
    ):
        raise TypeError(
            "model should be a lightgbm Booster, a fitted LGBM* estimator or its dump_model() "
            f"dict; got {type(model).__name__}"
        )
    names = None
    if not hasattr(model, "dump_model"):
        if getattr(model, "_Booster", None) is None:
            raise ValueError(f"{type(model).__name__} is not fitted: call fit first")
        classes = getattr(model, "classes_", None)
        if classes is not None and len(classes) > 2:
            names = tuple(str(c) for c in classes)
        model = model.booster_
    return model.dump_model(), names


def _objective(text: Any) -> tuple[str, dict[str, float]]:
    """'binary sigmoid:1' -> ('binary', {'sigmoid': 1.0})."""
    if not isinstance(text, str) or not text.split():
        raise ValueError(f"malformed model dump: objective should be a string, got {text!r}")
    name, *rest = text.split()
    params = {}
    for item in rest:
        key, _, value = item.partition(":")
        try:
            params[key] = float(value)
        except ValueError:
            continue
    aliases = {"xentropy": "cross_entropy", "xentlambda": "cross_entropy_lambda"}
    return aliases.get(name, name), params


def _flatten(root: dict, where: str) -> list[dict]:
    """The nested tree_structure as a preorder list of nodes with local 'left' / 'right'."""
    nodes: list[dict] = []
    stack: list[tuple[Any, int, str]] = [(root, -1, "")]
    while stack:
        node, parent, side = stack.pop()
        if not isinstance(node, dict):
            raise ValueError(f"malformed model dump: {where} has a node that is not an object")
        index = len(nodes)
        nodes.append({"node": node, "left": -1, "right": -1})
        if parent >= 0:
            nodes[parent][side] = index
        if "leaf_value" not in node:
            stack.append((field(node, "right_child", where), index, "right"))
            stack.append((field(node, "left_child", where), index, "left"))
        if len(nodes) > 1 << 26:
            raise ValueError(f"malformed model dump: {where} is too large")
    return nodes


def _add_tree(
    builder: SpecBuilder, nodes: list[dict], where: str, output: int, n_features: int, scale: float
) -> None:
    n = len(nodes)
    left = np.array([e["left"] for e in nodes], np.int64)
    right = np.array([e["right"] for e in nodes], np.int64)
    features = np.full(n, -1, np.int64)
    thresholds = np.zeros(n, np.float32)
    default_left = np.zeros(n, bool)
    covers = np.zeros(n)
    values = np.zeros((n, 1))
    cat_words = {}
    for i, entry in enumerate(nodes):
        node = entry["node"]
        if left[i] < 0:
            if node.get("leaf_coeff"):
                raise ValueError(
                    "linear trees (linear_tree=True) are not supported: refit without it"
                )
            values[i, 0] = _number(field(node, "leaf_value", where), f"{where} leaf_value") * scale
            covers[i] = _number(node.get("leaf_count", 0), f"{where} leaf_count")
            continue
        covers[i] = _number(field(node, "internal_count", where), f"{where} internal_count")
        features[i] = integer(field(node, "split_feature", where), f"{where} split_feature")
        decision = field(node, "decision_type", where, str)
        if decision == "==":
            cat_words[i] = bitset(_categories(field(node, "threshold", where), where), where)
            continue  # NaN, negative and unlisted values go right: default_left stays False
        if decision != "<=":
            raise ValueError(f"malformed model dump: {where} has decision_type {decision!r}")
        threshold = _number(field(node, "threshold", where), f"{where} threshold", finite=False)
        missing = field(node, "missing_type", where, str)
        thresholds[i], default_left[i] = _numeric_split(
            threshold, missing, bool(field(node, "default_left", where, bool)), where
        )
    if n == 1 and covers[0] <= 0:
        covers[0] = 1.0  # a one-leaf tree has no split for its cover to weigh
    add_tree(
        builder,
        left=left,
        right=right,
        features=features,
        thresholds=thresholds,
        default_left=default_left,
        covers=covers,
        leaf_values=values,
        output=output,
        cat_words=cat_words,
        n_features=n_features,
        where=where,
    )


def _numeric_split(threshold: float, missing: str, left: bool, where: str) -> tuple[float, bool]:
    """The spec threshold and default_left of a "<=" node with LightGBM's missing_type.

    LightGBM reads every value in the zero band [-_ZERO, _ZERO] of a dense row as 0 before any
    split, so the band goes wherever 0 goes: the threshold moves to the band's far edge."""
    if np.isnan(threshold):
        raise ValueError(f"malformed model dump: {where} has a NaN threshold")
    with np.errstate(over="ignore"):  # beyond float32: every finite float32 is below it
        t32 = float32_floor(np.array([threshold]))[0]
    below_band = np.nextafter(np.float32(-_ZERO), np.float32(-np.inf))
    zero_left = threshold >= 0
    moved = max(t32, np.float32(_ZERO)) if zero_left else min(t32, below_band)
    if missing == "NaN":
        return moved, left
    if missing == "None":  # NaN is read as 0
        return moved, zero_left
    if missing != "Zero":
        raise ValueError(f"malformed model dump: {where} has missing_type {missing!r}")
    # NaN and the zero band go the default way: exact when the band touches that side
    if left and threshold >= -_ZERO:
        return max(t32, np.float32(_ZERO)), True
    if not left and threshold < _ZERO:
        return min(t32, below_band), False
    raise ValueError(
        f"{where} treats zero as missing (zero_as_missing=True) with a split the tree walk "
        "cannot express (zeros go the other way from their neighbours); refit with "
        "zero_as_missing=False"
    )


def _categories(text: Any, where: str) -> np.ndarray:
    """'1||4||7' -> [1, 4, 7]."""
    try:
        return np.array([int(part) for part in str(text).split("||")], np.int64)
    except ValueError:
        raise ValueError(
            f"malformed model dump: {where} has categorical threshold {text!r}, expected 'a||b||c'"
        ) from None


def _number(value: Any, where: str, finite: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"malformed model dump: {where} should be a number, got {value!r}")
    if finite and not np.isfinite(value):
        raise ValueError(f"malformed model dump: {where} is not finite")
    return float(value)
