"""Partial dependence and ICE curves, 1-D and 2-D, with scikit-learn's grids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._validation import MAX_COUNT, check_choice, check_int
from glassbox.inspection._common import (
    check_features,
    check_weights,
    feature_column,
    grid_values,
    prepare,
    select_outputs,
)
from glassbox.inspection.grid import (
    categorical_mask,
    check_percentiles,
    custom_axes,
    feature_axis,
    mquantiles,
)
from glassbox.progress import ProgressArg
from glassbox.tables import Tabular, grid_frame


@dataclass(frozen=True)
class PartialDependence(Tabular):
    """The result of :func:`partial_dependence` (scikit-learn's attribute names).

    ``average`` has shape (n_targets, *grid_shape), ``individual`` (n_targets, n_rows,
    *grid_shape); ``grid_values`` holds one array per feature. ``feature_names`` /
    ``output_names`` are the data's and the model's (None: unnamed). For the plots:
    ``categorical`` says which features' grids are categories, ``deciles`` holds the deciles of
    each feature's data (scikit-learn's rug; None for a categorical feature).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] ** 2 + X[:, 1], n_inputs=2)
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> pd = gb.partial_dependence(model, X, 0, grid=[-1.0, 0.0, 1.0], kind="both", centered=True)
    >>> pd.grid_values[0], pd.average.round(3)  # x0 ** 2 - (-1) ** 2 on the grid
    (array([-1.,  0.,  1.]), array([[ 0., -1.,  0.]]))
    """

    average: np.ndarray | None
    individual: np.ndarray | None
    grid_values: list[np.ndarray]
    features: list[int]
    targets: list[int]
    kind: str
    centered: bool
    feature_names: list[str] | None = None
    output_names: list[str] | None = None
    categorical: list[bool] | None = None
    deciles: list[np.ndarray | None] | None = None

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame (``to_pandas`` is the same). ``kind="wide"``: one row per grid
        point, a column per feature (named, holding its grid value) and per reported output
        (named, holding the average). ``kind="long"``: one row per (output, grid point) with
        columns ``output``, the features and ``average``; with ICE curves, one row per (output,
        row, grid point) with a ``row`` column, ``individual`` and ``average`` (when computed).

        Examples
        --------
        >>> import numpy as np, glassbox as gb
        >>> model = gb.wrap(lambda X: 2 * X[:, 0], n_inputs=2)
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> gb.partial_dependence(model, X, "x0", grid=[-1.0, 1.0]).to_frame()
            x0  output 0
        0 -1.0      -2.0
        1  1.0       2.0
        """
        curves = {"average": self.average, "individual": self.individual}
        return grid_frame(self, self.grid_values, kind, curves)


