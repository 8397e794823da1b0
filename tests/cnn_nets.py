"""Seeded convolutional test networks as ``NetworkSpec`` s, and a torch twin that evaluates any
spec with ``torch.nn.functional`` (built by hand, layer by layer, no adapter involved).

``lenet_spec`` (conv/pool/dense), ``resnet_spec`` (conv + batch_norm + residual ``add`` blocks,
a strided projection shortcut, global average pooling) and ``inception_spec`` (parallel branches
joined by ``concat``) are shared by the layer tests and the explainer tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.models.spec import NetworkSpec


def _conv(rng: np.random.Generator, cout: int, cin: int, k: int, bias: bool = True) -> dict:
    scale = 1.2 / np.sqrt(cin * k * k)
    return {
        "weight": rng.normal(0.0, scale, (cout, cin, k, k)),
        "bias": rng.normal(0.0, 0.2, cout) if bias else None,
    }


def _bn(rng: np.random.Generator, c: int) -> dict:
    """scale/shift folded from (gamma, beta, running mean, running var) as the adapters do."""
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.normal(0.0, 0.2, c)
    mean, var, eps = rng.normal(0.0, 0.3, c), rng.uniform(0.5, 2.0, c), 1e-5
    scale = gamma / np.sqrt(var + eps)
    return {"scale": scale, "shift": beta - mean * scale}


def _dense(rng: np.random.Generator, out: int, fan_in: int) -> dict:
    return {
        "weight": rng.normal(0.0, 1.2 / np.sqrt(fan_in), (out, fan_in)),
        "bias": rng.normal(0.0, 0.2, out),
    }


def lenet_spec(seed: int = 0, input_hw: int = 28, n_outputs: int = 10) -> NetworkSpec:
    """conv(6,5x5) relu maxpool conv(16,5x5) relu maxpool flatten fc120 relu fc84 relu fc."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(1, input_hw, input_hw))
    spec.add("conv2d", "conv1", **_conv(rng, 6, 1, 5))
    spec.add("relu", "relu1")
    spec.add("max_pool2d", "pool1", params={"kernel": (2, 2), "stride": (2, 2)})
    spec.add("conv2d", "conv2", **_conv(rng, 16, 6, 5))
    spec.add("relu", "relu2")
    spec.add("max_pool2d", "pool2", params={"kernel": (2, 2), "stride": (2, 2)})
    spec.add("flatten", "flatten")
    side = ((input_hw - 4) // 2 - 4) // 2
    spec.add("dense", "fc1", **_dense(rng, 120, 16 * side * side))
    spec.add("relu", "relu3")
    spec.add("dense", "fc2", **_dense(rng, 84, 120))
    spec.add("relu", "relu4")
    spec.add("dense", "fc3", **_dense(rng, n_outputs, 84))
    return spec


def resnet_spec(seed: int = 0, input_hw: int = 12, n_outputs: int = 5) -> NetworkSpec:
    """stem conv+bn+relu, an identity residual block, a strided block with a 1x1 projection
    shortcut (conv+bn), global average pooling and a dense head. Torch-style layer names."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(3, input_hw, input_hw))
    pad1 = {"padding": (1, 1, 1, 1)}
    spec.add("conv2d", "conv1", params=pad1, **_conv(rng, 8, 3, 3, bias=False))
    spec.add("batch_norm", "bn1", **_bn(rng, 8))
    stem = spec.add("relu", "relu")
    # layer1.0: identity shortcut
    spec.add("conv2d", "layer1.0.conv1", params=pad1, **_conv(rng, 8, 8, 3, bias=False))
    spec.add("batch_norm", "layer1.0.bn1", **_bn(rng, 8))
    spec.add("relu", "layer1.0.relu")
    spec.add("conv2d", "layer1.0.conv2", params=pad1, **_conv(rng, 8, 8, 3, bias=False))
    bn = spec.add("batch_norm", "layer1.0.bn2", **_bn(rng, 8))
    spec.add("add", "add", inputs=[bn, stem])
    block1 = spec.add("relu", "layer1.0.relu_1")
    # layer2.0: stride 2, projection shortcut
    strided = {"padding": (1, 1, 1, 1), "stride": (2, 2)}
    spec.add("conv2d", "layer2.0.conv1", params=strided, **_conv(rng, 16, 8, 3, bias=False))
    spec.add("batch_norm", "layer2.0.bn1", **_bn(rng, 16))
    spec.add("relu", "layer2.0.relu")
    spec.add("conv2d", "layer2.0.conv2", params=pad1, **_conv(rng, 16, 16, 3, bias=False))
    main = spec.add("batch_norm", "layer2.0.bn2", **_bn(rng, 16))
    spec.add(
        "conv2d",
        "layer2.0.downsample.0",
        inputs=[block1],
        params={"stride": (2, 2)},
        **_conv(rng, 16, 8, 1, bias=False),
    )
    short = spec.add("batch_norm", "layer2.0.downsample.1", **_bn(rng, 16))
    spec.add("add", "add_1", inputs=[main, short])
    spec.add("relu", "layer2.0.relu_1")
    spec.add("adaptive_avg_pool2d", "avgpool", params={"output_size": (1, 1)})
    spec.add("flatten", "flatten")
    spec.add("dense", "fc", **_dense(rng, n_outputs, 16))
    return spec


def inception_spec(seed: int = 0, input_hw: int = 10, n_outputs: int = 4) -> NetworkSpec:
    """A stem conv, then four branches (1x1; 1x1->3x3; 5x5 dilated-free; maxpool->1x1) joined
    by concat along channels, avg pooling, reshape to flat and a dense head."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(2, input_hw, input_hw))
    stem = spec.add("conv2d", "stem", params={"padding": (1, 1, 1, 1)}, **_conv(rng, 6, 2, 3))
    spec.add("relu", "stem_relu")
    stem = len(spec.layers) - 1
    b1 = spec.add("conv2d", "branch1", inputs=[stem], **_conv(rng, 4, 6, 1))
    spec.add("conv2d", "branch2.0", inputs=[stem], **_conv(rng, 3, 6, 1))
    spec.add("relu", "branch2.1")
    b2 = spec.add("conv2d", "branch2.2", params={"padding": (1, 1, 1, 1)}, **_conv(rng, 5, 3, 3))
    b3 = spec.add(
        "conv2d",
        "branch3",
        inputs=[stem],
        params={"padding": (2, 3, 2, 5), "dilation": (1, 2)},
        **_conv(rng, 2, 6, 5),
    )
    spec.add(
        "max_pool2d",
        "branch4.0",
        inputs=[stem],
        params={"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1)},
    )
    b4 = spec.add("conv2d", "branch4.1", **_conv(rng, 3, 6, 1))
    spec.add("concat", "cat", inputs=[b1, b2, b3, b4], params={"axis": 0})
    spec.add("relu", "cat_relu")
    spec.add("avg_pool2d", "pool", params={"kernel": (3, 3), "stride": (2, 2), "ceil_mode": True})
    spec.add("reshape", "reshape", params={"shape": (-1,)})
    side = -(-(input_hw - 3) // 2) + 1
    spec.add("dense", "fc", **_dense(rng, n_outputs, 14 * side * side))
    return spec


def torch_forward(spec: NetworkSpec, X: Any) -> Any:
    """Evaluate ``spec`` on the torch tensor ``X`` with ``torch.nn.functional`` (autograd-able;
    dtype follows ``X``)."""
    import torch
    import torch.nn.functional as F

    def t(a: Any) -> Any:
        return None if a is None else torch.as_tensor(np.asarray(a), dtype=X.dtype)

    outputs: list[Any] = []
    for layer in spec.layers:
        xs = [X if i == -1 else outputs[i] for i in layer.inputs]
        x, p, w = xs[0], layer.params, layer.weights
        kind = layer.kind
        if kind == "conv2d":
            top, left, bottom, right = _pad4(p.get("padding", 0))
            y = F.conv2d(
                F.pad(x, (left, right, top, bottom)),
                t(w["weight"]),
                t(w.get("bias")),
                stride=tuple(p.get("stride", (1, 1))),
                dilation=tuple(p.get("dilation", (1, 1))),
                groups=int(p.get("groups", 1)),
            )
        elif kind in ("max_pool2d", "avg_pool2d"):
            top, left, bottom, right = _pad4(p.get("padding", 0))
            if (top, left) != (bottom, right):
                y = _torch_asymmetric_pool(x, kind, p, (left, right, top, bottom))
                outputs.append(y)
                continue
            common = {
                "kernel_size": tuple(p["kernel"]),
                "stride": tuple(p.get("stride", p["kernel"])),
                "padding": (top, left),
                "ceil_mode": bool(p.get("ceil_mode", False)),
            }
            if kind == "max_pool2d":
                y = F.max_pool2d(x, dilation=tuple(p.get("dilation", (1, 1))), **common)
            else:
                y = F.avg_pool2d(
                    x, count_include_pad=bool(p.get("count_include_pad", True)), **common
                )
        elif kind == "adaptive_avg_pool2d":
            y = F.adaptive_avg_pool2d(x, tuple(p["output_size"]))
        elif kind == "batch_norm":
            view = (1, -1) + (1,) * (x.dim() - 2)
            y = x * t(w["scale"]).reshape(view) + t(w["shift"]).reshape(view)
        elif kind == "add":
            y = xs[0]
            for other in xs[1:]:
                y = y + other
        elif kind == "concat":
            y = torch.cat(xs, dim=int(p.get("axis", 0)) + 1)
        elif kind == "reshape":
            y = x.reshape(x.shape[0], *p["shape"])
        elif kind == "permute":
            y = x.permute(0, *[int(a) + 1 for a in p["perm"]])
        elif kind == "flatten":
            y = x.flatten(1)
        elif kind == "dense":
            y = F.linear(x, t(w["weight"]), t(w.get("bias")))
        elif kind == "relu":
            y = F.relu(x)
        elif kind == "tanh":
            y = torch.tanh(x)
        elif kind in ("identity", "dropout"):
            y = x
        else:  # pragma: no cover - extend when a test needs another kind
            raise NotImplementedError(kind)
        outputs.append(y)
    return outputs[-1]


def _torch_asymmetric_pool(x: Any, kind: str, p: dict[str, Any], pad: tuple) -> Any:
    """Pooling with (top, left, bottom, right) padding, which torch's pooling cannot take:
    pad explicitly (-inf for max), and for an average that excludes the padding divide by the
    pooled mask of real elements."""
    import torch
    import torch.nn.functional as F

    if p.get("ceil_mode", False):
        raise NotImplementedError("asymmetric padding with ceil_mode has no torch twin")
    kernel, stride = tuple(p["kernel"]), tuple(p.get("stride", p["kernel"]))
    if kind == "max_pool2d":
        padded = F.pad(x, pad, value=float("-inf"))
        return F.max_pool2d(padded, kernel, stride, dilation=tuple(p.get("dilation", (1, 1))))
    y = F.avg_pool2d(F.pad(x, pad), kernel, stride)
    if p.get("count_include_pad", True):
        return y
    mask = F.pad(torch.ones_like(x[:1, :1]), pad)
    return y / F.avg_pool2d(mask, kernel, stride)


def _pad4(value: Any) -> tuple[int, int, int, int]:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 4  # type: ignore[return-value]
    items = [int(v) for v in value]
    if len(items) == 2:
        return items[0], items[1], items[0], items[1]
    top, left, bottom, right = items
    return top, left, bottom, right


# --------------------------------------------------------------------------------------------
# One layer under test followed by flatten + dense(3): a generic scalar output per target, so
# the input gradient of every output element of the layer is exercised.
# --------------------------------------------------------------------------------------------

LAYER_CASES: dict[str, tuple[tuple[int, ...], str, dict[str, Any], dict[str, Any]]] = {
    # id: (input shape, kind, params, weight spec: {"conv": (cout, cin/groups, kh, kw), ...})
    "conv_basic": ((3, 7, 6), "conv2d", {}, {"conv": (4, 3, 3, 3)}),
    "conv_stride_asym_pad_dilation": (
        (3, 9, 8),
        "conv2d",
        {"stride": (2, 1), "padding": (1, 2, 0, 1), "dilation": (1, 2)},
        {"conv": (4, 3, 3, 3)},
    ),
    "conv_stride2_pad1_nobias": (
        (2, 8, 7),
        "conv2d",
        {"stride": (2, 2), "padding": (1, 1, 1, 1)},
        {"conv": (5, 2, 3, 3), "bias": False},
    ),
    "conv_groups2": (
        (4, 6, 6),
        "conv2d",
        {"groups": 2, "padding": (0, 1, 2, 0)},
        {"conv": (6, 2, 3, 2)},
    ),
    "conv_depthwise": (
        (3, 6, 7),
        "conv2d",
        {"groups": 3, "padding": (1, 1, 1, 1)},
        {"conv": (3, 1, 3, 3)},
    ),
    "conv_depthwise_multiplier": (
        (3, 6, 6),
        "conv2d",
        {"groups": 3, "stride": (1, 2), "dilation": (2, 1), "padding": (2, 0, 2, 1)},
        {"conv": (6, 1, 3, 3)},
    ),
    "conv_1x1_stride2": ((4, 7, 7), "conv2d", {"stride": (2, 2)}, {"conv": (3, 4, 1, 1)}),
    "conv_dilated_rect": (
        (2, 9, 10),
        "conv2d",
        {"dilation": (2, 3), "padding": (2, 2, 2, 2), "stride": (1, 2)},
        {"conv": (3, 2, 3, 2)},
    ),
    # stride 1 with dilation and asymmetric padding; 5 channels = one block of several rows
    "conv_stride1_dilated_direct_transpose": (
        (11, 7, 19),
        "conv2d",
        {"dilation": (2, 1), "padding": (1, 0, 3, 1)},
        {"conv": (5, 11, 3, 2)},
    ),
    # padding wider than the kernel's reach
    "conv_1x1_padded": ((2, 5, 5), "conv2d", {"padding": (1, 1, 1, 1)}, {"conv": (3, 2, 1, 1)}),
    # direct kernel (AVX2): 19 columns = one 3-vector tile with 5 lanes unused, 11 channels =
    # blocks of 3 + a block of 2, 6 rows
    "conv_direct_channel_and_column_remainders": (
        (2, 6, 21),
        "conv2d",
        {"padding": (1, 0, 0, 2), "dilation": (1, 2)},
        {"conv": (11, 2, 3, 3)},
    ),
    # LeNet's second conv: 8 x 8 outputs, 16 channels = 5 blocks of 3 rows x 4 + one channel
    "conv_direct_lenet_conv2": ((6, 12, 12), "conv2d", {}, {"conv": (16, 6, 5, 5)}),
    # 30 columns = a 3-vector tile + a 1-vector tail tile; 7 rows, not a multiple of a tile's;
    # 2 groups of 5 channels
    "conv_direct_wide_rows_groups": (
        (4, 9, 32),
        "conv2d",
        {"groups": 2, "padding": (0, 1, 0, 0)},
        {"conv": (10, 2, 3, 4)},
    ),
    # 32 x 32 output planes (4 KB apart: the transpose pads them apart); 32 columns = a 3-vector
    # tile + a 1-vector tile, forward and transpose
    "conv_direct_4kb_planes": ((4, 34, 34), "conv2d", {}, {"conv": (6, 4, 3, 3)}),
    # more than 16 output channels per group: the im2col + GEMM path at stride 1
    "conv_gemm_path_many_channels": ((3, 5, 6), "conv2d", {"padding": 1}, {"conv": (20, 3, 3, 3)}),
    "conv_kernel_equals_input": ((2, 4, 5), "conv2d", {}, {"conv": (3, 2, 4, 5)}),
    "max_k2": ((3, 6, 6), "max_pool2d", {"kernel": (2, 2)}, {}),
    "max_k3_s2_pad1_ceil": (
        (2, 8, 7),
        "max_pool2d",
        {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1, 1, 1), "ceil_mode": True},
        {},
    ),
    "max_dilated": (
        (2, 9, 8),
        "max_pool2d",
        {"kernel": (3, 2), "stride": (1, 2), "padding": (1, 1, 1, 1), "dilation": (2, 2)},
        {},
    ),
    "max_rect_ceil": (
        (2, 7, 8),
        "max_pool2d",
        {"kernel": (2, 3), "stride": (2, 2), "ceil_mode": True},
        {},
    ),
    "max_asym_pad": ((2, 6, 7), "max_pool2d", {"kernel": (2, 2), "padding": (0, 1, 1, 0)}, {}),
    "avg_k2": ((3, 6, 6), "avg_pool2d", {"kernel": (2, 2)}, {}),
    "avg_pad_ceil_include": (
        (2, 8, 7),
        "avg_pool2d",
        {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1, 1, 1), "ceil_mode": True},
        {},
    ),
    "avg_pad_ceil_exclude": (
        (2, 8, 7),
        "avg_pool2d",
        {
            "kernel": (3, 3),
            "stride": (2, 2),
            "padding": (1, 1, 1, 1),
            "ceil_mode": True,
            "count_include_pad": False,
        },
        {},
    ),
    "avg_rect_pad_h": (
        (2, 7, 9),
        "avg_pool2d",
        {"kernel": (3, 2), "stride": (2, 3), "padding": (1, 0, 1, 0), "ceil_mode": True},
        {},
    ),
    "avg_asym_pad": (
        (2, 6, 7),
        "avg_pool2d",
        {"kernel": (2, 3), "padding": (1, 0, 0, 2), "count_include_pad": False},
        {},
    ),
    "adaptive_global": ((3, 5, 6), "adaptive_avg_pool2d", {"output_size": (1, 1)}, {}),
    "adaptive_3x2_of_7x8": ((2, 7, 8), "adaptive_avg_pool2d", {"output_size": (3, 2)}, {}),
    "adaptive_4x5_of_7x6": ((2, 7, 6), "adaptive_avg_pool2d", {"output_size": (4, 5)}, {}),
    "adaptive_upsample": ((2, 3, 2), "adaptive_avg_pool2d", {"output_size": (5, 3)}, {}),
    "batch_norm_image": ((3, 4, 5), "batch_norm", {}, {"bn": 3}),
    "batch_norm_vector": ((6,), "batch_norm", {}, {"bn": 6}),
    "reshape": ((3, 4, 5), "reshape", {"shape": (-1, 5)}, {}),
    "reshape_to_image": ((24,), "reshape", {"shape": (2, 3, 4)}, {}),
    "permute_to_channels_first": ((4, 5, 3), "permute", {"perm": (2, 0, 1)}, {}),
    "permute_vector_axes": ((3, 4), "permute", {"perm": (1, 0)}, {}),
}


def layer_case_spec(case: str, seed: int = 0, n_outputs: int = 3) -> NetworkSpec:
    """The layer of ``LAYER_CASES[case]`` followed by flatten and a dense head."""
    import glassbox.models.native as native

    shape, kind, params, weights = LAYER_CASES[case]
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=shape)
    arrays: dict[str, Any] = {}
    if "conv" in weights:
        cout, cin_g, kh, kw = weights["conv"]
        arrays = _conv(rng, cout, cin_g, kh)
        arrays["weight"] = rng.normal(0.0, 1.0 / np.sqrt(cin_g * kh * kw), (cout, cin_g, kh, kw))
        if not weights.get("bias", True):
            arrays["bias"] = None
    if "bn" in weights:
        arrays = _bn(rng, weights["bn"])
    spec.add(kind, case, params=dict(params), **arrays)
    spec.add("flatten", "flatten")
    width = native.build_network(spec).n_outputs
    spec.add("dense", "head", **_dense(rng, n_outputs, width))
    return spec


