"""Shared data for the XGBoost and LightGBM adapter tests: small seeded data sets with NaN and a
categorical column, rows sitting exactly on a spec's thresholds, and the library-side view of
coded rows (a pandas category column rebuilt from its codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

N_ROWS = 240
N_CATEGORIES = 9


def numeric_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X float32 (n, 4) with NaN in column 1, a continuous target)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_ROWS, 4)).astype(np.float32)
    X[rng.random(N_ROWS) < 0.2, 1] = np.nan
    y = 2 * X[:, 0] + np.nan_to_num(X[:, 1], nan=1.5) - X[:, 2] * X[:, 3]
    return X, y


def categorical_frame(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """(a DataFrame: the numeric columns and a category column "c" with NaN, a target)."""
    X, y = numeric_data(seed)
    rng = np.random.default_rng(seed + 1)
    frame = pd.DataFrame(X, columns=["a", "b", "d", "e"])
    codes = rng.integers(0, N_CATEGORIES, N_ROWS)
    codes[rng.random(N_ROWS) < 0.1] = -1
    frame["c"] = pd.Categorical.from_codes(codes, categories=[f"k{i}" for i in range(N_CATEGORIES)])
    return frame, y + 2.0 * (codes % 3 == 0) - (codes == 4)


def classes(y: np.ndarray, k: int) -> np.ndarray:
    """``k`` balanced classes from a continuous target."""
    return np.digitize(y, np.quantile(y, np.linspace(0, 1, k + 1)[1:-1]))


def codes(X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The float32 rows the spec reads: category columns as codes, NaN where missing."""
    if not isinstance(X, pd.DataFrame):
        return np.asarray(X, dtype=np.float32)
    columns = [
        X[c].cat.codes.to_numpy(np.float32) if isinstance(X[c].dtype, pd.CategoricalDtype) else X[c]
        for c in X.columns
    ]
    out = np.column_stack(columns).astype(np.float32)
    for j, c in enumerate(X.columns):
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            out[out[:, j] < 0, j] = np.nan
    return out


def like(frame: pd.DataFrame | np.ndarray, rows: np.ndarray) -> pd.DataFrame | np.ndarray:
    """Coded rows in the layout of ``frame`` (category columns rebuilt from their codes)."""
    if not isinstance(frame, pd.DataFrame):
        return rows
    out = pd.DataFrame(rows, columns=frame.columns)
    for j, c in enumerate(frame.columns):
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            code = np.where(np.isnan(rows[:, j]), -1, rows[:, j]).astype(int)
            out[c] = pd.Categorical.from_codes(code, categories=frame[c].cat.categories)
    return out


def threshold_rows(spec, X: np.ndarray, limit: int = 60) -> np.ndarray:
    """Rows of ``X`` with one numeric split feature set to a spec threshold or a float32
    neighbour of it (the values a ``<`` / ``<=`` mix-up would send the wrong way)."""
    numeric = np.flatnonzero((spec.features >= 0) & (spec.cat_starts < 0))[:limit]
    rows = []
    for k, node in enumerate(numeric):
        t = np.float32(spec.thresholds[node])
        for value in (np.nextafter(t, np.float32(-np.inf)), t, np.nextafter(t, np.float32(np.inf))):
            row = X[k % len(X)].copy()
            row[spec.features[node]] = value
            rows.append(row)
    return np.asarray(rows, dtype=np.float32).reshape(-1, X.shape[1])


def assert_margin_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal to 1e-5 relative (of the margin's scale: the libraries sum in float32)."""
    expected = np.asarray(expected, dtype=np.float64).reshape(got.shape)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale)


def assert_probabilities_close(got: np.ndarray, predict_proba: np.ndarray) -> None:
    """Spec / native probabilities (one column for a binary model) equal ``predict_proba``."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape[1] == 1:
        got = np.c_[1 - got, got]
    np.testing.assert_allclose(got, predict_proba, rtol=1e-5, atol=1e-6)
