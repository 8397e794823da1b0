"""from_onnx on CNNs: Conv, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Add,
Concat, Reshape and Flatten match ``onnx.reference.ReferenceEvaluator``; CNNs exported by
``torch.onnx.export`` (LeNet-like, ResNet-like, inception-like) match torch."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from glassbox.errors import UnsupportedLayerError  # noqa: E402
from glassbox.models.onnx_adapter import from_onnx  # noqa: E402

RTOL, ATOL = 1e-4, 1e-4
TORCH_EXPORT_WARNINGS = (
    "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning",
    "ignore:The feature will be removed:DeprecationWarning",
)
_RNG = np.random.default_rng(0)


def _w(*shape: int) -> np.ndarray:
    return (_RNG.normal(size=shape) * 0.5).astype(np.float32)


def _init(name: str, value: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _model(
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    input_shape: tuple[int, ...],
    opset: int = 19,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", *input_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _data(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _check(proto: onnx.ModelProto, shape: tuple[int, ...], n: int = 5) -> Any:
    X = _data(n, *shape)
    expected = ReferenceEvaluator(proto).run(None, {"x": X})[0]
    model = from_onnx(proto)
    assert model.input_shape == shape
    got = model.predict(X)
    np.testing.assert_allclose(got, expected.reshape(n, -1), rtol=RTOL, atol=ATOL)
    return model


def _conv_graph(attrs: dict[str, Any], c_in: int = 4, c_out: int = 6, bias: bool = True) -> Any:
    group = attrs.get("group", 1)
    kernel = attrs.pop("kernel", (3, 3))
    inits = [_init("W", _w(c_out, c_in // group, *kernel))]
    inputs = ["x", "W"]
    if bias:
        inits.append(_init("B", _w(c_out)))
        inputs.append("B")
    nodes = [
        helper.make_node("Conv", inputs, ["c"], name="conv", **attrs),
        helper.make_node("Flatten", ["c"], ["y"], name="flat"),
    ]
    return _model(nodes, inits, (c_in, 9, 10))


CONVS = {
    "plain": {},
    "pads": {"pads": [1, 2, 1, 2]},
    "asymmetric_pads": {"pads": [0, 1, 2, 1]},
    "strides": {"strides": [2, 3]},
    "dilations": {"dilations": [2, 1], "pads": [1, 1, 1, 1]},
    "group": {"group": 2},
    "depthwise": {"group": 4},
    "valid": {"auto_pad": "VALID", "strides": [2, 2]},
    "same_upper": {"auto_pad": "SAME_UPPER", "strides": [2, 2], "kernel": (4, 3)},
    "same_lower": {"auto_pad": "SAME_LOWER", "strides": [2, 3], "kernel": (4, 2)},
    "rect_kernel": {"kernel": (2, 5), "pads": [1, 0, 0, 2]},
    "everything": {
        "kernel": (3, 2),
        "strides": [2, 1],
        "dilations": [1, 2],
        "group": 2,
        "pads": [2, 0, 1, 1],
    },
}


@pytest.mark.parametrize("name", list(CONVS))
def test_conv_variants(name: str) -> None:
    attrs = dict(CONVS[name])
    c_out = 8 if name == "depthwise" else 6
    model = _check(_conv_graph(attrs, c_out=c_out), (4, 9, 10))
    assert model.layer_names == ["conv", "flat"]


def test_conv_without_bias() -> None:
    _check(_conv_graph({"pads": [1, 1, 1, 1]}, bias=False), (4, 9, 10))


POOLS = {
    "max": ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "max_default_strides": ("MaxPool", {"kernel_shape": [3, 2]}),
    "max_pads": ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "max_ceil": ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    "max_dilations": ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}),
    "max_same_upper": (
        "MaxPool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"},
    ),
    "max_same_lower": (
        "MaxPool",
        {"kernel_shape": [2, 2], "strides": [1, 1], "auto_pad": "SAME_LOWER"},
    ),
    "avg": ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "avg_pads_exclude": (
        "AveragePool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    ),
    "avg_pads_include": (
        "AveragePool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
    ),
    "avg_asymmetric": ("AveragePool", {"kernel_shape": [2, 3], "pads": [0, 1, 1, 0]}),
    "avg_ceil": ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    "avg_valid": ("AveragePool", {"kernel_shape": [3, 3], "auto_pad": "VALID"}),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_pool_variants(name: str) -> None:
    op, attrs = POOLS[name]
    nodes = [
        helper.make_node(op, ["x"], ["p"], name="pool", **attrs),
        helper.make_node("Flatten", ["p"], ["y"], name="flat"),
    ]
    _check(_model(nodes, [], (3, 7, 8)), (3, 7, 8))


def test_global_average_pool_batchnorm_gemm() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"], name="bn", epsilon=1e-3
        ),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "Wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [
        _init("W", _w(5, 3, 3, 3)),
        _init("g", _w(5) + 1),
        _init("b", _w(5)),
        _init("m", _w(5)),
        _init("v", np.abs(_w(5)) + 0.5),
        _init("Wf", _w(2, 5)),
        _init("bf", _w(2)),
    ]
    model = _check(_model(nodes, inits, (3, 6, 6)), (3, 6, 6))
    assert model.layer_names == ["conv", "bn", "relu", "gap", "flat", "fc"]


def test_batchnorm_on_features() -> None:
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], name="bn"),
    ]
    inits = [_init("g", _w(4)), _init("b", _w(4)), _init("m", _w(4)), _init("v", np.abs(_w(4)))]
    _check(_model(nodes, inits, (4,)), (4,))


@pytest.mark.parametrize(
    ("op", "const", "first"),
    [
        ("Add", np.arange(3, dtype=np.float32).reshape(3, 1, 1), False),
        ("Sub", np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1), True),
        ("Sub", np.float32(0.5), False),
        ("Mul", np.array([2.0, -1.0, 0.5], np.float32).reshape(3, 1, 1), True),
        ("Div", np.full((1, 1, 1), 4.0, np.float32), True),
    ],
    ids=["add", "sub", "rsub-scalar", "mul", "div"],
)
def test_per_channel_constants_become_batch_norm(op: str, const: np.ndarray, first: bool) -> None:
    inputs = ["c", "k"] if first else ["k", "c"]
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
        helper.make_node(op, inputs, ["a"], name="affine"),
        helper.make_node("Flatten", ["a"], ["y"], name="flat"),
    ]
    inits = [_init("W", _w(3, 2, 2, 2)), _init("k", const)]
    model = _check(_model(nodes, inits, (2, 5, 5)), (2, 5, 5))
    assert model.spec.layers[1].kind == "batch_norm"


def test_spatially_varying_constant_becomes_scale_shift() -> None:
    nodes = [helper.make_node("Add", ["x", "k"], ["y"], name="pos")]
    inits = [_init("k", _w(1, 6, 6))]
    model = _check(_model(nodes, inits, (2, 6, 6)), (2, 6, 6))
    assert model.spec.layers[0].kind == "scale_shift"


def test_constant_of_another_rank_is_unsupported() -> None:
    nodes = [helper.make_node("Add", ["x", "k"], ["y"], name="pos")]
    inits = [_init("k", _w(3, 2, 6, 6))]
    with pytest.raises(UnsupportedLayerError, match=r"'pos'.*changes the batch"):
        from_onnx(_model(nodes, inits, (2, 6, 6)))


def test_residual_add_and_concat() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "W1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "W2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"], name="residual"),
        helper.make_node("Concat", ["s", "r1", "x"], ["cat"], name="cat", axis=1),
        helper.make_node(
            "MaxPool", ["cat"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node("Concat", ["p", "p"], ["cat2"], name="cat_neg", axis=-3),
        helper.make_node("Reshape", ["cat2", "shape"], ["y"], name="reshape"),
    ]
    inits = [
        _init("W1", _w(3, 3, 3, 3)),
        _init("W2", _w(3, 3, 3, 3)),
        _init("shape", np.array([0, -1], np.int64)),
    ]
    model = _check(_model(nodes, inits, (3, 6, 6)), (3, 6, 6))
    kinds = {layer.name: layer.kind for layer in model.spec.layers}
    assert kinds["residual"] == "add" and kinds["cat"] == "concat"
    assert kinds["reshape"] == "flatten"


@pytest.mark.parametrize("target", [[0, 3, 24], [-1, 6, 4, 3], [0, 0, -1], [0, 2, 9, 0]], ids=str)
def test_reshape_to_image_shapes(target: list[int]) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
        helper.make_node("Reshape", ["c", "shape"], ["r"], name="reshape"),
        helper.make_node("Relu", ["r"], ["y"], name="relu"),
    ]
    inits = [_init("W", _w(3, 2, 1, 1)), _init("shape", np.array(target, np.int64))]
    model = _check(_model(nodes, inits, (2, 6, 4)), (2, 6, 4))
    assert model.spec.layers[1].kind == "reshape"


# -- errors -----------------------------------------------------------------------------------


def _bad(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto]) -> onnx.ModelProto:
    return _model(nodes, inits, (2, 6, 6))


@pytest.mark.parametrize(
    ("nodes", "inits", "pattern"),
    [
        (
            [helper.make_node("Conv", ["x", "x"], ["y"], name="conv_in")],
            [],
            "'conv_in'",
        ),
        (
            [helper.make_node("Concat", ["x", "x"], ["y"], name="cat0", axis=0)],
            [],
            "'cat0'.*batch axis",
        ),
        (
            [
                helper.make_node("MaxPool", ["x"], ["p", "i"], name="mp", kernel_shape=[2, 2]),
                helper.make_node("Cast", ["i"], ["y"], name="cast", to=TensorProto.FLOAT),
            ],
            [],
            "'mp'.*Indices",
        ),
        (
            [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
            [_init("s", np.array([2, -1], np.int64))],
            "'rs'",
        ),
        (
            [helper.make_node("LpPool", ["x"], ["y"], name="lp", kernel_shape=[2, 2])],
            [],
            "'lp'.*LpPool",
        ),
    ],
    ids=[
        "conv-weight-input",
        "concat-batch",
        "maxpool-indices",
        "reshape-batch",
        "lppool",
    ],
)
def test_unsupported_nodes_name_the_layer(
    nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], pattern: str
) -> None:
    with pytest.raises(UnsupportedLayerError, match=pattern):
        from_onnx(_bad(nodes, inits))


def test_broadcast_add_of_a_feature_map_and_its_channel_means() -> None:
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["g"], name="gap"),
        helper.make_node("Add", ["x", "g"], ["y"], name="bcast"),
    ]
    model = from_onnx(_bad(nodes, []))
    X = np.random.default_rng(0).normal(size=(3, 2, 6, 6)).astype(np.float32)
    expected = X + X.mean(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(model.predict(X), expected.reshape(3, -1), rtol=1e-5, atol=1e-6)


# -- torch.onnx.export ------------------------------------------------------------------------


def _export(net: Any, example: Any, opset: int = 17) -> bytes:
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch.onnx.export(
        net,
        example,
        buffer,
        dynamo=False,
        opset_version=opset,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
        do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
    )
    return buffer.getvalue()


@pytest.mark.filterwarnings(*TORCH_EXPORT_WARNINGS)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_torch_exported_same_padding_with_even_kernel() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 4, padding="same"),
        torch.nn.ReLU(),
        torch.nn.Conv2d(3, 2, (2, 3), padding="same", dilation=(1, 2)),
        torch.nn.Flatten(),
    ).eval()
    X = _data(3, 2, 7, 6)
    data = _export(net, torch.from_numpy(X))
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    model = from_onnx(data)
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)


def test_pad_folded_into_conv_and_other_pads_rejected() -> None:
    def graph(mode: str, then: str) -> onnx.ModelProto:
        nodes = [
            helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode=mode),
            helper.make_node(then, ["p", "W"] if then == "Conv" else ["p"], ["y"], name="next"),
        ]
        inits = [
            _init("pads", np.array([0, 0, 1, 0, 0, 0, 2, 3], np.int64)),
            _init("W", _w(3, 2, 3, 3)),
        ]
        return _model(nodes, inits, (2, 5, 6))

    model = _check(graph("constant", "Conv"), (2, 5, 6))
    assert model.layer_names == ["next"]
    assert model.spec.layers[0].params["padding"] == (1, 0, 2, 3)
    for mode, then in [("reflect", "Conv"), ("constant", "Relu")]:
        with pytest.raises(UnsupportedLayerError, match="'pad'"):
            from_onnx(graph(mode, then))


def _torch_cnn(name: str) -> tuple[Any, tuple[int, ...]]:
    sys.path.insert(0, str(Path(__file__).parent))
    import test_torch_cnn as nets  # the same networks as the torch adapter tests

    if name == "lenet":
        return nets.lenet(), (1, 28, 28)
    if name == "resnet":
        return nets._randomize_bn(nets.ResNetLike()), (3, 16, 16)
    return nets.Inception(), (4, 9, 9)


@pytest.mark.filterwarnings(*TORCH_EXPORT_WARNINGS)
@pytest.mark.parametrize("name", ["lenet", "resnet", "inception"])
@pytest.mark.parametrize("opset", [13, 17])
def test_torch_exported_cnn_matches_torch(name: str, opset: int) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net, shape = _torch_cnn(name)
    net = net.eval()
    X = _data(4, *shape)
    data = _export(net, torch.from_numpy(X), opset)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    model = from_onnx(data)
    assert model.input_shape == shape
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)
