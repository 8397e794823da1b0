"""Error rates by slice: every feature cut into quantile bins (one slice per value for features
of few distinct values: categories, small integers), each slice's size, error and lift over
the whole data, worst first (as TensorFlow Model Analysis' slicing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.tables import Tabular, pandas


@dataclass(frozen=True)
class Slices(Tabular):
    """The slices of the data, worst first.

    Attributes
    ----------
    features : list of str
        The feature each slice cuts.
    descriptions : list of str
        The slice as a condition: ``"age <= 30"``, ``"30 < age <= 41"``, ``"age > 55"``,
        ``"sex = F"``.
    low, high : ndarray
        A bin's bounds (low exclusive, high inclusive; -inf / inf at the ends); NaN for a slice
        of one value.
    values : list
        The value of a one-value slice (None for bins).
    n : ndarray of int64
        Rows in each slice.
    error : ndarray
        Each slice's error rate (classification) or mean |residual| (regression).
    lift : ndarray
        ``error / overall``; 1 = as bad as the whole data.
    overall : float
        The error rate (or mean |residual|) of all rows.
    metric : str
        ``"error_rate"`` or ``"mean_abs_residual"``: the name of the ``error`` column.
    min_size : int
        Slices smaller than this were left out.
    """

    features: list[str]
    descriptions: list[str]
    low: np.ndarray
    high: np.ndarray
    values: list
    n: np.ndarray
    error: np.ndarray
    lift: np.ndarray
    overall: float
    metric: str
    min_size: int

    def __len__(self) -> int:
        return len(self.features)

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per slice, worst first: ``feature``, ``slice``, ``n``, ``error_rate`` (or
        ``mean_abs_residual``) and ``lift``."""
        pd = pandas()
        return pd.DataFrame(
            {
                "feature": self.features,
                "slice": self.descriptions,
                "n": self.n,
                self.metric: self.error,
                "lift": self.lift,
            }
        )


def _format(value: float) -> str:
    return f"{value:.4g}"


def cuts(column: np.ndarray, n_bins: int, max_values: int) -> tuple[np.ndarray, np.ndarray | None]:
    """How a column is sliced: ``(codes, edges)``: each row's slice index and the interior bin
    edges (None: one slice per distinct value, ``codes`` index ``np.unique(column)``). A column
    of at most ``max_values`` distinct integer values gets one slice per value; other columns
    quantile bins (fewer when quantiles coincide)."""
    distinct, inverse = np.unique(column, return_inverse=True)
    integral = np.array_equal(distinct, np.round(distinct))
    if distinct.size <= min(n_bins, max_values) or (integral and distinct.size <= max_values):
        return inverse.reshape(-1), None
    edges = np.unique(np.quantile(column, np.linspace(0, 1, n_bins + 1))[1:-1])
    # bin i holds edges[i-1] < x <= edges[i] (right-closed, as pandas' qcut)
    return np.searchsorted(edges, column, side="left"), edges


def slices(
    batch: np.ndarray,
    error: np.ndarray,
    names: list[str],
    metric: str,
    *,
    n_bins: int,
    max_values: int,
    min_size: int,
    coded: list[bool] | None = None,
    decode: Any = None,
) -> Slices:
    """The slices of every column of ``batch`` (n, d) by the per-row ``error`` (0/1 or
    |residual|); ``coded[j]``: column j holds codes of a DataFrame's non-numeric column, whose
    values ``decode(j, codes)`` gives (one slice per value)."""
    overall = float(error.mean())
    rows: list[tuple] = []
    for j, name in enumerate(names):
        column = batch[:, j].astype(np.float64)
        categorical = bool(coded and coded[j])
        codes, edges = cuts(column, n_bins, np.inf if categorical else max_values)
        count = int(codes.max()) + 1
        sizes = np.bincount(codes, minlength=count)
        sums = np.bincount(codes, weights=error, minlength=count)
        distinct = np.unique(column) if edges is None else None
        for s in range(count):
            if sizes[s] < min_size:
                continue
            if edges is None:
                value: Any = distinct[s]
                shown = decode(j, np.array([value], np.float32))[0] if categorical else value
                value = shown.item() if hasattr(shown, "item") else shown
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                text, low, high = f"{name} = {value}", np.nan, np.nan
            else:
                low = -np.inf if s == 0 else float(edges[s - 1])
                high = np.inf if s == len(edges) else float(edges[s])
                value = None
                if s == 0:
                    text = f"{name} <= {_format(high)}"
                elif s == len(edges):
                    text = f"{name} > {_format(low)}"
                else:
                    text = f"{_format(low)} < {name} <= {_format(high)}"
            rate = sums[s] / sizes[s]
            lift = rate / overall if overall > 0 else np.nan
            rows.append((name, text, low, high, value, int(sizes[s]), rate, lift))
    # worst first: highest error, then larger slices, then feature order (stable)
    rows.sort(key=lambda r: (-r[6], -r[5]))
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(8)]
    return Slices(
        features=list(columns[0]),
        descriptions=list(columns[1]),
        low=np.asarray(columns[2], dtype=np.float64),
        high=np.asarray(columns[3], dtype=np.float64),
        values=list(columns[4]),
        n=np.asarray(columns[5], dtype=np.int64),
        error=np.asarray(columns[6], dtype=np.float64),
        lift=np.asarray(columns[7], dtype=np.float64),
        overall=overall,
        metric=metric,
        min_size=min_size,
    )
