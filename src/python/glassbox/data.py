"""The user's data as the core reads it: NumPy arrays, pandas and polars DataFrames, anything
with ``__array__``; and DataFrames rebuilt for the Python models that were fitted on them.

The core computes on float32 rows. A DataFrame is read into such rows through a ``Schema`` that
remembers its columns (names, dtypes, order) and encodes each one so that it comes back *by
value*:

- numeric and bool columns are their values (as float32); an original value float32 cannot hold
  exactly (a float64 with more digits, an int beyond 2^24) is remembered and restored when the
  same float32 value comes back, so a model sees the rows it was given. Values the method made
  (grid points, samples) come back as themselves. Missing values (NaN, ``pd.NA``, ``None``) stay
  NaN for Python models; the native engine refuses them (``check_finite_rows``).
- any other column (strings, objects, categoricals, dates) is coded: the core sees the index of
  the value in the column's table of distinct values, which grows as new rows are read. Methods
  that only move values between rows (Shapley values, permutation importance, ablation, PDP on
  the column's own values) work on codes unchanged; methods that do arithmetic on a feature
  (LIME's sampling, ALE's intervals) refuse coded columns by name.

No function here calls ``__array_function__`` (``np.shape`` would): frames are read column by
column and other objects through ``np.asarray`` (``__array__``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Columns with more distinct non-numeric values than this are refused: float32 codes are exact
#: integers only up to 2^24.
MAX_CODES = 2**24


def frame_kind(X: object) -> str | None:
    """ "pandas" or "polars" when ``X`` is a DataFrame of that library, else None (no import).

    >>> frame_kind([[1.0]]) is None
    True
    """
    module = type(X).__module__.split(".")[0]
    if type(X).__name__ == "DataFrame" and module in ("pandas", "polars"):
        return module
    return None


def is_missing(value: object) -> bool:
    """NaN, None, ``pd.NA``, ``NaT``: one test for every library's missing marker."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        result = value != value  # NaN, NaT and pd.NA (whose comparison is NA itself)
        return bool(result) if isinstance(result, (bool, np.bool_)) else True
    except (TypeError, ValueError):
        return False


