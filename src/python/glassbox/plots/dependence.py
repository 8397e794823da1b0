"""glassbox.plots.dependence (being written)"""

from __future__ import annotations

from typing import Any


def scatter(
    exp: Any, feature: Any, color: Any = None, *, output: Any = None, ax: Any = None
) -> Any:
    """The dependence plot of one feature."""
    raise NotImplementedError("glassbox.plots.scatter: being written (issue 13)")
