"""``image(exp)``: attribution maps of image explanations, one row per image: the input, the map
(summed over channels) on one symmetric diverging colour scale, and the map over the input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox._names import is_name, resolve
from glassbox.plots._figure import (
    check_max_display,
    diverging_cmap,
    new_figure,
    outputs_of,
    symmetric_limit,
)
from glassbox.tables import labels_of

#: Images drawn at most by default (one row each).
MAX_IMAGES = 8
#: Channel counts a trailing image axis may have (greyscale, RGB, RGBA).
CHANNELS = (1, 3, 4)


def channels_last_layout(sample: tuple[int, ...]) -> bool:
    """Whether a 3-D image sample is (H, W, C) (Keras) rather than (C, H, W) (torch): its last
    axis is a channel count (1, 3 or 4) and its first is not.

    Examples
    --------
    >>> channels_last_layout((28, 28, 3)), channels_last_layout((3, 28, 28))
    (True, False)
    """
    return len(sample) == 3 and sample[-1] in CHANNELS and sample[0] not in CHANNELS


def _as_hwc(images: np.ndarray, channels_last: bool) -> np.ndarray:
    """(n, H, W, C) float images from (n, H, W), (n, C, H, W) or (n, H, W, C)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        return images[..., None]
    return images if channels_last else np.moveaxis(images, 1, -1)


def display_images(images: np.ndarray) -> np.ndarray:
    """(n, H, W, C) images scaled to [0, 1] each (its own minimum and maximum), as imshow
    draws them; a constant image is mid-grey.

    Examples
    --------
    >>> display_images(np.array([[[[2.0], [4.0]]]]))[0, 0, :, 0]
    array([0., 1.])
    """
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = np.divide(images - low, span, out=np.full_like(images, 0.5), where=span > 0)
    return np.clip(scaled, 0.0, 1.0)


def attribution_maps(
    exp: Any, outputs: Any = None, channels_last: bool | None = None
) -> tuple[np.ndarray, list[str | None], bool]:
    """The maps ``image`` draws: (n, k, H, W), each the values summed over the channels (a
    lower-resolution map, Grad-CAM's, resized bilinearly to the input's H x W), for the ``k``
    outputs picked by ``outputs`` (values with an output axis) or the one explained; the
    outputs' names (None: the row's own target) and whether the data are channels-last."""
    values = np.asarray(exp.values, dtype=np.float64)
    data = np.asarray(exp.data)
    if exp.single_row:
        values, data = values[None], data[None]
    if data.ndim not in (3, 4):
        raise ValueError(
            f"exp: image() draws explanations of images (rows x H x W, rows x C x H x W or rows "
            f"x H x W x C), got data of shape {data.shape}; use gb.plots.beeswarm or bar"
        )
    last = channels_last_layout(data.shape[1:]) if channels_last is None else bool(channels_last)
    names: list[str | None] = [None]
    if values.ndim == data.ndim + 1 and values.shape[:-1] == data.shape:  # an output axis
        picked, names = _pick_outputs(exp, values.shape[-1], outputs)
        values = np.moveaxis(values[..., picked], -1, 1)  # (n, k, *sample)
    elif outputs is not None:
        raise ValueError(
            "outputs: these values explain one output per row (no output axis); drop outputs= "
            "(the titles name each row's target)"
        )
    else:
        values = values[:, None]
    height, width = _as_hwc(data[:1], last).shape[1:3]
    n, k = values.shape[:2]
    if values.ndim == 5:  # a channel axis: summed
        values = values.sum(axis=-1 if last else 2)
    elif values.ndim != 4:
        raise ValueError(f"exp: values of shape {np.shape(exp.values)} are not image maps")
    if values.shape[2:] != (height, width):  # a layer's map (Grad-CAM): to the input's size
        from glassbox.explainers.guided import resize

        flat = values.reshape(n * k, *values.shape[2:]).astype(np.float32)
        values = resize(flat, (height, width), "bilinear").reshape(n, k, height, width)
    return values.astype(np.float64), names, last


def _pick_outputs(exp: Any, count: int, outputs: Any) -> tuple[list[int], list[str | None]]:
    labels = outputs_of(exp, count)
    if outputs is None:
        if count == 1:
            return [0], [labels[0]]
        raise ValueError(
            f"outputs: the values hold {count} outputs; pick them with outputs=<name or index, "
            f"or a list> (outputs: {', '.join(map(repr, labels[:12]))})"
        )
    wanted = [outputs] if is_name(outputs) or not isinstance(outputs, Sequence) else outputs
    picked = [resolve(o, exp.output_names, count, "outputs", what="output") for o in wanted]
    return picked, [labels[i] for i in picked]


