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
