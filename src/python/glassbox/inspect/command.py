"""``glassbox inspect MODEL``: a network's layer table and weight statistics on the terminal (the
``inspect`` subcommand of ``glassbox.cli``). MODEL is read by ``glassbox.jobs.files`` (a
saved glassbox model, an ``.onnx`` file, or a pickle with ``--allow-pickle``). Exit codes: 0
printed, 2 bad usage or input, 1 any other failure; errors are one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from glassbox.jobs.files import (
    add_command,
    load_model,
    run_command,
)

EXAMPLE = """examples:
  glassbox inspect model.onnx
  glassbox inspect lenet.gb --svg lenet.svg
  glassbox inspect mlp.joblib --allow-pickle --no-weights"""


def add_parser(commands: Any) -> None:
    """Add the ``inspect`` subcommand to ``commands`` (argparse subparsers)."""
    parser = add_command(
        commands,
        "inspect",
        "print a network's layers (shapes, parameters, multiply-adds) and weight health",
        "Print the layer table of a network (as torchinfo does) and the statistics of each\n"
        "dense / convolution layer's weights: spread, zeros, spectral norm, stable rank and\n"
        "the WeightWatcher heavy-tail exponent alpha.",
        EXAMPLE,
        data=False,
    )
    parser.add_argument(
        "--svg", metavar="FILE", help="also write the layer graph as a standalone SVG file"
    )
    parser.add_argument("--no-weights", action="store_true", help="print the layer table only")


def run(args: argparse.Namespace) -> int:
    """Run ``glassbox inspect`` with parsed ``args``; return the exit code."""
    from glassbox.inspect import summary, weights

    def body() -> int:
        model = load_model(args.model, args.allow_pickle)
        layers = summary(model)
        print(layers)
        if not args.no_weights:
            print()
            print(weights(model))
        if args.svg:
            Path(args.svg).write_text(layers.graph_svg(), encoding="utf-8")
            print(f"wrote {args.svg}")
        return 0

    return run_command("inspect", body)
