"""from_onnx: the native network computes what the ONNX graph computes.

Graphs are built with ``onnx.helper`` and evaluated with ``onnx.reference.ReferenceEvaluator``;
models exported by ``torch.onnx.export`` are compared with the torch module they came from.
"""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

import glassbox as gb  # noqa: E402
from glassbox.models.onnx_adapter import from_onnx  # noqa: E402

RTOL, ATOL = 1e-5, 1e-5
TORCH_EXPORT_WARNINGS = (
    "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning",
    "ignore:The feature will be removed:DeprecationWarning",
)

_RNG = np.random.default_rng(0)


def _w(*shape: int) -> np.ndarray:
    return _RNG.normal(size=shape).astype(np.float32)


def _init(name: str, value: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _model(
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    *,
    input_shape: tuple[Any, ...] = ("n", 4),
    output: str = "y",
    opset: int = 20,
    extra_inputs: list[onnx.ValueInfoProto] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))]
        + (extra_inputs or []),
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["n", "k"])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _reference(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    return ReferenceEvaluator(model).run(None, {"x": X})[0]


def _data(*shape: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * 2).astype(np.float32)


def _mlp(act: str, attrs: dict[str, Any], opset: int = 20) -> onnx.ModelProto:
    """x -> Gemm(fc1) -> act -> MatMul(fc2) + Add(bias2) -> y."""
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node(act, ["h"], ["a"], name="act", **attrs),
        helper.make_node("MatMul", ["a", "W2"], ["m"], name="fc2"),
        helper.make_node("Add", ["m", "b2"], ["y"], name="bias2"),
    ]
    inits = [
        _init("W1", _w(6, 4)),
        _init("b1", _w(6)),
        _init("W2", _w(6, 3)),
        _init("b2", _w(3)),
    ]
    return _model(nodes, inits, opset=opset)


ACTIVATIONS = [
    ("Relu", {}),
    ("LeakyRelu", {}),
    ("LeakyRelu", {"alpha": 0.2}),
    ("Elu", {}),
    ("Elu", {"alpha": 0.5}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softplus", {}),
    ("Gelu", {}),
    ("Gelu", {"approximate": "tanh"}),
    ("Softmax", {"axis": -1}),
    ("Softmax", {"axis": 1}),
    ("LogSoftmax", {"axis": 1}),
    ("Identity", {}),
    ("Dropout", {}),
]


@pytest.mark.parametrize(("op", "attrs"), ACTIVATIONS, ids=lambda v: str(v))
def test_every_op_matches_the_onnx_reference(op: str, attrs: dict[str, Any]) -> None:
    proto = _mlp(op, attrs)
    X = _data(20, 4)
    model = from_onnx(proto)
    assert model.layer_names == ["fc1", "act", "fc2"]
    np.testing.assert_allclose(model.predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "gemm",
    [
        {"transB": 1},
        {"transB": 0},
        {"transB": 1, "alpha": 0.5, "beta": 2.0},
        {"transB": 0, "alpha": -1.5, "beta": 0.25, "bias": "scalar"},
        {"transB": 1, "bias": "row"},
        {"transB": 1, "bias": None},
    ],
    ids=["transB", "noTrans", "alpha-beta", "scalar-bias", "row-bias", "no-bias"],
)
def test_gemm_attributes(gemm: dict[str, Any]) -> None:
    gemm = dict(gemm)
    bias_kind = gemm.pop("bias", "vector")
    weight = _w(5, 4) if gemm["transB"] else _w(4, 5)
    bias = {"vector": _w(5), "row": _w(1, 5), "scalar": np.float32(0.7), None: None}[bias_kind]
    inputs = ["x", "W"] + ([] if bias is None else ["C"])
    inits = [_init("W", weight)] + ([] if bias is None else [_init("C", bias)])
    proto = _model([helper.make_node("Gemm", inputs, ["y"], name="g", **gemm)], inits)
    X = _data(9, 4)
    np.testing.assert_allclose(
        from_onnx(proto).predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("bias_first", [False, True])
def test_matmul_add_is_folded_into_one_dense_layer(bias_first: bool) -> None:
    add_inputs = ["b", "m"] if bias_first else ["m", "b"]
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"], name="mm"),
        helper.make_node("Add", add_inputs, ["z"], name="add"),
        helper.make_node("Tanh", ["z"], ["t"], name="tanh"),
        helper.make_node("MatMul", ["t", "W2"], ["y"], name="mm2"),
    ]
    proto = _model(nodes, [_init("W", _w(4, 6)), _init("b", _w(6)), _init("W2", _w(6, 2))])
    X = _data(7, 4)
    model = from_onnx(proto)
    assert model.layer_names == ["mm", "tanh", "mm2"]
    np.testing.assert_allclose(model.predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    ("node", "inits"),
    [
        (helper.make_node("Flatten", ["x"], ["f"], name="flat"), []),
        (helper.make_node("Reshape", ["x", "s"], ["f"], name="flat"), [("s", [0, -1])]),
        (helper.make_node("Reshape", ["x", "s"], ["f"], name="flat"), [("s", [-1, 6])]),
    ],
    ids=["Flatten", "Reshape(0,-1)", "Reshape(-1,6)"],
)
def test_flatten_forms(node: onnx.NodeProto, inits: list[tuple[str, Any]]) -> None:
    nodes = [node, helper.make_node("Gemm", ["f", "W"], ["y"], name="fc", transB=1)]
    init_protos = [_init(n, np.array(v, np.int64)) for n, v in inits] + [_init("W", _w(2, 6))]
    proto = _model(nodes, init_protos, input_shape=("n", 2, 3))
    X = _data(5, 2, 3)
    model = from_onnx(proto)
    assert model.input_shape == (2, 3)
    assert model.layer_names == ["flat", "fc"]
    np.testing.assert_allclose(model.predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL)


def test_erf_gelu_and_silu_patterns_are_fused() -> None:
    sqrt2 = np.float32(math.sqrt(2.0))
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc", transB=1),
        helper.make_node("Div", ["h", "sqrt2"], ["d"], name="gelu/div"),
        helper.make_node("Erf", ["d"], ["e"], name="gelu/erf"),
        helper.make_node("Add", ["one", "e"], ["e1"], name="gelu/add"),
        helper.make_node("Mul", ["h", "e1"], ["hm"], name="gelu/mul"),
        helper.make_node("Mul", ["hm", "half"], ["g"], name="gelu/half"),
        helper.make_node("Sigmoid", ["g"], ["s"], name="silu/sigmoid"),
        helper.make_node("Mul", ["s", "g"], ["y"], name="silu/mul"),
    ]
    inits = [
        _init("W", _w(5, 4)),
        _init("b", _w(5)),
        _init("sqrt2", sqrt2),
        _init("one", np.float32(1.0)),
        _init("half", np.float32(0.5)),
    ]
    proto = _model(nodes, inits, opset=17)
    X = _data(11, 4)
    model = from_onnx(proto)
    assert model.layer_names == ["fc", "gelu/div", "silu/sigmoid"]
    np.testing.assert_allclose(model.predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL)


