"""Stand-ins for the plots the report draws, while they are being written (issue 13).

``use_standins(monkeypatch)`` wraps each plot of ``glassbox.plots`` the report calls: the real
plot is called first, and only when it raises NotImplementedError (a stub) does a tiny stand-in
draw the same numbers. Once every plot exists the stand-ins never run; delete this file and its
fixture then.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np


def _bar(result: Any, ax: Any = None, **_: Any) -> Any:
    if hasattr(result, "importances_mean"):
        values = np.asarray(result.importances_mean)
    else:
        values = np.abs(np.asarray(result.values)).mean(axis=0)
    ax.barh(np.arange(values.size), values)
    return ax


def _waterfall(exp: Any, ax: Any = None, **_: Any) -> Any:
    values = np.asarray(exp.values)
    ax.barh(np.arange(values.size), values)
    return ax


def _beeswarm(exp: Any, ax: Any = None, **_: Any) -> Any:
    values = np.asarray(exp.values)
    rows = np.repeat(np.arange(values.shape[1])[None], values.shape[0], axis=0)
    data = np.asarray(exp.data)
    colour = data.ravel() if data.dtype.kind in "biuf" else None  # DataFrames with strings
    ax.scatter(values.ravel(), rows.ravel(), c=colour, s=4)
    return ax


def _curve(result: Any, fig: Any = None, **_: Any) -> Any:
    ax = fig.add_subplot()
    if hasattr(result, "average"):
        ax.plot(result.grid_values[0], np.asarray(result.average)[0], lw=3)
    else:
        ax.plot(result.edges[0], np.asarray(result.values)[0], lw=3)
    return fig


def _interactions(result: Any, ax: Any = None, **_: Any) -> Any:
    n = len(result.features)
    grid = np.zeros((n, n))
    where = {f: i for i, f in enumerate(result.features)}
    for (a, b), h2 in zip(result.pairs, np.asarray(result.pairwise)[:, 0], strict=True):
        grid[where[a], where[b]] = grid[where[b], where[a]] = h2
    ax.imshow(grid, cmap="viridis")
    return ax


STANDINS: dict[str, Callable[..., Any]] = {
    "bar": _bar,
    "waterfall": _waterfall,
    "beeswarm": _beeswarm,
    "partial_dependence": _curve,
    "ale": _curve,
    "interactions": _interactions,
}


def _tolerant(real: Callable[..., Any], standin: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def draw(*args: Any, **kwargs: Any) -> Any:
        try:
            return real(*args, **kwargs)
        except NotImplementedError:
            return standin(*args, **kwargs)

    return draw


def use_standins(monkeypatch: Any) -> None:
    """Wrap the report's plots in ``glassbox.plots`` with their stand-ins (see the module)."""
    from glassbox import plots

    for name, standin in STANDINS.items():
        monkeypatch.setattr(plots, name, _tolerant(getattr(plots, name), standin))
