"""glassbox.plots.curves (being written)"""

from __future__ import annotations

from typing import Any


def partial_dependence(result: Any, *, fig: Any = None) -> Any:
    """PDP with ICE lines, 2-D as contours."""
    raise NotImplementedError("glassbox.plots.partial_dependence: being written (issue 13)")


def ale(result: Any, *, fig: Any = None) -> Any:
    """ALE curves, 2-D as contours."""
    raise NotImplementedError("glassbox.plots.ale: being written (issue 13)")
