"""glassbox.plots.tree (being written)"""

from __future__ import annotations

from typing import Any


def tree(result: Any, *, max_depth: int | None = None, ax: Any = None) -> Any:
    """The surrogate decision tree."""
    raise NotImplementedError("glassbox.plots.tree: being written (issue 13)")
