"""Grids for partial dependence: scikit-learn's construction (unique values, or a linspace between
percentiles), custom grids and categorical features."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from glassbox._names import is_name, resolve


def mquantiles(values: np.ndarray, probabilities: Sequence[float]) -> np.ndarray:
    """Empirical quantiles with plotting positions alpha = beta = 0.4 (scipy's ``mquantiles``
    default, which scikit-learn's grid uses)."""
    data = np.sort(np.asarray(values, dtype=np.float64))
    n = data.shape[0]
    p = np.asarray(probabilities, dtype=np.float64)
    aleph = n * p + 0.4 + p * (1.0 - 0.8)
    k = np.floor(np.clip(aleph, 1, n - 1)).astype(int)
    gamma = np.clip(aleph - k, 0, 1)
    return (1.0 - gamma) * data[k - 1] + gamma * data[np.minimum(k, n - 1)]


def check_percentiles(percentiles: object) -> tuple[float, float]:
    if not isinstance(percentiles, Sequence) or len(percentiles) != 2:
        raise ValueError(f"percentiles: expected two numbers (low, high), got {percentiles!r}")
    if not all(isinstance(p, numbers.Real) and not isinstance(p, bool) for p in percentiles):
        raise TypeError(f"percentiles: expected two numbers (low, high), got {percentiles!r}")
    low, high = (float(p) for p in percentiles)
    if not (0 <= low < high <= 1):  # NaN fails too
        raise ValueError(f"percentiles: expected 0 <= low < high <= 1, got {percentiles!r}")
    return low, high


def categorical_mask(
    categorical_features: object, n_features: int, names: Sequence[str] | None = None
) -> np.ndarray:
    """A boolean mask from None, a boolean mask, or feature indices or names."""
    mask = np.zeros(n_features, dtype=bool)
    if categorical_features is None:
        return mask
    if is_name(categorical_features):
        categorical_features = [categorical_features]
    if hasattr(categorical_features, "tolist"):  # an array, a pandas Index of column names
        categorical_features = categorical_features.tolist()
    if isinstance(categorical_features, (list, tuple)) and any(
        is_name(v) for v in categorical_features
    ):  # names (maybe mixed with indices): one by one
        argument = "categorical_features"
        resolved = [resolve(v, names, n_features, argument) for v in categorical_features]
        categorical_features = np.array(resolved, dtype=np.int64)
    values = np.asarray(categorical_features)
    if values.dtype == np.bool_:
        if values.shape != (n_features,):
            raise ValueError(
                f"categorical_features: a mask needs {n_features} entries, got {values.shape}"
            )
        return values.copy()
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(
            "categorical_features: expected feature indices or names, or a boolean mask"
        )
    if values.size and (values.min() < -n_features or values.max() >= n_features):
        raise ValueError(
            f"categorical_features: an index is out of range for {n_features} features "
            f"(expected integers between {-n_features} and {n_features - 1})"
        )
    mask[values] = True
    return mask


def custom_axes(
    grid: object, features: list[int], n_features: int, names: Sequence[str] | None = None
) -> dict[int, np.ndarray]:
    """Custom grid values per feature from a mapping (keys: feature indices or names), one array
    (one feature) or one per feature."""
    if grid is None:
        return {}
    if isinstance(grid, Mapping):
        items = {resolve(k, names, n_features, "grid"): v for k, v in grid.items()}
        unknown = set(items) - set(features)
        if unknown:
            raise ValueError(f"grid: features {sorted(unknown)} are not among {features}")
    else:
        array = np.asarray(grid, dtype=object) if not isinstance(grid, np.ndarray) else grid
        one_axis = len(features) == 1 and (
            np.ndim(array) == 1 and all(isinstance(v, numbers.Real) for v in np.ravel(array))
        )
        values = [grid] if one_axis else list(grid)  # type: ignore[call-overload]
        if len(values) != len(features):
            raise ValueError(f"grid: expected one array of values per feature ({len(features)})")
        items = dict(zip(features, values, strict=True))
    axes = {}
    for feature, values in items.items():
        axis = np.asarray(values, dtype=np.float64)
        if axis.ndim != 1 or axis.size == 0 or not np.isfinite(axis).all():
            raise ValueError(
                f"grid: feature {feature} needs a non-empty 1-D array of finite values"
            )
        axes[feature] = axis
    return axes


def feature_axis(
    column: np.ndarray,
    feature: int,
    *,
    categorical: bool,
    grid_resolution: int,
    percentiles: tuple[float, float],
    custom: np.ndarray | None,
    extrapolate: bool,
) -> np.ndarray:
    """The grid values of one feature, as scikit-learn builds them."""
    uniques = np.unique(column)
    if categorical and uniques.size < 2:
        raise ValueError(
            f"categorical_features: feature {feature} has a single level ({uniques[0]:g}); "
            "partial dependence needs at least two"
        )
    if custom is not None:
        low, high = float(column.min()), float(column.max())
        if not extrapolate and (custom.min() < low or custom.max() > high):
            raise ValueError(
                f"grid: values for feature {feature} span [{custom.min():g}, {custom.max():g}], "
                f"outside the data's range [{low:g}, {high:g}] (pass extrapolate=True to allow)"
            )
        return custom
    if categorical or uniques.size < grid_resolution:
        return uniques
    low, high = mquantiles(column, percentiles)
    if np.isclose(low, high):
        raise ValueError(
            f"percentiles: the {percentiles} percentiles of feature {feature} coincide; choose "
            "percentiles further apart"
        )
    return np.linspace(low, high, grid_resolution)
