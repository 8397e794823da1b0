"""glassbox.plots.pairs (being written)"""

from __future__ import annotations

from typing import Any


def interactions(result: Any, max_display: int = 20, *, output: Any = None, ax: Any = None) -> Any:
    """Interaction strengths of pairs as a heat map."""
    raise NotImplementedError("glassbox.plots.interactions: being written (issue 13)")
