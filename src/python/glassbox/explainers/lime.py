"""LIME for tabular data (Ribeiro et al., 2016) with lime's ``LimeTabularExplainer`` semantics,
batched over rows in the compiled core. docs/methods.md has the definition and the differences.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassbox import _core
from glassbox._validation import as_batch, check_choice, check_int
from glassbox.explainers.base import AgnosticExplainer
from glassbox.explanation import Explanation
from glassbox.models.agnostic import AgnosticModel, as_model
from glassbox.progress import ProgressArg

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
    training_data : array (m, n_features)
        Where the sampling statistics come from.
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
    flat_rows = True
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
        self.seed = seed
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _data_width(self) -> int | None:
        data = self.training_data
        return int(np.shape(data)[1]) if np.ndim(data) == 2 else None

    def _check_model(self, model: object) -> AgnosticModel:
        checked = super()._check_model(model)
        width = self._data_width()
        if width is None or not getattr(checked, "built", True):
            return checked
        return as_model(checked, n_inputs=width)  # the model takes the training data's width

    def _setup(self) -> None:
        """The sampling statistics of the training data (needs the model's width)."""
        d = self.model.n_inputs
        training = as_batch(self.training_data, (d,), "training_data", allow_nan=True)
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

    def samples(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """The neighbourhoods ``__call__`` evaluates for rows ``X`` (for checks and plots):
        model inputs and interpretable data, each (n, num_samples, n_features)."""
        self._ready(X)
        result = _core.lime_samples(
            self.stats, X=self._batch(X), num_samples=self.num_samples, seed=self.seed
        )
        return np.asarray(result.inputs), np.asarray(result.interpretable)

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, _, targets = self._inputs(X, target)
        result = self._call_core(
            _core.lime_tabular,
            batch,
            stats=self.stats,
            targets=targets,
            n_outputs=self.model.n_outputs,
            num_samples=self.num_samples,
            num_features=self.num_features,
            feature_selection=self.feature_selection,
            kernel_width=self.kernel_width or 0.0,
            seed=self.seed,
        )
        return self._from_result(batch, result, targets, LIME_FIELDS, outputs="prediction")


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