def image(
    exp: Any,
    images: Any = None,
    outputs: Any = None,
    *,
    max_images: int = MAX_IMAGES,
    channels_last: bool | None = None,
    fig: Any = None,
) -> Any:
    """Attribution maps of images: one row per image, the input, its map and the map over it.

    Each map is the values summed over the channels (Saliency, IntegratedGradients, LRP,
    DeepLift, Occlusion, KernelShap with ``feature_mask=superpixels``, ...); a map of a layer
    (Grad-CAM without ``upsample``) is resized bilinearly to the input's size. All maps share
    ONE colour scale symmetric about 0 (``RdBu_r``: positive red, negative blue; the limit is
    the largest |value| over every panel) with one colour bar; the third column draws the map
    half-transparent over the input in greyscale. Inputs are scaled to [0, 1] per image for
    display.

    Parameters
    ----------
    exp : Explanation
        Of images: values (and data) rows x C x H x W (torch), rows x H x W x C (Keras) or
        rows x H x W; values may add an output axis, or be rows x H' x W' maps (Grad-CAM).
    images : array, optional
        The pictures to draw instead of ``exp.data`` (e.g. before normalisation), in the same
        layout and size.
    outputs : int, str or a list of them, optional
        With an output axis: the outputs drawn (a map and an overlay column each); required when
        there are several.
    max_images : int, default 8
        Rows drawn at most (the first ones; the title says how many there are).
    channels_last : bool, optional
        The layout of 3-D samples; default: (H, W, C) when the last axis has 1, 3 or 4 entries
        and the first does not.
    fig : matplotlib Figure, optional
        Drawn on (cleared first); default a new figure.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> rng = np.random.default_rng(0)
    >>> exp = gb.Explanation(values=rng.normal(size=(2, 3, 8, 8)), data=rng.random((2, 3, 8, 8)),
    ...                      method="saliency")
    >>> fig = gb.plots.image(exp)
    >>> maps = [ax.images[0] for ax in fig.axes if ax.get_title().startswith("saliency")]
    >>> bool(np.allclose(maps[0].get_array(), exp.values[0].sum(axis=0)))
    True
    >>> limit = np.abs(exp.values.sum(axis=1)).max()  # one scale, symmetric about 0
    >>> bool(maps[0].norm.vmin == -limit and maps[0].norm.vmax == limit)
    True
    """
    from glassbox.explanation import Explanation

    if not isinstance(exp, Explanation):
        raise TypeError(f"exp: expected a glassbox Explanation of images, got {type(exp).__name__}")
    count = check_max_display(max_images, "max_images")
    maps, names, last = attribution_maps(exp, outputs, channels_last)
    pictures = _pictures(exp, images, last)
    n = min(count, maps.shape[0])
    maps, pictures = maps[:n], pictures[:n]
    limit = symmetric_limit(maps)
    columns = 1 + 2 * maps.shape[1]
    figure = new_figure(fig, figsize=(2.3 * columns + 0.8, 2.3 * n + 0.6))
    grid = figure.subplots(n, columns, squeeze=False)
    row_labels = _row_labels(exp, n)
    shown = None
    for i in range(n):
        _draw_input(grid[i, 0], pictures[i])
        grid[i, 0].set_ylabel(row_labels[i], fontsize=9)
        for j, name in enumerate(names):
            title = exp.method or "attribution"
            title += f" ({name})" if name is not None else ""
            shown = _draw_map(grid[i, 1 + 2 * j], maps[i, j], limit, title)
            _draw_map(grid[i, 2 + 2 * j], maps[i, j], limit, "overlay", pictures[i])
    for ax in grid.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        if ax.get_subplotspec().rowspan.start > 0:
            ax.set_title("")  # column titles on the first row only
    figure.colorbar(shown, ax=grid, shrink=0.8, label="attribution (summed over channels)")
    total = len(exp) if not exp.single_row else 1
    if total > n:
        figure.suptitle(f"first {n} of {total} images (max_images={count})", fontsize=10)
    return figure


def _pictures(exp: Any, images: Any, channels_last: bool) -> np.ndarray:
    """The inputs to draw, (n, H, W, C) in [0, 1]: ``images`` when given (checked against the
    data's shape), else the explanation's data."""
    data = np.asarray(exp.data)
    shape = data.shape if not exp.single_row else (1, *data.shape)
    if images is None:
        pictures = data.reshape(shape)
    else:
        pictures = np.asarray(images)
        if exp.single_row and pictures.shape == shape[1:]:
            pictures = pictures[None]
        if pictures.shape[0] < shape[0] or pictures.shape[1:] != shape[1:]:
            raise ValueError(
                f"images: expected {shape[0]} images of shape {shape[1:]} (the explanation's "
                f"data), got an array of shape {pictures.shape}"
            )
    if not np.issubdtype(pictures.dtype, np.number):
        raise TypeError(f"images: expected numbers, got {pictures.dtype}")
    return display_images(_as_hwc(pictures[: shape[0]], channels_last))


def _row_labels(exp: Any, n: int) -> list[str]:
    """ "row i", with the row's target when each row explains its own."""
    labels = [f"row {i}" for i in range(n)]
    if exp.target is None:
        return labels
    targets = np.atleast_1d(np.asarray(exp.target))[:n]
    names = labels_of(exp.output_names, targets)
    return [f"{label}\n(target {name})" for label, name in zip(labels, names, strict=False)]


def _grey(picture: np.ndarray) -> np.ndarray:
    return picture[..., :3].mean(axis=-1)


def _draw_input(ax: Any, picture: np.ndarray) -> None:
    if picture.shape[-1] in (3, 4):
        ax.imshow(picture[..., :3])
    else:
        ax.imshow(_grey(picture), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_title("input", fontsize=9)


def _draw_map(
    ax: Any, values: np.ndarray, limit: float, title: str, under: np.ndarray | None = None
) -> Any:
    """``values`` on the shared symmetric scale [-limit, limit]; over ``under`` in greyscale
    (half-transparent) when given."""
    alpha = 1.0
    if under is not None:
        ax.imshow(_grey(under), cmap="gray", vmin=0.0, vmax=1.0)
        alpha = 0.6
    shown = ax.imshow(values, cmap=diverging_cmap(), vmin=-limit, vmax=limit, alpha=alpha)
    ax.set_title(title, fontsize=9)
    return shown
