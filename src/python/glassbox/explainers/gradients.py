"""Gradient attributions: Saliency, Input x Gradient, Integrated Gradients, SmoothGrad,
GradientSHAP. Each is a thin front over one core call; docs/methods.md has the formulas."""

from __future__ import annotations

from typing import Any

from glassbox import _core
from glassbox._validation import (
    check_choice,
    check_int,
    check_nonnegative,
)
from glassbox.explainers.base import Explainer
from glassbox.explanation import Explanation
from glassbox.models.native import NativeModel
from glassbox.progress import ProgressArg

IG_METHODS = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")
NT_BASES = ("gradient", "saliency", "input_x_gradient")


def check_path(method: object, n_steps: object) -> tuple[str, int]:
    """Integrated gradients' ``method`` and ``n_steps``, checked (the trapezoid rule needs 2).

    >>> check_path("riemann_left", 8)
    ('riemann_left', 8)
    """
    method = check_choice(method, "method", IG_METHODS)
    return method, check_int(n_steps, "n_steps", 2 if method == "riemann_trapezoid" else 1)


class Saliency(Explainer):
    """Saliency map: the gradient of the target output with respect to the input.

    Parameters
    ----------
    model : NativeModel
    abs : bool, default True
        Return |gradient| (Simonyan et al.; Captum's default).
    n_threads : int, optional

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.Saliency(gb.from_torch(net))(X, target=1)
    >>> exp.values.shape, bool((exp.values >= 0).all())  # |gradient| of output 1 per feature
    ((5, 4), True)
    """

    method_name = "saliency"

    def __init__(
        self,
        model: NativeModel,
        *,
        abs: bool = True,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.abs = bool(abs)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        values = self._call_core(_core.input_gradients, flat, targets=targets, abs=self.abs)
        return self._explanation(batch, values, targets)


class InputXGradient(Explainer):
    """Input x Gradient: x * d f_target / d x; ``delta`` compares the sum with f(x) - f(0).

    Examples
    --------
    For a linear model without bias the attributions are x * w and complete (``delta`` = 0):

    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -2.0, 0.5]]), bias=None)
    >>> exp = gb.InputXGradient(gb.build_network(spec))(np.array([[1.0, 1.0, 2.0]]), target=0)
    >>> exp.values, exp.delta
    (array([[ 1., -2.,  1.]], dtype=float32), array([0.]))
    """

    method_name = "input_x_gradient"

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        result = self._call_core(_core.input_x_gradient, flat, targets=targets)
        return self._from_result(batch, result, targets)


class IntegratedGradients(Explainer):
    """Integrated Gradients (Sundararajan et al., 2017) along the straight path from a baseline.

    Parameters
    ----------
    model : NativeModel
    n_steps : int, default 50
        Quadrature points on the path.
    method : str, default "gausslegendre"
        One of "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid",
        "gausslegendre".
    n_threads : int, optional
    memory_budget : int, optional
        Bytes one worker's block of path points may use; bounds peak memory whatever the
        number of rows and steps.
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).
    fast_path : bool, default True
        For networks that open with Dense -> ReLU/LeakyReLU -> Dense, use the exact straight-path
        shortcut for those layers (each first-layer unit switches at most once along the path;
        see docs/methods.md). Results equal the full evaluation up to float rounding. False runs
        every path point through the whole network.

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.IntegratedGradients(gb.from_torch(net), n_steps=32)(X, baselines=0.0, target=1)
    >>> exp.values.shape, bool(abs(exp.delta).max() < 1e-3)  # delta: completeness gap per row
    ((5, 4), True)
    """

    method_name = "integrated_gradients"

    def __init__(
        self,
        model: NativeModel,
        *,
        n_steps: int = 50,
        method: str = "gausslegendre",
        n_threads: int | None = None,
        memory_budget: int | None = None,
        fast_path: bool = True,
        progress: ProgressArg = None,
    ) -> None:
        self.fast_path = bool(fast_path)
        self.method, self.n_steps = check_path(method, n_steps)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, baselines: object = 0.0, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        base_rows = self._baselines(baselines, batch)
        result = self._call_core(
            _core.integrated_gradients,
            flat,
            baselines=base_rows,
            targets=targets,
            method=self.method,
            n_steps=self.n_steps,
            fast_path=self.fast_path,
        )
        return self._from_result(batch, result, targets)


class _SampledGradient(Explainer):
    """What the sampled gradient methods share: draws per row, Gaussian noise, seed."""

    def _set_draws(self, n_samples: object, stdev: object, seed: object) -> None:
        self.n_samples = check_int(n_samples, "n_samples", 1)
        self.stdev = check_nonnegative(stdev, "stdev")
        self.seed = seed  # checked by Explainer.__init__

    def _draws(self) -> dict[str, Any]:
        return {"n_samples": self.n_samples, "stdev": self.stdev, "seed": self.seed}


class SmoothGrad(_SampledGradient):
    """Noise tunnel (Smilkov et al., 2017): average a gradient attribution over noisy copies.

    Parameters
    ----------
    model : NativeModel
    n_samples : int, default 50
        Noisy copies per row.
    stdev : float, default 1.0
        Standard deviation of the Gaussian noise, in input units (as Captum's ``stdevs``).
    nt_type : str, default "smoothgrad"
        "smoothgrad" (mean), "smoothgrad_sq" (mean of squares) or "vargrad" (variance).
    base : str, default "gradient"
        The attribution averaged: "gradient", "saliency" (|gradient|) or "input_x_gradient".
    seed : int, default 0
        Results are bit-identical for a seed, whatever the thread count.

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> smoothgrad = gb.SmoothGrad(gb.from_torch(net), n_samples=20, stdev=0.1, seed=0)
    >>> exp = smoothgrad(X, target=1)
    >>> exp.values.shape, bool((exp.values == smoothgrad(X, target=1).values).all())  # seeded
    ((5, 4), True)
    """

    method_name = "smoothgrad"

    def __init__(
        self,
        model: NativeModel,
        *,
        n_samples: int = 50,
        stdev: float = 1.0,
        nt_type: str = "smoothgrad",
        base: str = "gradient",
        seed: int = 0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self._set_draws(n_samples, stdev, seed)
        self.nt_type = check_choice(nt_type, "nt_type", NT_TYPES)
        self.base = check_choice(base, "base", NT_BASES)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        tunnel = {"nt_type": self.nt_type, "base": self.base}
        result = self._call_core(
            _core.noise_tunnel, flat, targets=targets, **self._draws(), **tunnel
        )
        return self._from_result(batch, result, targets)


class GradientShap(_SampledGradient):
    """GradientSHAP / expected gradients: gradients at random points between the input and
    references drawn from a baseline distribution, times (input - reference).

    Parameters
    ----------
    model : NativeModel
    n_samples : int, default 5
        Random (reference, alpha) draws per row.
    stdev : float, default 0.0
        Gaussian noise added to the input for each draw.
    seed : int, default 0

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> background = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    >>> exp = gb.GradientShap(gb.from_torch(net), n_samples=20)(X, baselines=background, target=1)
    >>> exp.values.shape, exp.base_values.shape  # base value: the mean output on the background
    ((5, 4), (5,))
    """

    method_name = "gradient_shap"

    def __init__(
        self,
        model: NativeModel,
        *,
        n_samples: int = 5,
        stdev: float = 0.0,
        seed: int = 0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self._set_draws(n_samples, stdev, seed)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, baselines: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        rows = self._references(baselines)
        result = self._call_core(
            _core.gradient_shap, flat, references=rows, targets=targets, **self._draws()
        )
        return self._from_result(batch, result, targets)
