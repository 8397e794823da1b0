"""``weights(model)``: statistics, norms and the heavy-tail exponent of each affine layer's weights.

The spectra come from NumPy's LAPACK SVD in Python: one decomposition per layer, not a loop over
data rows, so this is not a hot path for the core (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._validation import check_int
from glassbox.inspect._network import native_network
from glassbox.models.layers import kinds_where
from glassbox.tables import Tabular, aligned_lines, pandas

#: WeightWatcher's conventions: a layer needs at least this many eigenvalues (``min_evals``,
#: compared with the smaller side of the matrix), and eigenvalues at or below ``EVALS_THRESH``
#: are dropped before the fit.
MIN_EVALS, EVALS_THRESH = 10, 1e-5
#: Candidate x_min values scored at once (bounds the (candidates, eigenvalues) work array).
_BLOCK_ELEMENTS = 1 << 22

#: The per-layer columns of ``WeightStats.to_frame()`` after ``layer``, ``kind`` and ``shape``.
COLUMNS = (
    "count",
    "mean",
    "std",
    "min",
    "max",
    "zero_fraction",
    "small_fraction",
    "l2_norm",
    "spectral_norm",
    "stable_rank",
    "alpha",
    "alpha_ks",
    "alpha_xmin",
    "alpha_tail",
)


@dataclass(frozen=True)
class PowerLawFit:
    """A power law ``p(x) ~ x^-alpha`` fitted to the tail ``x >= xmin`` of some values:
    ``ks`` is the Kolmogorov-Smirnov distance of the fit, ``tail`` the values in the tail;
    ``reason`` says why there is no fit (then alpha, ks and xmin are NaN)."""

    alpha: float
    ks: float
    xmin: float
    tail: int
    reason: str = ""


def fit_power_law(eigenvalues: np.ndarray, min_count: int = MIN_EVALS) -> PowerLawFit:
    """Fit the heavy tail of ``eigenvalues`` as WeightWatcher does (its ``WWFit``).

    The values above ``EVALS_THRESH`` are sorted; for every candidate x_min (each value but the
    largest) the continuous maximum-likelihood exponent of the values ``x >= x_min`` is
    ``alpha = 1 + n / sum(log(x / x_min))`` and the KS distance is
    ``max_j |1 - (x_j / x_min)^(1 - alpha) - j / n|`` over those n values (j = 0..n-1, ascending);
    the fit with the smallest distance wins (the first on ties; alpha <= 1 scores 1). Fewer than
    ``min_count`` eigenvalues (or fewer than 2 above the threshold): no fit, with a reason.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fit = fit_power_law(rng.pareto(2.0, 2000) + 1.0)  # density ~ x^-3
    >>> round(fit.alpha, 1), fit.tail > 100
    (3.0, True)
    """
    values = np.sort(np.asarray(eigenvalues, dtype=np.float64).ravel())
    if values.size < min_count:
        return _no_fit(f"{values.size} eigenvalues, fewer than {min_count}")
    values = values[values > EVALS_THRESH]
    if values.size < 2:
        return _no_fit(f"{values.size} eigenvalues above {EVALS_THRESH:g}")
    logs = np.log(values)
    n_all = values.size
    counts = n_all - np.arange(n_all - 1, dtype=np.float64)  # tail sizes of the candidates
    suffix = np.cumsum(logs[::-1])[::-1][:-1]  # sum of log x over each candidate's tail
    with np.errstate(divide="ignore", invalid="ignore"):
        alphas = 1.0 + counts / (suffix - counts * logs[:-1])
    ks = np.ones(n_all - 1)
    step = max(1, _BLOCK_ELEMENTS // n_all)
    j = np.arange(n_all)
    for start in range(0, n_all - 1, step):
        rows = np.arange(start, min(start + step, n_all - 1))
        alpha = alphas[rows, None]
        offset = j[None, :] - rows[:, None]  # position in the candidate's tail
        inside = offset >= 0
        with np.errstate(over="ignore", invalid="ignore"):
            model = 1.0 - np.exp((1.0 - alpha) * (logs[None, :] - logs[rows, None]))
            gap = np.abs(model - offset / counts[rows, None])
        distance = np.where(inside, gap, 0.0).max(axis=1)
        fitted = np.isfinite(alphas[rows]) & (alphas[rows] > 1.0)
        ks[rows] = np.where(fitted, distance, 1.0)
    best = int(np.argmin(ks))
    if not (np.isfinite(alphas[best]) and alphas[best] > 1.0):
        return _no_fit("no tail fits a power law with alpha > 1")
    return PowerLawFit(float(alphas[best]), float(ks[best]), float(values[best]), int(counts[best]))


def _no_fit(reason: str) -> PowerLawFit:
    return PowerLawFit(np.nan, np.nan, np.nan, 0, reason)


def weight_matrix(weight: np.ndarray) -> np.ndarray:
    """A layer's weights as the matrix the spectrum is taken of: a dense weight (out, in) as it
    is, a convolution kernel (Cout, Cin/groups, kh, kw) reshaped to (Cout, Cin/groups*kh*kw)."""
    array = np.asarray(weight, dtype=np.float64)
    return array.reshape(array.shape[0], -1)


def layer_stats(weight: np.ndarray) -> dict[str, Any]:
    """The ``COLUMNS`` of one layer's weight array, and ``alpha_reason``."""
    flat = np.asarray(weight, dtype=np.float64).ravel()
    largest = float(np.abs(flat).max())
    singular = np.linalg.svd(weight_matrix(weight), compute_uv=False)
    frobenius = float(np.sqrt(np.sum(flat * flat)))
    spectral = float(singular[0])
    fit = fit_power_law(singular**2)
    return {
        "count": int(flat.size),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "min": float(flat.min()),
        "max": float(flat.max()),
        "zero_fraction": float(np.mean(flat == 0.0)),
        "small_fraction": float(np.mean(np.abs(flat) < 1e-3 * largest)),
        "l2_norm": frobenius,
        "spectral_norm": spectral,
        "stable_rank": frobenius**2 / spectral**2 if spectral > 0 else np.nan,
        "alpha": fit.alpha,
        "alpha_ks": fit.ks,
        "alpha_xmin": fit.xmin,
        "alpha_tail": fit.tail,
        "alpha_reason": fit.reason,
    }


