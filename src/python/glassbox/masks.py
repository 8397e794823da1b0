"""Feature masks for the model-agnostic methods on images: ``superpixels``.

A feature mask (Captum's ``feature_mask``) is an int array of the sample's shape, or of a shape
that broadcasts to it, holding one group id per feature: features with equal ids are perturbed
together and share one value (``docs/methods.md``, "Images and feature groups").
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from glassbox._validation import check_int, check_sample_shape


def superpixels(shape: object, size: object, *, channels_last: bool = False) -> np.ndarray:
    """An int mask of ``shape`` with one id per ``size`` x ``size`` block of each channel plane.

    Parameters
    ----------
    shape : tuple of int
        The shape of one sample: ``(H, W)``, ``(C, H, W)`` or, with ``channels_last=True``,
        ``(H, W, C)``. ``(1, H, W)`` makes one mask that every channel shares (it broadcasts
        to ``(C, H, W)``).
    size : int or (int, int)
        The block's height and width in pixels; blocks at the bottom and right edges are
        smaller when ``size`` does not divide the image.
    channels_last : bool, default False
        ``shape`` is ``(H, W, C)`` (a Keras image) rather than ``(C, H, W)``.

    Returns
    -------
    numpy.ndarray of int64, of shape ``shape``
        Ids ``0 .. k-1``: row-major blocks within a plane, planes in channel order (channel
        ``c`` holds ids ``c * blocks_per_plane ..``).

    Examples
    --------
    >>> import glassbox as gb
    >>> gb.superpixels((1, 3, 4), 2)
    array([[[0, 0, 1, 1],
            [0, 0, 1, 1],
            [2, 2, 3, 3]]])
    >>> gb.superpixels((2, 2, 2), 2)[:, 0, 0]  # one id per block of each channel plane
    array([0, 1])
    """
    dims = check_sample_shape(shape, "shape")
    if len(dims) not in (2, 3):
        raise ValueError(
            f"shape: expected (H, W), (C, H, W) or (H, W, C) with channels_last=True, got {dims}"
        )
    if isinstance(size, numbers.Integral):
        size = (size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size: expected an int or a pair of ints (height, width), got {size!r}")
    block_h, block_w = (check_int(s, "size", 1) for s in size)
    if len(dims) == 2:
        channels, (height, width) = 1, dims
    elif channels_last:
        height, width, channels = dims
    else:
        channels, height, width = dims
    if block_h > height or block_w > width:
        raise ValueError(
            f"size: a block of {block_h} x {block_w} pixels is larger than the {height} x {width} "
            "image"
        )
    rows, cols = -(-height // block_h), -(-width // block_w)
    plane = (np.arange(height)[:, None] // block_h) * cols + np.arange(width)[None, :] // block_w
    planes = plane[None] + (rows * cols) * np.arange(channels)[:, None, None]
    if len(dims) == 2:
        return planes[0].astype(np.int64)
    return (planes.transpose(1, 2, 0) if channels_last else planes).astype(np.int64)


def mask_groups(
    feature_mask: object, shapes: Sequence[tuple[int, ...]], name: str = "feature_mask"
) -> tuple[np.ndarray, np.ndarray]:
    """A feature mask as per-feature group indices (int64, flat) and the group ids in order.

    ``feature_mask`` holds integer ids in the sample's shape or a shape broadcastable to it
    (``(1, H, W)``: one mask shared by the channels); ``shapes`` are the sample shapes it may
    describe, tried in order (the model's, the data's). Group ``g`` is the ``g``-th smallest id.

    Examples
    --------
    >>> group_of, ids = mask_groups([[5, 7]], [(3, 2)])
    >>> group_of.tolist(), ids.tolist()
    ([0, 1, 0, 1, 0, 1], [5, 7])
    """
    try:
        mask = np.asarray(feature_mask)
    except ValueError:  # ragged
        mask = np.asarray(None)
    if mask.dtype == object or mask.ndim == 0 or not np.issubdtype(mask.dtype, np.integer):
        raise TypeError(
            f"{name}: expected an int array of group ids in the shape of a sample {shapes[0]} "
            f"(or broadcastable to it, e.g. (1, H, W)); got {type(feature_mask).__name__} "
            f"of dtype {mask.dtype}"
        )
    for shape in shapes:
        core = mask[0] if mask.ndim == len(shape) + 1 and mask.shape[0] == 1 else mask
        try:
            full = np.broadcast_to(core, shape)
        except ValueError:
            continue
        ids, group_of = np.unique(full, return_inverse=True)
        return group_of.reshape(-1).astype(np.int64), ids
    raise ValueError(
        f"{name}: has shape {mask.shape}, which does not broadcast to the shape of a sample "
        f"{shapes[0]}; pass a mask of that shape (e.g. glassbox.superpixels({shapes[0]}, 4))"
    )


__all__ = ["mask_groups", "superpixels"]
