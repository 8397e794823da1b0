"""The values the graph builder passes around: :class:`Tensor` (a value computed from the model
input), the placeholder of an untranslatable op, and the exceptions a translation raises. Kept
apart from ``builder.py`` so that the builder's method mixins (``sequence_builder.py``) can use
them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from glassbox.models.builder import GraphBuilder

#: The batch extent in shape computations: ``x.size(0)``, the first entry of ONNX ``Shape``.
BATCH = -(2**40)

Shape = tuple[int, ...]


class InvalidLayer(ValueError):
    """A layer whose weights or values are invalid (NaN or infinite weights, a negative
    variance, a weight of the wrong dtype): raised inside a translation, it stops it at once
    (unlike :class:`Unsupported`); :meth:`GraphBuilder.translate` prefixes the layer's name and
    type. ``named``: the message names the layer already."""

    def __init__(self, message: str, named: bool = False) -> None:
        super().__init__(message)
        self.named = named


class Unsupported(Exception):
    """An op the builder cannot translate: ``reason`` says why (raised inside a translation)."""

    def __init__(
        self, reason: str = "", alternative: str | None = None, reported: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alternative = alternative
        self.reported = reported  # recorded already (under another layer's name)


@dataclass(eq=False)
class Tensor:
    """A value computed from the model input.

    Attributes
    ----------
    index : int
        The spec layer that computes it (-1: the network input); -2 for the placeholder of an
        untranslatable op (``shape`` is then None).
    shape : tuple of int or None
        Native per-sample shape (NCHW without N).
    channels_last : bool
        The framework sees this (C, H, W) tensor as (H, W, C).
    perm : ndarray or None
        For a vector: the framework's feature j is native feature ``perm[j]``.
    pad : tuple of int or None
        A zero padding (top, left, bottom, right) still to apply, which only a convolution
        reading the tensor can absorb; ``pad_layer`` is (name, type) of the padding layer.
    """

    index: int
    shape: Shape | None
    channels_last: bool = False
    perm: np.ndarray | None = field(default=None, repr=False)
    pad: tuple[int, int, int, int] | None = None
    pad_layer: tuple[str, str] = ("", "")
    mask: bool = False  # values are 0 and 1 (a comparison's result): see sequence_builder
    scalar: bool = False  # one value per sample (``x[:, 0]`` of a vector), held as shape (1,)

    @property
    def known(self) -> bool:
        """False for the placeholder of an untranslatable op."""
        return self.shape is not None

    @property
    def framework_shape(self) -> Shape:
        """The per-sample shape as the framework sees it."""
        assert self.shape is not None
        if self.scalar:
            return ()
        if self.channels_last:
            c, h, w = self.shape
            return (h, w, c)
        return self.shape


#: The placeholder value of an op that could not be translated.
UNKNOWN = Tensor(-2, None)

F = TypeVar("F", bound=Callable[..., Any])


def _propagates(method: F) -> F:
    """A builder method given the placeholder of an untranslatable op returns the placeholder:
    the cause is already reported, so nothing downstream is checked or reported again."""

    @functools.wraps(method)
    def wrapper(self: GraphBuilder, name: str, *args: Any, **kwargs: Any) -> Any:
        values = [*args, *kwargs.values()]
        flat = [v for a in values for v in (a if isinstance(a, (list, tuple)) else [a])]
        if any(isinstance(v, Tensor) and not v.known for v in flat):
            return UNKNOWN
        return method(self, name, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