@dataclass(frozen=True)
class WeightStats(Tabular):
    """The result of :func:`weights`: one entry per affine layer (dense, conv2d).

    ``stats[column]`` holds one value per layer for every name of ``COLUMNS`` (count, mean, std,
    min, max, zero_fraction, small_fraction, l2_norm, spectral_norm, stable_rank, alpha, alpha_ks,
    alpha_xmin, alpha_tail); ``alpha_reasons`` says why alpha is NaN ("" when fitted).
    ``bin_edges[i]`` / ``counts[i]`` are layer i's weight histogram (``np.histogram``), the bars
    ``glassbox.plots.weights`` draws.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[3.0, 0, 0], [0, 4, 0]]), bias=None)
    >>> stats = gb.inspect.weights(gb.build_network(spec))
    >>> stats.to_frame()[["layer", "shape", "l2_norm", "spectral_norm", "stable_rank"]]
      layer   shape  l2_norm  spectral_norm  stable_rank
    0    fc  (2, 3)      5.0            4.0       1.5625
    >>> stats.alpha_reasons  # a 2 x 3 matrix has 2 eigenvalues: too few to fit a tail
    ['2 eigenvalues, fewer than 10']
    """

    layers: list[str]
    kinds: list[str]
    shapes: list[tuple[int, ...]]
    stats: dict[str, np.ndarray]
    alpha_reasons: list[str]
    bin_edges: list[np.ndarray]
    counts: list[np.ndarray]

    def __getattr__(self, name: str) -> Any:  # result.alpha, result.spectral_norm, ...
        if name in COLUMNS:
            return self.stats[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __str__(self) -> str:
        header = ["Layer (kind)", "Shape", "Mean", "Std", "Zeros", "Spectral norm", "Stable rank"]
        rows = [
            [
                f"{name} ({kind})",
                "x".join(map(str, shape)),
                *(f"{self.stats[c][i]:.4g}" for c in ("mean", "std")),
                f"{self.stats['zero_fraction'][i]:.1%}",
                *(f"{self.stats[c][i]:.4g}" for c in ("spectral_norm", "stable_rank")),
                "n/a" if np.isnan(self.stats["alpha"][i]) else f"{self.stats['alpha'][i]:.2f}",
            ]
            for i, (name, kind, shape) in enumerate(
                zip(self.layers, self.kinds, self.shapes, strict=True)
            )
        ]
        lines = aligned_lines([*header, "Alpha"], rows)
        rule = "=" * max(len(line) for line in lines)
        note = (
            "Alpha: the WeightWatcher power-law exponent of W^T W's eigenvalues (well-trained\n"
            "layers: 2 to 6); n/a: too few eigenvalues to fit (alpha_reasons)."
        )
        return "\n".join([rule, lines[0], rule, *lines[1:], rule, note])

    def __repr__(self) -> str:
        return f"WeightStats({len(self.layers)} layers: {', '.join(self.layers[:8])}" + (
            ", ...)" if len(self.layers) > 8 else ")"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the table
        printer.text(str(self))

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame, one row per affine layer: ``layer``, ``kind``, ``shape`` (of the
        weight array), the ``COLUMNS`` and ``alpha_reason``. ``kind`` is "wide" (the only
        layout)."""
        if kind != "wide":
            raise ValueError(f"kind: weight statistics have one layout, 'wide'; got {kind!r}")
        table: dict[str, Any] = {"layer": self.layers, "kind": self.kinds, "shape": self.shapes}
        table.update({name: self.stats[name] for name in COLUMNS})
        table["alpha_reason"] = self.alpha_reasons
        return pandas().DataFrame(table)


def weights(model: object, *, bins: int = 50, input_shape: object = None) -> WeightStats:
    """Describe the weights of every affine layer (dense and convolution) of a network.

    Per layer (bias excluded): count, mean, std (population), min, max, the fraction of exact
    zeros and of small weights (|w| < 1e-3 max|w|), the Frobenius norm (``l2_norm``), the
    spectral norm (largest singular value), the stable rank ||W||_F^2 / ||W||_2^2, and the
    WeightWatcher heavy-tail exponent ``alpha`` of the eigenvalues of W^T W (the squared singular
    values) with its KS distance ``alpha_ks``, x_min and tail size (:func:`fit_power_law`; its
    rule of thumb: alpha in [2, 6] for well-trained layers). Convolution kernels are reshaped to
    (Cout, Cin/groups*kh*kw) first.

    Parameters
    ----------
    model : NativeModel, torch module, Keras model or scikit-learn MLP / linear model
        A network glassbox runs natively; a model it can only call: TypeError.
    bins : int
        Bins of each layer's weight histogram (kept on the result for ``plots.weights``).
    input_shape : tuple of int, optional
        The per-sample input shape, for a CNN converted without one.

    Returns
    -------
    WeightStats

    Examples
    --------
    >>> import torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
    ...                           torch.nn.Linear(32, 3))
    >>> stats = gb.inspect.weights(net)
    >>> stats.layers, bool(abs(stats.spectral_norm[0] - torch.linalg.matrix_norm(
    ...     net[0].weight.double(), 2)) < 1e-6)
    (['0', '2'], True)
    >>> stats.alpha_reasons[1]
    '3 eigenvalues, fewer than 10'
    """
    bins = check_int(bins, "bins", 1)
    native = native_network(model, "weights", input_shape)
    affine = set(kinds_where(category="affine"))
    layers = [layer for layer in native.spec.layers if layer.kind in affine]
    rows = [layer_stats(layer.weights["weight"]) for layer in layers]
    histograms = [
        np.histogram(np.asarray(layer.weights["weight"], np.float64), bins=bins) for layer in layers
    ]
    return WeightStats(
        layers=[layer.name for layer in layers],
        kinds=[layer.kind for layer in layers],
        shapes=[tuple(int(d) for d in np.shape(layer.weights["weight"])) for layer in layers],
        stats={
            name: np.asarray(
                [row[name] for row in rows], dtype=np.int64 if name in _INTS else np.float64
            )
            for name in COLUMNS
        },
        alpha_reasons=[row["alpha_reason"] for row in rows],
        bin_edges=[edges for _, edges in histograms],
        counts=[counts for counts, _ in histograms],
    )


_INTS = ("count", "alpha_tail")
