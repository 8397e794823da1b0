"""The ``glassbox`` command line (console script and ``python -m glassbox``).

Examples
--------
$ glassbox demo --rows 100 --steps 32
$ glassbox explain model.onnx data.parquet --method ig --out attributions.parquet
$ glassbox importance model.gb data.csv --label y --out importance.csv
$ glassbox pdp model.gb data.csv --feature age --out pdp.csv
$ glassbox report model.gb data.csv --label y --out report.html
$ glassbox inspect model.onnx --svg model.svg
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import metadata

from glassbox.jobs.files import EXIT_CODES, positive_int


def _version() -> str:
    """The installed version and the compiled core's CPU level (``glassbox.cpu_level()``)."""
    from glassbox import cpu_level

    try:
        version = metadata.version("glassbox")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return f"{version} (compiled core: {cpu_level()})"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``glassbox`` command."""
    parser = argparse.ArgumentParser(
        prog="glassbox",
        description="glassbox: fast explanations of neural-network predictions on the CPU.",
        epilog="Run glassbox COMMAND --help for a command's options and examples.\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="explain a small scikit-learn MLP on the breast-cancer data and time it",
        description=(
            "Fit a small MLPClassifier on scikit-learn's bundled breast-cancer data, explain every "
            "row with Integrated Gradients (Gauss-Legendre) and Saliency, print the top features, "
            "and time glassbox against a literal NumPy implementation of the same job. "
            'Needs scikit-learn (pip install "glassbox[demo]").'
        ),
    )
    demo.add_argument(
        "--rows",
        type=positive_int,
        default=None,
        help="explain only the first N rows (default: all 569)",
    )
    demo.add_argument(
        "--steps", type=positive_int, default=50, help="Integrated Gradients steps (default: 50)"
    )
    demo.add_argument("--top", type=positive_int, default=10, help="features to list (default: 10)")
    demo.add_argument("--seed", type=int, default=0, help="random_state of the MLP (default: 0)")
    from glassbox.inspect import command as inspect_command
    from glassbox.jobs import effects, explain
    from glassbox.reporting import command as report_command

    explain.add_parser(commands)
    effects.add_parsers(commands)
    report_command.add_parser(commands)
    inspect_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``glassbox`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> import sklearn  # the demo fits a scikit-learn MLP
    >>> from glassbox.cli import main
    >>> main(["demo", "--rows", "5", "--steps", "4", "--top", "3"])  # doctest: +ELLIPSIS
    Fitted MLPClassifier 30-64-32-1 on the breast-cancer data (569 rows) in ...
    Top 3 features (mean |attribution| over rows, standardised inputs):
      rank  feature ...
    Integrated Gradients (gausslegendre, 4 steps, target = predicted class) on 5 rows x 30 features:
      glassbox ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from glassbox.demo import run_demo

        return run_demo(rows=args.rows, n_steps=args.steps, top=args.top, seed=args.seed)
    if args.command == "explain":
        from glassbox.jobs.explain import run

        return run(args)
    if args.command in ("importance", "pdp"):
        from glassbox.jobs.effects import run

        return run(args)
    if args.command == "inspect":
        from glassbox.inspect.command import run

        return run(args)
    if args.command == "report":
        from glassbox.reporting.command import run

        return run(args)
    parser.print_help()
    return 2
