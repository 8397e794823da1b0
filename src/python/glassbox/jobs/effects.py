"""``glassbox importance`` (permutation importance) and ``glassbox pdp`` (partial dependence and
ICE curves): global tables from a model file and a data file, written as CSV, Parquet or JSON
(or printed). Both read DATA whole (``jobs.files.load_data``): their statistics are over all the
rows; ``--max-rows N`` keeps the first N.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from glassbox.jobs.files import (
    add_command,
    format_from,
    load_data,
    load_model,
    positive_int,
    run_command,
    select_columns,
)

TABLE_FORMATS = ("csv", "parquet", "json")
METRICS = ("accuracy", "balanced_accuracy", "log_loss", "roc_auc", "r2", "mse", "mae")

IMPORTANCE_EXAMPLES = """examples:
  glassbox importance model.gb data.csv --label default
  glassbox importance forest.joblib --allow-pickle data.parquet --label price --metric r2 \\
      --n-repeats 10 --out importance.parquet

Writes one row per feature: feature, importances_mean, importances_std (the drop of the score
when the feature's column is permuted, over --n-repeats permutations). --metric defaults to
accuracy when the label holds classes (integers or strings), r2 when it holds real values."""

PDP_EXAMPLES = """examples:
  glassbox pdp model.gb data.csv --feature age
  glassbox pdp model.onnx data.parquet --feature age --feature income --target 1 \\
      --grid-resolution 20 --out pdp.csv
  glassbox pdp model.gb data.csv --feature age --kind individual --out ice.parquet

Writes one row per (feature, output, grid value): feature, value, output, average (and with
--kind individual / both, one row per data row: row, individual)."""


def add_parsers(commands: Any) -> None:
    """Add the ``importance`` and ``pdp`` subcommands to ``commands`` (argparse subparsers)."""
    importance = add_command(
        commands,
        "importance",
        "permutation feature importance of a model on a labelled data file",
        "Permutation feature importance (scikit-learn's semantics), in the core.",
        IMPORTANCE_EXAMPLES,
    )
    _common(importance)
    importance.add_argument("--label", required=True, metavar="COLUMN", help="the column of y")
    importance.add_argument("--metric", choices=METRICS, help="the score (default: see below)")
    importance.add_argument(
        "--n-repeats", type=positive_int, default=5, help="permutations (default: 5)"
    )
    importance.add_argument("--seed", type=int, default=0, help="permutation seed (default: 0)")

    pdp = add_command(
        commands,
        "pdp",
        "partial dependence (and ICE curves) of features of a model on a data file",
        "Partial dependence of the model's outputs on each --feature.",
        PDP_EXAMPLES,
    )
    _common(pdp)
    pdp.add_argument(
        "--feature",
        action="append",
        required=True,
        metavar="COL",
        help="a feature (name or index; repeatable: one curve each)",
    )
    pdp.add_argument("--label", metavar="COLUMN", help="a column of DATA to leave out (y)")
    pdp.add_argument("--target", help="the output (index or name; default: every output)")
    pdp.add_argument(
        "--kind", choices=("average", "individual", "both"), default="average", help="curves"
    )
    pdp.add_argument(
        "--grid-resolution", type=positive_int, default=100, help="grid points (default: 100)"
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="output table (.csv / .parquet / .json; default: print)")
    parser.add_argument("--format", choices=TABLE_FORMATS, help="default: --out's extension")
    parser.add_argument("--columns", metavar="A,B,C", help="the model's input columns, in order")
    parser.add_argument("--max-rows", type=positive_int, metavar="N", help="first N rows only")
    parser.add_argument("--threads", type=positive_int, metavar="N", help="threads")


def run(args: argparse.Namespace) -> int:
    """Run ``glassbox importance`` or ``glassbox pdp`` with parsed ``args``."""
    return run_command(args.command, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    fmt = table_format(args.out, args.format)
    X, y, _ = load_data(args.data, args.label)
    X = select_columns(X, args.columns)
    if args.max_rows is not None:
        X = X[: args.max_rows]
        y = None if y is None else y[: args.max_rows]
    width = X.shape[1]
    model = load_model(args.model, args.allow_pickle, n_inputs=width)
    frame = _importance(model, X, y, args) if args.command == "importance" else _pdp(model, X, args)
    write_table(frame, args.out, fmt)
    return 0


def _importance(model: Any, X: Any, y: Any, args: argparse.Namespace) -> Any:
    import glassbox as gb

    metric = args.metric or _default_metric(y)
    result = gb.permutation_importance(
        model,
        X,
        y,
        metric=metric,
        n_repeats=args.n_repeats,
        seed=args.seed,
        n_threads=args.threads,
        progress=False,
    )
    return result.to_frame()


def _default_metric(y: Any) -> str:
    """accuracy for classes (integers, strings, booleans), r2 for real values."""
    values = np.asarray(y)
    if values.dtype.kind == "f" and not np.all(np.mod(values[np.isfinite(values)], 1) == 0):
        return "r2"
    return "accuracy"


def _pdp(model: Any, X: Any, args: argparse.Namespace) -> Any:
    import pandas as pd

    import glassbox as gb

    target = None
    if args.target is not None:
        target = int(args.target) if args.target.lstrip("-").isdigit() else args.target
    frames = []
    for feature in args.feature:
        key: int | str = int(feature) if feature.lstrip("-").isdigit() else feature
        result = gb.partial_dependence(
            model,
            X,
            key,
            kind=args.kind,
            grid_resolution=args.grid_resolution,
            target=target,
            n_threads=args.threads,
            progress=False,
        )
        frame = result.to_frame("long")
        curves = ("output", "row", "average", "individual")
        name = next(c for c in frame.columns if c not in curves)  # the grid's column
        frame = frame.rename(columns={name: "value"})
        frame.insert(0, "feature", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def table_format(out: str | None, given: str | None) -> str | None:
    """``--format``, else the extension of ``--out`` (None: print the table)."""
    return given if out is None else format_from(out, given, TABLE_FORMATS)


def write_table(frame: Any, out: str | None, fmt: str | None) -> None:
    """Write a pandas DataFrame as ``fmt`` to ``out``, or print it when ``out`` is None."""
    if out is None:
        print(frame.to_string(index=False))
        return
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    elif fmt == "json":
        import json

        records = frame.to_dict(orient="records")  # numbers in their shortest round-trip form
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(records, handle, indent=1, default=lambda value: value.item())
    else:
        frame.to_csv(out, index=False)
    print(f"wrote {out}")