def test_unnamed_nodes_get_op_type_and_index_names() -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["y"]),
    ]
    proto = _model(nodes, [_init("W", _w(3, 4))])
    assert from_onnx(proto).layer_names == ["Gemm_0", "Relu_1"]


def test_unknown_input_width_is_taken_from_the_first_gemm() -> None:
    nodes = [helper.make_node("Gemm", ["x", "W"], ["y"], name="fc", transB=1)]
    proto = _model(nodes, [_init("W", _w(3, 7))], input_shape=("n", "d"))
    assert from_onnx(proto).input_shape == (7,)


def test_constant_nodes_are_read() -> None:
    weight = helper.make_tensor("cw", TensorProto.FLOAT, [4, 2], _w(4, 2).ravel().tolist())
    nodes = [
        helper.make_node("Constant", [], ["W"], name="const", value=weight),
        helper.make_node("MatMul", ["x", "W"], ["y"], name="mm"),
    ]
    proto = _model(nodes, [])
    X = _data(3, 4)
    np.testing.assert_allclose(
        from_onnx(proto).predict(X), _reference(proto, X), rtol=RTOL, atol=ATOL
    )


# -- output= --------------------------------------------------------------------------------


def test_output_modes() -> None:
    base = _mlp("Relu", {})
    proto = onnx.ModelProto()
    proto.CopyFrom(base)
    softmax = helper.make_node("Softmax", ["y"], ["p"], name="softmax", axis=-1)
    proto.graph.node.append(softmax)
    proto.graph.output[0].name = "p"
    X = _data(10, 4)
    probs = _reference(proto, X)
    logits = _reference(base, X)
    model = from_onnx(proto)
    assert model.layer_names == ["fc1", "act", "fc2", "softmax"]
    np.testing.assert_allclose(model.predict(X), probs, rtol=RTOL, atol=ATOL)
    logit_model = from_onnx(proto, output="logits")
    assert logit_model.layer_names == ["fc1", "act", "fc2"]
    np.testing.assert_allclose(logit_model.predict(X), logits, rtol=RTOL, atol=ATOL)
    appended = from_onnx(base, output="probabilities")
    assert appended.layer_names == ["fc1", "act", "fc2", "probabilities"]
    np.testing.assert_allclose(appended.predict(X), probs, rtol=RTOL, atol=ATOL)


def test_single_logit_probabilities() -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="fc", transB=1),
        helper.make_node("Sigmoid", ["z"], ["y"], name="sigmoid"),
    ]
    proto = _model(nodes, [_init("W", _w(1, 4)), _init("b", _w(1))])
    X = _data(8, 4)
    p = _reference(proto, X).astype(np.float64)
    model = from_onnx(proto, output="probabilities")
    assert model.n_outputs == 2
    np.testing.assert_allclose(model.predict(X), np.hstack([1 - p, p]), rtol=RTOL, atol=ATOL)
    z = from_onnx(proto, output="logits").predict(X)
    np.testing.assert_allclose(1 / (1 + np.exp(-z.astype(np.float64))), p, rtol=RTOL, atol=ATOL)


# -- torch.onnx.export ------------------------------------------------------------------------


