"""Accumulated local effects (Apley & Zhu, 2020), first order and second order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_int
from glassbox.inspection._common import check_features, check_ordered, prepare, select_outputs
from glassbox.progress import ProgressArg
from glassbox.tables import Tabular, grid_frame


@dataclass(frozen=True)
class ALE(Tabular):
    """The result of :func:`ale`.

    For one feature, ``values`` has shape (n_targets, n_bins + 1): the centered effect at each
    bin edge in ``edges[0]``. For a pair, (n_targets, n_bins_0 + 1, n_bins_1 + 1): the pure
    second-order effect (first-order effects removed, centered) at the grid of edges.
    ``counts`` holds the rows per bin (per cell for a pair).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1], n_inputs=2)
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> effect = gb.ale(model, X, [0, 1], bins=4)  # a pair: the second-order effect
    >>> effect.values.shape, effect.counts.shape, int(effect.counts.sum())
    ((1, 5, 5), (4, 4), 200)
    """

    values: np.ndarray
    edges: list[np.ndarray]
    counts: np.ndarray
    features: list[int]
    targets: list[int]
    feature_names: list[str] | None = None
    output_names: list[str] | None = None

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame (``to_pandas`` is the same). ``kind="wide"``: one row per bin edge
        (per pair of edges for a pair), a column per feature (named, holding the edge) and per
        reported output (named, holding the effect). ``kind="long"``: one row per (output, edge)
        with columns ``output``, the features and ``value``. Counts stay in ``counts``."""
        return grid_frame(self, self.edges, kind, {"value": self.values})


def quantile_edges(columns: np.ndarray, bins: int, features: Sequence[int]) -> list[np.ndarray]:
    """Bin edges of each column of ``columns`` (n_rows, n_columns) at its quantiles (inverted CDF,
    so every edge is a data value and no bin is empty); repeated quantiles merge, so there may be
    fewer than ``bins`` bins."""
    n = columns.shape[0]
    # more bins than rows give the same edges (every data value): never ask for more
    bins = min(bins, n)
    # np.quantile's inverted CDF: the value at position ceil(n q) - 1 of the sorted column
    # (one sort for all columns, without np.quantile's per-call overhead)
    positions = np.maximum(np.ceil(n * np.linspace(0, 1, bins + 1)) - 1, 0).astype(np.intp)
    quantiles = np.sort(columns, axis=0)[positions]
    edges = [np.unique(quantiles[:, c]) for c in range(columns.shape[1])]
    for e, feature in zip(edges, features, strict=True):
        if e.size < 2:
            raise ValueError(f"features: feature {feature} is constant; ALE needs two values")
    return edges


