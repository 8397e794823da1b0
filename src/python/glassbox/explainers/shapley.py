"""Shapley values of any model: exact (all 2^d coalitions), KernelSHAP, antithetic permutation
sampling, and exact pairwise interaction values. Each explainer is a thin front over one core call
of the Shapley engine (src/cpp/core/agnostic/shapley); docs/methods.md has the definitions.

The game: for an explained row x, v(S) = mean over background rows b of f(x on the features of the
groups in S, b elsewhere) (the interventional / marginal value function, shap's Independent
masker); one baseline row is a background of one row ("baseline Shapley"). Players are single
features or user-defined groups of features. Every output of the model is explained at once.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_choice, check_int, check_nonnegative, check_seed
from glassbox.explainers.base import AgnosticExplainer
from glassbox.explanation import Explanation
from glassbox.masks import mask_groups
from glassbox.progress import ProgressArg

#: KernelShap's samplers (the first is the default).
SAMPLERS = ("leverage", "kernel")

#: The most features or groups ExactShapley and ShapleyInteractions take (2^d coalitions per row).
MAX_EXACT_GROUPS = 20


def as_groups(
    groups: object, n_features: int, feature_names: list[str] | None
) -> tuple[np.ndarray, list[str] | None]:
    """Per-feature group indices (int64, (n_features,)) and the group names.

    ``groups`` is None (one group per feature), a list of lists of feature indices, or a dict
    name -> list of indices; the groups must partition the features.

    Examples
    --------
    >>> as_groups({"a": [0, 2], "b": [1]}, 3, None)
    (array([0, 1, 0]), ['a', 'b'])
    """
    if groups is None:
        return np.arange(n_features, dtype=np.int64), feature_names
    if isinstance(groups, Mapping):
        names: list[str] | None = [str(key) for key in groups]
        members = list(groups.values())
    elif isinstance(groups, (list, tuple)):
        names, members = None, list(groups)
    else:
        raise TypeError(
            "groups: expected None, a list of lists of feature indices or a dict name -> indices,"
            f" got {type(groups).__name__}"
        )
    if not members:
        raise ValueError("groups: is empty; pass at least one group")
    group_of = np.full(n_features, -1, dtype=np.int64)
    for g, member in enumerate(members):
        indices = [member] if isinstance(member, numbers.Integral) else list(member)
        if not indices:
            raise ValueError(f"groups: group {g} is empty")
        for j in indices:
            if isinstance(j, bool) or not isinstance(j, numbers.Integral):
                raise TypeError(f"groups: group {g} holds {j!r}; expected feature indices (ints)")
            if not 0 <= int(j) < n_features:
                raise ValueError(
                    f"groups: feature index {int(j)} in group {g} is out of range for "
                    f"{n_features} features (expected an integer between 0 and {n_features - 1})"
                )
            if group_of[int(j)] >= 0:
                raise ValueError(
                    f"groups: feature {int(j)} is in groups {int(group_of[int(j)])} and {g}; "
                    "groups must not overlap"
                )
            group_of[int(j)] = g
    missing = np.flatnonzero(group_of < 0)
    if missing.size:
        raise ValueError(
            f"groups: features {missing.tolist()} are in no group; the groups must cover all "
            f"{n_features} features"
        )
    if names is None:
        label = feature_names or [f"x{j}" for j in range(n_features)]
        names = [
            "+".join(label[j] for j in np.flatnonzero(group_of == g)) for g in range(len(members))
        ]
    return group_of, names


class ShapleyExplainer(AgnosticExplainer):
    """What every Shapley explainer shares: the background, the groups and the selection of the
    explained outputs.

    Subclasses call their core function in ``__call__`` and hand the arrays to
    ``_shapley_explanation``. ``seed`` is ignored by the exact explainers (kept so every Shapley
    explainer takes the same arguments). ``X`` and the background are batches of the model's
    samples (images for an image model) or flat rows; values come back in ``X``'s shape, one per
    feature, a feature of a group holding its group's value (as Captum's ``feature_mask``), with
    the values per group in ``options["group_values"]``. Only ``groups=`` on flat rows keeps one
    value per group (shap's convention; ``feature_names`` are then the group names), and
    ``ShapleyInteractions`` is always per group.
    """

    method_name = "shapley"
    data_name = "background"
    needs_numbers = None  # moves values between rows: any DataFrame column passes,
    missing_ok = True  # missing values too
    moves_values = True
    max_groups: int | None = None  # the exact explainers enumerate 2^d coalitions

    def __init__(
        self,
        model: object,
        *,
        background: object,
        groups: object = None,
        feature_mask: object = None,
        seed: int = 0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        if background is None:
            raise TypeError("background: expected an array of rows (or one baseline row), got None")
        self._code_data_for(model)
        self.background = self._read_data(background, "background")
        self.groups = groups
        self.feature_mask = feature_mask
        self.seed = seed
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _data_shape(self) -> tuple[int, ...] | None:
        shape = np.shape(self.background) if isinstance(self.background, np.ndarray) else ()
        return tuple(shape[1:] if len(shape) > 1 else shape) or None

    def _setup(self) -> None:
        """The background rows and the groups, checked against the model's shape."""
        p = self.model.n_inputs
        self._background = self._rows(self.background, "background")
        if self.feature_mask is None:
            self.group_of, self.group_names = as_groups(self.groups, p, self.feature_names)
        elif self.groups is not None:
            raise ValueError("feature_mask, groups: pass one of them (both define the groups)")
        else:
            self.group_of, ids = mask_groups(self.feature_mask, self._sample_shapes())
            self.group_names = [str(i) for i in ids.tolist()]
        self.n_groups = int(self.group_of.max()) + 1
        if self.max_groups is not None and self.n_groups > self.max_groups:
            raise ValueError(
                f"groups: {self.n_groups} features or groups is too many for "
                f"{type(self).__name__} (2^d coalitions; at most {self.max_groups}); use "
                "gb.KernelShap or gb.PermutationShapley, or pass groups= to explain fewer groups"
            )

    def _targets(self, target: object, n_rows: int) -> np.ndarray | None:
        """Per-row targets, or None: explain every output."""
        return None if target is None else super()._targets(target, n_rows)

    def _play(self, function: Any, batch: np.ndarray, **arguments: Any) -> Any:
        """One core Shapley call on the game of ``batch`` (its background, groups, outputs)."""
        return self._call_core(
            function,
            batch.reshape(batch.shape[0], -1),  # the core plays on flat rows
            background=self._background,
            group_of=self.group_of,
            n_groups=self.n_groups,
            n_outputs=self.model.n_outputs,
            **arguments,
        )

    def _shapley_explanation(
        self,
        batch: np.ndarray,
        values: np.ndarray,
        fx: np.ndarray,
        base: np.ndarray,
        targets: np.ndarray | None,
        *,
        stderr: np.ndarray | None = None,
        options: dict[str, Any] | None = None,
    ) -> Explanation:
        """Select the target outputs of (n, ..., k) arrays and assemble the Explanation.

        targets=None keeps every output (the last axis) unless the model has only one.
        """
        n, k = batch.shape[0], self.model.n_outputs
        base_rows = np.broadcast_to(base, (n, k))
        delta_all = values.reshape(n, -1, k).sum(axis=1) - (fx - base_rows)
        if targets is None:
            if k == 1:
                values, base_rows, delta_all = values[..., 0], base_rows[:, 0], delta_all[:, 0]
                stderr = None if stderr is None else stderr[..., 0]
            picked = (values, base_rows, delta_all, stderr)
        else:
            rows = np.arange(n)
            picked = (
                values[rows, ..., targets],
                base_rows[rows, targets],
                delta_all[rows, targets],
                None if stderr is None else stderr[rows, ..., targets],
            )
        values, base_rows, delta, stderr = picked
        outputs = fx if targets is None else fx[np.arange(n), targets]
        names = self.group_names
        if self._per_feature(batch):  # each feature holds its group's value, in X's shape
            if self.groups is not None or self.feature_mask is not None:
                options = {**(options or {}), "group_values": values, "group_names": names}
            values, stderr = self._spread(values, batch), self._spread(stderr, batch)
            names = self.feature_names
        return self._explanation(
            batch,
            np.ascontiguousarray(values),
            targets,
            reshape=False,
            options=options,
            outputs=outputs,
            base_values=np.ascontiguousarray(base_rows),
            feature_names=names,
            delta=np.ascontiguousarray(delta),
            stderr=None if stderr is None else np.ascontiguousarray(stderr),
        )

    def _per_feature(self, batch: np.ndarray) -> bool:
        """Values per feature in X's shape: all but interactions and groups= on flat rows."""
        if getattr(self, "interactions", False):
            return False
        return self.groups is None or self.feature_mask is not None or batch.ndim > 2

    def _spread(self, values: np.ndarray | None, batch: np.ndarray) -> np.ndarray | None:
        """Per-group values (n, G[, k]) as per-feature values of ``batch``'s shape (n, ...[, k])."""
        if values is None:
            return None
        return values[:, self.group_of].reshape(batch.shape + values.shape[2:])


class ExactShapley(ShapleyExplainer):
    """Exact Shapley values from all 2^d coalitions (d features or groups, at most 20).

    Coalitions are evaluated in Gray-code order (each differs from the previous one by one group),
    many rows' coalitions per model call; values are exact up to float rounding.

    Parameters
    ----------
    model : NativeModel, CallableModel, estimator or callable
        Anything ``glassbox.as_model`` accepts; a native network runs under OpenMP.
    background : array (m, *sample_shape), (m, p), or one sample
        Background samples (the interventional value function averages over them); one sample
        is a baseline. Images ``(m, C, H, W)`` for an image model, or flat rows.
    groups : list of lists, dict name -> indices, or None
        Feature groups (flat feature indices) that partition the features. On flat rows the
        values are per group; on images, each pixel holds its group's value.
    feature_mask : int array, optional
        Captum's form of the groups: one id per feature, in the sample's shape or broadcastable
        to it (``(1, H, W)`` shared by the channels; ``glassbox.superpixels``). Values come back
        per feature in X's shape; ``options["group_values"]`` holds them per group.
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1], n_inputs=2)
    >>> exp = gb.ExactShapley(model, background=np.zeros(2))(np.ones((1, 2), np.float32))
    >>> exp.values
    array([[0.5, 0.5]])
    """

    method_name = "exact_shapley"
    interactions = False
    max_groups = MAX_EXACT_GROUPS

    def _run(self, batch: np.ndarray) -> _core.ExactResult:
        return self._play(_core.shapley_exact, batch, interactions=self.interactions)

    def __call__(self, X: object, target: object = None) -> Explanation:
        """Explain the rows of ``X``; target=None explains every output (values (n, d, k))."""
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, _, targets = self._inputs(X, target)
        result = self._run(batch)
        n, k = batch.shape[0], self.model.n_outputs
        values = result.values.reshape(n, self.n_groups, k)
        return self._shapley_explanation(batch, values, result.fx, result.base, targets)


class ShapleyInteractions(ExactShapley):
    """Exact pairwise Shapley interaction values (d features or groups, at most 20).

    Convention (shap's TreeExplainer): ``values[i, g, h]`` for g != h is half the Shapley
    interaction index I_gh = sum_{S without g, h} |S|! (d - |S| - 2)! / (d - 1)!
    (v(S+g+h) - v(S+g) - v(S+h) + v(S)); the diagonal holds the main effect
    phi_g - sum_{h != g} values[i, g, h], so each row sums to the Shapley value phi_g and the whole
    matrix to f(x) - E f(background). ``delta`` is that efficiency gap.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1], n_inputs=2)
    >>> exp = gb.ShapleyInteractions(model, background=np.zeros(2))(np.ones((1, 2), np.float32))
    >>> exp.values[0]
    array([[0. , 0.5],
           [0.5, 0. ]])
    """

    method_name = "shapley_interactions"
    interactions = True

    def __call__(self, X: object, target: object = None) -> Explanation:
        """Explain the rows of ``X``: values (n, d, d) or (n, d, d, k) for target=None."""
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, _, targets = self._inputs(X, target)
        result = self._run(batch)
        n, d, k = batch.shape[0], self.n_groups, self.model.n_outputs
        values = result.interactions.reshape(n, d, d, k)
        return self._shapley_explanation(batch, values, result.fx, result.base, targets)


class _SampledShapley(ShapleyExplainer):
    """Shared configuration of the sampled estimators: budget, tolerance, seed."""

    core_function = "kernel_shap"
    samplers: tuple[str, ...] = ("kernel",)  # the designs it offers, the default first

    def __init__(
        self,
        model: object,
        *,
        background: object,
        groups: object = None,
        feature_mask: object = None,
        seed: int = 0,
        n_samples: int | None = None,
        tol: float | None = None,
        tol_mode: str = "relative",
        sampler: str | None = None,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.sampler = self.samplers[0] if sampler is None else sampler
        check_choice(self.sampler, "sampler", self.samplers)
        self.n_samples = None if n_samples is None else check_int(n_samples, "n_samples", 1)
        self.tol = None if tol is None else check_nonnegative(tol, "tol")
        self.tol_mode = check_choice(tol_mode, "tol_mode", ("relative", "absolute"))
        super().__init__(
            model,
            background=background,
            groups=groups,
            feature_mask=feature_mask,
            seed=seed,
            n_threads=n_threads,
            memory_budget=memory_budget,
            progress=progress,
        )

    def _setup(self) -> None:
        super()._setup()
        d = self.n_groups
        self._budget = 2048 + 2 * d if self.n_samples is None else self.n_samples
        minimum = self._min_samples(d)
        if d >= 2 and self._budget < minimum:
            raise ValueError(
                f"n_samples: {type(self).__name__} needs at least {minimum} coalitions for "
                f"{d} features or groups, got {self._budget}"
            )

    @staticmethod
    def _min_samples(d: int) -> int:
        return min(2**d - 2, 2 * d + 2) if d < 62 else 2 * d + 2

    def _design(self) -> dict[str, str]:
        """The core's design arguments."""
        return {"sampler": self.sampler}

    def __call__(self, X: object, target: object = None) -> Explanation:
        """Explain the rows of ``X``; target=None explains every output (values (n, d, k)).

        ``stderr`` holds a standard error per value; ``n_samples`` the distinct coalitions each
        row used (each evaluated on every background row), ``options["n_evaluated"]`` their
        maximum over the rows and ``options["n_draws"]`` the most pairs a row drew.
        """
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, _, targets = self._inputs(X, target)
        result = self._play(
            getattr(_core, self.core_function),
            batch,
            n_samples=self._budget,
            tol=self.tol or 0.0,
            tol_relative=self.tol_mode == "relative",
            seed=self.seed,
            targets=[] if targets is None else targets.tolist(),  # the outputs tol watches
            **self._design(),
        )
        n, d, k = batch.shape[0], self.n_groups, self.model.n_outputs
        exp = self._shapley_explanation(
            batch,
            result.values.reshape(n, d, k),
            result.fx,
            result.base,
            targets,
            stderr=result.stderr.reshape(n, d, k),
            options={"n_evaluated": int(result.n_evaluated), "n_draws": int(result.n_draws)},
        )
        return dataclasses.replace(exp, n_samples=np.array(result.n_samples, dtype=np.int64))


class KernelShap(_SampledShapley):
    """KernelSHAP's Shapley regression with Leverage SHAP's or the kernel's sampling, and
    standard errors.

    Both samplers pair each coalition with its complement, evaluate each distinct coalition once
    and solve the efficiency-constrained weighted least squares in double precision, once for
    every row and output (all rows share the design); when the budget covers every coalition the
    values are exact. ``sampler="leverage"`` (Musco & Witter, 2025; the default) gives every
    coalition size the same expected number of coalitions (their leverage scores), enumerates the
    outer sizes the budget covers and samples the others without replacement, each weighted by
    its kernel weight over its inclusion probability; ``stderr`` is the stratified
    without-replacement variance of the sandwich (delta-method) linearisation.
    ``sampler="kernel"`` (Lundberg & Lee, 2017, as shap) enumerates the sizes whose share of the
    kernel weight the budget covers and samples the others i.i.d. by kernel weight; ``stderr`` is
    the sandwich estimate over the i.i.d. pairs (Covert & Lee, 2021). Zero stderr: every
    coalition enumerated (or fewer than two sampled pairs).

    Parameters
    ----------
    model, background, groups, n_threads, memory_budget, progress
        As for ``ExactShapley``.
    seed : int, default 0
        Results are bit-identical for a seed, whatever the thread count.
    sampler : {"leverage", "kernel"}, optional (default "leverage")
        The design: Leverage SHAP's (lower error at equal budget) or KernelSHAP's (shap's
        estimator, and the numbers earlier glassbox versions gave for a seed).
    n_samples : int, optional
        Budget: distinct coalitions evaluated per row (each on every background row), besides
        the empty and the full coalition; default 2048 + 2d (shap's default). At least
        min(2^d - 2, 2d + 2).
    tol : float, optional
        Stop each row early, on its own: rounds of sampled coalitions start from max(4d, 32)
        (besides the enumerated sizes) and double up to ``n_samples``; a row stops once the
        standard errors of its explained outputs (its target, or every output with target=None)
        are all at most its tolerance (KernelShap's times sqrt(J / (J - d)) after J pairs, a
        small-sample correction), and its coalitions are no longer evaluated. Each round
        extends the last, so a row that never stops gets the numbers of a run without ``tol``.
        ``exp.n_samples`` holds the coalitions each row used. None or 0: the whole budget.
        How to pick it: docs/methods.md, "Stopping early".
    tol_mode : {"relative", "absolute"}, default "relative"
        "relative": a row's tolerance is ``tol * |f(x) - E f(background)|`` (the gap its values
        share out); a row with a zero gap falls back to ``tol`` times the standard deviation of
        the output over the background (or ``tol`` itself when that is zero). "absolute": ``tol``
        in the model's output units.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X @ np.arange(3.0), n_inputs=3)
    >>> exp = gb.KernelShap(model, background=np.zeros(3), n_samples=6)(np.ones((1, 3), np.float32))
    >>> np.round(exp.values, 6)
    array([[0., 1., 2.]])

    With ``tol``, a linear model stops at the first round (its fit is exact): the 80
    coalitions of sizes 1 and 39 the budget enumerates, and 4d = 160 sampled ones:

    >>> X, B = np.ones((2, 40), np.float32), np.zeros(40)
    >>> lin = gb.wrap(lambda Z: Z @ np.arange(40.0), n_inputs=40)
    >>> gb.KernelShap(lin, background=B, tol=0.01)(X).n_samples
    array([240, 240])
    """

    method_name = "kernel_shap"
    core_function = "kernel_shap"

    samplers = SAMPLERS


class PermutationShapley(_SampledShapley):
    """Shapley values by antithetic permutation sampling, with standard errors.

    Each pair draws a random order of the groups and also uses its reverse; a pair's estimate is
    the mean of the two orders' marginal contributions, phi is the mean over pairs and ``stderr``
    their standard deviation / sqrt(pairs). Efficiency holds exactly for every pair.

    Parameters
    ----------
    model, background, groups, seed, n_threads, memory_budget, progress
        As for ``KernelShap``.
    sampler : {"antithetic"}, optional
        The one design: random permutations with their reverses.
    n_samples : int, optional
        Budget in coalitions: pairs = max(2, n_samples // (2 (d - 1))); default 2048 + 2d.
        At least 4 (d - 1). Repeated coalitions are evaluated once.
    tol, tol_mode
        As for ``KernelShap``, in rounds of pairs starting from 8 and doubling.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X @ np.arange(3.0), n_inputs=3)
    >>> exp = gb.PermutationShapley(model, background=np.zeros(3))(np.ones((1, 3), np.float32))
    >>> np.round(exp.values, 6)
    array([[0., 1., 2.]])
    """

    method_name = "permutation_shapley"
    core_function = "permutation_shapley"
    samplers = ("antithetic",)

    def _design(self) -> dict[str, str]:
        return {}  # one design: antithetic permutations

    @staticmethod
    def _min_samples(d: int) -> int:
        return 4 * (d - 1)


def shapley_permutations(n_groups: int, n_pairs: int, seed: int = 0) -> np.ndarray:
    """The permutations PermutationShapley draws for a seed (each pair also uses the reverse).

    Examples
    --------
    >>> sorted(shapley_permutations(4, 1)[0].tolist())
    [0, 1, 2, 3]
    """
    return np.asarray(
        _core.shapley_permutations(
            check_int(n_groups, "n_groups", 1),
            n_pairs=check_int(n_pairs, "n_pairs", 1),
            seed=check_seed(seed),
        )
    )


def kernel_shap_design(
    n_groups: int, n_samples: int, seed: int = 0, sampler: str = "kernel"
) -> tuple[np.ndarray, ...]:
    """The coalitions (C, d) 0/1 in fit order, their regression weights and the number of sampled
    pairs that KernelShap's ``sampler`` uses for a seed (for replaying its regression in tests).

    Examples
    --------
    >>> masks, weights, pairs = kernel_shap_design(3, 6)
    >>> masks.shape, round(float(weights.sum()), 6)
    ((6, 3), 1.0)
    >>> masks, weights, pairs = kernel_shap_design(10, 40, sampler="leverage")
    >>> masks.shape, int(pairs)  # 20 pairs: 4.4 expected per size pair, 2.2 of size 5
    ((40, 10), 20)
    """
    design = _core.kernel_shap_design(
        check_int(n_groups, "n_groups", 1),
        n_samples=check_int(n_samples, "n_samples", 1),
        seed=check_seed(seed),
        sampler=check_choice(sampler, "sampler", SAMPLERS),
    )
    return np.asarray(design.masks), np.asarray(design.weights), np.asarray(design.n_pairs)
