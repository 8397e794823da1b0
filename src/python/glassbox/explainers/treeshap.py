"""TreeSHAP: exact Shapley values of a tree ensemble, natively (``core/trees/treeshap*``).

``TreeShap`` explains a tree ensemble (a ``TreeModel`` from ``glassbox.from_trees``, or a
scikit-learn / XGBoost / LightGBM model it accepts) with shap's TreeExplainer's two value
functions: "tree_path_dependent" (E[f(x) | x_S] estimated from the trees' covers, no background)
and "interventional" (the mean over background rows z of f(x_S, z_rest)). ``TreeShapInteractions``
gives shap's pairwise interaction values (path-dependent).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_choice
from glassbox.explainers.base import AgnosticExplainer
from glassbox.explanation import Explanation
from glassbox.progress import ProgressArg

PERTURBATIONS = ("tree_path_dependent", "interventional")
OUTPUTS = ("raw", "probabilities")


@dataclass(frozen=True)
class TreeTarget:
    """What TreeSHAP explains: the core ensemble, its link and names (the explainer's model)."""

    ensemble: Any
    link: str = "identity"
    feature_names: list[str] | None = None
    output_names: list[str] | None = None
    #: NaN follows each node's default direction; False when the model's library rejects NaN
    allow_nan: bool = True
    built: bool = True
    #: what the model predicts ("raw" or "probabilities"): TreeShap's default output
    output: str = "raw"
    #: a two-class model's probabilities ([1 - p, p]: softmax of margins (0, m)) as the spec of
    #: the one-output logistic ensemble of m, which interventional TreeSHAP explains instead
    binary: Any = None
    #: the ``TreeEnsembleSpec`` the ensemble was compiled from (a TreeModel's), for pickling
    spec: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its spec (core ensembles do not pickle), compiled again on loading."""
        if self.spec is None:
            raise TypeError(
                "TreeShap of a core TreeEnsemble does not pickle; explain the TreeModel "
                "(glassbox.from_trees) instead"
            )
        kept = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "ensemble"}
        return (_tree_target, (kept,))

    @property
    def n_inputs(self) -> int:
        return int(self.ensemble.n_inputs)

    @property
    def n_outputs(self) -> int:
        return int(self.ensemble.n_outputs)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.n_inputs,)


def _tree_target(kept: dict[str, Any]) -> TreeTarget:
    """A pickled TreeTarget: its ensemble compiled from its spec (``compile_spec`` validates it)."""
    from glassbox.models.trees.model import compile_spec

    probabilities = kept["output"] == "probabilities"
    return TreeTarget(compile_spec(kept["spec"], apply_link=probabilities), **kept)


def as_tree_target(model: object) -> TreeTarget:
    """``model`` as a TreeTarget: a TreeModel, a core TreeEnsemble, or an estimator
    ``glassbox.from_trees`` converts."""
    if isinstance(model, TreeTarget):
        return model
    if isinstance(model, _core.TreeEnsemble):
        return TreeTarget(model, getattr(model, "link", "identity"))
    if not isinstance(getattr(model, "ensemble", None), _core.TreeEnsemble):
        try:
            from glassbox.models.trees import from_trees
        except ImportError as error:  # pragma: no cover - the adapters ship with glassbox
            raise TypeError(f"model: cannot convert {type(model).__name__} ({error})") from error
        try:
            model = from_trees(model)
        except TypeError as error:
            raise TypeError(
                f"model: TreeShap explains tree ensembles (glassbox.from_trees: scikit-learn, "
                f"XGBoost, LightGBM); {error}"
            ) from error
    names = getattr(model, "feature_names", None)
    outputs = getattr(model, "output_names", None)
    return TreeTarget(
        model.ensemble,
        model.spec.link,
        None if names is None else list(names),
        None if outputs is None else list(outputs),
        bool(getattr(model, "allow_nan", True)),
        output=getattr(model, "output", "raw"),
        binary=_binary(model.spec),
        spec=model.spec,
    )


def _binary(spec: Any) -> Any:
    """The logistic spec of a two-class spec (``two_class``: softmax over margins (0, m), every
    tree adding into output 1), else None."""
    outputs = np.asarray(spec.tree_outputs)
    if spec.link != "softmax" or spec.n_outputs != 2 or np.any(outputs != 1):
        return None
    if np.asarray(spec.base_scores)[0] != 0:
        return None
    return replace(
        spec,
        n_outputs=1,
        tree_outputs=(outputs - 1).astype(np.int32),
        base_scores=np.asarray(spec.base_scores, np.float64)[1:],
        link="logistic",
        output_names=None,
    )


class TreeShap(AgnosticExplainer):
    """Exact SHAP values of a tree ensemble (shap's TreeExplainer), in the compiled core.

    "tree_path_dependent": Lundberg et al.'s (2018) value function E[f(x) | x_S] from the trees'
    covers, computed in O(T L D) per row as Linear TreeSHAP does (shap: O(T L D^2)) on the raw
    margin; the base value is each tree's cover-weighted mean leaf.
    "interventional": per (row, background row) pair one exact walk over the nodes where either
    row may go (O(T L)), averaged over the background; the base value is the mean prediction
    over the background. With ``output="probabilities"`` (interventional only, a logistic,
    two-class or identity link), each pair's margin values are rescaled by
    (p(x) - p(z)) / (f(x) - f(z)) as shap's ``model_output="probability"`` does, so the values
    add up to p(x) - mean p(z).
    Rows run in parallel (results identical for any thread count); missing values (NaN) follow
    each node's default direction (rejected, in X and the background, for a model whose library
    rejects them).

    Parameters
    ----------
    model : TreeModel, estimator or core TreeEnsemble
        A ``glassbox.from_trees`` model, or a scikit-learn / XGBoost / LightGBM tree model
        (converted with ``from_trees``).
    background : array (m, d), optional
        Rows of the interventional value function (shap suggests 100 to 1000); not accepted by
        "tree_path_dependent", which uses the trees' covers instead.
    feature_perturbation : {"tree_path_dependent", "interventional"}
        The value function. Default "tree_path_dependent" without a background, else
        "interventional".
    output : {"raw", "probabilities"}, optional
        Explain the margin, or (interventional) the probability through the model's link (a
        two-class model's ``[1 - p, p]``, as ``glassbox.as_model`` makes of a binary
        classifier, too: the first class's values are the second's negated). Default: what the
        model predicts, "probabilities" for a ``TreeModel`` made with
        ``output="probabilities"`` (then path-dependent TreeSHAP raises: pass ``output="raw"``
        or a background), else "raw".
    n_threads, memory_budget, progress
        As for every explainer.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], np.float32)
    >>> tree = DecisionTreeRegressor().fit(X, X[:, 0] * 2)
    >>> exp = gb.TreeShap(tree)(X[3:])
    >>> exp.values, exp.base_values
    (array([[1., 0.]]), array([1.]))
    """

    method_name = "tree_shap"
    data_name = "background"
    needs_numbers = "it walks the trees on the values of the features"
    missing_ok = True
    interactions = False
    #: leaf tables (core/trees/treeshap_tables.hpp): "auto" where faster; tests force "always"
    #: and "never" to compare the two computations
    _tables = "auto"

    def __init__(
        self,
        model: object,
        background: object = None,
        *,
        feature_perturbation: str | None = None,
        output: str | None = None,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        if feature_perturbation is None:
            feature_perturbation = "tree_path_dependent" if background is None else "interventional"
        self.feature_perturbation = check_choice(
            feature_perturbation, "feature_perturbation", PERTURBATIONS
        )
        self.output = None if output is None else check_choice(output, "output", OUTPUTS)
        if self.interactions and self.feature_perturbation != "tree_path_dependent":
            raise ValueError(
                "feature_perturbation: interaction values are path-dependent (as shap's); "
                "use feature_perturbation='tree_path_dependent' without a background"
            )
        if self.feature_perturbation == "tree_path_dependent" and background is not None:
            raise ValueError(
                "background: 'tree_path_dependent' uses the trees' covers, not a background; "
                "pass feature_perturbation='interventional' to explain against the background"
            )
        if self.feature_perturbation == "interventional" and background is None:
            raise ValueError(
                "background: 'interventional' TreeSHAP needs background rows (e.g. 100 rows of "
                "the training data); or use feature_perturbation='tree_path_dependent'"
            )
        self.background = None if background is None else self._read_data(background, "background")
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _check_model(self, model: object) -> TreeTarget:  # type: ignore[override]
        return as_tree_target(model)

    def _allow_missing(self) -> bool:
        return self.model.allow_nan  # NaN follows each node's default direction

    def _setup(self) -> None:
        link = self.model.link
        chosen = self.output is not None
        if self.output is None:  # what the model predicts
            self.output = self.model.output
        if self.output == "probabilities" and link != "identity":
            if self.feature_perturbation == "tree_path_dependent":
                why = "" if chosen else " (the default: this TreeModel predicts probabilities)"
                raise ValueError(
                    f"output: 'probabilities'{why} needs feature_perturbation='interventional' "
                    f"(as in shap, path-dependent TreeSHAP explains the raw margin; this model's "
                    f"link is {link}); pass output='raw' to explain the margin, or a background "
                    "to explain the probabilities"
                )
            if link == "softmax" and self.model.binary is None:
                raise ValueError(
                    "output: 'probabilities' of a softmax (multi-class) model is not supported "
                    "(shap neither); use output='raw' to explain the class margins"
                )
        self._background = np.zeros((0, self.model.n_inputs), np.float32)
        if self.background is not None:
            self._background = self._rows(self.background, "background")
            if self._background.shape[0] == 0:
                raise ValueError("background: has no rows; pass at least one row")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_logistic", None)  # a core ensemble: compiled again when needed
        return state

    def _core_model(self) -> object:
        binary = self._binary()
        return self.model.ensemble if binary is None else binary

    def _binary(self) -> Any:
        """The logistic ensemble explaining a two-class model's probabilities (compiled once),
        else None."""
        if self.output != "probabilities" or self.feature_perturbation != "interventional":
            return None
        if self.model.binary is not None and getattr(self, "_logistic", None) is None:
            from glassbox.models.trees.model import compile_spec

            self._logistic = compile_spec(self.model.binary)
        return getattr(self, "_logistic", None)

    def _targets(self, target: object, n_rows: int) -> np.ndarray | None:
        return None if target is None else super()._targets(target, n_rows)

    def _mode(self) -> str:
        return "interactions" if self.interactions else self.feature_perturbation

    def __call__(self, X: object, target: object = None) -> Explanation:
        """Explain the rows of ``X``; target=None explains every output (values (n, d, k)
        for a model of k > 1 outputs)."""
        batch, rows, targets = self._inputs(X, target)
        result = self._call_core(
            _core.tree_shap,
            rows,
            mode=self._mode(),
            background=self._background,
            probabilities=self.output == "probabilities",
            tables=self._tables,
        )
        n, d, k = rows.shape[0], self.model.n_inputs, self.model.n_outputs
        binary = self._binary() is not None
        shape = (n, d, d, k) if self.interactions else (n, d, 1 if binary else k)
        values = np.asarray(result.values).reshape(shape)
        fx, base = (
            np.asarray(result.fx),
            np.broadcast_to(np.asarray(result.base), (n, 1 if binary else k)),
        )
        if binary:  # probabilities [1 - p, p]: the first class's values are the second's negated
            values = np.concatenate([-values, values], axis=-1)
            fx, base = np.c_[1 - fx, fx], np.c_[1 - base, base]
        delta = values.reshape(n, -1, k).sum(axis=1) - (fx - base)
        if targets is None and k == 1:
            values, base, delta, fx = values[..., 0], base[:, 0], delta[:, 0], fx[:, 0]
        elif targets is not None:
            at = np.arange(n)
            values, base, delta, fx = (
                values[at, ..., targets],
                base[at, targets],
                delta[at, targets],
                fx[at, targets],
            )
        return self._explanation(
            batch,
            np.ascontiguousarray(values),
            targets,
            reshape=False,
            outputs=fx,
            base_values=np.ascontiguousarray(base),
            delta=np.ascontiguousarray(delta),
        )


class TreeShapInteractions(TreeShap):
    """Exact SHAP interaction values of a tree ensemble (path-dependent, shap's convention).

    ``values[i, a, b]`` for a != b is (phi_a with b always present - phi_a with b always absent)
    / 2, by one O(L D) walk per tree and feature it splits on, with b's factor fixed (shap:
    two O(L D^2) recursions); the diagonal holds phi_a - sum_{b != a} values[i, a, b], so each
    row of the matrix sums to the SHAP value phi_a and the whole matrix to f(x) - E f. Values
    (n, d, d), or (n, d, d, k) for target=None on k > 1 outputs.

    Parameters
    ----------
    model, n_threads, memory_budget, progress
        As for ``TreeShap`` (no background: interaction values are path-dependent).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], np.float32)
    >>> tree = DecisionTreeRegressor().fit(X, X[:, 0] * X[:, 1])
    >>> gb.TreeShapInteractions(tree)(X[3:]).values[0]
    array([[0.25 , 0.125],
           [0.125, 0.25 ]])
    """

    method_name = "tree_shap_interactions"
    interactions = True

    def __init__(
        self,
        model: object,
        *,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)
