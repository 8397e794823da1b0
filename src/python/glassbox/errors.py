"""Exceptions glassbox raises on purpose."""

from __future__ import annotations


class UnsupportedLayerError(ValueError):
    """A framework layer or operator that glassbox cannot translate into a native network.

    The message names the layer (its name and type) and lists what is supported. Model-agnostic
    methods still work on such a model through ``glassbox.wrap``.

    Examples
    --------
    >>> import torch, glassbox as gb
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softsign())
    >>> try:
    ...     gb.from_torch(net)
    ... except gb.UnsupportedLayerError as error:
    ...     print("Softsign" in str(error), isinstance(error, ValueError))
    True True
    """


class NonFiniteWarning(RuntimeWarning):
    """A result holds NaN or Inf although the model's own outputs are finite: the method
    overflowed (a huge ``stdev``, a tiny ``kernel_width``, baselines near the float32 limits...).

    The message names the rows (or, for the inspection functions, the result fields) affected.
    When the model's outputs themselves are not finite, glassbox raises a ``ValueError`` naming
    the rows instead (docs/methods.md, "Input limits and non-finite results").

    Examples
    --------
    >>> import warnings, numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(1,))
    >>> _ = spec.add("dense", "steep", weight=np.array([[1e30]]), bias=np.zeros(1))
    >>> _ = spec.add("tanh", "act")
    >>> _ = spec.add("dense", "out", weight=np.array([[1e10]]), bias=np.zeros(1))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     exp = gb.Saliency(gb.build_network(spec), abs=False)(np.zeros((1, 1)))
    >>> [w.category.__name__ for w in caught], exp.values  # the slope at 0 is 1e40
    (['NonFiniteWarning'], array([[inf]], dtype=float32))
    """
