"""Explanation: what every explainer returns."""

from __future__ import annotations

import numbers
import os
from collections.abc import Collection
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
    tokens : list of list of str, or None
        Token models: per row, the text of its T tokens (one list for a single row); set by
        :meth:`with_tokens`. ``token_values()`` gives one score per token.
    skip_tokens : list of str or None
        The tokens that are padding (the text plots leave them out); None: ``"[PAD]"`` and
        ``"<pad>"``.
    inputs : dict of str -> tuple of int, or None
        Models with several inputs: the attributed inputs by name, with their per-sample
        shapes, in the order their values sit side by side in ``values`` and ``data``
        (inputs passed through, such as masks, are not among them). :meth:`by_input` splits
        the values into one array per input, as Captum returns them.

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
    tokens: list[list[str]] | None = None
    skip_tokens: list[str] | None = None
    inputs: dict[str, tuple[int, ...]] | None = None

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

    def __post_init__(self) -> None:
        if self.inputs is not None:
            object.__setattr__(self, "inputs", _checked_inputs(self.inputs, self))
        if self.tokens is not None:
            object.__setattr__(self, "tokens", _checked_tokens(self.tokens, self))

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
        single = isinstance(rows, (int, np.integer))
        tokens, names = self.tokens, self.feature_names
        if tokens is not None:
            picked_rows = np.atleast_1d(np.arange(n)[rows])
            tokens = [tokens[int(i)] for i in picked_rows]
            names = list(tokens[0]) if single else names  # one row: its tokens name its values
        return replace(
            self,
            **picked,
            layer_relevance=layers,
            single_row=single,
            tokens=tokens,
            feature_names=names,
        )

    def __repr__(self) -> str:
        parts = [f"method={self.method!r}", f"values.shape={self.values.shape}"]
        if self.delta is not None and np.size(self.delta):
            parts.append(f"max|delta|={float(np.max(np.abs(self.delta))):.3g}")
        return f"Explanation({', '.join(parts)})"

    def with_tokens(
        self,
        tokens: list[str] | list[list[str]] | None = None,
        *,
        tokenizer: Any = None,
        ids: Any = None,
        skip: Collection[str] | None = None,
    ) -> Explanation:
        """This Explanation with the text of each row's tokens (for ``plots.text``, tables).

        Parameters
        ----------
        tokens : list of str, or list of list of str
            One list per row (a plain list of str for a one-row Explanation), each of T tokens,
            T the length of the explained sequences (``values`` are (rows, T) or (rows, T, D)).
        tokenizer : object with ``convert_ids_to_tokens(list_of_ids)``
            Instead of ``tokens``: e.g. a Hugging Face tokenizer, applied to each row of
            ``ids``.
        ids : array (rows, T) of int, optional
            The token ids the tokenizer reads; default ``data`` (the explained token ids).
        skip : collection of str, optional
            The tokens that are padding (the text plots leave them out); default ``"[PAD]"``
            and ``"<pad>"``.

        A one-row Explanation also gets its tokens as ``feature_names`` (so bar and waterfall
        plots and tables name them); a token count other than T is a ``ValueError`` naming the
        row.

        Examples
        --------
        >>> import numpy as np
        >>> exp = Explanation(values=np.array([[0.5, -1.0, 0.0]]), data=np.array([[7, 4, 0]]))
        >>> exp = exp.with_tokens(["good", "bad", "[PAD]"])
        >>> exp.tokens, exp.feature_names, exp.token_values().tolist()
        ([['good', 'bad', '[PAD]']], ['good', 'bad', '[PAD]'], [[0.5, -1.0, 0.0]])
        >>> class Vocabulary:
        ...     words = ["[PAD]", "the", "cat", "sat"]
        ...     def convert_ids_to_tokens(self, ids):
        ...         return [self.words[i] for i in ids]
        >>> exp = Explanation(values=np.zeros((2, 2)), data=np.array([[1, 2], [3, 0]]))
        >>> exp.with_tokens(tokenizer=Vocabulary()).tokens
        [['the', 'cat'], ['sat', '[PAD]']]
        """
        if (tokens is None) == (tokenizer is None):
            raise ValueError("with_tokens: pass either tokens= or tokenizer= (exactly one)")
        if tokenizer is not None:
            convert = getattr(tokenizer, "convert_ids_to_tokens", None)
            if not callable(convert):
                raise TypeError(
                    "tokenizer: expected an object with convert_ids_to_tokens(ids) (a Hugging "
                    f"Face tokenizer), got {type(tokenizer).__name__}"
                )
            tokens = [list(convert(row)) for row in _token_ids(self.data if ids is None else ids)]
        elif ids is not None:
            raise ValueError("ids: only used with tokenizer=; tokens= are the text already")
        rows = _checked_tokens(_as_rows(tokens, self), self)
        names = list(rows[0]) if len(rows) == 1 else self.feature_names
        if skip is not None:
            if isinstance(skip, str) or not all(isinstance(t, str) for t in skip):
                raise TypeError(f"skip: expected a collection of token strings, got {skip!r:.80}")
            skip = sorted(skip)
        return replace(
            self,
            tokens=rows,
            feature_names=names,
            skip_tokens=self.skip_tokens if skip is None else skip,
        )

    def by_input(self, field: str = "values") -> dict[str, np.ndarray]:
        """One array per attributed input of a model with several (Captum's tuple of
        attributions): ``{name: array (rows, *input shape[, outputs])}`` cut from ``values``
        (or another per-feature field: ``"data"``, ``"stderr"``).

        Examples
        --------
        >>> import numpy as np
        >>> exp = Explanation(values=np.arange(5.0)[None], data=np.zeros((1, 5)),
        ...                   inputs={"x": (3,), "codes": (2,)})
        >>> {name: part.tolist() for name, part in exp.by_input().items()}
        {'x': [[0.0, 1.0, 2.0]], 'codes': [[3.0, 4.0]]}
        """
        if self.inputs is None:
            raise ValueError(
                "by_input: this Explanation is of a model with one input (inputs is None); "
                "use .values"
            )
        array = getattr(self, field)
        if array is None or field not in ("values", "data", "stderr"):
            raise ValueError(
                f"field: expected 'values', 'data' or 'stderr' (one that is set), got {field!r}"
            )
        array = np.asarray(array)
        lead = () if self.single_row else array.shape[:1]
        array = array.reshape(*lead, -1, *array.shape[len(lead) + 1 :])
        out, offset = {}, 0
        for name, shape in self.inputs.items():
            size = int(np.prod(shape))
            part = np.take(array, np.arange(offset, offset + size), axis=len(lead))
            out[name] = part.reshape(*lead, *shape, *array.shape[len(lead) + 1 :])
            offset += size
        return out

    def token_values(self) -> np.ndarray:
        """One score per token, float64 (rows, T) ((T,) for a single row): ``values`` as they
        are when they are (rows, T), summed over the trailing axes (the embedding dimension)
        when they are (rows, T, D) as layer attributions to an embedding are. Values of every
        output at once are not per-token sums: explain one output (``target=``) first.

        Examples
        --------
        >>> import numpy as np
        >>> exp = Explanation(values=np.ones((2, 3, 4)), data=np.zeros((2, 3)))
        >>> exp.token_values().shape, exp[0].token_values().tolist()
        ((2, 3), [4.0, 4.0, 4.0])
        """
        values = np.asarray(self.values, dtype=np.float64)
        lead = 1 if self.single_row else 2
        if values.ndim < lead:
            raise ValueError(
                f"token_values: values of shape {values.shape} have no token axis (expected "
                "(rows, T) or (rows, T, D))"
            )
        return values.reshape(*values.shape[:lead], -1).sum(axis=-1)

    def _repr_html_(self) -> str | None:
        """Jupyter: the tokens highlighted by their scores (the first 20 rows), when there are
        tokens and matplotlib (for the colour map); else None (the plain repr)."""
        if self.tokens is None:
            return None
        try:
            from glassbox.plots.text import text_html
        except ImportError:
            return None
        return text_html(self, rows=None if self.single_row else range(min(len(self), 20)))

    def to_frame(self, kind: str = "wide") -> Any:
        """The values as a pandas DataFrame (``to_pandas`` is the same).

        ``kind="wide"``: one row per explained row (index ``row``), one column per feature name;
        values with an output axis (every output explained at once) get a column MultiIndex
        (feature, output). ``kind="long"``: one row per (row, feature[, output]) with columns
        ``row``, ``feature``, ``output`` (the explained output's name, when there is a target or
        an output axis), ``value``, ``data`` (the feature's value in the row, when values are
        per feature), ``token`` (the position's token, when there are ``tokens``) and
        ``stderr`` (sampled estimates); a single row with tokens names its wide columns by
        them. Image positions are named
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


def stitch_rows(parts: list[tuple[np.ndarray, Explanation]], n: int) -> Explanation:
    """One Explanation of ``n`` rows from explanations of some of them: ``parts`` holds
    ``(rows, explanation)`` with the row indices each explains (together, each row once).
    Per-row fields and per-row option arrays are put back in row order; count options
    (``n_evaluated``) take their maximum; other fields come from the first part.

    Examples
    --------
    >>> a = Explanation(values=np.array([[1.0], [3.0]]), data=np.zeros((2, 1)))
    >>> b = Explanation(values=np.array([[2.0]]), data=np.zeros((1, 1)))
    >>> stitch_rows([(np.array([0, 2]), a), (np.array([1]), b)], 3).values.ravel().tolist()
    [1.0, 2.0, 3.0]
    """
    order = np.concatenate([rows for rows, _ in parts])
    if sorted(order.tolist()) != list(range(n)):
        raise ValueError(f"parts: expected each of the {n} rows once")
    inverse = np.argsort(order, kind="stable")
    exps = [exp for _, exp in parts]

    def joined(values: list[Any]) -> Any:
        if all(v is None for v in values):
            return None
        return np.concatenate([np.asarray(v) for v in values])[inverse]

    fields = {name: joined([getattr(e, name) for e in exps]) for name in Explanation._ROW_FIELDS}
    options = dict(exps[0].options)
    sizes = [len(rows) for rows, _ in parts]
    for key in list(options):
        values = [e.options.get(key) for e in exps]
        if all(
            isinstance(v, np.ndarray) and v.ndim and v.shape[0] == m
            for v, m in zip(values, sizes, strict=True)
        ):
            options[key] = joined(values)
        elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            options[key] = max(int(v) for v in values)
    layers = exps[0].layer_relevance
    if layers is not None:
        layers = {name: joined([e.layer_relevance[name] for e in exps]) for name in layers}
    return replace(exps[0], **fields, options=options, layer_relevance=layers, tokens=None)


def _checked_inputs(inputs: Any, exp: Explanation) -> dict[str, tuple[int, ...]]:
    """``inputs`` as {name: shape}, their sizes adding up to the values' feature axis."""
    if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise TypeError(f"inputs: expected a dict of input name -> shape, got {inputs!r:.80}")
    out = {}
    for name, shape in inputs.items():
        dims = tuple(shape) if isinstance(shape, (list, tuple)) else None
        if not dims or not all(isinstance(d, numbers.Integral) and int(d) > 0 for d in dims):
            raise ValueError(f"inputs[{name!r}]: expected a shape of positive ints, got {shape!r}")
        out[name] = tuple(int(d) for d in dims)
    lead = 0 if exp.single_row else 1
    values = np.asarray(exp.values)
    total = sum(int(np.prod(s)) for s in out.values())
    if values.ndim <= lead or values.shape[lead] != total:
        raise ValueError(
            f"inputs: the inputs hold {total} values per row, but values have shape {values.shape}"
        )
    return out


