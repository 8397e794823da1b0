"""What the report computes within its time budget: the settings of each method, planned from the
data's size and the measured cost of one model evaluation, and the clock that stops optional
sections once the budget is spent.

Every method's work is counted in model evaluations (rows the model is run on). One timed call
of the model on a batch of rows gives the seconds per evaluation; each section gets a share of
the budget and its settings shrink (in a fixed order) until its evaluations fit that share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Share of the budget for the attributions (the other sections are cheap next to them).
ATTRIBUTION_SHARE = 0.3
#: Exact Shapley values up to this many features (2^d coalitions per row).
EXACT_MAX_FEATURES = 10
#: Rows explained at most, background rows at most, KernelSHAP coalitions at most.
MAX_EXPLAINED, MAX_BACKGROUND, MAX_COALITIONS = 200, 32, 1024
#: ... and at least, when the budget is short.
MIN_EXPLAINED, MIN_BACKGROUND = 30, 8
#: Top features shown as PDP/ICE and ALE curves, and put through the H-statistic.
TOP_CURVES, TOP_INTERACTIONS = 4, 5
#: PDP grid points, ICE rows, ALE bins, H-statistic rows, permutation repeats and rows.
GRID, ICE_ROWS, ALE_BINS, H_ROWS, REPEATS, PERMUTED_ROWS = 20, 200, 10, 100, 5, 1000


class Clock:
    """The report's time budget: seconds spent, seconds left, and whether an estimate fits.

    Examples
    --------
    >>> clock = Clock(10.0)
    >>> clock.left() <= 10.0, clock.fits(1.0)
    (True, True)
    """

    def __init__(self, budget_s: float) -> None:
        self.budget_s = float(budget_s)
        self.start = time.perf_counter()

    def spent(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.budget_s - self.spent()

    def fits(self, seconds: float) -> bool:
        """Whether ``seconds`` of work fit in what is left."""
        return seconds <= self.left()

    def why_not(self, what: str, seconds: float) -> str:
        """Why ``what`` was skipped (for the page)."""
        return (
            f"{what} would take about {seconds:.1f} s and {max(self.left(), 0.0):.1f} s of the "
            f"{self.budget_s:g} s budget (budget_s=) were left"
        )


def seconds_per_row(evaluate: Any, batch: np.ndarray, enough: float = 0.05) -> float:
    """Seconds one model evaluation takes: timed calls on 64, 256, 1024 and 2048 rows of
    ``batch`` (tiled when it has fewer), after a warm-up call (threads start, caches fill),
    stopping at the first call that takes ``enough`` seconds (a slow model is timed on few
    rows); at 2048 rows, the faster of two calls."""
    shape = batch.shape[1:]
    evaluate(np.resize(batch, (64, *shape)))
    rows = 64
    while True:
        sample = np.resize(batch, (rows, *shape))
        took = np.inf
        for _ in range(2 if rows == 2048 else 1):
            start = time.perf_counter()
            evaluate(sample)
            took = min(took, time.perf_counter() - start)
        if took >= enough or rows == 2048:
            return max(took, 1e-9) / rows
        rows = min(4 * rows, 2048)


@dataclass
class AttributionPlan:
    """How the attributions are computed: the method, rows explained, background rows, and the
    coalitions per row (KernelSHAP); ``evaluations`` is the model evaluations this costs."""

    method: str
    n_explained: int
    n_background: int
    n_coalitions: int
    notes: list[str] = field(default_factory=list)

    @property
    def evaluations(self) -> float:
        return float(self.n_explained) * self.n_background * (self.n_coalitions + 2)


def plan_attributions(n_rows: int, n_features: int, cost: float, seconds: float) -> AttributionPlan:
    """Settings whose evaluations take about ``seconds`` at ``cost`` seconds each: start from
    the defaults, then fewer coalitions (KernelSHAP, down to 4d + 32), fewer rows explained (down
    to 30) and fewer background rows (down to 8), in that order. Exact Shapley values that do not
    fit become KernelSHAP when it samples fewer coalitions than the 2^d - 2 exact ones.

    Examples
    --------
    >>> plan = plan_attributions(569, 30, 1e-9, 10.0)  # a fast model: the defaults
    >>> plan.method, plan.n_explained, plan.n_background, plan.n_coalitions
    ('kernel_shap', 200, 32, 1024)
    >>> plan_attributions(569, 6, 1e-9, 10.0).n_coalitions  # exact: all 2^d - 2 coalitions
    62
    >>> slow = plan_attributions(442, 10, 1e-5, 3.0)  # exact would take 66 s: sampled
    >>> slow.method, slow.n_coalitions, slow.n_explained, slow.n_background
    ('kernel_shap', 72, 126, 32)
    """
    exact = n_features <= EXACT_MAX_FEATURES
    plan = AttributionPlan(
        "exact_shapley" if exact else "kernel_shap",
        min(n_rows, MAX_EXPLAINED),
        min(n_rows, MAX_BACKGROUND),
        2**n_features - 2 if exact else MAX_COALITIONS,
    )
    allowed = seconds / max(cost, 1e-12)
    if plan.evaluations <= allowed:
        return plan
    floor = 4 * n_features + 32
    if exact and plan.n_coalitions > floor:  # sampling fewer coalitions beats fewer rows
        plan.method, exact = "kernel_shap", False
    if not exact:
        per_coalition = plan.evaluations / (plan.n_coalitions + 2)
        plan.n_coalitions = max(floor, min(plan.n_coalitions, int(allowed / per_coalition) - 2))
    for name, lowest in (("n_explained", MIN_EXPLAINED), ("n_background", MIN_BACKGROUND)):
        if plan.evaluations > allowed:
            current = getattr(plan, name)
            scaled = int(current * allowed / plan.evaluations)
            setattr(plan, name, max(min(lowest, current), min(current, scaled)))
    if plan.evaluations > allowed:
        plan.notes.append(
            f"even the smallest settings take about {plan.evaluations * cost:.1f} s "
            f"(more than the {seconds:.1f} s planned for them)"
        )
    return plan


def sample_rows(n_rows: int, count: int, seed: int, stream: int, keep: Any = ()) -> np.ndarray:
    """``count`` distinct row indices of ``n_rows`` (sorted): those in ``keep`` first, the
    rest drawn without replacement by ``np.random.default_rng([seed, stream])``.

    Examples
    --------
    >>> sample_rows(10, 3, seed=0, stream=1, keep=[7]).tolist()[:3].count(7)
    1
    >>> sample_rows(4, 10, seed=0, stream=1).tolist()
    [0, 1, 2, 3]
    """
    keep = list(dict.fromkeys(int(k) for k in keep))
    if count >= n_rows:
        return np.arange(n_rows)
    rest = np.setdiff1d(np.arange(n_rows), keep)
    drawn = np.random.default_rng([seed, stream]).choice(
        rest, max(count - len(keep), 0), replace=False
    )
    return np.sort(np.concatenate([np.asarray(keep, dtype=np.int64), drawn]))
