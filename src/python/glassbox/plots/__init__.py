"""Plots of glassbox results (matplotlib, the ``plot`` extra).

Every function takes a glassbox result directly, draws on ``ax=`` (or ``fig=`` for several
panels) or on a new figure, returns the matplotlib Axes (or Figure) and never calls
``plt.show()``. ``plot(result)`` (and ``result.plot()``) picks the usual plot of any result.
``import glassbox`` does not import this module or matplotlib; ``glassbox.plots`` does.
"""

from __future__ import annotations

from glassbox.plots._figure import require_matplotlib

require_matplotlib()

from glassbox.plots.dispatch import plot  # noqa: E402

__all__ = ["plot"]
