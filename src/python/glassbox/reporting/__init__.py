"""``glassbox.report``: one self-contained HTML page about a model and its data.

This module is imported by ``import glassbox``: it must not import matplotlib (or anything heavy)
at module level; the page's figures import ``glassbox.plots`` when the report is made.
"""

from __future__ import annotations

import os
from typing import Any


def report(
    model: Any, X: Any, y: Any = None, path: str | os.PathLike[str] = "report.html", **options: Any
) -> str:
    """Write a self-contained HTML report about ``model`` on ``X`` to ``path``; return the path.

    Examples
    --------
    >>> callable(report)
    True
    """
    raise NotImplementedError("glassbox.report: being written (issue 13)")