def _export(net: Any, example: Any, opset: int) -> bytes:
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
    )
    return buffer.getvalue()


@pytest.mark.filterwarnings(*TORCH_EXPORT_WARNINGS)
@pytest.mark.parametrize("opset", [13, 17, 20])
def test_torch_exported_model_matches_torch(opset: int, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 8),
        nn.GELU(),
        nn.SiLU(),
        nn.Softplus(),
        nn.ELU(),
        nn.LeakyReLU(0.1),
        nn.Linear(8, 8, bias=False),
        nn.Dropout(),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.ReLU(),
        nn.Linear(8, 3),
        nn.LogSoftmax(dim=-1),
    ).eval()
    X = _data(12, 2, 3)
    data = _export(net, torch.from_numpy(X), opset)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    for source in (data, path, str(path), onnx.load(str(path))):
        model = from_onnx(source)
        assert model.input_shape == (2, 3)
        np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)
    probs = from_onnx(data, output="probabilities").predict(X)
    np.testing.assert_allclose(probs, np.exp(expected), rtol=RTOL, atol=ATOL)


@pytest.mark.filterwarnings(*TORCH_EXPORT_WARNINGS)
def test_torch_exported_tanh_gelu_before_opset_20_is_its_formula() -> None:
    """Before opset 20 the exporter writes tanh-GELU as its formula (products of computed
    tensors); translated op by op, it computes the same values."""
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.GELU(approximate="tanh")).eval()
    model = from_onnx(_export(net, torch.zeros(2, 4), 17))
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-6)


# -- invalid files and unsupported graphs ----------------------------------------------------


def test_invalid_models_raise_a_clear_value_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not an ONNX model\n")
    with pytest.raises(ValueError, match=r"model: .*notes\.txt.* is not a valid ONNX model: "):
        from_onnx(text)
    with pytest.raises(ValueError, match=r"model: the given 9 bytes is not a valid ONNX model"):
        from_onnx(b"\x08\x07\xff\xff\x00corrupt"[:9])
    with pytest.raises(ValueError, match="is not a valid ONNX model"):
        from_onnx(b"")
    valid = _mlp("Relu", {}).SerializeToString()
    with pytest.raises(ValueError, match="is not a valid ONNX model"):
        from_onnx(valid[: len(valid) // 2])
    with pytest.raises(ValueError, match=r"model: no ONNX file at .*missing\.onnx"):
        from_onnx(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="no ONNX file"):
        from_onnx(str(tmp_path))
    with pytest.raises(TypeError, match="model"):
        from_onnx(42)


def _single(node: onnx.NodeProto, inits: list[onnx.TensorProto] | None = None) -> Any:
    return _model([node], inits or [])


@pytest.mark.parametrize(
    ("proto", "pattern"),
    [
        (
            _single(
                helper.make_node("Conv", ["x", "W"], ["y"], name="conv0"),
                [_init("W", _w(1, 1, 1))],
            ),
            r"'conv0' \(ONNX op Conv\)",
        ),
        (_single(helper.make_node("Sin", ["x"], ["y"], name="wave")), r"'wave'"),
        (
            _single(
                helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transA=1),
                [_init("W", _w(4, 4))],
            ),
            "transA",
        ),
        (_single(helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=0)), "axis=0"),
        (_single(helper.make_node("Flatten", ["x"], ["y"], name="fl", axis=0)), "axis=0"),
        (
            _single(
                helper.make_node("MatMul", ["W", "x"], ["y"], name="left"), [_init("W", _w(4, 4))]
            ),
            r"'left' \(ONNX op MatMul\)",
        ),
    ],
    ids=["Conv", "Sin", "transA", "softmax-axis0", "flatten-axis0", "matmul-left"],
)
def test_unsupported_nodes_are_named(proto: onnx.ModelProto, pattern: str) -> None:
    with pytest.raises(gb.UnsupportedLayerError, match=pattern) as info:
        from_onnx(proto)
    assert "Gemm" in str(info.value)


def test_two_inputs_become_named_inputs_side_by_side() -> None:
    node = helper.make_node("Add", ["x", "x2"], ["y"], name="add")
    extra = [helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["n", 4])]
    model = from_onnx(_model([node], [], extra_inputs=extra))
    assert [(i.name, i.shape, i.dtype) for i in model.spec.inputs] == [
        ("x", (4,), "float"),
        ("x2", (4,), "float"),
    ]
    X = _data(5, 8)
    np.testing.assert_allclose(model.predict(X), X[:, :4] + X[:, 4:], rtol=1e-6)


# -- the caller's model, pickling ------------------------------------------------------------


def test_model_proto_is_unchanged_and_pickle_round_trips() -> None:
    proto = _mlp("Tanh", {})
    before = proto.SerializeToString()
    model = from_onnx(proto, feature_names=list("abcd"), output_names=["u", "v", "w"])
    assert proto.SerializeToString() == before
    clone = pickle.loads(pickle.dumps(model))
    X = _data(6, 4)
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert clone.feature_names == list("abcd")
    assert clone.output_names == ["u", "v", "w"]
    assert clone.layer_names == ["fc1", "act", "fc2"]