def bin_indices(columns: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """The bin of every value, (n_columns, n_rows): bin k holds (edges[k], edges[k + 1]]; the
    first bin also holds edges[0]."""
    index = np.stack([np.searchsorted(e, columns[:, c]) for c, e in enumerate(edges)]) - 1
    return np.clip(index, 0, np.array([e.size - 2 for e in edges])[:, None])


def _first_order(differences: np.ndarray, index: np.ndarray, n_bins: list[int]) -> list[tuple]:
    """(effects, counts) of several single features at once: ``differences`` (jobs, rows,
    outputs), ``index`` (jobs, rows) their bins; bins padded to the largest count, where an
    empty bin adds nothing, then cut back."""
    n_jobs, width = len(n_bins), max(n_bins)
    flat = (index + width * np.arange(n_jobs)[:, None]).ravel()
    counts = np.bincount(flat, minlength=n_jobs * width).reshape(n_jobs, width)
    sums = np.stack(
        [
            np.bincount(flat, differences[:, :, o].ravel(), minlength=n_jobs * width)
            for o in range(differences.shape[2])
        ]
    ).reshape(-1, n_jobs, width)
    sums = sums.transpose(1, 0, 2)  # (jobs, outputs, bins)
    steps = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    effects = np.concatenate([np.zeros((*steps.shape[:2], 1)), np.cumsum(steps, axis=2)], 2)
    # center: the mean over the data of the effect, each bin at the mean of its two edges
    middle = (effects[:, :, :-1] + effects[:, :, 1:]) / 2
    mean = (counts[:, None] * middle).sum(axis=2) / counts.sum(axis=1)[:, None]
    effects -= mean[:, :, None]
    return [(effects[j, :, : b + 1].copy(), counts[j, :b].copy()) for j, b in enumerate(n_bins)]


def _accumulated_main_effect(effects: np.ndarray, counts: np.ndarray, axis: int) -> np.ndarray:
    """The first-order part along ``axis`` (1 or 2) of accumulated second differences: the
    count-weighted mean step across each bin (each cell at the mean of its two edges),
    accumulated, broadcastable against ``effects``."""
    other = 3 - axis
    step = np.diff(effects, axis=axis)
    n = step.shape[other]
    local = (np.take(step, range(n - 1), axis=other) + np.take(step, range(1, n), axis=other)) / 2
    mean = (counts * local).sum(axis=other) / np.maximum(counts.sum(axis=other - 1), 1)
    accumulated = np.concatenate([np.zeros((mean.shape[0], 1)), mean.cumsum(axis=1)], axis=1)
    return np.expand_dims(accumulated, other)


def _second_order(differences: np.ndarray, cells: tuple, shape: tuple) -> tuple:
    flat = np.ravel_multi_index(cells, shape)
    size = shape[0] * shape[1]
    counts = np.bincount(flat, minlength=size).reshape(shape)
    sums = np.stack([np.bincount(flat, d, minlength=size).reshape(shape) for d in differences.T])
    # mean local second difference per cell; an empty cell contributes no effect
    delta = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    effects = np.zeros((delta.shape[0], shape[0] + 1, shape[1] + 1))
    effects[:, 1:, 1:] = delta.cumsum(axis=1).cumsum(axis=2)
    # remove what is first order in each feature: its accumulated mean local effect
    main = [_accumulated_main_effect(effects, counts, axis) for axis in (1, 2)]
    effects = effects - main[0] - main[1]
    corners = effects[:, :-1, :-1] + effects[:, 1:, :-1] + effects[:, :-1, 1:] + effects[:, 1:, 1:]
    center = (counts * corners / 4).sum(axis=(1, 2)) / counts.sum()
    return effects - center[:, None, None], counts


def _jobs(features: object, n_features: int, names: Sequence[str] | None) -> tuple[list, bool]:
    """The ALE jobs (each one feature or a pair, as indices) and whether ``features`` listed
    several (a list whose items include a list or tuple)."""
    many = isinstance(features, (list, tuple)) and any(
        isinstance(f, (list, tuple, range, np.ndarray)) for f in features
    )
    jobs = [check_features(f, n_features, names=names) for f in (features if many else [features])]
    for job in jobs:
        if len(job) > 2:
            raise ValueError(
                f"features: expected one feature or a pair, got {len(job)} ({job}); for several "
                "effects in one call pass a list of them, e.g. [[0], [1], (2, 3)]"
            )
    return jobs, many


def ale(
    model: object,
    X: object,
    features: int | str | Sequence[int | str] | Sequence[int | str | Sequence[int | str]],
    *,
    bins: int = 10,
    target: int | str | Sequence[int | str] | None = None,
    n_threads: int | None = None,
    progress: ProgressArg = None,
    memory_budget: int | None = None,
) -> ALE | list[ALE]:
    """Accumulated local effects of one feature, or the second-order effect of a pair; or of
    several such in one call.

    The feature's range is cut at its quantiles into ``bins`` bins. One feature: every row is
    moved to the lower and upper edge of its bin; the mean output difference per bin is the
    local effect, accumulated over the bins and centered so its mean over the data is 0. A pair:
    the mean second difference over each cell, accumulated over both axes, minus the first-order
    effects this accumulation contains, centered (Apley & Zhu, 2020). The core evaluates the
    2 (or 4) corners of every row's cell, for every effect asked for in one pass; bins and sums
    are vectorised here.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
    X : array of shape (n_rows, n_features)
    features : int, str, a pair of them, or a list of those
        Feature indices or names: one feature, a pair, or a list whose items are features or
        pairs (``[[0], [1], (2, 3)]``; an item that is a list or tuple marks the list form),
        for several effects in one call.
    bins : int
        Quantile bins per feature (>= 1).
    target : int, str or a sequence of them, optional
        Outputs to report, by index or name (default: all).
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Returns
    -------
    ALE, or a list of ALE (one per item, in order) for the list form

    Examples
    --------
    The effect of a feature with slope 3 rises by 3 per unit across every bin:

    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: 3 * X[:, 0] + X[:, 1], n_inputs=2)
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> effect = gb.ale(model, X, 0, bins=5)
    >>> effect.values.shape, (np.diff(effect.values[0]) / np.diff(effect.edges[0])).round(3)
    ((1, 6), array([3., 3., 3., 3., 3.]))

    Every feature's effect in one call (one pass over the model):

    >>> effects = gb.ale(model, X, [[f] for f in range(2)], bins=5)
    >>> [e.features for e in effects], np.array_equal(effects[0].values, effect.values)
    ([[0], [1]], True)
    """
    run, batch = prepare(model, X, n_threads, memory_budget, progress, "ale")
    jobs, many = _jobs(features, batch.shape[1], run.feature_names)
    used = sorted({f for job in jobs for f in job})
    check_ordered(run, batch, used, "cuts the feature into intervals of its values")
    n_bins = check_int(bins, "bins", 1)
    outputs = select_outputs(target, run.n_outputs, run.output_names)
    columns = batch[:, used].astype(np.float64)
    edges = quantile_edges(columns, n_bins, used)
    index = bin_indices(columns, edges)
    edges_of = dict(zip(used, edges, strict=True))
    index_of = dict(zip(used, index, strict=True))
    # each job's columns of the lower and upper edges of every row's bin
    padded = np.empty((len(edges), max(e.size for e in edges)))
    for c, e in enumerate(edges):
        padded[c, : e.size], padded[c, e.size :] = e, e[-1]
    cells = np.array([used.index(f) for job in jobs for f in job])
    lower, upper = (
        np.ascontiguousarray(np.take_along_axis(padded[cells], index[cells] + k, 1).T, np.float32)
        for k in (0, 1)
    )
    differences = np.asarray(
        run.call(_core.ale_differences, batch, features=jobs, lower=lower, upper=upper)
    ).reshape(len(jobs), batch.shape[0], -1)[:, :, outputs]
    found: dict[int, tuple] = {}
    singles = [j for j, job in enumerate(jobs) if len(job) == 1]
    if singles:
        index = np.stack([index_of[jobs[j][0]] for j in singles])
        sizes = [edges_of[jobs[j][0]].size - 1 for j in singles]
        found.update(zip(singles, _first_order(differences[singles], index, sizes), strict=True))
    for j, job in enumerate(jobs):
        if len(job) == 2:
            shape = (edges_of[job[0]].size - 1, edges_of[job[1]].size - 1)
            found[j] = _second_order(differences[j], (index_of[job[0]], index_of[job[1]]), shape)
    run.check_finite(batch, values=np.concatenate([found[j][0].ravel() for j in found]))
    results = [
        ALE(
            values=found[j][0],
            edges=[edges_of[f] for f in job],
            counts=found[j][1],
            features=job,
            targets=outputs,
            **run.names,
        )
        for j, job in enumerate(jobs)
    ]
    return results if many else results[0]
