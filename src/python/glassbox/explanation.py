"""Explanation: what every explainer returns."""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from glassbox import saving
from glassbox.tables import Tabular, explanation_frame, value_axes


@dataclass(frozen=True)
class Explanation(Tabular):
    """Attributions for a batch of rows, with everything needed to read and check them.

    Attributes
    ----------
    values : ndarray
        Attributions, the shape of ``data`` (rows x features, or rows x C x H x W).
    data : ndarray
        The explained rows (float32).
    base_values : ndarray or None
        Per row, the model output the attributions are measured against (f at the baseline,
        E[f(references)]), where the method has one.
    feature_names, output_names : list of str or None
        The names of the features (X's columns, else the model's; group names for grouped
        Shapley values) and of the model's outputs; None: unnamed (tables and ``to_shap`` then
        use x0, x1, ... and "output 0", ...).
    target : ndarray or None
        The output explained for each row.
    method : str
        The explainer's name.
    options : dict
        The explainer's configuration.
    delta : ndarray or None
        Per row, the completeness gap sum(values) - (f(x) - base_value), where defined.
    stderr : ndarray or None
        Standard errors of sampled estimates, the shape of ``values``.
    layer_relevance : dict of str -> ndarray, or None
        LRP: relevance at the output of each requested layer, (rows, *layer shape).
    conservation : ndarray or None
        LRP: per row, the total relevance at the input and at each layer's output (columns named
        by ``conservation_layers``); the last column is the relevance put in at the output.
    conservation_layers : list of str or None
        Column names of ``conservation``: "<input>" then the layer names.
    score : ndarray or None
        LIME: per row, the weighted R^2 of the local model on its neighbourhood (the intercept
        is in ``base_values``).
    local_prediction : ndarray or None
        LIME: per row, the local model's value at the row.
    n_samples : ndarray or None
        Sampled Shapley estimators: per row, the coalitions that row used (fewer than the budget
        when ``tol`` stopped it early).

    Examples
    --------
    >>> import numpy as np
    >>> exp = Explanation(values=np.ones((3, 2)), data=np.zeros((3, 2)), method="demo")
    >>> len(exp), exp[1:].values.shape, exp[0].values.shape
    (3, (2, 2), (2,))
    """

    values: np.ndarray
    data: np.ndarray
    base_values: np.ndarray | None = None
    feature_names: list[str] | None = None
    output_names: list[str] | None = None
    target: np.ndarray | None = None
    method: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    delta: np.ndarray | None = None
    stderr: np.ndarray | None = None
    single_row: bool = False
    layer_relevance: dict[str, np.ndarray] | None = None
    conservation: np.ndarray | None = None
    conservation_layers: list[str] | None = None
    score: np.ndarray | None = None
    local_prediction: np.ndarray | None = None
    n_samples: np.ndarray | None = None

    _ROW_FIELDS = (
        "values",
        "data",
        "base_values",
        "target",
        "delta",
        "stderr",
        "conservation",
        "score",
        "local_prediction",
        "n_samples",
    )

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``values``."""
        return tuple(self.values.shape)

    def __len__(self) -> int:
        if self.single_row:
            raise TypeError("a single-row Explanation has no len()")
        return int(self.values.shape[0])

    def __getitem__(self, rows: int | slice | np.ndarray | list[int]) -> Explanation:
        """Select rows: an int gives one row (arrays lose the row axis), anything else a batch."""
        if isinstance(rows, tuple):
            raise TypeError(
                "Explanation indexing selects rows only: use exp[rows].values[...] for more"
            )
        if self.single_row:
            raise TypeError("this Explanation is a single row; it cannot be indexed again")
        n = int(self.values.shape[0])
        if isinstance(rows, numbers.Integral) and not isinstance(rows, bool):
            if not -n <= int(rows) < n:  # checked here: numpy overflows on huge ints
                raise IndexError(
                    f"rows: expected an integer between {-n} and {n - 1}, got {int(rows)}"
                )
            rows = int(rows)
        picked = {
            name: None if getattr(self, name) is None else np.asarray(getattr(self, name))[rows]
            for name in self._ROW_FIELDS
        }
        layers = None
        if self.layer_relevance is not None:
            layers = {name: np.asarray(r)[rows] for name, r in self.layer_relevance.items()}
        return replace(
            self,
            **picked,
            layer_relevance=layers,
            single_row=isinstance(rows, (int, np.integer)),
        )

    def __repr__(self) -> str:
        parts = [f"method={self.method!r}", f"values.shape={self.values.shape}"]
        if self.delta is not None and np.size(self.delta):
            parts.append(f"max|delta|={float(np.max(np.abs(self.delta))):.3g}")
        return f"Explanation({', '.join(parts)})"

    def to_frame(self, kind: str = "wide") -> Any:
        """The values as a pandas DataFrame (``to_pandas`` is the same).

        ``kind="wide"``: one row per explained row (index ``row``), one column per feature name;
        values with an output axis (every output explained at once) get a column MultiIndex
        (feature, output). ``kind="long"``: one row per (row, feature[, output]) with columns
        ``row``, ``feature``, ``output`` (the explained output's name, when there is a target or
        an output axis), ``value``, ``data`` (the feature's value in the row, when values are
        per feature) and ``stderr`` (sampled estimates). Image positions are named
        "x{c}_{h}_{w}" unless the model names them. Interaction values have two feature axes:
        ``feature_1`` and ``feature_2`` (wide: a column MultiIndex; long: two columns).

        Examples
        --------
        >>> import numpy as np
        >>> exp = Explanation(values=np.array([[1.0, -2.0]]), data=np.array([[3.0, 4.0]]),
        ...                   feature_names=["a", "b"])
        >>> exp.to_frame().to_dict("index")  # wide: row -> {feature: value}
        {0: {'a': 1.0, 'b': -2.0}}
        >>> exp.to_frame("long")
           row feature  value  data
        0    0       a    1.0   3.0
        1    0       b   -2.0   4.0
        """
        return explanation_frame(self, kind)

    def to_shap(self) -> Any:
        """Convert to ``shap.Explanation`` (needs shap installed) for shap's plots.

        Image-shaped values are flattened to rows x features; a trailing output axis (Shapley
        values of every output at once) is kept, as shap does for multi-output models, with the
        outputs' names; interaction values keep their (feature, feature) axes. Features are
        named as in ``to_frame`` (x0, x1, ... when unnamed), so ``shap_exp[:, "name"]``,
        ``cohorts`` and shap's plots work. Values per group of features (grouped Shapley values)
        are named by the groups and carry no ``data``.
        """
        try:
            import shap
        except ImportError as error:
            raise ImportError("to_shap() needs shap: pip install shap") from error
        axes = value_axes(self)
        lead = () if self.single_row else (self.values.shape[0],)
        values = self.values.reshape(*lead, *(len(labels) for _, labels in axes))
        data = self.data.reshape(*lead, -1)
        if data.shape[-1] != len(axes[0][1]):
            data = None  # values per group of features: no data column
        base_values = None if self.base_values is None else np.asarray(self.base_values)
        if base_values is not None and self.single_row and base_values.ndim == 0:
            base_values = float(base_values)
        return shap.Explanation(
            values=np.asarray(values),
            base_values=base_values,
            data=None if data is None else np.asarray(data),
            feature_names=axes[0][1],
            output_names=axes[-1][1] if axes[-1][0] == "output" else None,
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this Explanation to one ``.npz`` file at exactly ``path`` (no suffix added).

        Every array field (``values``, ``data``, ``base_values``, ``target``, ``delta``,
        ``stderr``, ``layer_relevance``, ...) is an ``.npy`` member; names, ``method``,
        ``options`` and ``single_row`` are JSON (see "Saved files" in ``docs/architecture.md``).
        Nothing is pickled. Options JSON cannot hold (a composite, a rule, a progress callable)
        are kept by their repr: they load as ``glassbox.saving.SavedObject`` values that print
        the same. Object ``data`` (a DataFrame with strings) may hold str, int, float, bool and
        None values (NumPy scalars load as Python ones); anything else is a ``TypeError``.

        Examples
        --------
        >>> import os, tempfile, numpy as np
        >>> exp = Explanation(values=np.ones((2, 3)), data=np.zeros((2, 3)), method="demo",
        ...                   feature_names=["a", "b", "c"], options={"n_steps": 8})
        >>> path = os.path.join(tempfile.mkdtemp(), "exp.npz")
        >>> exp.save(path)
        >>> back = Explanation.load(path)
        >>> back.feature_names, back.options, bool((back.values == exp.values).all())
        (['a', 'b', 'c'], {'n_steps': 8}, True)
        """
        saving.write(
            path, saving.EXPLANATION, saving.explanation_content(self), lenient=("options",)
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Explanation:
        """Read an Explanation written by :meth:`save`; a corrupt, hostile or newer-version file
        is a ``ValueError`` naming the path and the problem (``glassbox.load`` reads models too).

        Examples
        --------
        >>> Explanation.load("no/such/explanation.npz")
        Traceback (most recent call last):
        ValueError: path: no glassbox file at 'no/such/explanation.npz' (file does not exist)
        """
        _, content = saving.read(path, (saving.EXPLANATION,))
        return saving.explanation_from_content(content, os.fspath(path))
