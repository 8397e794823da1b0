"""NoiseTunnel: any gradient explainer averaged over noisy copies of its input (Captum's
``NoiseTunnel``: SmoothGrad, SmoothGrad^2, VarGrad).

The noisy copies of a chunk of rows are stacked into one batch and explained in one call of the
wrapped explainer (its core call runs them in parallel, GIL released); chunks of rows keep the
stacked batch under a bound. Noise is drawn per row from ``(seed, row)`` so results do not depend
on the chunking or the thread count. Only real-valued inputs get noise: token ids, masks and
other integer inputs of a model with several inputs keep their values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox._validation import check_choice, check_int, check_nonnegative, check_seed
from glassbox.explainers.base import Explainer
from glassbox.explainers.gradients import NT_TYPES
from glassbox.explanation import Explanation
from glassbox.models.inputs import input_columns, token_inputs, unpack
from glassbox.rows import first_row, row_offset

#: The most values one stacked batch of noisy copies holds (64 MiB of float32).
_STACK_VALUES = 1 << 24


class NoiseTunnel:
    """Average the attributions of ``explainer`` over ``nt_samples`` noisy copies of each row.

    Parameters
    ----------
    explainer : Explainer
        A gradient-family explainer (IntegratedGradients, Saliency, InputXGradient, DeepLift,
        LRP, LayerIntegratedGradients, ...).
    nt_type : str, default "smoothgrad"
        "smoothgrad" (mean), "smoothgrad_sq" (mean of squares) or "vargrad" (variance).
    nt_samples : int, default 5
    stdevs : float, default 1.0
        Standard deviation of the Gaussian noise, in input units.
    seed : int, default 0

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> ig = gb.IntegratedGradients(gb.from_torch(net), n_steps=16)
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.NoiseTunnel(ig, nt_samples=8, stdevs=0.1)(X, target=1)
    >>> exp.values.shape, exp.stderr.shape, exp.method
    ((5, 4), (5, 4), 'noise_tunnel(integrated_gradients)')
    """

    def __init__(
        self,
        explainer: Explainer,
        *,
        nt_type: str = "smoothgrad",
        nt_samples: int = 5,
        stdevs: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not isinstance(explainer, Explainer) or not explainer.needs_network:
            raise TypeError(
                "explainer: NoiseTunnel wraps a gradient explainer (IntegratedGradients, "
                f"Saliency, LRP, ...), got {type(explainer).__name__}"
            )
        self.explainer = explainer
        self.nt_type = check_choice(nt_type, "nt_type", NT_TYPES)
        self.nt_samples = check_int(nt_samples, "nt_samples", 1)
        self.stdevs = check_nonnegative(stdevs, "stdevs")
        self.seed = check_seed(seed)

    def __repr__(self) -> str:
        return (
            f"NoiseTunnel({self.explainer!r}, nt_type={self.nt_type!r}, "
            f"nt_samples={self.nt_samples}, stdevs={self.stdevs}, seed={self.seed})"
        )

    def _noisy_columns(self, model: Any, width: int) -> np.ndarray:
        """The flat columns that get noise: all of them, or for a model of several inputs the
        columns of its real-valued inputs; an error when none are real-valued."""
        inputs = model.inputs
        if not inputs:
            if -1 in token_inputs(model):
                raise ValueError(
                    "X: the model's input holds token ids, which take no noise; attribute at the "
                    "embedding (LayerIntegratedGradients) without NoiseTunnel"
                )
            return np.arange(width)
        columns = unpack(inputs, np.arange(width)[None])
        chosen = [
            c.ravel() for spec, c in zip(inputs, columns, strict=True) if spec.dtype == "float"
        ]
        if not chosen:
            names = [spec.name for spec in inputs]
            raise ValueError(
                f"X: the model's inputs {names} are all integers (ids, masks, codes), which take "
                "no noise; NoiseTunnel needs a real-valued input"
            )
        return np.concatenate(chosen)

    def __call__(self, X: object, **kwargs: Any) -> Explanation:
        """Explain ``X`` (as the wrapped explainer takes it); ``kwargs`` (``target=``,
        ``baselines=``, ...) go to the wrapped explainer, per-row arrays repeated per copy."""
        explainer = self.explainer
        batch, flat, _ = explainer._inputs(X, kwargs.get("target", 0) if "target" in kwargs else 0)
        model = explainer.model
        n, width, samples = flat.shape[0], flat.shape[1], self.nt_samples
        noisy = self._noisy_columns(model, width)
        chunk = max(1, _STACK_VALUES // max(1, width * samples))
        sums: list[np.ndarray] = []
        squares: list[np.ndarray] = []
        first: Explanation | None = None
        offset = first_row()  # the rows' place in a larger job (row_offset)
        for begin in range(0, n, chunk):
            rows = np.arange(begin, min(n, begin + chunk))
            stacked = np.repeat(flat[rows], samples, axis=0)
            for i, row in enumerate(rows):
                rng = np.random.default_rng([self.seed, offset + int(row)])
                draws = rng.normal(0.0, self.stdevs, size=(samples, noisy.size))
                block = stacked[i * samples : (i + 1) * samples]
                block[:, noisy] += draws.astype(np.float32)
            args = {key: _repeat(key, value, rows, n, samples) for key, value in kwargs.items()}
            with row_offset((offset + begin) * samples):  # the copies' place among all copies
                exp = explainer(_as_taken(model, stacked), **args)
            values = np.asarray(exp.values, dtype=np.float64)
            values = values.reshape(rows.size, samples, *values.shape[1:])
            q = values**2 if self.nt_type == "smoothgrad_sq" else values
            sums.append(q.mean(axis=1))
            squares.append((q**2).mean(axis=1))
            first = first or exp
        assert first is not None
        mean, mean_sq = np.concatenate(sums), np.concatenate(squares)
        variance = np.maximum(mean_sq - mean**2, 0.0)
        stderr = None
        if self.nt_type == "vargrad":
            values = variance
        else:
            values = mean
            if samples > 1:
                stderr = np.sqrt(variance * samples / (samples - 1) / samples).astype(np.float32)
        data = batch.copy()  # the batch may be the caller's own array: never hand it back
        if first.inputs is not None:  # several inputs: the attributed ones, side by side
            data = flat[:, input_columns(model.inputs, explainer._attributed_inputs())]
        return Explanation(
            values=values.astype(np.float32),
            data=data,
            inputs=first.inputs,
            feature_names=first.feature_names,
            output_names=first.output_names,
            target=None if first.target is None else _targets(explainer, kwargs, n),
            method=f"noise_tunnel({first.method})",
            options={
                **first.options,
                "nt_type": self.nt_type,
                "nt_samples": samples,
                "stdevs": self.stdevs,
                "seed": self.seed,
            },
            stderr=stderr,
        )


def _targets(explainer: Explainer, kwargs: dict[str, Any], n: int) -> np.ndarray | None:
    return explainer._targets(kwargs.get("target"), n)


def _repeat(key: str, value: Any, rows: np.ndarray, n: int, samples: int) -> Any:
    """A per-row argument for the chosen rows, each repeated ``samples`` times: ``target`` as a
    sequence of n entries, any other argument as an array of n rows of samples (one sample,
    a number or a per-input tuple pass as they are)."""
    if isinstance(value, (str, bytes)) or value is None:
        return value
    if isinstance(value, (list, np.ndarray)) or (key == "target" and isinstance(value, tuple)):
        array = np.asarray(value)
        per_row = array.ndim == 1 if key == "target" else array.ndim >= 2
        if per_row and array.shape[0] == n:
            return np.repeat(array[rows], samples, axis=0)
    return value


def _as_taken(model: Any, flat: np.ndarray) -> Any:
    """Flat rows as the explainer takes them: a tuple per input, or samples of input_shape."""
    if getattr(model, "inputs", None):
        return tuple(unpack(model.inputs, flat))
    return flat.reshape(flat.shape[0], *model.input_shape)
