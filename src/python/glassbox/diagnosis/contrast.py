"""Why the model errs: attributions on the error rows against the correct rows, per feature,
with a permutation test of each difference (the error / correct labels shuffled, seeded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.tables import Tabular, pandas

#: Bytes of the (permutations, rows) group matrix one block of permutations may use.
BLOCK_BYTES = 1 << 25


@dataclass(frozen=True)
class Contrast(Tabular):
    """Attributions on the error rows against the correct rows.

    Attributes
    ----------
    features : list of str
    mean_errors, mean_correct : ndarray
        Mean attribution of each feature on the error rows and on the correct rows.
    difference : ndarray
        ``mean_errors - mean_correct``.
    abs_mean_errors, abs_mean_correct, abs_difference : ndarray
        The same of |attribution| (how much each feature drives the predictions at all).
    p_value, abs_p_value : ndarray
        Two-sided permutation-test p-values of ``difference`` and ``abs_difference``:
        ``(1 + #{|permuted| >= |observed|}) / (1 + n_permutations)`` over random relabellings
        of the rows into groups of the same sizes (Phipson & Smyth's estimate, never 0).
    n_errors, n_correct : int
        Rows in each group (of the rows explained).
    method : str
        The explainer's ``method`` ("" when the contrast is empty).
    n_permutations, seed : int
    note : str
        Why the contrast is empty (no errors, no correct rows, no explainer), or which rows
        were explained; "" otherwise.
    """

    features: list[str]
    mean_errors: np.ndarray
    mean_correct: np.ndarray
    difference: np.ndarray
    abs_mean_errors: np.ndarray
    abs_mean_correct: np.ndarray
    abs_difference: np.ndarray
    p_value: np.ndarray
    abs_p_value: np.ndarray
    n_errors: int
    n_correct: int
    method: str
    n_permutations: int
    seed: int
    note: str = ""

    def __len__(self) -> int:
        return len(self.features)

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per feature, largest |difference| first: ``feature``, ``mean_errors``,
        ``mean_correct``, ``difference``, ``abs_mean_errors``, ``abs_mean_correct``,
        ``abs_difference``, ``p_value``, ``abs_p_value`` (no rows when the contrast is
        empty)."""
        order = np.argsort(-np.abs(self.difference), kind="stable")
        columns = {"feature": [self.features[i] for i in order]}
        for name in (
            "mean_errors",
            "mean_correct",
            "difference",
            "abs_mean_errors",
            "abs_mean_correct",
            "abs_difference",
            "p_value",
            "abs_p_value",
        ):
            columns[name] = np.asarray(getattr(self, name))[order]
        return pandas().DataFrame(columns)


def empty(method: str, n_errors: int, n_correct: int, note: str, seed: int) -> Contrast:
    """A contrast with no features (``note`` says why)."""
    nothing = np.zeros(0)
    return Contrast([], *([nothing] * 8), n_errors, n_correct, method, 0, seed, note)


def permutation_p_values(
    values: np.ndarray, is_error: np.ndarray, n_permutations: int, seed: int
) -> np.ndarray:
    """Two-sided permutation p-values of the difference of column means between the rows
    ``is_error`` and the others, for every column of ``values`` (n, m).

    Permutation ``p`` puts into the error group the ``n_errors`` rows that come first in
    ``argsort(u_p)``, with ``u_p`` the p-th row of uniforms drawn by
    ``np.random.default_rng(seed)`` (``rng.random(n)`` per permutation, in order; drawn in
    blocks, which gives the same numbers). The group sums of a block are one matrix product."""
    n, m = values.shape
    k = int(is_error.sum())
    total = values.sum(axis=0)
    observed = values[is_error].sum(axis=0) / k - values[~is_error].sum(axis=0) / (n - k)
    # a little slack so that ties with the observed value (equal up to rounding) count as >=
    bound = np.abs(observed) * (1 - 1e-12) - 1e-15
    rng = np.random.default_rng(seed)
    exceed = np.zeros(m, dtype=np.int64)
    block = max(1, min(n_permutations, BLOCK_BYTES // (8 * n)))
    for first in range(0, n_permutations, block):
        count = min(block, n_permutations - first)
        # the k smallest uniforms: the first k of their argsort, as a set
        chosen = np.argpartition(rng.random((count, n)), k - 1, axis=1)[:, :k]
        groups = np.zeros((count, n))
        np.put_along_axis(groups, chosen, 1.0, axis=1)
        sums = groups @ values  # (count, m) error-group sums
        permuted = sums / k - (total - sums) / (n - k)
        exceed += (np.abs(permuted) >= bound).sum(axis=0)
    return (1 + exceed) / (1 + n_permutations)


def contrast(
    values: np.ndarray,
    is_error: np.ndarray,
    features: list[str],
    *,
    method: str,
    n_permutations: int,
    seed: int,
    note: str = "",
) -> Contrast:
    """The Contrast of attributions ``values`` (n, d) between the rows ``is_error`` and the
    others (both groups non-empty)."""
    values = np.asarray(values, dtype=np.float64)
    both = np.concatenate([values, np.abs(values)], axis=1)
    k = int(is_error.sum())
    mean_err, mean_ok = both[is_error].mean(axis=0), both[~is_error].mean(axis=0)
    p = permutation_p_values(both, is_error, n_permutations, seed)
    d = values.shape[1]
    return Contrast(
        features,
        mean_err[:d],
        mean_ok[:d],
        mean_err[:d] - mean_ok[:d],
        mean_err[d:],
        mean_ok[d:],
        mean_err[d:] - mean_ok[d:],
        p[:d],
        p[d:],
        k,
        int(is_error.size - k),
        method,
        n_permutations,
        seed,
        note,
    )
