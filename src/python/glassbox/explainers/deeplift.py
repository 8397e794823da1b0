"""DeepLIFT (rescale rule) and DeepLiftSHAP. Each is a thin front over one core call; the
formulas and the differences from Captum are in docs/methods.md."""

from __future__ import annotations

from glassbox import _core
from glassbox.explainers.base import Explainer
from glassbox.explanation import Explanation


class DeepLift(Explainer):
    """DeepLIFT with the rescale rule (Shrikumar et al., 2017) against one reference per row.

    Every element-wise activation's derivative is replaced by the multiplier
    ``(y - y_ref) / (x - x_ref)`` of a forward pass on the baseline (the gradient where
    ``|x - x_ref| < 1e-10``, as Captum); softmax gets Captum's normalised multiplier; affine,
    BatchNorm, pooling by averaging, add, concat and reshape layers pass the gradient.
    ``values = (x - b) * multipliers``; ``delta = sum(values) - (f(x) - f(b))``.

    Parameters
    ----------
    model : NativeModel
    n_threads : int, optional
    memory_budget : int, optional
        Bytes one worker's block (input and reference passes) may use.
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.DeepLift(gb.from_torch(net))(X, baselines=0.0, target=1)
    >>> exp.values.shape, bool(abs(exp.delta).max() < 1e-5)  # delta: completeness gap per row
    ((5, 4), True)
    """

    method_name = "deeplift"

    def __call__(self, X: object, baselines: object = 0.0, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        base_rows = self._baselines(baselines, batch)
        result = self._call_core(_core.deeplift, flat, baselines=base_rows, targets=targets)
        return self._from_result(batch, result, targets)


class DeepLiftShap(Explainer):
    """DeepLiftSHAP: DeepLIFT averaged over the rows of a reference distribution.

    The references' activations are computed once; each block of (row, reference) pairs reads its
    reference pass from that cache. ``values = mean_j (x - r_j) * m(x, r_j)``;
    ``delta = sum(values) - (f(x) - mean_j f(r_j))`` (the mean of Captum's per-pair deltas).

    Parameters
    ----------
    model : NativeModel
    n_threads : int, optional
    memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> background = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    >>> exp = gb.DeepLiftShap(gb.from_torch(net))(X, baselines=background, target=1)
    >>> exp.values.shape, bool(abs(exp.delta).max() < 1e-5)
    ((5, 4), True)
    """

    method_name = "deeplift_shap"

    def __call__(self, X: object, baselines: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        rows = self._references(baselines)
        result = self._call_core(_core.deeplift_shap, flat, references=rows, targets=targets)
        return self._from_result(batch, result, targets)
