"""The files a user names on the command line: MODEL and DATA, read once here for every subcommand
(``explain``, ``importance``, ``pdp``, ``report``, ``inspect``), and the one-line errors.

MODEL (``load_model``):

- a saved glassbox model (``model.save(path)``, read by ``glassbox.load``);
- ``.onnx``: ``glassbox.from_onnx``;
- TorchScript (``.pt``, ``.pth``, ``.ts``, ``.torchscript``: ``torch.jit.save`` of a scripted or
  traced module): ``torch.jit.load``, then ``glassbox.from_torch`` with the width of DATA as the
  input shape (torch.fx cannot trace TorchScript, so from_torch translates its ONNX export). If
  that fails the module is called as a Python function (``glassbox.wrap``): model-agnostic
  methods only, and a note on stderr says so;
- only with ``--allow-pickle``, a pickled / joblib model (``.pkl``, ``.pickle``, ``.joblib``): a
  scikit-learn estimator or pipeline, an XGBoost or LightGBM model (tree models are explained
  natively, ``glassbox.TreeShap`` / ``from_trees``). Loading a pickle runs code from the file.

DATA: ``.csv`` (a header row of names), ``.parquet`` or ``.npy`` (a 2-D array; its columns are
named x0, x1, ... and may be given by index). ``load_data`` reads a file whole (global methods,
the report); ``Source`` reads it in row batches (``glassbox explain``): Parquet by record batches
(``pyarrow.parquet.ParquetFile.iter_batches``), CSV through ``pyarrow.csv.open_csv`` (types from
the first block, numeric columns read as float64), NPY through a read-only memory map, so memory
depends on the batch, not the file.

Exit codes (``run_command``): 0 done, 2 bad usage or input (a missing file, an unknown column or
method, a method the model does not support, a pickle without ``--allow-pickle``), 1 any other
failure, 130 interrupted (Ctrl-C). Errors are one line on stderr: ``glassbox CMD: error: ...``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassbox._names import feature_labels, resolve

PICKLES = (".pkl", ".pickle", ".joblib")
TORCHSCRIPT = (".pt", ".pth", ".ts", ".torchscript")
DATA_KINDS = (".csv", ".parquet", ".npy")

#: The MODEL paragraph of every subcommand's help.
MODEL_HELP = """MODEL is a saved glassbox model (model.save(path)), an .onnx file, a TorchScript
file (.pt, .pth: torch.jit.save; converted for the width of DATA, or else called as a function,
for model-agnostic methods only), or, with --allow-pickle, a pickled / joblib scikit-learn,
XGBoost or LightGBM model (.pkl, .joblib: a pickle runs code, load only files you trust).
DATA is .csv (header row = names), .parquet or .npy (columns x0, x1, ... or by index)."""

#: What every subcommand's help says of the exit codes.
EXIT_CODES = """exit codes: 0 done, 2 bad usage or input, 1 failure, 130 interrupted (Ctrl-C);
errors are one line on stderr."""


class InputError(ValueError):
    """A bad file or argument: exit code 2."""


def fail(command: str, error: BaseException, code: int) -> int:
    """Print ``error`` as one line on stderr for subcommand ``command``; return ``code``."""
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"glassbox {command}: error: {message}", file=sys.stderr)
    return code


def run_command(command: str, body: Callable[[], int]) -> int:
    """Run ``body`` and turn what it raises into one line on stderr and an exit code: 2 for bad
    input (ValueError, TypeError, ImportError, OSError), 130 for Ctrl-C, 1 for anything else."""
    try:
        return body()
    except KeyboardInterrupt:
        print(f"glassbox {command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, ImportError, OSError) as error:
        return fail(command, error, 2)
    except Exception as error:  # a failure, not the user's input: exit 1, still one line
        return fail(command, error, 1)


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def add_command(
    commands: Any, name: str, summary: str, description: str, epilog: str, data: bool = True
) -> Any:
    """A subcommand's parser (``commands``: argparse subparsers): ``summary`` in the command
    list, ``description`` and ``epilog`` (examples) in its ``--help`` as written, followed by
    what MODEL and DATA may be (``MODEL_HELP``, with DATA) and the exit codes; with the
    arguments every subcommand reads files with: MODEL, DATA (unless ``data`` is False) and
    ``--allow-pickle``."""
    import argparse

    parser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="\n\n".join([epilog, *([MODEL_HELP] if data else []), EXIT_CODES]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.gb / .onnx / .pt / a pickle)")
    if data:
        parser.add_argument("data", metavar="DATA", help="data file (.csv / .parquet / .npy)")
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a pickled / joblib MODEL (a pickle runs code: only files you trust)",
    )
    return parser


def format_from(out: str, given: str | None, formats: Sequence[str]) -> str:
    """``--format`` when given, else the extension of ``--out`` (one of ``formats``)."""
    if given is not None:
        return given
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in formats:
        listed = ", ".join(formats[:-1]) + " or " + formats[-1]
        endings = ", ".join(f".{f}" for f in formats[:-1]) + f" or .{formats[-1]}"
        raise InputError(
            f"--format: cannot tell the format from --out {out!r}; give --format {listed}, or "
            f"an --out ending in {endings}"
        )
    return suffix


def _existing(path: str, argument: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{argument}: no file at {path!r}")
    return file


# -- MODEL ------------------------------------------------------------------------------------


def load_model(path: str, allow_pickle: bool, n_inputs: int | None = None) -> Any:
    """The model in ``path`` (see the module docstring); ``n_inputs``: the width of the rows it
    will see (needed for TorchScript)."""
    suffix = Path(path).suffix.lower()
    _existing(path, "MODEL")
    if suffix in PICKLES:
        return _load_pickle(path, suffix, allow_pickle)
    if suffix in TORCHSCRIPT:
        return _load_torchscript(path, n_inputs)
    import glassbox as gb

    if suffix == ".onnx":
        return gb.from_onnx(path)
    loaded = gb.load(path)
    if isinstance(loaded, gb.Explanation):
        raise InputError(f"MODEL: {path!r} holds an Explanation, not a model")
    return loaded


def _load_pickle(path: str, suffix: str, allow_pickle: bool) -> Any:
    if not allow_pickle:
        raise InputError(
            f"MODEL: {path!r} is a pickle, and loading a pickle runs code from the file; "
            "pass --allow-pickle if you trust it (or save the model with glassbox / ONNX)"
        )
    print(f"glassbox: loading the pickle {path!r} (it runs code from the file)", file=sys.stderr)
    if suffix == ".joblib":
        import joblib

        return joblib.load(path)
    import pickle

    with open(path, "rb") as handle:
        return pickle.load(handle)  # the user passed --allow-pickle


def _load_torchscript(path: str, n_inputs: int | None) -> Any:
    try:
        import torch
    except ImportError:
        raise InputError(f"MODEL: {path!r} is a TorchScript file, which needs torch") from None
    import warnings

    import glassbox as gb

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's deprecation of TorchScript: not the user's
            module = torch.jit.load(path, map_location="cpu")
    except Exception as error:
        raise InputError(
            f"MODEL: {path!r} is not a TorchScript file (torch.jit.save of torch.jit.script / "
            f"trace; a torch.save pickle is not read): {error}"
        ) from error
    if n_inputs is None:
        raise InputError(
            f"MODEL: a TorchScript model is converted for the width of DATA, and this command "
            f"reads none; convert it once with glassbox.from_torch(torch.jit.load({path!r}), "
            "input_shape=...) and save it (model.save)"
        )
    module.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the expected "exported to ONNX" note
            return gb.from_torch(module, input_shape=(n_inputs,))
    except (gb.UnsupportedLayerError, ValueError, TypeError, RuntimeError) as error:
        reason = " ".join(str(error).split())[:200]
        print(
            f"glassbox: the TorchScript model is called as a Python function (model-agnostic "
            f"methods only): it could not be converted to a native network ({reason})",
            file=sys.stderr,
        )

    def forward(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(X, np.float32))).numpy()

    return gb.wrap(forward, n_inputs=n_inputs)


# -- DATA, whole ------------------------------------------------------------------------------


def _frame_label(frame: Any, label: str | None) -> tuple[Any, Any]:
    """(X, y) of a pandas / polars DataFrame, y being column ``label`` (when given)."""
    if label is None:
        return frame, None
    names = [str(c) for c in frame.columns]
    if label not in names:
        raise InputError(resolve_error("--label", label, names))
    kept = frame.drop(columns=[label]) if hasattr(frame, "iloc") else frame.drop(label)
    return kept, frame[label]


def resolve_error(argument: str, key: str, names: Sequence[str]) -> str:
    """The one-line message for a column ``key`` DATA does not have."""
    try:
        resolve(key, names, len(names), argument, what="column")
    except (ValueError, TypeError) as error:
        return str(error).replace("no column named", "DATA has no column")
    return f"{argument}: DATA has no column {key!r}"  # pragma: no cover - resolve found it


def _array_label(array: np.ndarray, label: str | None) -> tuple:
    """(X, y, names) of a 2-D array, y being the column ``label`` (a name x<j> or an index)."""
    if array.ndim != 2:
        raise InputError(f"DATA: expected a table (rows x columns), got shape {array.shape}")
    names = feature_labels(None, array.shape[1])
    if label is None:
        return array, None, None
    column = column_index(label, names, "--label")
    keep = [j for j in range(array.shape[1]) if j != column]
    return array[:, keep], array[:, column], None


def column_index(key: str, names: Sequence[str], argument: str) -> int:
    """The index of column ``key`` (a name among ``names``, or an integer index)."""
    if key in names:
        return list(names).index(key)
    try:
        index = int(key)
    except ValueError:
        raise InputError(resolve_error(argument, key, names)) from None
    if not -len(names) <= index < len(names):
        raise InputError(f"{argument}: column {index} is out of range for {len(names)} columns")
    return index % len(names)


def load_data(path: str, label: str | None) -> tuple[Any, Any, list[str] | None]:
    """(X, y, feature names or None) from ``path`` read whole (see the module docstring)."""
    suffix = Path(path).suffix.lower()
    _existing(path, "DATA")
    if suffix == ".npy":
        return _array_label(np.load(path, allow_pickle=False), label)
    if suffix == ".csv":
        try:
            import pandas as pd
        except ImportError:
            table = np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64)
            names = list(table.dtype.names or ())
            array = np.column_stack([table[name] for name in names])
            X, y, _ = _array_label(array, None if label is None else str(names.index(label)))
            return X, y, [n for n in names if n != label]
        return (*_frame_label(pd.read_csv(path), label), None)
    if suffix == ".parquet":
        return (*_frame_label(read_parquet(path), label), None)
    raise InputError(f"DATA: expected a .csv, .parquet or .npy file, got {path!r}")


def read_parquet(path: str) -> Any:
    """A Parquet file as a DataFrame: pandas (with pyarrow or fastparquet), else polars."""
    try:
        import pandas as pd

        return pd.read_parquet(path)
    except ImportError:
        pass
    try:
        import polars as pl
    except ImportError:
        raise InputError(
            "DATA: reading .parquet needs pandas with pyarrow (pip install pandas pyarrow) or "
            "polars (pip install polars)"
        ) from None
    return pl.read_parquet(path)


def select_columns(X: Any, columns: str | None) -> Any:
    """The columns ``--columns a,b,c`` of ``X`` (a DataFrame, or an array: names x<j> or
    indices), in that order; all of them when ``columns`` is None."""
    if columns is None:
        return X
    keys = split_names(columns)
    if hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
        picked = [names[column_index(key, names, "--columns")] for key in keys]
        return X[picked]
    names = feature_labels(None, X.shape[1])
    return X[:, [column_index(key, names, "--columns") for key in keys]]


def split_names(text: str) -> list[str]:
    """``"a, b,c"`` as ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


