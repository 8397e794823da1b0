"""Tree ensembles: one native representation (``TreeEnsembleSpec``) for scikit-learn, XGBoost
and LightGBM models, evaluated by the compiled core (``TreeModel``)."""

from __future__ import annotations

from typing import Any

from glassbox.models.trees.model import TreeModel
from glassbox.models.trees.spec import TreeEnsembleSpec


def _library(model: object) -> str | None:
    """ "sklearn", "xgboost" or "lightgbm" by the modules of the model's classes (nothing is
    imported to ask)."""
    roots = {c.__module__.split(".")[0] for c in type(model).__mro__}
    for library in ("xgboost", "lightgbm", "sklearn"):
        if library in roots:
            return library
    return None


def spec_from_model(model: object) -> TreeEnsembleSpec:
    """The ``TreeEnsembleSpec`` of a fitted scikit-learn, XGBoost or LightGBM tree model."""
    library = _library(model)
    if library == "sklearn":
        from glassbox.models.trees.sklearn_trees import spec_from_sklearn

        return spec_from_sklearn(model)
    if library in ("xgboost", "lightgbm"):
        try:
            if library == "xgboost":
                from glassbox.models.trees.xgboost_trees import spec_from_xgboost as convert
            else:
                from glassbox.models.trees.lightgbm_trees import spec_from_lightgbm as convert
        except ImportError as error:
            raise ImportError(
                f"model: converting a {library} model needs {library} installed and "
                f"glassbox.models.trees.{library}_trees ({error})"
            ) from error
        return convert(model)
    raise TypeError(
        "model: expected a fitted tree model from scikit-learn (DecisionTree*, RandomForest*, "
        "ExtraTrees*, GradientBoosting*, HistGradientBoosting*, IsolationForest), XGBoost "
        f"(Booster, XGB*) or LightGBM (Booster, LGBM*); got {type(model).__name__}"
    )


def from_trees(model: Any, output: str = "raw") -> TreeModel:
    """A fitted tree ensemble as a native, thread-safe ``TreeModel``.

    Parameters
    ----------
    model : a scikit-learn, XGBoost or LightGBM tree model (fitted), or a ``TreeEnsembleSpec``
    output : "raw" or "probabilities"
        "raw": the margin (a forest's averaged predictions or class probabilities, a boosted
        model's raw score / log odds); "probabilities": through the model's link (logistic,
        softmax), as the library's ``predict_proba`` (one column for a binary boosted model).

    Examples
    --------
    >>> import numpy as np
    >>> import glassbox as gb
    >>> from sklearn.ensemble import GradientBoostingClassifier
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> clf = GradientBoostingClassifier(n_estimators=5).fit(X, X[:, 0] > 0)
    >>> model = gb.from_trees(clf, output="probabilities")
    >>> bool(np.allclose(model.predict(X[:3]).ravel(), clf.predict_proba(X[:3])[:, 1], rtol=1e-5))
    True
    """
    if isinstance(model, TreeModel):
        return model if model.output == output else TreeModel(model.spec, output)
    spec = model if isinstance(model, TreeEnsembleSpec) else spec_from_model(model)
    return TreeModel(spec, output)


__all__ = ["TreeEnsembleSpec", "TreeModel", "from_trees", "spec_from_model"]