@dataclass
class Column:
    """One column of a Schema: its name and dtype, and the values the core cannot carry itself.

    ``coded``: the core sees indices into ``table`` (the distinct values, in order of first
    appearance): every non-numeric column, and numeric ones too when the method only moves
    values between rows (``Schema.of(..., code_numbers=True)``: a copy by index is exact and
    cheaper to undo than a lookup by value). Otherwise the core sees the float32 values and
    ``exact`` maps the float32 value of each original that float32 cannot hold to that original
    (``Schema._numbers`` restores them).
    """

    label: Any
    dtype: Any
    coded: bool
    numeric: bool = True
    table: list[Any] = field(default_factory=list)
    codes: dict[Any, int] = field(default_factory=dict)
    exact: dict[float, Any] = field(default_factory=dict)
    _cache: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.label)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """The float32 column the core sees for ``values`` (a 1-D array of this column)."""
        if self.coded:
            return self._codes(values)
        floats = values.astype(np.float64, copy=False)
        out = floats.astype(np.float32)
        lossy = (out.astype(np.float64) != floats) & ~np.isnan(floats)
        # each distinct rounded value once (the first original seen wins), not once per row
        rounded, first = np.unique(out[lossy], return_index=True)
        for key, original in zip(rounded.tolist(), floats[lossy][first].tolist(), strict=True):
            self.exact.setdefault(key, original)
        return out

    def _codes(self, values: np.ndarray) -> np.ndarray:
        """Codes for ``values``: the distinct values are found in C (``np.unique``, or pandas'
        ``factorize`` for objects when pandas is installed), only they pass through Python."""
        if self.numeric:
            distinct, inverse = np.unique(values, return_inverse=True)
            return self._code_values(distinct)[inverse.reshape(-1)]
        try:
            import pandas as pd
        except ImportError:  # polars without pandas: one dictionary step per row
            return self._code_values(values)
        inverse, distinct = pd.factorize(values, use_na_sentinel=False)
        return self._code_values(np.asarray(distinct, dtype=object))[inverse]

    def _code_values(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(values.shape[0], dtype=np.float32)
        for i, value in enumerate(values.tolist()):
            key = _MISSING if is_missing(value) else value
            code = self.codes.get(key)
            if code is None:
                if len(self.table) >= MAX_CODES:
                    raise ValueError(
                        f"X: column {self.name!r} has more than {MAX_CODES} distinct values; "
                        "encode it as numbers first"
                    )
                code = self.codes[key] = len(self.table)
                self.table.append(None if key is _MISSING else value)
            out[i] = code
        return out

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The values of a coded column for its float32 codes (numeric columns are decoded by
        ``Schema``, all at once)."""
        size = len(self.table)
        if self._cache is None or self._cache[0] != size:  # rebuilt only when a value was added
            if self.numeric:
                table = np.array([np.nan if v is None else v for v in self.table], np.float64)
            else:
                table = np.empty(size, dtype=object)
                table[:] = self.table
            self._cache = (size, table)
        return self._cache[1][codes.astype(np.int64)]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _is_numeric(kind: str, dtype: object) -> bool:
    """Whether a column of this dtype holds numbers (bools count) the core can carry as values."""
    if kind == "polars":
        return bool(dtype.is_numeric()) or str(dtype) == "Boolean"  # type: ignore[attr-defined]
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def _column_values(X: Any, kind: str, label: Any, numeric: bool) -> np.ndarray:
    """One column as a 1-D NumPy array: float64 (missing as NaN) when numeric, else objects."""
    series = X[label] if kind == "pandas" else X.get_column(label)
    if numeric:
        if kind == "pandas":
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return series.cast(float).fill_null(float("nan")).to_numpy()
    if kind == "pandas":
        return series.to_numpy(dtype=object)
    values = series.to_list()
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # one object per row, even list values
        out[i] = value
    return out


@dataclass
class Schema:
    """The columns of the first DataFrame an explainer or function read: later frames are checked
    against it, rows are encoded for the core and rebuilt as frames for Python models.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.5, 2.0], "colour": ["red", "blue"]})
    >>> schema = Schema.of(frame)
    >>> rows = schema.encode(frame)
    >>> rows
    array([[1.5, 0. ],
           [2. , 1. ]], dtype=float32)
    >>> schema.decode(rows[::-1]).colour.tolist()
    ['blue', 'red']
    """

    kind: str
    columns: list[Column]
    _cache: Any = field(default=None, repr=False)

    @classmethod
    def of(cls, X: Any, code_numbers: bool = False) -> Schema:
        """The schema of the DataFrame ``X``; ``code_numbers``: numeric columns are coded too
        (for a method that only moves values between rows)."""
        kind = frame_kind(X)
        if kind is None:
            raise TypeError(f"X: expected a pandas or polars DataFrame, got {type(X).__name__}")
        columns = []
        for label, dtype in zip(list(X.columns), list(X.dtypes), strict=True):
            numeric = _is_numeric(kind, dtype)
            columns.append(Column(label, dtype, coded=code_numbers or not numeric, numeric=numeric))
        return cls(kind, columns)

    @classmethod
    def numeric(cls, names: list[str]) -> Schema | None:
        """The schema of a pandas DataFrame of float64 columns ``names`` (how an estimator fitted
        on a DataFrame is called on an array); None when pandas is not installed."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            return None
        float64 = np.dtype(np.float64)
        return cls("pandas", [Column(name, float64, coded=False) for name in names])

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def coded(self) -> list[str]:
        """The names of the non-numeric columns (which the core always sees as codes)."""
        return [column.name for column in self.columns if not column.numeric]

    @property
    def codes_numbers(self) -> bool:
        """Whether numeric columns are coded too (the core's rows are not their values)."""
        return any(column.coded and column.numeric for column in self.columns)

    def check(self, X: Any, name: str = "X") -> None:
        """``X`` has this schema's columns in this order, else a ValueError saying what differs."""
        labels = list(X.columns)
        expected = [column.label for column in self.columns]
        if labels != expected:
            missing = [str(c) for c in expected if c not in labels]
            extra = [str(c) for c in labels if c not in expected]
            detail = (
                f"missing {missing}, unexpected {extra}"
                if missing or extra
                else "same columns in another order"
            )
            raise ValueError(
                f"{name}: its columns differ from those the explainer was given first ({detail});"
                f" expected {[str(c) for c in expected]}; select them with {name}[columns]"
            )

    def encode(self, X: Any, name: str = "X") -> np.ndarray:
        """The float32 rows (n, d) the core sees for the frame ``X``."""
        self.check(X, name)
        n = int(X.shape[0])
        out = np.empty((n, len(self.columns)), dtype=np.float32)
        for j, column in enumerate(self.columns):
            values = _column_values(X, self.kind, column.label, not column.coded)
            out[:, j] = column.encode(values)
        return out

    def decode(self, rows: np.ndarray) -> Any:
        """A DataFrame of this schema's columns and dtypes holding the rows the core made."""
        rows = np.ascontiguousarray(rows, dtype=np.float32).reshape(-1, len(self.columns))
        block = self._numbers(rows)
        data = {}
        for j, column in enumerate(self.columns):
            data[column.label] = column.decode(rows[:, j]) if column.coded else block[:, j]
            if column.coded and column.numeric:
                block[:, j] = data[column.label]  # one float64 block for the frame
        if self.kind == "pandas":
            return _pandas_frame(self.columns, data, block)
        return _polars_frame(self.columns, data)

    def _numbers(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as float64 with every remembered original restored, for all the numeric
        columns at once (one vectorised lookup: the model is called on chunks of thousands of
        rows, and a per-value Python step would cost more than many models)."""
        block = rows.astype(np.float64)
        keys, originals, lossy = self._exact_table()
        if keys.size:
            values = np.ascontiguousarray(rows[:, lossy])
            position = np.arange(len(lossy), dtype=np.uint64) << np.uint64(32)
            code = values.view(np.uint32).astype(np.uint64) | position  # (column, float32 bits)
            slot = np.minimum(np.searchsorted(keys, code), keys.size - 1)
            hit = keys[slot] == code
            block[:, lossy] = np.where(hit, originals[slot], block[:, lossy])
        return block

    def _exact_table(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The sorted (column, float32 bits) keys of every remembered original, the originals
        and the columns that have any; rebuilt only when a new original was read."""
        lossy = [j for j, column in enumerate(self.columns) if column.exact and not column.coded]
        size = sum(len(self.columns[j].exact) for j in lossy)
        if self._cache is None or self._cache[0] != size:
            keys, originals = [np.empty(0, np.uint64)], [np.empty(0, np.float64)]
            for position, j in enumerate(lossy):
                exact = self.columns[j].exact
                bits = np.array(list(exact), dtype=np.float32).view(np.uint32).astype(np.uint64)
                keys.append(bits | (np.uint64(position) << np.uint64(32)))
                originals.append(np.array(list(exact.values()), dtype=np.float64))
            key, original = np.concatenate(keys), np.concatenate(originals)
            order = np.argsort(key)
            self._cache = (size, (key[order], original[order], lossy))
        return self._cache[1]

    def originals(self, rows: np.ndarray) -> np.ndarray:
        """The rows as the user's values, for ``Explanation.data``: float32 when float32 holds
        every value, float64 when a numeric column needs it, else an object array."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if not self.codes_numbers and not self.coded:
            if not any(column.exact for column in self.columns):
                return rows.copy()
        block = self._numbers(rows)  # the float64 values given, exactly
        for j, column in enumerate(self.columns):
            if column.coded and column.numeric:
                block[:, j] = column.decode(rows[:, j])
        if not self.coded:  # float32 when every column was float32: the values given
            single = all(column.dtype == np.float32 for column in self.columns)
            return block.astype(np.float32) if single else block
        out = block.astype(object)
        for j, column in enumerate(self.columns):
            if not column.numeric:
                out[:, j] = column.decode(rows[:, j])
        return out


def _pandas_frame(columns: list[Column], data: dict[Any, np.ndarray], block: np.ndarray) -> Any:
    import pandas as pd

    labels = [column.label for column in columns]
    if all(c.numeric and c.dtype == np.float64 for c in columns):
        return pd.DataFrame(block, columns=labels, copy=False)  # one float64 block: no copies
    series = {}
    for column in columns:
        values = data[column.label]
        try:
            if isinstance(column.dtype, np.dtype):
                series[column.label] = values.astype(column.dtype, copy=False)
            else:  # pandas' own dtypes (category, string, nullable ints)
                series[column.label] = pd.Series(values).astype(column.dtype)
        except (TypeError, ValueError):  # e.g. NaN in an int column: the values as they are
            series[column.label] = values
    return pd.DataFrame(series, columns=labels)


def _polars_frame(columns: list[Column], data: dict[Any, np.ndarray]) -> Any:
    import polars as pl

    series = []
    for column in columns:
        values = data[column.label]
        if values.dtype == object:
            values = [None if is_missing(v) else v for v in values.tolist()]
        try:
            series.append(pl.Series(column.label, values, dtype=column.dtype, strict=False))
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            series.append(pl.Series(column.label, values, strict=False))
    return pl.DataFrame(series)


@dataclass
class Table:
    """Data read for the core: ``rows`` (n, *sample shape) float32 (codes for coded columns),
    the column names (None for arrays) and the frame's ``Schema`` (None for arrays)."""

    rows: np.ndarray
    feature_names: list[str] | None = None
    schema: Schema | None = None


def read_array(X: object, name: str = "X") -> np.ndarray:
    """``X`` as a NumPy array through ``__array__`` (never ``__array_function__``), or the
    TypeError every entry point gives for what is not an array."""
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name}: expected a numeric array or a DataFrame, got {type(X).__name__}")
    try:
        return np.asarray(X)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name}: could not be read as a numeric array ({error})") from None


