"""Friedman's H-statistic: the share of variance of a pair's (or a feature's) partial
dependence that is not explained by its parts (Friedman & Popescu, 2008)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._names import is_name
from glassbox._validation import check_int, check_seed
from glassbox.inspection._common import check_features, prepare, select_outputs
from glassbox.progress import ProgressArg
from glassbox.tables import Tabular, pairs_frame

#: The random stream of the rows the H-statistic uses.
ROWS_STREAM = 22


@dataclass(frozen=True)
class HStatistic(Tabular):
    """The result of :func:`h_statistic`.

    ``pairwise[i, t]`` is H² of ``pairs[i]`` for output ``targets[t]``; ``overall[j, t]`` is the
    overall H² of ``features[j]`` (its interaction with all other features), or None when only
    pairs were asked for. ``rows`` are the rows of X the statistic was computed on.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1] + X[:, 2], n_inputs=3)
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> h = gb.h_statistic(model, X, n_samples=50)
    >>> h.overall[:, 0].round(2), h.rows.shape  # feature 2 interacts with nothing
    (array([0.43, 0.43, 0.  ]), (50,))
    """

    pairwise: np.ndarray
    pairs: list[tuple[int, int]]
    overall: np.ndarray | None
    features: list[int]
    targets: list[int]
    rows: np.ndarray
    feature_names: list[str] | None = None
    output_names: list[str] | None = None

    def to_frame(self, kind: str = "wide", which: str = "pairs") -> Any:
        """A pandas DataFrame (``to_pandas`` is the same) of H² for ``which="pairs"`` (columns
        ``feature_1``, ``feature_2``) or ``which="overall"`` (column ``feature``).
        ``kind="wide"``: one row per pair (feature), a column of H² per reported output (named);
        ``kind="long"``: one row per (pair, output) with columns ``output`` and ``h2``."""
        return pairs_frame(self, kind, which)

    def to_pandas(self, kind: str = "wide", which: str = "pairs") -> Any:
        """The same DataFrame as ``to_frame(kind, which)``."""
        return self.to_frame(kind, which)

    @property
    def h(self) -> np.ndarray:
        """The pairwise statistic as H (the square root of H²)."""
        return np.sqrt(self.pairwise)


def _parse(
    features: object, n_features: int, names: list[str] | None
) -> tuple[list[int], list[tuple[int, int]], bool]:
    """(features, pairs, overall?) from None, feature indices or names, or a sequence of pairs."""
    if features is None:
        chosen = list(range(n_features))
    elif (
        isinstance(features, Sequence)
        and not is_name(features)
        and features
        and all(isinstance(f, (Sequence, np.ndarray)) and not is_name(f) for f in features)
    ):
        pairs = []
        for pair in features:
            if len(pair) != 2:
                raise ValueError(f"features: expected pairs of two features, got {pair!r}")
            a, b = check_features(pair, n_features, names=names)
            pairs.append((a, b))
        return sorted({f for pair in pairs for f in pair}), pairs, False
    else:
        chosen = check_features(features, n_features, names=names)
    if len(chosen) < 2:
        raise ValueError("features: the H-statistic needs at least two features")
    return chosen, list(itertools.combinations(chosen, 2)), True


def _ratio(numerator: np.ndarray, denominator: np.ndarray, scale: np.ndarray) -> np.ndarray:
    # a partial dependence that is constant up to float32 rounding (tiny next to the outputs'
    # own size) has no interaction to explain: its ratio of rounding errors would be noise
    meaningful = denominator > 1e-10 * scale
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=meaningful)


def h_statistic(
    model: object,
    X: object,
    features: Sequence[int | str] | Sequence[Sequence[int | str]] | None = None,
    *,
    n_samples: int = 200,
    seed: int = 0,
    target: int | str | Sequence[int | str] | None = None,
    n_threads: int | None = None,
    progress: ProgressArg = None,
    memory_budget: int | None = None,
) -> HStatistic:
    """Friedman & Popescu's H² for pairs of features, and overall for single features.

    With partial dependences PD centered over the rows, for a pair (j, k)
    ``H²_jk = Σ_i (PD_jk(x_i) - PD_j(x_i) - PD_k(x_i))² / Σ_i PD_jk(x_i)²`` and for a feature
    ``H²_j = Σ_i (f(x_i) - PD_j(x_i) - PD_-j(x_i))² / Σ_i f(x_i)²`` (f centered too). Every
    partial dependence is evaluated at the rows themselves, averaging over the same rows: a
    subsample of ``n_samples`` rows (seeded) bounds the n_samples² evaluations per term. H² is
    0 for a model additive in the features and grows with their interaction.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
    X : array of shape (n_rows, n_features)
    features : feature indices or names, a sequence of pairs of them, or None
        Features: every pair among them plus each one's overall H²; pairs: only those pairs;
        None: all features.
    n_samples : int
        Rows used (drawn without replacement when X has more).
    seed : int
    target : int, str or a sequence of them, optional
        Outputs to report, by index or name (default: all).
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Returns
    -------
    HStatistic

    Examples
    --------
    Only features 0 and 1 interact (through their product):

    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1] + X[:, 2], n_inputs=3)
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> h = gb.h_statistic(model, X, [0, 1, 2], n_samples=50)
    >>> h.pairs, h.pairwise[:, 0].round(2)
    ([(0, 1), (0, 2), (1, 2)], array([0.89, 0.  , 0.  ]))
    """
    run, batch = prepare(
        model, X, n_threads, memory_budget, progress, "h_statistic", moves_values=True
    )
    n_rows, n_features = batch.shape
    chosen, pairs, overall = _parse(features, n_features, run.feature_names)
    count = check_int(n_samples, "n_samples", 2)
    outputs = select_outputs(target, run.n_outputs, run.output_names)
    rows = np.arange(n_rows)
    if n_rows > count:
        generator = np.random.default_rng([check_seed(seed), ROWS_STREAM])
        rows = np.sort(generator.choice(n_rows, count, replace=False))
    sample = np.ascontiguousarray(batch[rows])
    m = sample.shape[0]

    sets = [[f] for f in chosen] + [list(pair) for pair in pairs]
    if overall:
        sets += [[c for c in range(n_features) if c != f] for f in chosen]
    means = run.replaced_predictions(
        m,
        background=sample,
        points=sample,
        sets=sets,
        job_set=np.repeat(np.arange(len(sets)), m).tolist(),
        job_point=np.tile(np.arange(m), len(sets)).tolist(),
        sample_weight=np.empty(0),
        individual=False,
    ).reshape(len(sets), m, run.n_outputs)[:, :, outputs]
    pd = means - means.mean(axis=1, keepdims=True)
    f_x = run.evaluate(sample)[:, outputs].astype(np.float64)
    scale = (f_x**2).sum(axis=0)
    f_x -= f_x.mean(axis=0)
    # pd stacks the centered terms (set, row, target): singles, then pairs, then complements
    n_single, n_pairs = len(chosen), len(pairs)
    single, joint = pd[:n_single], pd[n_single : n_single + n_pairs]
    position = {f: i for i, f in enumerate(chosen)}
    first = [position[a] for a, _ in pairs]
    second = [position[b] for _, b in pairs]
    residual = joint - single[first] - single[second]
    pairwise = _ratio((residual**2).sum(axis=1), (joint**2).sum(axis=1), scale)
    total = None
    if overall:
        residual = f_x[None] - single - pd[n_single + n_pairs :]
        total = _ratio((residual**2).sum(axis=1), (f_x**2).sum(axis=0), scale)
    run.check_finite(sample, pairwise=pairwise, overall=total)
    return HStatistic(pairwise, pairs, total, chosen, outputs, rows, **run.names)  # field order
