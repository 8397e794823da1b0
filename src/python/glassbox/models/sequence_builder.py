"""The graph builder's methods for sequence models (text classifiers, recurrent and attention
networks): several named inputs, token embeddings, normalisation over the last axis, products of
two computed tensors, broadcast arithmetic, masks, selections and reductions along axes.

They extend :class:`glassbox.models.builder.GraphBuilder` (it inherits this mixin) and follow its
conventions: axes are the framework's with the batch axis first (it must stay first), constants
are NumPy arrays, and a method that cannot translate its arguments raises ``Unsupported``. The
tensors here are in the framework's own layout (no channels-last images, no permuted vectors):
a sequence (T, D) is a sequence in both.

A tensor computed by a comparison or a logical operation is a *mask* (``Tensor.mask``): its values
are 0 and 1, so the attention layers know to turn it into an additive bias.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.models.graph_values import Tensor, Unsupported, _propagates
from glassbox.models.layers import COMPARE_OPS, check_size

if TYPE_CHECKING:
    from glassbox.models.builder import GraphBuilder

#: The additive bias of a masked attention score: exp of it is 0 in float32, and unlike -inf it
#: never makes a NaN (a row whose keys are all masked averages them instead).
MASKED_SCORE = -1e9


class SequenceBuilder:
    """Mixin of :class:`GraphBuilder` (see the module docstring)."""

    # -- helpers ------------------------------------------------------------------------------
    def _plain(self: GraphBuilder, x: Tensor, what: str) -> None:
        if x.channels_last or x.perm is not None:
            raise Unsupported(f"{what} of a tensor in channels-last or permuted order")

    def _axis(self: GraphBuilder, x: Tensor, axis: Any, what: str = "axis") -> int:
        """The per-sample (native) axis of framework ``axis`` (batch first), checked."""
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise Unsupported(f"{what}={axis!r} must be a constant int")
        if not -rank <= int(axis) < rank or int(axis) % rank == 0:
            raise Unsupported(f"{what}={axis} of samples of shape {x.shape}; the batch axis stays")
        return int(axis) % rank - 1

    # -- inputs -------------------------------------------------------------------------------
    def named_inputs(
        self: GraphBuilder, inputs: Sequence[tuple[str, Sequence[int], str]]
    ) -> list[Tensor]:
        """The tensors of a model's named inputs ``(name, per-sample shape, dtype)``, in order:
        the network then takes them side by side (``NetworkSpec.inputs``)."""
        tensors = []
        for name, shape, dtype in inputs:
            shape = check_size(shape, f"input_shape[{name!r}]")
            index = self.spec.add_input(name, shape, dtype)
            self.names.add(name)
            tensors.append(Tensor(index, shape))
        return tensors

    # -- layers -------------------------------------------------------------------------------
    def embedding(
        self: GraphBuilder, name: str, ids: Any, weight: np.ndarray, padding_idx: Any = None
    ) -> Any:
        """Rows of ``weight`` (V, D) picked by ``ids``: a layer for computed ids, a constant for
        constant ids (position embeddings of ``torch.arange(T)``)."""
        weight = np.asarray(weight, np.float32)
        if weight.ndim != 2:
            raise Unsupported(f"an embedding table of shape {weight.shape}")
        if not isinstance(ids, Tensor):
            indices = np.asarray(ids)
            if (
                indices.dtype.kind not in "iu"
                or (indices < 0).any()
                or (indices >= weight.shape[0]).any()
            ):
                raise Unsupported("constant ids outside the embedding table")
            return weight[indices]
        if not ids.known:
            return ids
        pad = -1 if padding_idx is None else int(padding_idx) % weight.shape[0]
        if ids.scalar:  # one id per sample: one vector, not a sequence of one
            out = self.layer(
                "embedding", f"{name}/rows", [ids], {"padding_idx": pad}, weight=weight
            )
            return self.new_shape(name, out, [weight.shape[1]])
        return self.layer("embedding", name, [ids], {"padding_idx": pad}, weight=weight)

    @_propagates
    def norm(
        self: GraphBuilder,
        name: str,
        kind: str,
        x: Tensor,
        weight: Any,
        bias: Any,
        eps: float,
    ) -> Tensor:
        """``layer_norm`` or ``rms_norm`` over the last axis."""
        self._plain(x, kind)
        dim = x.shape[-1]  # type: ignore[index]
        weights = {"weight": weight, "bias": bias} if kind == "layer_norm" else {"weight": weight}
        for key, value in weights.items():
            if value is not None and np.size(value) != dim:
                raise Unsupported(f"a {key} of {np.size(value)} values for a last axis of {dim}")
        arrays = {k: None if v is None else np.asarray(v, np.float32) for k, v in weights.items()}
        return self.layer(kind, name, [x], {"eps": float(eps)}, **arrays)

    def layer_norm(
        self: GraphBuilder, name: str, x: Tensor, weight: Any, bias: Any, eps: float
    ) -> Tensor:
        """``layer_norm`` over the last axis (weight / bias None: 1 / 0)."""
        return self.norm(name, "layer_norm", x, weight, bias, eps)

    def rms_norm(self: GraphBuilder, name: str, x: Tensor, weight: Any, eps: float) -> Tensor:
        """``rms_norm`` over the last axis (weight None: 1)."""
        return self.norm(name, "rms_norm", x, weight, None, eps)

    def matmul(self: GraphBuilder, name: str, a: Any, b: Any) -> Any:
        """``a @ b``: two tensors -> ``matmul``; a tensor times a constant matrix -> ``dense``
        over the last axis; constants fold."""
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return np.asarray(a) @ np.asarray(b)
        if any(isinstance(v, Tensor) and not v.known for v in (a, b)):
            return a if isinstance(a, Tensor) and not a.known else b
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            self._plain(a, "matmul")
            self._plain(b, "matmul")
            return self.layer("matmul", name, [a, b])
        if isinstance(a, Tensor):
            matrix = np.asarray(b, np.float32)
            if matrix.ndim != 2:
                raise Unsupported(f"a product with a constant of shape {matrix.shape}")
            self._plain(a, "matmul")
            return self.layer("dense", name, [a], weight=np.ascontiguousarray(matrix.T), bias=None)
        raise Unsupported("a constant matrix times a computed tensor")

    @_propagates
    def permute_axes(self: GraphBuilder, name: str, x: Tensor, perm: Sequence[int]) -> Tensor:
        """Framework axes reordered (``perm`` over all axes, batch first and kept first)."""
        self._plain(x, "a transpose")
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        order = [int(p) % rank for p in perm]
        if sorted(order) != list(range(rank)) or order[0] != 0:
            raise Unsupported(f"permutation {tuple(perm)}; the batch axis must stay first")
        native = tuple(p - 1 for p in order[1:])
        if native == tuple(range(rank - 1)):
            return x
        return self.layer("permute", name, [x], {"perm": native})

    def swap_axes(self: GraphBuilder, name: str, x: Tensor, a: int, b: int) -> Tensor:
        """``x.transpose(a, b)``."""
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        order = list(range(rank))
        order[int(a) % rank], order[int(b) % rank] = order[int(b) % rank], order[int(a) % rank]
        return self.permute_axes(name, x, order)

    @_propagates
    def new_shape(self: GraphBuilder, name: str, x: Tensor, shape: Sequence[int]) -> Tensor:
        """The same values with per-sample ``shape`` (unsqueeze, squeeze, view of a sequence)."""
        self._plain(x, "a reshape")
        shape = tuple(int(d) for d in shape)
        if shape == tuple(x.shape):  # type: ignore[arg-type]
            return dataclasses.replace(x, scalar=False) if x.scalar else x
        return self.layer("reshape", name, [x], {"shape": shape}, channels_last=False)

    @_propagates
    def take(self: GraphBuilder, name: str, x: Tensor, axis: Any, indices: Sequence[int]) -> Tensor:
        """The entries ``indices`` along framework ``axis``."""
        self._plain(x, "a selection")
        native = self._axis(x, axis)
        extent = x.shape[native]  # type: ignore[index]
        indices = tuple(int(i) % extent for i in indices)
        if indices == tuple(range(extent)):
            return x
        return self.layer("take", name, [x], {"axis": native, "indices": indices})

    @_propagates
    def slice(
        self: GraphBuilder, name: str, x: Tensor, axis: Any, start: Any, stop: Any, step: Any = 1
    ) -> Tensor:
        """``x[..., start:stop:step]`` along framework ``axis`` (Python's slice semantics)."""
        extent = x.shape[self._axis(x, axis)]  # type: ignore[index]
        indices = list(range(extent))[slice(start, stop, step)]
        if not indices:
            raise Unsupported(f"an empty slice {start}:{stop}:{step} of an axis of {extent}")
        return self.take(name, x, axis, indices)

    @_propagates
    def select(self: GraphBuilder, name: str, x: Tensor, axis: Any, index: int) -> Tensor:
        """``x[:, index]`` along framework ``axis``: the axis is dropped."""
        native = self._axis(x, axis)
        picked = self.take(f"{name}/take", x, axis, [index])
        shape = list(x.shape)  # type: ignore[arg-type]
        del shape[native]
        out = self.new_shape(name, picked, shape or [1])
        return out if shape else dataclasses.replace(out, scalar=True)

    @_propagates
    def compare(self: GraphBuilder, name: str, op: str, x: Tensor, value: Any) -> Tensor:
        """1 where ``x op value`` holds, else 0 (a mask)."""
        if op not in COMPARE_OPS:
            raise Unsupported(f"the comparison {op!r}")
        number = np.asarray(value, np.float64)
        if number.size != 1 or not np.isfinite(number).all():
            raise Unsupported(f"a comparison with {value!r}; only one finite constant")
        out = self.layer("compare", name, [x], {"op": op, "value": float(number)}, perm=x.perm)
        out.mask = True
        return out

    @_propagates
    def reduce(
        self: GraphBuilder, name: str, kind: str, x: Tensor, axes: Any, keepdims: bool = False
    ) -> Tensor:
        """``kind`` in sum, max, mean over framework ``axes`` (batch first; it stays)."""
        if kind == "mean":
            return self.mean(name, x, axes, keepdims)
        self._plain(x, f"a {kind}")
        axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
        native = tuple(sorted(self._axis(x, a, "dim") for a in axes))
        return self.layer(f"reduce_{kind}", name, [x], {"axes": native, "keepdims": bool(keepdims)})

    def constant(self: GraphBuilder, name: str, value: Any) -> Tensor:
        """A per-sample constant tensor (only where a constant must be a layer's input)."""
        array = np.asarray(value, np.float32)
        shape = array.shape or (1,)
        return self.layer(
            "constant", name, [self.input_tensor()], {"shape": shape}, value=array.reshape(shape)
        )

    def input_tensor(self: GraphBuilder) -> Tensor:
        """What a constant reads to know the number of rows: the network input."""
        return Tensor(-1, self.spec.input_shape)

    def as_tensor(self: GraphBuilder, name: str, value: Any) -> Tensor:
        return value if isinstance(value, Tensor) else self.constant(name, value)

    def where(self: GraphBuilder, name: str, cond: Any, a: Any, b: Any) -> Any:
        """``a`` where ``cond`` != 0, else ``b`` (broadcast); constants become layers as needed."""
        if not isinstance(cond, Tensor):
            return np.where(np.asarray(cond) != 0, a, b)
        if any(isinstance(v, Tensor) and not v.known for v in (cond, a, b)):
            return next(v for v in (cond, a, b) if isinstance(v, Tensor) and not v.known)
        operands = [cond, self.as_tensor(f"{name}/a", a), self.as_tensor(f"{name}/b", b)]
        for x in operands:
            self._plain(x, "where")
        return self.layer("where", name, operands)

    @_propagates
    def recurrent(
        self: GraphBuilder, name: str, kind: str, x: Tensor, weights: dict[str, Any]
    ) -> Tensor:
        """One ``lstm`` / ``gru`` layer over a sequence (T, I): torch's weight layout and gate
        order; ``weights`` has weight_ih, weight_hh, bias_ih, bias_hh (each may be None for the
        biases) and the same with ``_reverse`` for a bidirectional layer."""
        self._plain(x, kind)
        if len(x.shape) != 2:  # type: ignore[arg-type]
            raise Unsupported(f"{kind} over samples of shape {x.shape}; expects (T, features)")
        arrays = {k: None if v is None else np.asarray(v, np.float32) for k, v in weights.items()}
        return self.layer(kind, name, [x], **arrays)

    def _recurrent_kind(kind: str) -> Any:  # type: ignore[misc]
        def method(
            self: GraphBuilder,
            name: str,
            x: Tensor,
            weights: dict[str, Any],
            hidden: int | None = None,
            bidirectional: bool = False,
        ) -> Tensor:
            return self.recurrent(name, kind, x, weights)

        method.__doc__ = f"A ``{kind}`` layer (hidden size and directions read from the weights)."
        return method

    lstm = _recurrent_kind("lstm")
    gru = _recurrent_kind("gru")

    @_propagates
    def final_state(
        self: GraphBuilder, name: str, sequence: Tensor, reverse: bool = False
    ) -> Tensor:
        """The last hidden state of one direction of a recurrent layer's output (T, H * dirs):
        the forward direction's at the last step, the reverse direction's at the first."""
        layer = self.spec.layers[sequence.index]
        steps, width = sequence.shape  # type: ignore[misc]
        hidden = width // (2 if layer.weights.get("weight_ih_reverse") is not None else 1)
        step = self.select(f"{name}/step", sequence, 1, 0 if reverse else steps - 1)
        first = hidden if reverse else 0
        return self.take(name, step, 1, range(first, first + hidden))

    # -- 1-D convolution and pooling over (C, L): the 2-D layers over (C, 1, L) -------------------
    def _one(self: GraphBuilder, value: Any, name: str) -> int:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if (
            len(items) != 1
            or isinstance(items[0], bool)
            or not isinstance(items[0], (int, np.integer))
        ):
            raise Unsupported(f"{name}={value!r} must be one constant int")
        return int(items[0])

    def _padding1(self: GraphBuilder, padding: Any) -> Any:
        """A 1-D padding as the 2-D layers take it: a mode string, or (0, left, 0, right)."""
        if isinstance(padding, str):
            return padding
        items = list(padding) if isinstance(padding, (list, tuple)) else [padding]
        if len(items) == 1:
            items = items * 2
        if len(items) != 2:
            raise Unsupported(f"padding={padding!r}")
        return (0, int(items[0]), 0, int(items[1]))

    @_propagates
    def conv1d(
        self: GraphBuilder,
        name: str,
        x: Tensor,
        weight: np.ndarray,
        bias: Any,
        *,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> Tensor:
        """A 1-D convolution of (C, L) samples; ``weight`` (Cout, Cin / groups, K)."""
        self._plain(x, "conv1d")
        if len(x.shape) != 2:  # type: ignore[arg-type]
            raise Unsupported(f"conv1d over samples of shape {x.shape}; expects (C, L)")
        weight = np.asarray(weight, np.float32)
        if weight.ndim != 3:
            raise Unsupported(f"a conv1d weight of shape {weight.shape}")
        channels, length = x.shape  # type: ignore[misc]
        image = self.new_shape(f"{name}/2d", x, (channels, 1, length))
        out = self.conv2d(
            f"{name}/conv2d",
            image,
            weight[:, :, None, :],
            bias,
            stride=(1, self._one(stride, "stride")),
            padding=self._padding1(padding),
            dilation=(1, self._one(dilation, "dilation")),
            groups=groups,
        )
        return self.new_shape(name, out, (out.shape[0], out.shape[2]))  # type: ignore[index]

    @_propagates
    def pool1d(
        self: GraphBuilder,
        name: str,
        kind: str,
        x: Tensor,
        kernel: Any,
        *,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> Tensor:
        """``max`` or ``avg`` pooling of (C, L) samples along L."""
        self._plain(x, f"{kind}_pool1d")
        if len(x.shape) != 2:  # type: ignore[arg-type]
            raise Unsupported(f"1-D pooling over samples of shape {x.shape}; expects (C, L)")
        channels, length = x.shape  # type: ignore[misc]
        size = self._one(kernel, "kernel_size")
        step = size if stride in (None, (), []) else self._one(stride, "stride")
        image = self.new_shape(f"{name}/2d", x, (channels, 1, length))
        options: dict[str, Any] = {"ceil_mode": ceil_mode}
        if kind == "max":
            options["dilation"] = (1, self._one(dilation, "dilation"))
        else:
            options["count_include_pad"] = count_include_pad
        out = self.pool2d(
            f"{name}/pool2d",
            f"{kind}_pool2d",
            image,
            (1, size),
            stride=(1, step),
            padding=self._padding1(padding),
            **options,
        )
        return self.new_shape(name, out, (out.shape[0], out.shape[2]))  # type: ignore[index]

    # -- multi-head attention --------------------------------------------------------------------
    def attention(
        self: GraphBuilder,
        name: str,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        projections: dict[str, tuple[np.ndarray, Any]],
        heads: int,
        *,
        masked: Callable[[Tensor], Tensor] | None = None,
        zeroed: Callable[[Tensor], Tensor] | None = None,
        output_shape: Sequence[int] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Multi-head scaled dot-product attention of (T, D) queries over (S, D') keys and
        values, decomposed into native layers: the dense projections ``<name>/q``, ``/k``,
        ``/v``, the heads (``<name>/q/heads``, ``<name>/q/t``), the scores ``q k^T / sqrt(d_k)``
        (``<name>/qk``, ``<name>/scores``), ``masked(scores)`` (the masks, named by the
        caller), the softmax ``<name>/weights``, the weighted sum of values ``<name>/context``,
        the merged heads and the output projection, the last layer, named ``name``.

        ``projections`` maps q, k, v and out to (weight, bias or None) as :meth:`dense` takes
        them: q and k (heads * d_k, in), v (heads * d_v, in), out (units, heads * d_v), with
        head h's features at [h * d, (h + 1) * d). ``masked`` turns the (heads, T, S) scores
        into masked ones; ``zeroed(weights)``, if given, changes the softmax's output (Keras
        zeroes masked weights). ``output_shape``: the per-step output's shape when it is not the
        vector (units,) (Keras' ``output_shape=(4, 2)``). Returns the output and the weights.
        """
        parts = []
        for label, x in (("q", query), ("k", key), ("v", value)):
            weight, bias = projections[label]
            z = self.dense(f"{name}/{label}", x, weight, bias)
            steps, width = z.shape  # type: ignore[misc]
            if width % heads:
                raise Unsupported(f"{width} {label} features for {heads} heads")
            z = self.new_shape(f"{name}/{label}/heads", z, (steps, heads, width // heads))
            parts.append(self.permute_axes(f"{name}/{label}/t", z, (0, 2, 1, 3)))
        q, k, v = parts
        kt = self.permute_axes(f"{name}/k/tt", k, (0, 1, 3, 2))
        scores = self.matmul(f"{name}/qk", q, kt)
        scores = self.scale_shift(f"{name}/scores", scores, 1.0 / np.sqrt(q.shape[-1]), 0.0)  # type: ignore[index]
        if masked is not None:
            scores = masked(scores)
        weights = self.activation(f"{name}/weights", "softmax", scores, axis=-1)
        if zeroed is not None:
            weights = zeroed(weights)
        context = self.matmul(f"{name}/context", weights, v)
        context = self.permute_axes(f"{name}/context/t", context, (0, 2, 1, 3))
        steps = query.shape[0]  # type: ignore[index]
        context = self.new_shape(f"{name}/context/flat", context, (steps, heads * v.shape[-1]))  # type: ignore[index]
        weight, bias = projections["out"]
        shape = tuple(int(d) for d in output_shape or ())
        if len(shape) <= 1:
            return self.dense(name, context, weight, bias), weights
        out = self.dense(f"{name}/out", context, weight, bias)
        return self.new_shape(name, out, (steps, *shape)), weights

    def broadcast_binary(self: GraphBuilder, name: str, op: str, a: Tensor, b: Tensor) -> Tensor:
        """``a op b`` of two tensors (add, sub, mul, div) with NumPy broadcasting of the
        framework shapes (batch first)."""
        self._plain(a, op)
        self._plain(b, op)
        out = self.layer(op, name, [a, b])
        out.mask = op == "mul" and a.mask and b.mask  # logical and
        return out
