"""glassbox.plots.images (being written)"""

from __future__ import annotations

from typing import Any


def image(exp: Any, images: Any = None, outputs: Any = None, *, fig: Any = None) -> Any:
    """Attribution maps over the input images."""
    raise NotImplementedError("glassbox.plots.image: being written (issue 13)")
