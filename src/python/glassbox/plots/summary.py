"""glassbox.plots.summary (being written)"""

from __future__ import annotations

from typing import Any


def beeswarm(exp: Any, max_display: int = 20, *, output: Any = None, ax: Any = None) -> Any:
    """The summary plot of an Explanation."""
    raise NotImplementedError("glassbox.plots.beeswarm: being written (issue 13)")


def heatmap(exp: Any, max_display: int = 10, *, output: Any = None, ax: Any = None) -> Any:
    """Rows x features, rows in hierarchical-clustering order."""
    raise NotImplementedError("glassbox.plots.heatmap: being written (issue 13)")
