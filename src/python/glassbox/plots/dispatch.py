"""``plot(result)``: the usual plot of any glassbox result (``result.plot()`` calls it)."""

from __future__ import annotations

from typing import Any

import numpy as np


def plot(result: Any, **kwargs: Any) -> Any:
    """Draw ``result`` with the plot that suits its type and shape; ``kwargs`` go to that plot.

    - ``Explanation``: ``text`` when it has tokens (``with_tokens``), ``interactions`` for
      interaction values, ``lime`` for one row of LIME,
      ``waterfall`` for any other single row with a base value (``bar`` without one),
      ``image`` for image-shaped values (rows x C x H x W or rows x H x W x C), else
      ``beeswarm``;
    - ``PermutationImportance``: ``bar``; ``PartialDependence``: ``partial_dependence``;
      ``ALE``: ``ale``; ``HStatistic``: ``interactions``; ``SurrogateTree``: ``tree``;
      ``WeightStats``: ``weights``; ``Summary``: ``layers``;
      ``compress.Sweep`` and ``compress.Compression``: ``compression``;
      ``Diagnosis`` and its parts: ``errors``; ``ActivationStats``: ``activations``.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -2.0], [0.5, 1.0]]),
    ...                      data=np.array([[3.0, 4.0], [1.0, 2.0]]), feature_names=["a", "b"])
    >>> ax = gb.plots.plot(exp)  # several rows of tabular values: the beeswarm
    >>> [label.get_text() for label in ax.get_yticklabels()]  # largest mean |value| on top
    ['a', 'b']
    """
    from glassbox import diagnosis, plots
    from glassbox.compress import Compression, Sweep
    from glassbox.explanation import Explanation
    from glassbox.inspect import ActivationStats, Summary, WeightStats
    from glassbox.inspection import ALE, HStatistic, PartialDependence, PermutationImportance
    from glassbox.surrogate import SurrogateTree
    from glassbox.tables import INTERACTION_METHODS

    if isinstance(result, Explanation):
        sample_ndim = np.ndim(result.data) - (0 if result.single_row else 1)
        if result.tokens is not None:
            return plots.text(result, **kwargs)
        if result.method in INTERACTION_METHODS:
            return plots.interactions(result, **kwargs)
        if result.single_row:
            if result.method == "lime":
                return plots.lime(result, **kwargs)
            if result.base_values is None:  # nothing to start a waterfall from (Saliency)
                return plots.bar(result, **kwargs)
            return plots.waterfall(result, **kwargs)
        if sample_ndim >= 2:
            return plots.image(result, **kwargs)
        return plots.beeswarm(result, **kwargs)
    for kind, draw in (
        (PermutationImportance, plots.bar),
        (PartialDependence, plots.partial_dependence),
        (ALE, plots.ale),
        (HStatistic, plots.interactions),
        (SurrogateTree, plots.tree),
        (WeightStats, plots.weights),
        (Summary, plots.layers),
        (Sweep, plots.compression),
        (Compression, plots.compression),
        ((diagnosis.Diagnosis, *diagnosis.PARTS), plots.errors),
        (ActivationStats, plots.activations),
    ):
        if isinstance(result, kind):
            return draw(result, **kwargs)
    raise TypeError(
        f"result: expected a glassbox result (Explanation, PermutationImportance, "
        f"PartialDependence, ALE, HStatistic, SurrogateTree, WeightStats, Summary, Sweep, "
        f"Compression, Diagnosis, ActivationStats), got "
        f"{type(result).__name__}"
    )