def read_table(
    X: object, schema: Schema | None = None, name: str = "X", code_numbers: bool = False
) -> Table:
    """``X`` read for the core. A DataFrame is encoded through ``schema`` (made from it when
    None, numeric columns coded too with ``code_numbers``); an array stays as it is (its checks
    come later, in ``as_batch``).

    Examples
    --------
    >>> read_table([[1.0, 2.0]]).rows
    array([[1., 2.]])
    """
    if frame_kind(X) is None:
        if schema is not None and (schema.coded or schema.codes_numbers):
            raise TypeError(
                f"{name}: the explainer was given a DataFrame (columns "
                f"{schema.feature_names}) and reads its values by column; pass a DataFrame with "
                "the same columns, not an array"
            )
        names = schema.feature_names if schema is not None else None
        return Table(read_array(X, name), names, schema)
    if schema is None:
        schema = Schema.of(X, code_numbers)
    return Table(schema.encode(X, name), schema.feature_names, schema)


def check_finite_rows(rows: np.ndarray, schema: Schema | None, what: str, name: str = "X") -> None:
    """The native engine computes on the numbers themselves: NaN (a missing value) or Inf in
    ``rows`` is a ValueError naming the method, the column and what to do."""
    finite = np.isfinite(rows)
    if finite.all():
        return
    row, col = (int(i) for i in np.argwhere(~finite)[0])
    column = f"column {schema.columns[col].name!r}" if schema is not None else f"feature {col}"
    raise ValueError(
        f"{name}: {what} computes on the values themselves and {column} holds NaN or Inf (first"
        f" at row {row}); impute or drop missing values first (the Shapley explainers, "
        "permutation_importance, partial_dependence and h_statistic pass them to a Python "
        "model, e.g. a pipeline with an imputer)"
    )


def check_numeric(schema: Schema | None, what: str, why: str, columns: object = None) -> None:
    """A TypeError when a method that does arithmetic on features meets coded columns.

    ``columns``: the indices the method does arithmetic on (default: all)."""
    if schema is None:
        return
    indices = range(len(schema.columns)) if columns is None else columns
    bad = [schema.columns[j].name for j in indices if not schema.columns[j].numeric]  # type: ignore[union-attr]
    if bad:
        raise TypeError(
            f"X: {what} needs numbers ({why}); columns {bad} are not numeric. Encode them as "
            "numbers in the data (and the model), or use a method that only moves values "
            "between rows (KernelShap, PermutationShapley, permutation_importance)"
        )