def multi_input_specs(seed: int = 0) -> dict[str, NetworkSpec]:
    """Small DAGs: add of two convs, add of a node with itself (x + x), three-way add, concat
    along channels and along height / width, a node read by several consumers."""
    rng = np.random.default_rng(seed)
    specs: dict[str, NetworkSpec] = {}

    def head(spec: NetworkSpec) -> NetworkSpec:
        spec.add("flatten", "flatten")
        from glassbox.models.native import build_network

        spec.add("dense", "head", **_dense(rng, 3, build_network(spec).n_outputs))
        return spec

    s = NetworkSpec(input_shape=(2, 5, 5))
    a = s.add("conv2d", "a", inputs=[-1], params={"padding": (1, 1, 1, 1)}, **_conv(rng, 3, 2, 3))
    b = s.add("conv2d", "b", inputs=[-1], **_conv(rng, 3, 2, 1))
    s.add("add", "add", inputs=[a, b])
    specs["add_two_convs"] = head(s)

    s = NetworkSpec(input_shape=(2, 4, 4))
    a = s.add("tanh", "t", inputs=[-1])
    s.add("add", "add", inputs=[a, a])
    specs["add_self"] = head(s)

    s = NetworkSpec(input_shape=(2, 4, 4))
    a = s.add("conv2d", "a", inputs=[-1], params={"padding": (1, 1, 1, 1)}, **_conv(rng, 2, 2, 3))
    b = s.add("relu", "b", inputs=[a])
    s.add("add", "add3", inputs=[-1, a, b])
    specs["add_three_with_input"] = head(s)

    for axis in (0, 1, 2):
        s = NetworkSpec(input_shape=(2, 5, 6))
        a = s.add(
            "conv2d", "a", inputs=[-1], params={"padding": (1, 1, 1, 1)}, **_conv(rng, 2, 2, 3)
        )
        b = s.add(
            "max_pool2d",
            "b",
            inputs=[-1],
            params={"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1)},
        )
        s.add("concat", "cat", inputs=[a, b, a], params={"axis": axis})
        specs[f"concat_axis{axis}"] = head(s)

    s = NetworkSpec(input_shape=(7,))
    a = s.add("dense", "fc", inputs=[-1], **_dense(rng, 4, 7))
    s.add("concat", "cat", inputs=[a, -1], params={"axis": 0})
    s.add("dense", "head", **_dense(rng, 3, 11))
    specs["concat_features"] = s
    return specs
