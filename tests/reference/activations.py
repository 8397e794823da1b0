"""Literal NumPy references of glassbox.inspect's activation statistics, written from the
definitions in docs/methods.md ("Activation statistics"), on given layer outputs."""

from __future__ import annotations

import numpy as np

PREVIEW_ROWS = 256  # rows that fix the histogram edges of an unbounded layer
MARGIN = 0.005  # saturated: within 0.5% of the range from either end


def unit_maps(values: np.ndarray) -> np.ndarray:
    """(n, units, positions): channels of (n, C, H, W) outputs, else every element a unit."""
    values = np.asarray(values)
    n = values.shape[0]
    if values.ndim == 4:
        return values.reshape(n, values.shape[1], -1)
    return values.reshape(n, -1, 1)


def layer_stats(
    values: np.ndarray, bounds: tuple[float, float] | None, bins: int, preview: int = PREVIEW_ROWS
) -> dict[str, np.ndarray]:
    """One layer's statistics by their definitions: per unit the mean and population std over
    rows and positions, the fraction of rows where its whole map is exactly 0 / saturated, and
    the layer's histogram on fixed edges."""
    maps = unit_maps(values).astype(np.float64)
    n = maps.shape[0]
    mean = maps.mean(axis=(0, 2))
    std = maps.std(axis=(0, 2))
    zero = (maps == 0).all(axis=2).mean(axis=0)
    if bounds is None:
        saturated = np.full(maps.shape[1], np.nan)
        first = maps[: min(n, preview)]
        lo, hi = float(first.min()), float(first.max())
        span = hi - lo if hi > lo else max(1.0, abs(hi))
        low = 0.0 if lo >= 0 else lo - 0.1 * span
        high = hi + 0.1 * span
    else:
        low, high = bounds
        margin = MARGIN * (high - low)
        f32 = unit_maps(values).astype(np.float32)
        below, above = np.float32(low + margin), np.float32(high - margin)
        saturated = ((f32 < below) | (f32 > above)).all(axis=2).mean(axis=0)
    # the edges are float32 values and bins are computed in float32, as in the core
    low32 = np.float32(low)
    high32 = max(np.float32(high), np.nextafter(low32, np.float32(np.inf)))
    low, high = float(low32), float(high32)
    scale = np.float32(bins / (high - low))
    values32 = unit_maps(values).astype(np.float32).ravel()
    t = (values32 - low32) * scale
    t = np.where(t > 0, t, np.float32(0))
    t = np.where(t < np.float32(bins - 1), t, np.float32(bins - 1))
    inside = (values32 >= low32) & (values32 <= high32)
    counts = np.bincount(t[inside].astype(np.int32), minlength=bins)
    flat = maps.ravel()
    return {
        "mean": mean,
        "std": std,
        "zero_fraction": zero,
        "saturated_fraction": saturated,
        "edges": low + (high - low) * np.arange(bins + 1) / bins,
        "counts": counts,
        "below": np.sum(values32 < low32),
        "above": np.sum(values32 > high32),
        "min": flat.min(),
        "max": flat.max(),
    }


def pooled(values: np.ndarray, pool: str) -> np.ndarray:
    """(n, C) channel means or maxima of (n, C, H, W) outputs."""
    maps = unit_maps(values)
    return maps.mean(axis=2) if pool == "mean" else maps.max(axis=2)
