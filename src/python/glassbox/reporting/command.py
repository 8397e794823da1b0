"""``glassbox report MODEL DATA``: the report from files (the ``report`` subcommand of
``glassbox.cli``).

MODEL: a saved glassbox model (``glassbox.load``), an ``.onnx`` file (``glassbox.from_onnx``),
or, only with ``--allow-pickle``, a pickled / joblib scikit-learn model (``.pkl``, ``.pickle``,
``.joblib``: loading a pickle runs code from the file). DATA: ``.csv`` (a header row of names;
pandas when installed, else NumPy), ``.parquet`` (pandas with pyarrow, or polars) or ``.npy``
(``np.load(allow_pickle=False)``). ``--label COLUMN`` takes y out of DATA (a column index for
``.npy``). Exit codes: 0 written, 2 bad usage or input, 1 any other failure; errors are one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

PICKLES = (".pkl", ".pickle", ".joblib")
EXAMPLE = """example:
  glassbox report model.gb data.csv --label diagnosis --out report.html --rows 0,17 --budget 20

MODEL is a saved glassbox model (model.save(path)), an .onnx file, or, with --allow-pickle, a
pickled / joblib scikit-learn model. DATA is .csv (header row = names), .parquet or .npy."""


class InputError(ValueError):
    """A bad file or argument: exit code 2."""


def add_parser(commands: Any) -> None:
    """Add the ``report`` subcommand to ``commands`` (argparse subparsers)."""
    parser = commands.add_parser(
        "report",
        help="write a self-contained HTML report about a model on a data file",
        description=(
            "Compute global importance, Shapley values, partial dependence, interactions and\n"
            "local explanations within a time budget, and write them as one HTML file that\n"
            "loads nothing (figures inline)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.gb / .onnx / a pickle)")
    parser.add_argument("data", metavar="DATA", help="data file (.csv / .parquet / .npy)")
    parser.add_argument("--label", metavar="COLUMN", help="the column of DATA holding y")
    parser.add_argument("--out", default="report.html", help="HTML file (default: report.html)")
    parser.add_argument("--rows", type=_rows, help="rows shown one by one, e.g. 0,17,42")
    parser.add_argument("--budget", type=_seconds, default=20.0, help="seconds (default: 20)")
    parser.add_argument("--target", help="the output explained (index or name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every sample (default: 0)")
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a pickled / joblib MODEL (a pickle runs code: only files you trust)",
    )


def _rows(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected row indices like 0,17,42, got {text!r}"
        ) from None


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text}")
    return value


def load_model(path: str, allow_pickle: bool) -> Any:
    """The model in ``path`` (see the module docstring)."""
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise InputError(f"MODEL: no file at {path!r}")
    if suffix in PICKLES:
        if not allow_pickle:
            raise InputError(
                f"MODEL: {path!r} is a pickle, and loading a pickle runs code from the file; "
                "pass --allow-pickle if you trust it (or save the model with glassbox / ONNX)"
            )
        if suffix == ".joblib":
            import joblib

            return joblib.load(path)
        import pickle

        with open(path, "rb") as handle:
            return pickle.load(handle)  # the user passed --allow-pickle
    import glassbox as gb

    if suffix == ".onnx":
        return gb.from_onnx(path)
    loaded = gb.load(path)
    if isinstance(loaded, gb.Explanation):
        raise InputError(f"MODEL: {path!r} holds an Explanation, not a model")
    return loaded


def _frame_label(frame: Any, label: str | None) -> tuple[Any, Any]:
    """(X, y) of a pandas / polars DataFrame, y being column ``label`` (when given)."""
    if label is None:
        return frame, None
    if label not in list(frame.columns):
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise InputError(f"--label: DATA has no column {label!r} (columns: {shown})")
    kept = frame.drop(columns=[label]) if hasattr(frame, "iloc") else frame.drop(label)
    return kept, frame[label]


def _array_label(array: np.ndarray, label: str | None, names: list[str] | None) -> tuple:
    """(X, y, names) of a 2-D array, y being the column ``label`` (a name or an index)."""
    if array.ndim != 2:
        raise InputError(f"DATA: expected a table (rows x columns), got shape {array.shape}")
    if label is None:
        return array, None, names
    if names is not None and label in names:
        column = names.index(label)
    else:
        try:
            column = int(label)
        except ValueError:
            raise InputError(f"--label: DATA has no column {label!r}") from None
        if not -array.shape[1] <= column < array.shape[1]:
            raise InputError(f"--label: column {column} is out of range for {array.shape[1]}")
        column %= array.shape[1]
    keep = [j for j in range(array.shape[1]) if j != column]
    kept = None if names is None else [names[j] for j in keep]
    return array[:, keep], array[:, column], kept


def load_data(path: str, label: str | None) -> tuple[Any, Any, list[str] | None]:
    """(X, y, feature names or None) from ``path`` (see the module docstring)."""
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise InputError(f"DATA: no file at {path!r}")
    if suffix == ".npy":
        return _array_label(np.load(path, allow_pickle=False), label, None)
    if suffix == ".csv":
        try:
            import pandas as pd
        except ImportError:
            table = np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64)
            names = list(table.dtype.names or ())
            array = np.column_stack([table[name] for name in names])
            return _array_label(array, label, names)
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


def _target(text: str | None) -> int | str | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def run(args: argparse.Namespace) -> int:
    """Run ``glassbox report`` with parsed ``args``; return the exit code."""
    from glassbox.reporting import report

    try:
        model = load_model(args.model, args.allow_pickle)
        X, y, names = load_data(args.data, args.label)
        path = report(
            model,
            X,
            y,
            args.out,
            rows=args.rows,
            budget_s=args.budget,
            feature_names=names,
            target=_target(args.target),
            seed=args.seed,
        )
    except (ValueError, TypeError, ImportError, OSError) as error:
        return fail("report", error, 2)
    except Exception as error:  # a failure, not the user's input: exit 1, still one line
        return fail("report", error, 1)
    print(f"wrote {os.fspath(path)}")
    return 0


def fail(command: str, error: BaseException, code: int) -> int:
    """Print ``error`` as one line on stderr for subcommand ``command``; return ``code``."""
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"glassbox {command}: error: {message}", file=sys.stderr)
    return code
