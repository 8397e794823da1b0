"""Guided backprop, Deconvnet, Grad-CAM and Guided Grad-CAM: modified ReLU rules and gradients at a
named layer, each a thin front over one core call (formulas in docs/methods.md)."""

from __future__ import annotations

import numpy as np

from glassbox import _core
from glassbox._validation import check_choice
from glassbox.explainers.base import Explainer
from glassbox.explanation import Explanation
from glassbox.models.native import NativeModel
from glassbox.progress import ProgressArg

INTERPOLATE_MODES = ("nearest", "bilinear")


def _relu_gradients(
    explainer: Explainer, flat: np.ndarray, targets: np.ndarray, mode: str
) -> np.ndarray:
    """Gradients with the guided ("guided") or deconvnet ("deconv") ReLU rule."""
    return explainer._call_core(_core.modified_relu_gradients, flat, targets=targets, mode=mode)


class GuidedBackprop(Explainer):
    """Guided backpropagation (Springenberg et al., 2015): the gradient of the target with every
    ReLU passing back only positive gradient where its input was positive.

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.GuidedBackprop(gb.from_torch(net))(X, target=2)
    >>> exp.values.shape, exp.values[0].round(2)
    ((5, 4), array([-0.01,  0.05, -0.04,  0.1 ], dtype=float32))
    """

    method_name = "guided_backprop"
    _mode = "guided"

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        return self._explanation(batch, _relu_gradients(self, flat, targets, self._mode), targets)


class Deconvolution(GuidedBackprop):
    """Deconvnet (Zeiler & Fergus, 2014): every ReLU passes back ``max(gradient, 0)`` whatever
    its input was.

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> exp = gb.Deconvolution(gb.from_torch(net))(X, target=2)
    >>> bool(np.allclose(exp.values, exp.values[0]))  # one hidden ReLU layer: same for every row
    True
    """

    method_name = "deconvolution"
    _mode = "deconv"


def resize(maps: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """Resize (n, h, w) maps to (n, *size) as ``torch.nn.functional.interpolate`` does with
    ``mode`` "nearest" or "bilinear" (``align_corners=False``)."""
    _, h, w = maps.shape
    out_h, out_w = size

    def axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = n_in / n_out
        dst = np.arange(n_out, dtype=np.float64)
        if mode == "nearest":
            lo = np.minimum(np.floor(dst * scale).astype(np.int64), n_in - 1)
            return lo, lo, np.zeros(n_out, dtype=np.float32)
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
        lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (src - lo).astype(np.float32)

    y0, y1, ly = axis(h, out_h)
    x0, x1, lx = axis(w, out_w)
    ly, lx = ly[None, :, None], lx[None, None, :]
    top = maps[:, y0][:, :, x0] * (1 - lx) + maps[:, y0][:, :, x1] * lx
    bottom = maps[:, y1][:, :, x0] * (1 - lx) + maps[:, y1][:, :, x1] * lx
    return np.ascontiguousarray((top * (1 - ly) + bottom * ly).astype(np.float32))


def _layer_index(model: NativeModel, layer: object) -> int:
    """The index of the named layer; it must produce a spatial (C, H, W) output."""
    names = model.layer_names
    if not isinstance(layer, str):
        raise TypeError(f"layer: expected a layer name (str), got {type(layer).__name__}")
    if layer not in names:
        raise ValueError(
            f"layer: no layer named {layer!r}; available layers: {', '.join(map(repr, names))}"
        )
    index = names.index(layer)
    shape = tuple(model.network.layer_shapes[index])
    if len(shape) != 3:
        spatial = [n for n, s in zip(names, model.network.layer_shapes, strict=True) if len(s) == 3]
        raise ValueError(
            f"layer: Grad-CAM needs a layer with a spatial (C, H, W) output; {layer!r} has shape "
            f"{shape}. Spatial layers: {', '.join(map(repr, spatial)) or 'none'}"
        )
    return index


class GradCAM(Explainer):
    """Grad-CAM (Selvaraju et al., 2017) at a convolutional layer.

    ``w_c = mean_{h,w} d f_target / d A_c[h, w]`` and ``map = ReLU(sum_c w_c A_c)``, one map per
    row of shape (H', W') of the layer's output; with ``upsample=True`` the map is resized
    bilinearly (``align_corners=False``, as ``torch.nn.functional.interpolate``) to the input's
    (H, W).

    Parameters
    ----------
    model : NativeModel
    layer : str
        The layer's name as the framework names its module (e.g. ``"layer3.1.conv2"``).
    upsample : bool, default False

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...                     nn.Linear(36, 3))  # layers named "0" .. "4", as torch names them
    >>> images = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    >>> exp = gb.GradCAM(gb.from_torch(cnn), layer="0", upsample=True)(images, target=1)
    >>> exp.values.shape, bool((exp.values >= 0).all())  # one (H, W) map per image
    ((2, 8, 8), True)
    """

    method_name = "grad_cam"

    def __init__(
        self,
        model: NativeModel,
        *,
        layer: str,
        upsample: bool = False,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.layer = layer
        self.upsample = bool(upsample)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _setup(self) -> None:
        self.layer_index = _layer_index(self.model, self.layer)

    def _maps(self, flat: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(n, H', W') Grad-CAM maps of the layer."""
        _, height, width = self.model.network.layer_shapes[self.layer_index]
        maps = self._call_core(_core.grad_cam, flat, targets=targets, layer=self.layer_index)
        return maps.reshape(flat.shape[0], height, width)

    def _input_hw(self) -> tuple[int, int]:
        if len(self.model.input_shape) != 3:
            raise ValueError(
                f"upsample: needs an image input (C, H, W), the model's input shape is "
                f"{self.model.input_shape}"
            )
        return int(self.model.input_shape[1]), int(self.model.input_shape[2])

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        maps = self._maps(flat, targets)
        if self.upsample:
            maps = resize(maps, self._input_hw(), "bilinear")
        # the maps have the layer's (or the input's) spatial shape, not the shape of X
        return self._explanation(batch, maps, targets, reshape=False)


class GuidedGradCAM(GradCAM):
    """Guided Grad-CAM: guided backprop times the layer's Grad-CAM map resized to the input size
    (broadcast over channels), as Captum's ``GuidedGradCam``.

    Parameters
    ----------
    model : NativeModel
    layer : str
    interpolate_mode : str, default "nearest"
        How the map is resized: "nearest" (Captum's default) or "bilinear".

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...                     nn.Linear(36, 3))  # layers named "0" .. "4", as torch names them
    >>> images = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    >>> exp = gb.GuidedGradCAM(gb.from_torch(cnn), layer="0")(images, target=1)
    >>> exp.values.shape  # the images' shape
    (2, 1, 8, 8)
    """

    method_name = "guided_grad_cam"

    def __init__(
        self,
        model: NativeModel,
        *,
        layer: str,
        interpolate_mode: str = "nearest",
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.interpolate_mode = check_choice(
            interpolate_mode, "interpolate_mode", INTERPOLATE_MODES
        )
        super().__init__(
            model,
            layer=layer,
            upsample=False,
            n_threads=n_threads,
            memory_budget=memory_budget,
            progress=progress,
        )

    def _setup(self) -> None:
        super()._setup()
        self._input_hw()

    def __call__(self, X: object, target: object = None) -> Explanation:
        batch, flat, targets = self._inputs(X, target)
        maps = resize(self._maps(flat, targets), self._input_hw(), self.interpolate_mode)
        guided = _relu_gradients(self, flat, targets, "guided").reshape(batch.shape)
        return self._explanation(batch, guided * maps[:, None], targets)
