"""Literal NumPy references of the compression probes (glassbox.compress), written from
torch's definitions (torch.nn.utils.prune, torch.ao.quantization observers and
torch.fake_quantize_*) and from Yeom et al. 2021 for relevance pruning."""

from __future__ import annotations

import numpy as np


def l1_unstructured_mask(weight: np.ndarray, amount: float) -> np.ndarray:
    """torch.nn.utils.prune.l1_unstructured: the round(amount * size) smallest |w| get mask 0."""
    flat = np.abs(np.asarray(weight, dtype=np.float32)).ravel()
    k = round(amount * flat.size)
    mask = np.ones(flat.size, dtype=np.float32)
    order = sorted(range(flat.size), key=lambda i: flat[i])
    for i in order[:k]:
        mask[i] = 0.0
    return mask.reshape(np.shape(weight))


def global_unstructured_masks(weights: list[np.ndarray], amount: float) -> list[np.ndarray]:
    """torch.nn.utils.prune.global_unstructured with L1Unstructured over ``weights`` together."""
    joined = np.concatenate([np.asarray(w, dtype=np.float32).ravel() for w in weights])
    mask = l1_unstructured_mask(joined, amount)
    out, start = [], 0
    for w in weights:
        out.append(mask[start : start + np.size(w)].reshape(np.shape(w)))
        start += np.size(w)
    return out


def ln_structured_mask(weight: np.ndarray, amount: float, n: float) -> np.ndarray:
    """torch.nn.utils.prune.ln_structured with dim=0: the round(amount * rows) rows (output
    units / filters) of least L_n norm over all other axes get mask 0."""
    w = np.asarray(weight, dtype=np.float64)
    rows = w.shape[0]
    norms = [np.sum(np.abs(w[r]) ** n) ** (1.0 / n) for r in range(rows)]
    k = round(amount * rows)
    mask = np.ones(w.shape, dtype=np.float32)
    for r in sorted(range(rows), key=lambda r: norms[r])[:k]:
        mask[r] = 0.0
    return mask


def symmetric_scales(weight: np.ndarray, bits: int, per_channel: bool) -> np.ndarray:
    """The scales of torch's PerChannelMinMaxObserver / MinMaxObserver with a symmetric qscheme
    (quant range [-2^(bits-1), 2^(bits-1) - 1]): max(|min|, |max|) / ((qmax - qmin) / 2),
    at least float32 eps, in float32; one per output channel (axis 0) or one."""
    w = np.asarray(weight, dtype=np.float32)
    rows = w.reshape(w.shape[0], -1) if per_channel else w.reshape(1, -1)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    low = np.minimum(rows.min(axis=1), np.float32(0))
    high = np.maximum(rows.max(axis=1), np.float32(0))
    bound = np.maximum(-low, high)
    scale = (bound / np.float32((qmax - qmin) / 2)).astype(np.float32)
    return np.maximum(scale, np.finfo(np.float32).eps).astype(np.float32)


def fake_quantize(weight: np.ndarray, scales: np.ndarray, bits: int) -> np.ndarray:
    """torch.fake_quantize_per_channel_affine (axis 0) / per_tensor_affine with zero point 0,
    element by element as torch's CPU kernel: q = clamp(rint(w * (1 / s)), qmin, qmax) * s."""
    w = np.asarray(weight, dtype=np.float32)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    out = np.empty_like(w)
    for r in range(w.shape[0]):
        s = np.float32(scales[r] if scales.size > 1 else scales[0])
        inverse = np.float32(1.0) / s
        for index in np.ndindex(w.shape[1:]):
            q = min(max(np.rint(np.float32(w[(r, *index)] * inverse)), qmin), qmax)
            out[(r, *index)] = np.float32(q) * s
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties): Pearson of the ranks."""

    def ranks(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).ravel()
        out = np.empty(x.size)
        for i in range(x.size):
            out[i] = np.sum(x < x[i]) + (np.sum(x == x[i]) + 1) / 2
        return out

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float("nan") if denominator == 0 else float((ra * rb).sum() / denominator)
