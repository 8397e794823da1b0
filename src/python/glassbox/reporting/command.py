"""``glassbox report MODEL DATA``: the report from files (the ``report`` subcommand of
``glassbox.cli``).

MODEL and DATA are read by ``glassbox.jobs.files`` (as every subcommand reads them): a saved
glassbox model, ``.onnx``, TorchScript, or with ``--allow-pickle`` a pickled / joblib model;
``.csv``, ``.parquet`` or ``.npy`` data. ``--label COLUMN`` takes y out of DATA (a name, or a
column index for ``.npy``). Exit codes: 0 written, 2 bad usage or input, 1 any other failure;
errors are one line.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from glassbox.jobs.files import (
    add_command,
    load_data,
    load_model,
    run_command,
)

EXAMPLE = """example:
  glassbox report model.gb data.csv --label diagnosis --out report.html --rows 0,17 --budget 20"""


def add_parser(commands: Any) -> None:
    """Add the ``report`` subcommand to ``commands`` (argparse subparsers)."""
    parser = add_command(
        commands,
        "report",
        "write a self-contained HTML report about a model on a data file",
        "Compute global importance, Shapley values, partial dependence, interactions and\n"
        "local explanations within a time budget, and write them as one HTML file that\n"
        "loads nothing (figures inline).",
        EXAMPLE,
    )
    parser.add_argument("--label", metavar="COLUMN", help="the column of DATA holding y")
    parser.add_argument("--out", default="report.html", help="HTML file (default: report.html)")
    parser.add_argument("--rows", type=_rows, help="rows shown one by one, e.g. 0,17,42")
    parser.add_argument("--budget", type=_seconds, default=20.0, help="seconds (default: 20)")
    parser.add_argument("--target", help="the output explained (index or name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every sample (default: 0)")


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

    def body() -> int:
        X, y, names = load_data(args.data, args.label)
        model = load_model(args.model, args.allow_pickle, n_inputs=X.shape[1])
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
        print(f"wrote {os.fspath(path)}")
        return 0

    return run_command("report", body)