def _as_rows(tokens: Any, exp: Explanation) -> list[Any]:
    """``tokens`` as one list per row: a flat list of str is one row's."""
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (list, tuple)):
        raise TypeError(
            f"tokens: expected a list of str (one row) or one list per row, got "
            f"{type(tokens).__name__}"
        )
    if tokens and all(isinstance(t, str) for t in tokens):
        n = 1 if exp.single_row else int(np.shape(exp.values)[0])
        if n != 1:
            raise ValueError(
                f"tokens: a flat list of str names one row's tokens and this Explanation has "
                f"{n} rows; pass one list per row"
            )
        return [list(tokens)]
    return list(tokens)


def _checked_tokens(tokens: Any, exp: Explanation) -> list[list[str]]:
    """``tokens`` (one list per row) as lists of str, after checking there is one list per row
    and T tokens in each (T: the axis after the rows in ``values``)."""
    shape = np.shape(exp.values)
    n, rest = (1, shape) if exp.single_row else (shape[0], shape[1:])
    if not rest:
        raise ValueError(f"tokens: values of shape {shape} have no token axis")
    length = int(rest[0])
    if not isinstance(tokens, (list, tuple)) or len(tokens) != n:
        got = len(tokens) if isinstance(tokens, (list, tuple)) else type(tokens).__name__
        raise ValueError(f"tokens: expected one list of tokens per row ({n} rows), got {got}")
    rows = []
    for i, row in enumerate(tokens):
        if isinstance(row, str) or not isinstance(row, (list, tuple)):
            raise TypeError(f"tokens: row {i} must be a list of str, got {type(row).__name__}")
        if len(row) != length:
            raise ValueError(
                f"tokens: row {i} has {len(row)} tokens, expected {length} (the sequence "
                f"length T of values {tuple(shape)})"
            )
        bad = [t for t in row if not isinstance(t, str)]
        if bad:
            raise TypeError(f"tokens: row {i} holds a non-str token {bad[0]!r:.40}")
        rows.append(list(row))
    return rows


def _token_ids(ids: Any) -> list[list[int]]:
    """Token ids (rows, T) (or one row (T,)) as lists of int, checked to be whole numbers."""
    array = np.asarray(ids)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise ValueError(
            f"ids: expected token ids of shape (rows, T), got an array of shape {array.shape} "
            f"and dtype {array.dtype}; pass ids= (or tokens=)"
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError("ids: expected whole-number token ids; the array holds fractions")
    return array.astype(np.int64).tolist()