# -- DATA, in row batches ---------------------------------------------------------------------


class Source:
    """A DATA file read in row batches: ``columns`` (names; x0, x1, ... for ``.npy``),
    ``n_rows`` (None for CSV until counted) and ``batches(...)``.

    Batches hold exactly ``batch_rows`` rows (the last one fewer), whatever the file's own
    blocks or row groups, so a batch's first row is a multiple of ``batch_rows`` and a resumed
    run sees the same batches as an uninterrupted one.
    """

    def __init__(self, path: str) -> None:
        self.path = _existing(path, "DATA")
        self.kind = self.path.suffix.lower()
        if self.kind not in DATA_KINDS:
            raise InputError(f"DATA: expected a .csv, .parquet or .npy file, got {path!r}")
        self.n_rows: int | None = None
        if self.kind == ".npy":
            self.array = np.load(self.path, mmap_mode="r", allow_pickle=False)
            if self.array.ndim != 2:
                raise InputError(
                    f"DATA: expected a table (rows x columns), got shape {self.array.shape}"
                )
            self.columns = feature_labels(None, self.array.shape[1])
            self.n_rows = int(self.array.shape[0])
            return
        import pyarrow as pa

        try:
            if self.kind == ".parquet":
                import pyarrow.parquet as pq

                file = pq.ParquetFile(self.path)
                self.schema = file.schema_arrow
                self.n_rows = int(file.metadata.num_rows)
            else:
                self.schema = self._csv_reader(None).schema
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(f"DATA: {path!r} could not be read: {error}") from error
        self.columns = list(self.schema.names)

    def index(self, key: str, argument: str) -> int:
        """The index of column ``key`` (a name, or an integer index)."""
        return column_index(key, self.columns, argument)

    def numeric(self, name: str) -> bool:
        """Whether column ``name`` holds numbers (always, for ``.npy``)."""
        if self.kind == ".npy":
            return True
        import pyarrow as pa

        kind = self.schema.field(name).type
        return pa.types.is_integer(kind) or pa.types.is_floating(kind)

    def _csv_reader(self, columns: Sequence[str] | None) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions()
        if columns is not None:
            convert = pacsv.ConvertOptions(
                include_columns=list(columns),
                # numbers as float64: an integer column with a decimal further down is no error
                column_types={c: pa.float64() for c in columns if self.numeric(c)},
            )
        return pacsv.open_csv(self.path, convert_options=convert)

    def count_rows(self) -> int:
        """The number of rows (a pass over one column of a CSV file; known for the others)."""
        if self.n_rows is None:
            self.n_rows = sum(len(b) for _, b in self.batches(1 << 16, self.columns[:1]))
        return self.n_rows

    def batches(
        self, batch_rows: int, columns: Sequence[str], start: int = 0
    ) -> Iterator[tuple[int, Any]]:
        """``(first_row, batch)`` from row ``start`` on: a ``pyarrow.Table`` of ``columns`` (CSV,
        Parquet) or a NumPy array of every column (NPY), ``batch_rows`` rows each."""
        if self.kind == ".npy":
            for first in range(start, self.n_rows or 0, batch_rows):
                yield first, np.array(self.array[first : first + batch_rows])
            return
        first = start
        for table in _exact(self._record_batches(batch_rows, columns, start), batch_rows):
            yield first, table
            first += table.num_rows

    def _record_batches(self, batch_rows: int, columns: Sequence[str], start: int) -> Iterator:
        if self.kind == ".parquet":
            import pyarrow.parquet as pq

            file = pq.ParquetFile(self.path)
            groups, skipped = [], 0
            for g in range(file.metadata.num_row_groups):
                rows = file.metadata.row_group(g).num_rows
                if groups or skipped + rows > start:
                    groups.append(g)
                else:
                    skipped += rows  # whole row groups before ``start`` are never read
            stream = file.iter_batches(
                batch_size=batch_rows, columns=list(columns), row_groups=groups
            )
            return _drop(stream, start - skipped)
        return _drop(iter(self._csv_reader(columns)), start)

    def head(self, n: int, columns: Sequence[str]) -> Any:
        """The first ``n`` rows (a ``pyarrow.Table`` of ``columns``, or a NumPy array)."""
        for _, batch in self.batches(n, columns):
            return batch
        raise InputError(f"DATA: {str(self.path)!r} has no rows")


def _drop(batches: Iterator, n: int) -> Iterator:
    """``batches`` (Arrow record batches) without their first ``n`` rows (read, not kept)."""
    for batch in batches:
        if n >= batch.num_rows:
            n -= batch.num_rows
            continue
        yield batch.slice(n) if n else batch
        n = 0


def _exact(batches: Iterator, size: int) -> Iterator:
    """Arrow record batches regrouped into tables of exactly ``size`` rows (the last fewer)."""
    import pyarrow as pa

    pending: list = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)
