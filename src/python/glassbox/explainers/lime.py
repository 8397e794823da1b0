"""LIME for tabular data (Ribeiro et al., 2016) with lime's ``LimeTabularExplainer`` semantics,
batched over rows in the compiled core. docs/methods.md has the definition and the differences.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassbox import _core
from glassbox._validation import as_baselines, check_choice, check_int
from glassbox.explainers.base import AgnosticExplainer
from glassbox.explanation import Explanation
from glassbox.masks import mask_groups
from glassbox.models.agnostic import evaluate
from glassbox.progress import ProgressArg
from glassbox.rows import first_row

DISCRETIZERS = {"quartile": 4, "decile": 10, None: 0}
FEATURE_SELECTIONS = ("auto", "forward", "highest_weights", "none")
#: Explanation field -> attribute of the core's ``LimeResult``.
LIME_FIELDS = {"base_values": "intercept", "score": "score", "local_prediction": "local_prediction"}


class Lime(AgnosticExplainer):
    """LIME tabular: a kernel-weighted ridge model fitted to the model around each row.

    For each row, ``num_samples`` perturbed samples are drawn from statistics of
    ``training_data`` (the first sample is the row itself). With ``discretize_continuous``,
    continuous features are cut into quartile or decile bins; a sample takes each feature's bin
    with its training frequency and a value in the bin from a normal truncated to the bin (the
    bin's training mean and std), and its interpretable representation is 1 where the bin equals
    the row's. Without binning, continuous features are drawn as mean + std * N(0, 1) and
    represented standardised. Categorical features take training values with their frequencies
    (1 = same value as the row). Samples are weighted by sqrt(exp(-d^2 / width^2)) of their
    Euclidean distance d to the row in that representation; ``num_features`` features are
    selected (``"forward"``: greedy weighted least squares R^2; ``"highest_weights"``: largest
    |coefficient x row value| of a ridge fit with alpha 0.01; ``"auto"``: forward when
    num_features <= 6; ``"none"``: all) and a weighted ridge regression (alpha 1, intercept) on
    them gives the explanation.

    Parameters
    ----------
    model : any model ``as_model`` accepts
    training_data : array (m, *sample_shape) or (m, n_features)
        Where the sampling statistics come from: samples in the model's shape (images for an
        image model) or flat rows. ``X`` takes either shape too; values come back in X's shape
        (one weight per feature, here per pixel).
    num_samples : int, default 5000
        Samples per row, including the row itself.
    num_features : int, default 10
        Features in each explanation (ignored by ``feature_selection="none"``).
    discretize_continuous : bool, default True
    discretizer : {"quartile", "decile", None}, default "quartile"
    kernel_width : float, optional
        Default 0.75 * sqrt(n_features).
    feature_selection : {"auto", "forward", "highest_weights", "none"}, default "auto"
    categorical_features : sequence of int, optional
        Columns whose values are categories (never binned).
    feature_mask : int array, optional
        Explain groups of features (superpixels) instead, as Captum's ``Lime`` with a feature
        mask: one id per feature, in the sample's shape or broadcastable to it
        (``glassbox.superpixels``). Each sample keeps every group with probability 1/2 (the
        first sample keeps all) and puts ``baselines`` elsewhere; samples are weighted by
        exp(-(1 - cos(x, sample))^2 / (2 kernel_width^2)) (kernel_width default 1) and a
        weighted ridge regression (alpha 1) on the kept-group indicators gives one value per
        group, in ``options["group_values"]``; ``values`` repeat it over the group's features.
        The training data, the discretizer and ``num_features`` are not used then.
    baselines : float or array, default 0
        With ``feature_mask``: what replaces the removed groups (a scalar, one sample, or one
        per row).
    seed : int, default 0
        Results are bit-identical for a seed, whatever the thread count.
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Returns (from ``__call__``)
    ---------------------------
    Explanation with ``values`` (the local model's weights of the selected features, 0
    elsewhere), ``base_values`` (its intercept), ``score`` (its weighted R^2 on the
    neighbourhood) and ``local_prediction`` (its value at the row).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> exp = gb.Lime(model, training_data=data.data, num_samples=500, seed=0)(data.data[:3])
    >>> exp.values.shape, [data.feature_names[i] for i in np.abs(exp.values).argmax(axis=1)]
    ((3, 10), ['bmi', 'bmi', 'bmi'])
    """

    method_name = "lime"
    data_name = "training_data"
    needs_numbers = None  # a DataFrame's non-numeric columns are sampled as categories

    def __init__(
        self,
        model: object,
        training_data: object,
        *,
        num_samples: int = 5000,
        num_features: int = 10,
        discretize_continuous: bool = True,
        discretizer: str | None = "quartile",
        kernel_width: float | None = None,
        feature_selection: str = "auto",
        categorical_features: object = None,
        feature_mask: object = None,
        baselines: object = 0.0,
        seed: int = 0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.training_data = self._read_data(training_data, "training_data")
        self.num_samples = check_int(num_samples, "num_samples", 1)
        self.num_features = check_int(num_features, "num_features", 1)
        if discretizer not in DISCRETIZERS:
            raise ValueError(
                f"discretizer: expected 'quartile', 'decile' or None, got {discretizer!r}"
            )
        self.discretize_continuous = bool(discretize_continuous)
        self.discretizer = discretizer
        self.feature_selection = check_choice(
            feature_selection, "feature_selection", FEATURE_SELECTIONS
        )
        if kernel_width is not None:
            if isinstance(kernel_width, bool) or not isinstance(kernel_width, numbers.Real):
                raise TypeError(f"kernel_width: expected a number, got {kernel_width!r}")
            if not np.isfinite(kernel_width) or kernel_width <= 0:
                raise ValueError(f"kernel_width: must be a positive number, got {kernel_width}")
        self.kernel_width = None if kernel_width is None else float(kernel_width)
        self.categorical_features = categorical_features
        self.feature_mask = feature_mask
        self.baselines = baselines
        self.seed = seed
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _data_shape(self) -> tuple[int, ...] | None:
        shape = np.shape(self.training_data) if isinstance(self.training_data, np.ndarray) else ()
        return tuple(shape[1:]) if len(shape) > 1 else None

    def _setup(self) -> None:
        """The sampling statistics of the training data (needs the model's width)."""
        d = self.model.n_inputs
        training = self._rows(self.training_data, "training_data", allow_nan=True)
        categorical = _categorical(self.categorical_features, d)
        flags = np.zeros(d, dtype=bool)
        flags[list(categorical)] = True
        if self._schema is not None:  # non-numeric columns: categories whatever the argument
            flags |= [column.coded for column in self._schema.columns]
        if not np.isfinite(training).all():
            raise ValueError(
                "training_data: holds NaN or Inf; LIME draws its samples from the training "
                "data's statistics (means, bins, frequencies), which missing values break: "
                "impute or drop them"
            )
        discretizer = self.discretizer if self.discretize_continuous else None
        self.stats = _core.LimeStats(
            training, categorical=flags.tolist(), discretizer=DISCRETIZERS[discretizer]
        )
        if self.feature_mask is not None:
            self.group_of, _ = mask_groups(self.feature_mask, self._sample_shapes())

    def samples(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """The neighbourhoods ``__call__`` evaluates for rows ``X`` (for checks and plots):
        model inputs and interpretable data, each (n, num_samples, n_features)."""
        self._ready(X)
        batch = self._batch(X)
        result = _core.lime_samples(
            self.stats,
            X=batch.reshape(batch.shape[0], -1),
            num_samples=self.num_samples,
            seed=self.seed,
            first_row=first_row(),
        )
        return np.asarray(result.inputs), np.asarray(result.interpretable)

    def __call__(self, X: object, target: object = None) -> Explanation:
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, flat, targets = self._inputs(X, target)
        if self.feature_mask is not None:
            return self._explain_groups(batch, flat, targets)
        result = self._call_core(
            _core.lime_tabular,
            flat,
            stats=self.stats,
            targets=targets,
            n_outputs=self.model.n_outputs,
            num_samples=self.num_samples,
            num_features=self.num_features,
            feature_selection=self.feature_selection,
            kernel_width=self.kernel_width or 0.0,
            seed=self.seed,
        )
        exp = self._from_result(batch, result, targets, LIME_FIELDS, outputs="prediction")
        exp.options.update(self._rule_options())
        return exp

    def _rule_options(self) -> dict[str, list]:
        """What ``glassbox.plots.lime`` needs to write each weight's rule (JSON-able, so a
        saved Explanation keeps it): the bin edges of every feature (empty when not binned),
        which features are binned and which are categorical."""
        stats = self.stats
        return {
            "edges": [
                [float(e) for e in edges] if binned else []
                for edges, binned in zip(stats.edges, stats.binned, strict=True)
            ],
            "binned": [bool(b) for b in stats.binned],
            "categorical": [
                bool(s and not b) for b, s in zip(stats.binned, stats.sampled, strict=True)
            ],
        }

    def _explain_groups(
        self, batch: np.ndarray, flat: np.ndarray, targets: np.ndarray
    ) -> Explanation:
        """LIME over the groups of ``feature_mask`` (Captum's ``Lime`` with a feature mask): per
        row, ``num_samples`` binary vectors z (each group kept with probability 1/2; the first
        keeps all), inputs x where z is 1 and the baseline elsewhere, weights
        exp(-(1 - cos(x, input))^2 / (2 width^2)) (width ``kernel_width``, default 1), and a
        weighted ridge regression (alpha 1, intercept) of the target output on z."""
        group_of, n = self.group_of, flat.shape[0]
        n_groups, width = int(group_of.max()) + 1, self.kernel_width or 1.0
        base = as_baselines(self.baselines, batch).reshape(flat.shape)
        coef = np.zeros((n, n_groups))
        fields = {name: np.zeros(n) for name in LIME_FIELDS}
        prediction = np.zeros(n)
        for row in range(n):
            rng = np.random.default_rng([self.seed, row])
            z = rng.random((self.num_samples, n_groups)) < 0.5
            z[0] = True
            inputs = np.where(z[:, group_of], flat[row], base[row]).astype(np.float32)
            y = evaluate(self.model, inputs, options=self.core_options)[:, targets[row]]
            cos = (
                inputs
                @ flat[row]
                / np.maximum(np.linalg.norm(inputs, axis=1) * np.linalg.norm(flat[row]), 1e-12)
            )
            weight = np.exp(-((1.0 - cos) ** 2) / (2.0 * width**2))
            fit = _weighted_ridge(z.astype(np.float64), y.astype(np.float64), weight)
            coef[row], fields["base_values"][row] = fit[1:], fit[0]
            local = fit[0] + z.astype(np.float64) @ fit[1:]
            residual, spread = (
                weight @ (y - local) ** 2,
                weight @ (y - weight @ y / weight.sum()) ** 2,
            )
            fields["score"][row] = 1.0 - residual / spread if spread > 0 else 1.0
            fields["local_prediction"][row], prediction[row] = local[0], y[0]
        values = coef[:, group_of].reshape(batch.shape)
        return self._explanation(
            batch,
            values,
            targets,
            reshape=False,
            options={"group_values": coef},
            outputs=prediction,
            **{field: fields[field] for field in LIME_FIELDS},
        )


def _weighted_ridge(Z: np.ndarray, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """[intercept, coefficients] of ridge regression (alpha 1, the intercept not penalised) of y
    on Z with sample weights."""
    w = weight / weight.sum()
    z_mean, y_mean = w @ Z, w @ y
    Zc, yc = (Z - z_mean) * np.sqrt(weight)[:, None], (y - y_mean) * np.sqrt(weight)
    beta = np.linalg.solve(Zc.T @ Zc + np.eye(Z.shape[1]), Zc.T @ yc)
    return np.concatenate([[y_mean - z_mean @ beta], beta])


def _categorical(features: object, d: int) -> tuple[int, ...]:
    if features is None:
        return ()
    array = np.asarray(features)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise TypeError("categorical_features: expected a sequence of column indices (ints)")
    if array.size and (array.min() < 0 or array.max() >= d):
        raise ValueError(
            f"categorical_features: expected column indices (integers between 0 and {d - 1})"
        )
    if np.unique(array).size != array.size:
        raise ValueError("categorical_features: a column is listed twice")
    return tuple(int(i) for i in array)
