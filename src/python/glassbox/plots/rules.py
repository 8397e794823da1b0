"""glassbox.plots.rules (being written)"""

from __future__ import annotations

from typing import Any


def lime(exp: Any, max_display: int = 10, *, ax: Any = None) -> Any:
    """One LIME row: weights as bars labelled by rules."""
    raise NotImplementedError("glassbox.plots.lime: being written (issue 13)")
