"""glassbox.plots.bars (being written)"""

from __future__ import annotations

from typing import Any


def bar(result: Any, max_display: int = 20, *, output: Any = None, ax: Any = None) -> Any:
    """Mean |value| per feature, or permutation importance."""
    raise NotImplementedError("glassbox.plots.bar: being written (issue 13)")


def waterfall(exp: Any, max_display: int = 10, *, output: Any = None, ax: Any = None) -> Any:
    """One row: from the base value to f(x)."""
    raise NotImplementedError("glassbox.plots.waterfall: being written (issue 13)")
