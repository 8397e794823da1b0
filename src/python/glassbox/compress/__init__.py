"""Compression probes: prune, quantise or distil a native network and measure what it did.

Probes, not a training framework: each returns a new ``CompressedModel`` (a ``NativeModel``
with a record of what was done) and never changes the model it is given.

- ``prune``: magnitude pruning with ``torch.nn.utils.prune`` semantics (``l1_unstructured``,
  ``global_unstructured``, ``ln_structured``) or relevance pruning (Yeom et al. 2021);
- ``quantize``: symmetric fake quantisation of the weights, as PyTorch's observers;
- ``distill``: a scikit-learn MLP student fitted to the logits;
- ``fidelity``: agreement, output error, accuracy, size and attribution agreement;
- ``sweep``: the probes at several amounts, as a table (``plots.compression`` draws it).
"""

from __future__ import annotations

from glassbox.compress._model import CompressedModel, Compression
from glassbox.compress.distill import distill
from glassbox.compress.fidelity import Fidelity, fidelity
from glassbox.compress.prune import prune
from glassbox.compress.quantize import quantize
from glassbox.compress.sweep import Sweep, sweep

__all__ = [
    "CompressedModel",
    "Compression",
    "Fidelity",
    "Sweep",
    "distill",
    "fidelity",
    "prune",
    "quantize",
    "sweep",
]
