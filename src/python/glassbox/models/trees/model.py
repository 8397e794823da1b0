"""TreeModel: a fitted tree ensemble evaluated natively (the compiled ``TreeEnsemble``)."""

from __future__ import annotations

import numpy as np

from glassbox import _core
from glassbox._validation import as_batch, run_options
from glassbox.data import read_array
from glassbox.models.trees.spec import LINKS, TreeEnsembleSpec

OUTPUTS = ("raw", "probabilities")

# The spec fields the compiled TreeEnsemble takes, in its keyword order.
_ARRAYS = (
    "tree_offsets",
    "tree_outputs",
    "tree_widths",
    "children_left",
    "children_right",
    "features",
    "thresholds",
    "default_left",
    "cat_starts",
    "cat_counts",
    "cat_bitsets",
    "covers",
    "value_offsets",
    "values",
    "base_scores",
)


def compile_spec(spec: TreeEnsembleSpec, apply_link: bool = False) -> _core.TreeEnsemble:
    """The compiled ``TreeEnsemble`` of ``spec`` (the core validates every array: ValueError on
    any inconsistency, TypeError on a wrong dtype)."""
    if spec.link not in LINKS:
        raise ValueError(f"spec.link: expected one of {LINKS}, got {spec.link!r}")
    arrays = {name: np.ascontiguousarray(getattr(spec, name)) for name in _ARRAYS}
    return _core.TreeEnsemble(
        n_features=int(spec.n_features),
        n_outputs=int(spec.n_outputs),
        link=spec.link,
        apply_link=apply_link,
        **arrays,
    )


class TreeModel:
    """A tree ensemble (scikit-learn, XGBoost, LightGBM) evaluated natively: thread-safe, GIL
    released, OpenMP over rows; every model-agnostic method takes it as it takes a
    ``NativeModel``. Made by ``glassbox.from_trees``.

    ``output="raw"`` predicts the margin (a forest's averaged predictions, a boosted model's log
    odds); ``"probabilities"`` applies the model's link (logistic, softmax) in the core.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from glassbox.models.trees.sklearn_trees import spec_from_sklearn
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> forest = RandomForestRegressor(3, random_state=0).fit(X, X[:, 0])
    >>> model = TreeModel(spec_from_sklearn(forest))
    >>> model.n_inputs, model.n_outputs, model.ensemble.n_trees
    (2, 1, 3)
    >>> bool(np.allclose(model.predict(X[:2]).ravel(), forest.predict(X[:2])))
    True
    """

    built = True
    schema = None

    def __init__(self, spec: TreeEnsembleSpec, output: str = "raw") -> None:
        if not isinstance(spec, TreeEnsembleSpec):
            raise TypeError(f"spec: expected a TreeEnsembleSpec, got {type(spec).__name__}")
        if output not in OUTPUTS:
            raise ValueError(f"output: expected 'raw' or 'probabilities', got {output!r}")
        if output == "probabilities" and spec.meta.get("probabilities") is False:
            objective = spec.meta.get("objective", "?")
            raise ValueError(
                f"output='probabilities': this model ({spec.source or 'trees'}, objective "
                f"{objective!r}) has no probabilities its {spec.link} link gives (its library's "
                "predict is not link(margin): a log link, one sigmoid per class, a ranking or "
                "raw score); use output='raw' to explain the margin"
            )
        if output == "probabilities" and spec.link == "identity" and not _classifier(spec):
            raise ValueError(
                f"output='probabilities': this model ({spec.source or 'a regressor'}) has no "
                "probabilities (identity link); use output='raw'"
            )
        self.spec = spec
        self.output = output
        self.ensemble = compile_spec(spec, apply_link=output == "probabilities")
        self.input_shape: tuple[int, ...] = (int(spec.n_features),)
        self.feature_names = None if spec.feature_names is None else list(spec.feature_names)
        self.output_names = None if spec.output_names is None else list(spec.output_names)
        #: NaN in a row follows each node's default direction; False when the library rejects
        #: NaN (then so do the explainers)
        self.allow_nan = bool(spec.meta.get("allow_nan", True))

    @property
    def n_inputs(self) -> int:
        return int(self.spec.n_features)

    @property
    def n_outputs(self) -> int:
        return int(self.spec.n_outputs)

    def predict(
        self, X: object, *, n_threads: int | None = None, memory_budget: int | None = None
    ) -> np.ndarray:
        """The margin (or probabilities) of a batch ``X`` (n, n_inputs), float32 (n, n_outputs).
        Rows are rounded to float32 first, as the libraries' own tree walks see them."""
        batch = as_batch(read_array(X), self.input_shape, allow_nan=self.allow_nan)
        return np.asarray(
            self.ensemble.predict(batch, options=run_options(n_threads, memory_budget))
        )

    def __getstate__(self) -> dict[str, object]:
        return {"spec": self.spec, "output": self.output}

    def __setstate__(self, state: dict[str, object]) -> None:
        # a pickle is untrusted input: the core validates the spec's arrays again
        if not isinstance(state, dict) or set(state) != {"spec", "output"}:
            raise TypeError("TreeModel: invalid pickled state; expected a dict {spec, output}")
        self.__init__(state["spec"], state["output"])  # type: ignore[misc, arg-type]

    def __repr__(self) -> str:
        return (
            f"TreeModel({self.spec.source or 'trees'}: {self.spec.n_trees} trees, "
            f"n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, output={self.output!r})"
        )


def _classifier(spec: TreeEnsembleSpec) -> bool:
    return spec.meta.get("kind") == "classifier"


__all__ = ["OUTPUTS", "TreeModel", "compile_spec"]
