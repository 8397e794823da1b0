"""Path-dependent TreeShap on XGBoost and LightGBM models equals the libraries' own TreeSHAP
(``pred_contribs`` / ``pred_contrib``) on fitted models with a pandas category column and NaN:
regression, binary and 3-class, the values and the base value (their last column)."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from booster_models import categorical_frame, classes, codes  # noqa: E402

TASKS = ["regression", "binary", "multiclass"]


def _target(task: str, y: np.ndarray) -> np.ndarray:
    if task == "regression":
        return y
    return (y > np.median(y)).astype(int) if task == "binary" else classes(y, 3)


def _ours(model, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glassbox's values (n, d, k) and base values (n, k), every output."""
    exp = gb.TreeShap(model)(rows, target=None)
    values = np.asarray(exp.values)
    base = np.asarray(exp.base_values).reshape(len(rows), -1)
    return values.reshape(len(rows), rows.shape[1], -1), base


def _split(contribs: np.ndarray, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A library's contributions as values (n, d, k) and base values (n, k): each output's block
    holds d feature columns and the base value last."""
    blocks = np.asarray(contribs, np.float64).reshape(n, k, d + 1)
    return blocks[:, :, :d].transpose(0, 2, 1), blocks[:, :, d]


@pytest.mark.parametrize("task", TASKS)
def test_path_dependent_equals_xgboost_pred_contribs(task: str) -> None:
    frame, y = categorical_frame(7)
    params = {"n_estimators": 8, "max_depth": 4, "learning_rate": 0.3}
    cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    model = cls(tree_method="hist", enable_categorical=True, **params).fit(frame, _target(task, y))
    assert np.any(gb.from_trees(model).spec.cat_starts >= 0)  # categorical splits are tested
    rows = codes(frame)[:50]
    assert np.isnan(rows).any()
    values, base = _ours(model, rows)
    # pred_contribs: (n, d + 1) for one output, (n, k, d + 1) for k classes
    contribs = model.get_booster().predict(
        xgb.DMatrix(frame.iloc[:50], enable_categorical=True), pred_contribs=True
    )
    want, want_base = _split(contribs, len(rows), rows.shape[1], values.shape[2])
    # XGBoost computes its contributions (and sums its leaves) in float32: equal to 1e-4 of the
    # largest |value| (float32 rounding over a few dozen terms, with room)
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(values, want, rtol=0, atol=1e-4 * scale)
    np.testing.assert_allclose(base, want_base, rtol=0, atol=1e-4 * max(scale, 1.0))


@pytest.mark.parametrize("task", TASKS)
def test_path_dependent_equals_lightgbm_pred_contrib(task: str) -> None:
    frame, y = categorical_frame(8)
    # small groups and light smoothing: LightGBM's defaults (100 rows per category group) would
    # never split on a category of this small frame
    params = {"n_estimators": 8, "num_leaves": 9, "min_child_samples": 5, "verbose": -1}
    params.update(min_data_per_group=5, cat_smooth=1.0, cat_l2=1.0)
    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    model = cls(**params).fit(frame, _target(task, y), categorical_feature=["c"])
    assert np.any(gb.from_trees(model).spec.cat_starts >= 0)  # categorical splits are tested
    rows = codes(frame)[:50]
    assert np.isnan(rows).any()
    values, base = _ours(model, rows)
    # pred_contrib: (n, k * (d + 1)), each class's d columns then its base value
    contribs = model.booster_.predict(frame.iloc[:50], pred_contrib=True)
    want, want_base = _split(contribs, len(rows), rows.shape[1], values.shape[2])
    # LightGBM computes in double as the core does: equal to rounding
    scale = max(float(np.abs(want).max()), 1.0)
    np.testing.assert_allclose(values, want, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(base, want_base, rtol=0, atol=1e-9 * scale)