def partial_dependence(
    model: object,
    X: object,
    features: int | str | Sequence[int | str],
    *,
    kind: str = "average",
    grid_resolution: int = 100,
    percentiles: tuple[float, float] = (0.05, 0.95),
    categorical_features: object = None,
    grid: object = None,
    centered: bool = False,
    target: int | str | Sequence[int | str] | None = None,
    extrapolate: bool = False,
    sample_weight: object = None,
    n_threads: int | None = None,
    progress: ProgressArg = None,
    memory_budget: int | None = None,
) -> PartialDependence:
    """Partial dependence (average) and ICE curves (individual) of one feature or a pair.

    At each point of the grid the feature(s) of every row of X are set to the point's values
    and the model's outputs are averaged over the rows (the brute method of scikit-learn). The
    grid is scikit-learn's: a feature's unique values if there are fewer than
    ``grid_resolution`` (or if it is categorical), else ``grid_resolution`` evenly spaced values
    between the ``percentiles`` of the data; pairs take the cartesian product. The core writes
    the grid values into its chunk buffers, so no copy of X is made per grid point.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
    X : array of shape (n_rows, n_features)
    features : int, str or a pair of them
        Feature indices or names (the names of X's columns or the model's feature names).
    kind : {"average", "individual", "both"}
    grid_resolution : int
        Grid points per feature (> 1).
    percentiles : (float, float)
        The grid's bounds for continuous features, in [0, 1].
    categorical_features : indices, names or boolean mask, optional
        Their grid is their unique values (at least two).
    grid : array, sequence of arrays or {feature index or name: values}, optional
        Custom grid values; values outside the data's range need ``extrapolate=True``.
    centered : bool
        Subtract each curve's value at the first grid point (centered ICE / PD).
    target : int, str or a sequence of them, optional
        Outputs to report, by index or name (default: all).
    extrapolate : bool
        Allow a custom grid outside the data's range.
    sample_weight : array of shape (n_rows,), optional
        Weights of the rows in the average (the ICE curves are unweighted), as scikit-learn.
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Returns
    -------
    PartialDependence

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> pd = gb.partial_dependence(model, data.data, 2, kind="both", grid_resolution=5)
    >>> pd.average.shape, pd.individual.shape  # (outputs, grid), (outputs, rows, grid)
    ((1, 5), (1, 442, 5))
    """
    run, batch = prepare(model, X, n_threads, memory_budget, progress, "partial_dependence")
    n_rows, n_features = batch.shape
    names = run.feature_names
    feats = check_features(features, n_features, names=names)
    if len(feats) > 2:
        raise ValueError(f"features: expected one feature or a pair, got {len(feats)}")
    kind = check_choice(kind, "kind", ("average", "individual", "both"))
    resolution = check_int(grid_resolution, "grid_resolution", 2)
    bounds = check_percentiles(percentiles)
    categorical = categorical_mask(categorical_features, n_features, names)
    custom = custom_axes(grid, feats, n_features, names)
    outputs = select_outputs(target, run.n_outputs, run.output_names)
    weights = check_weights(sample_weight, n_rows)
    coded = [run.schema is not None and run.schema.columns[f].coded for f in feats]
    is_categorical = [bool(categorical[f]) or c for f, c in zip(feats, coded, strict=True)]
    columns = [feature_column(run, X, batch, f) for f in feats]
    axes = [
        feature_axis(
            column,
            f,
            categorical=is_category,
            grid_resolution=resolution,
            percentiles=bounds,
            custom=custom.get(f),
            extrapolate=extrapolate,
        )
        for f, column, is_category in zip(feats, columns, is_categorical, strict=True)
    ]
    # the rug of the plots: the data's deciles, as scikit-learn's display draws
    deciles = [
        None if is_category else mquantiles(column, np.arange(0.1, 1.0, 0.1))
        for column, is_category in zip(columns, is_categorical, strict=True)
    ]
    shape = tuple(axis.size for axis in axes)
    # the ICE curves hold a value per row and grid point: both bounded before any allocation
    curves = int(np.prod(shape, dtype=object)) * (n_rows if kind != "average" else 1)
    if curves > MAX_COUNT:
        rows = "" if kind == "average" else f" x {n_rows} rows (kind={kind!r})"
        raise ValueError(
            f"grid: {' x '.join(map(str, shape))} grid points{rows}; at most {MAX_COUNT} values "
            "(a smaller grid_resolution or grid, or fewer rows)"
        )
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.zeros((int(np.prod(shape)), n_features), dtype=np.float32)
    points[:, feats] = np.stack([m.ravel() for m in mesh], axis=1)
    n_points = points.shape[0]
    individual_needed = kind != "average"
    raw = run.replaced_predictions(
        len(batch),
        background=batch,
        points=points,
        sets=[feats],
        job_set=[0] * n_points,
        job_point=list(range(n_points)),
        sample_weight=np.empty(0) if weights is None else weights,
        individual=individual_needed,
    )
    individual = average = None
    if individual_needed:
        curves = raw.reshape(n_points, n_rows, run.n_outputs)[:, :, outputs]
        individual = curves.transpose(2, 1, 0).reshape(len(outputs), n_rows, *shape)
        average = np.average(individual.astype(np.float64), axis=1, weights=weights)
    else:
        average = raw[:, outputs].T.reshape(len(outputs), *shape)
    if centered:
        first = (slice(None),) * 1 + (0,) * len(shape)
        average = average - average[first][(...,) + (None,) * len(shape)]
        if individual is not None:
            start = individual[(slice(None), slice(None)) + (0,) * len(shape)]
            individual = individual - start[(...,) + (None,) * len(shape)]
    run.check_finite(batch, average=average, individual=individual)
    return PartialDependence(
        average=average if kind != "individual" else None,
        individual=individual,
        grid_values=[grid_values(run, f, axis) for f, axis in zip(feats, axes, strict=True)],
        features=feats,
        targets=outputs,
        kind=kind,
        centered=bool(centered),
        **run.names,
        categorical=is_categorical,
        deciles=deciles,
    )
