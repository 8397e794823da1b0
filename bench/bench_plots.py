"""The summary plot on many dots: ``glassbox.plots.beeswarm`` against ``shap.plots.beeswarm``,
drawn and rendered to PNG (Agg, ``savefig`` to memory) on the same values in the same run; and
the time and size of ``glassbox.report`` for the breast-cancer MLP with default settings.

Run ``python bench/bench_plots.py [--quick] [--rows N] [--features D]`` from the repository
root (or ``bench/run.py``). Default: 100,000 rows x 30 features, ``max_display=20`` (19 features
and the sum of the other 11: 2,000,000 dots). The issue's target: glassbox under 3 s.

Values: synthetic attributions of a linear-ish model (each feature's value times a weight,
plus noise) with the feature data they come from, so both plots colour every dot. Each timed
call builds a new figure, draws, renders the PNG and closes the figure.
"""

from __future__ import annotations

import argparse
import io
import warnings
from typing import Any

import numpy as np

from common import Row, format_text, time_it

ROWS, FEATURES, MAX_DISPLAY = 100_000, 30, 20
QUICK_ROWS = 2_000


def values_and_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic attributions (rows x features) and the data behind them."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, features))
    weights = np.geomspace(2.0, 0.05, features)
    values = data * weights + 0.1 * weights * rng.normal(size=(rows, features))
    return values, data


def _png(figure: Any) -> int:
    """Render ``figure`` to PNG in memory with Agg, close it, return the PNG's size."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.tell()


def glassbox_beeswarm(exp: Any) -> int:
    import glassbox as gb

    ax = gb.plots.beeswarm(exp, max_display=MAX_DISPLAY)
    return _png(ax.get_figure(root=True))


def shap_beeswarm(shap_exp: Any) -> int:
    import matplotlib.pyplot as plt
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap.plots.beeswarm(shap_exp, show=False, max_display=MAX_DISPLAY)
    return _png(plt.gcf())


def report_row() -> Row:
    """``glassbox.report`` for the breast-cancer MLP of ``glassbox demo`` with default settings
    (the issue's target: under 20 s and 3 MB)."""
    import os
    import tempfile

    import glassbox as gb
    from glassbox.demo import _fit_model

    mlp, X, y, names = _fit_model(0)
    model = gb.from_sklearn(mlp)
    path = os.path.join(tempfile.mkdtemp(), "report.html")
    timing = time_it(lambda: gb.report(model, X, y, path=path, feature_names=names), repeats=3)
    size = os.path.getsize(path)
    return Row(
        "report (HTML page, default settings)",
        f"breast-cancer MLP 30-64-32-2, {len(X)} rows",
        timing.median,
        notes=[f"{size / 1e6:.2f} MB, budget_s=20"],
    )


def run(quick: bool, rows: int | None = None, features: int = FEATURES) -> list[Row]:
    import matplotlib

    matplotlib.use("Agg")
    import glassbox as gb

    n = rows or (QUICK_ROWS if quick else ROWS)
    values, data = values_and_data(n, features)
    exp = gb.Explanation(values=values, data=data, method="synthetic")
    shap_exp = exp.to_shap()
    repeats = 5
    mine = time_it(lambda: glassbox_beeswarm(exp), repeats=repeats)
    notes = [f"PNG {mine.result / 1e3:.0f} kB", "draw + render to PNG (Agg, dpi 100)"]
    try:
        peer = time_it(lambda: shap_beeswarm(shap_exp), repeats=repeats).median
    except ImportError:
        peer, notes = None, [*notes, "shap not installed"]
    dots = n * min(features, MAX_DISPLAY)
    return [
        Row(
            "beeswarm (summary plot)",
            f"{n:,} rows x {features} features, max_display={MAX_DISPLAY} ({dots:,} dots)",
            mine.median,
            peer=peer,
            peer_name="shap.plots.beeswarm",
            notes=notes,
        ),
        report_row(),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS} rows")
    parser.add_argument("--rows", type=int, default=None, help=f"rows (default {ROWS:,})")
    parser.add_argument("--features", type=int, default=FEATURES)
    args = parser.parse_args()
    print(format_text(run(args.quick, args.rows, args.features)))


if __name__ == "__main__":
    main()
