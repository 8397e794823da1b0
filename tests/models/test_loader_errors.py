"""Crafted model files and models: each gets a clean ValueError / UnsupportedLayerError naming
the layer or tensor (absurd or invalid geometry, corrupt initializers, non-float, NaN or
infinite weights, negative batch-norm variances, broken pickles), before any large allocation.

Every case here was found to crash, abort, allocate gigabytes or compute silently wrong values
before; the cases reach only checks that run before the native kernels, so they run in-process
(the fuzz tests in test_fuzz_loaders.py run unknown inputs in a subprocess).
"""

from __future__ import annotations

import copy
import pickle
import resource
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from glassbox.errors import UnsupportedLayerError
from glassbox.models.builder import GraphBuilder, InvalidLayer
from glassbox.models.native import build_network
from glassbox.models.spec import NetworkSpec

BIG = 3689348814741910325  # x 5 overflows int64


# --------------------------------------------------------------------------------------------
# ONNX files
# --------------------------------------------------------------------------------------------


def _onnx() -> Any:
    return pytest.importorskip("onnx")


def _graph(
    in_dims: list[Any],
    op: str = "Conv",
    attrs: dict[str, Any] | None = None,
    weight: Any = None,
    flatten: bool = True,
    check: bool = True,
) -> bytes:
    """x -> Conv (W (2, 1, 3, 3)) or a pooling op -> Flatten, as serialized bytes."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    if op == "Conv":
        nodes = [helper.make_node("Conv", ["x", "W"], ["h"], name="conv", **(attrs or {}))]
        if weight is None:
            weight = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "W")
        inits.append(weight)
    else:
        nodes = [helper.make_node(op, ["x"], ["h"], name="pool", **(attrs or {}))]
    out = "h"
    if flatten:
        nodes.append(helper.make_node("Flatten", ["h"], ["y"], name="flat"))
        out = "y"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_dims)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["n", "k"] if flatten else None)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if check:  # valid ONNX, but for corrupt tensors (which recent checkers catch)
        onnx.checker.check_model(model)
    return model.SerializeToString()


def _tensor(array: np.ndarray, name: str = "W") -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(array, name)


def _raw(n_bytes: int) -> Any:
    from onnx import TensorProto, helper

    tensor = helper.make_tensor("W", TensorProto.FLOAT, [2, 1, 3, 3], bytes(72), raw=True)
    tensor.raw_data = bytes(n_bytes)  # make_tensor checks the size; a file need not
    return tensor


ONNX_CASES = {
    # the probe's files: a Conv / MaxPool / AveragePool reading input dims whose product
    # overflows int64
    "overflowing dims, Conv": (
        lambda: _graph(["n", 1, BIG, 5]),
        r"the input 'x' of the ONNX graph \(read by 'conv'\): shape \(1, 3689348814741910325, 5\) "
        r"has \d+ elements per sample, more than the ceiling of 268435456",
    ),
    "overflowing dims, MaxPool": (
        lambda: _graph(["n", 1, BIG, 5], "MaxPool", {"kernel_shape": [2, 2]}),
        r"input 'x' of the ONNX graph \(read by 'pool'\): .* more than the ceiling of 268435456",
    ),
    "overflowing dims, AveragePool": (
        lambda: _graph(["n", 1, 5, BIG], "AveragePool", {"kernel_shape": [2, 2]}),
        r"input 'x' of the ONNX graph \(read by 'pool'\): .* more than the ceiling of 268435456",
    ),
    "input above the ceiling": (
        lambda: _graph(["n", 1, 2**15, 2**14]),
        r"input 'x' of the ONNX graph \(read by 'conv'\): .* more than the ceiling",
    ),
    "negative input dims": (
        lambda: _graph(["n", 1, -8, 8]),
        r"input 'x' of the ONNX graph \(read by 'conv'\) must have shape \(batch, \*sample_shape",
    ),
    "Conv group mismatch": (
        lambda: _graph(["n", 1, 8, 8], attrs={"group": 2}),
        r"layer 'conv' \(ONNX op Conv\).*groups=2 does not take 1 channels",
    ),
    "Conv kernel_shape that W does not have (ignored before)": (
        lambda: _graph(["n", 1, 8, 8], attrs={"kernel_shape": [5, 5]}, check=False),
        r"layer 'conv' \(ONNX op Conv\).*kernel_shape=\[5, 5\] does not match W of shape "
        r"\(2, 1, 3, 3\)",
    ),
    "Conv kernel larger than the padded input": (
        lambda: _graph(["n", 1, 2, 2], attrs={"pads": [0, 0, 0, 0]}),
        r"layer 'conv'.*kernel extent 3 \(with dilation\) is larger than the padded input 2",
    ),
    "MaxPool dilated window wholly in the padding (-inf before)": (
        lambda: _graph(
            ["n", 1, 2, 8],
            "MaxPool",
            {"kernel_shape": [2, 1], "pads": [1, 0, 1, 0], "dilations": [3, 1]},
        ),
        r"layer 'pool': max_pool2d: window 0 along the height lies wholly in the padding",
    ),
    "MaxPool with huge pads": (
        lambda: _graph(["n", 1, 8, 8], "MaxPool", {"kernel_shape": [2, 2], "pads": [2**40] * 4}),
        r"layer 'pool' \(ONNX op MaxPool\).*padding 1099511627776 must be smaller than the kernel",
    ),
    "AveragePool pads 2^20 (950 MB before)": (
        lambda: _graph(
            ["n", 1, 8, 8], "AveragePool", {"kernel_shape": [3, 3], "pads": [2**20] * 4}
        ),
        r"layer 'pool' \(ONNX op AveragePool\).*padding 1048576 must be smaller than the kernel",
    ),
    "MaxPool pads >= kernel (-inf before)": (
        lambda: _graph(["n", 1, 8, 8], "MaxPool", {"kernel_shape": [2, 2], "pads": [2, 2, 2, 2]}),
        r"layer 'pool'.*padding 2 must be smaller than the kernel",
    ),
    "Conv stride 0 (ZeroDivisionError before)": (
        lambda: _graph(["n", 1, 8, 8], attrs={"strides": [0, 1]}),
        r"layer 'conv' \(ONNX op Conv\).*stride must be positive",
    ),
    "Conv SAME with stride 0": (
        lambda: _graph(["n", 1, 8, 8], attrs={"auto_pad": "SAME_UPPER", "strides": [0, 0]}),
        r"layer 'conv'.*must be positive",
    ),
    "MaxPool stride 0": (
        lambda: _graph(["n", 1, 8, 8], "MaxPool", {"kernel_shape": [2, 2], "strides": [1, 0]}),
        r"layer 'pool'.*stride must be positive",
    ),
    "Conv dilation 0": (
        lambda: _graph(["n", 1, 8, 8], attrs={"dilations": [0, 1]}),
        r"layer 'conv'.*dilation must be positive",
    ),
    "Conv negative pads": (
        lambda: _graph(["n", 1, 8, 8], attrs={"pads": [-1, 0, 0, 0]}),
        r"layer 'conv'.*negative padding",
    ),
    "Conv pads 2^30": (
        lambda: _graph(["n", 1, 8, 8], attrs={"pads": [2**30] * 4}),
        r"layer 'conv'.*conv2d: output: .* more than the ceiling",
    ),
    "Conv pads 2^40 and dilation 2^40 (a small output, a huge padded copy)": (
        lambda: _graph(["n", 1, 8, 8], attrs={"pads": [2**40] * 4, "dilations": [2**40] * 2}),
        r"layer 'conv'.*conv2d: zero-padded input: .* more than the ceiling",
    ),
    "oversize raw_data": (
        lambda: _graph(["n", 1, 8, 8], weight=_raw(4 * 18 + 8)),
        r"initializer 'W' \(read by 'conv'\) is corrupt: dims \[2, 1, 3, 3\] of type FLOAT "
        r"need 72 bytes, its raw_data holds 80",
    ),
    "undersize raw_data": (  # the checker catches this one (recent onnx), else the adapter
        lambda: _graph(["n", 1, 8, 8], weight=_raw(12), check=False),
        r"(tensor name: W\) raw_data size \(12 bytes\)|initializer 'W' .* holds 12)",
    ),
    "int8 weights": (
        lambda: _graph(["n", 1, 8, 8], weight=_tensor(np.ones((2, 1, 3, 3), np.int8))),
        r"layer 'conv' \(ONNX op Conv\): tensor 'W' has dtype int8; a weight must be a floating",
    ),
    "string weights": (
        lambda: _graph(
            ["n", 1, 8, 8], weight=_tensor(np.array([b"w"] * 18, dtype=object).reshape(2, 1, 3, 3))
        ),
        r"layer 'conv'.*tensor 'W' has dtype object; a weight must be a floating-point tensor",
    ),
    "NaN weights": (
        lambda: _graph(["n", 1, 8, 8], weight=_tensor(np.full((2, 1, 3, 3), np.nan, np.float32))),
        r"layer 'conv' \(ONNX op Conv\): conv2d: weight 'weight' holds NaN or infinite values",
    ),
    "Inf weights": (
        lambda: _graph(["n", 1, 8, 8], weight=_tensor(np.full((2, 1, 3, 3), -np.inf, np.float32))),
        r"layer 'conv'.*weight 'weight' holds NaN or infinite values",
    ),
}


@pytest.mark.parametrize("case", sorted(ONNX_CASES))
def test_crafted_onnx_files_raise_naming_the_layer(case: str) -> None:
    make, match = ONNX_CASES[case]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=match):
        gb.from_onnx(make())
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024  # no large allocation on the way to the error


def test_onnx_external_data_that_was_not_loaded_is_rejected() -> None:
    from onnx import TensorProto

    tensor = _tensor(np.ones((2, 1, 3, 3), np.float32))
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="weights.bin")
    tensor.ClearField("raw_data")
    match = r"initializer 'W' \(read by 'conv'\) keeps its data in|should be stored in weights"
    with pytest.raises(ValueError, match=match):  # the checker or the adapter
        gb.from_onnx(_graph(["n", 1, 8, 8], weight=tensor, check=False))


def test_onnx_batch_norm_with_a_negative_variance_is_rejected() -> None:
    onnx = _onnx()
    from onnx import TensorProto, helper

    stats = [np.ones(2, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32)]
    var = np.array([1.0, -0.5], np.float32)
    graph = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        initializer=[_tensor(a, n) for a, n in zip([*stats, var], "sbmv", strict=True)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    with pytest.raises(
        ValueError,
        match=r"layer 'bn' \(ONNX op BatchNormalization\): batch norm: the running variance "
        r"must be >= 0 .* channel 1 has variance -0\.5",
    ):
        gb.from_onnx(model)


def test_a_malformed_attribute_names_the_layer() -> None:
    onnx = _onnx()
    from onnx import TensorProto, helper

    node = helper.make_node("Gemm", ["x", "W"], ["y"], name="fc", alpha="big")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        initializer=[_tensor(np.ones((3, 2), np.float32))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ValueError):  # the checker or the translation, never a raw TypeError
        gb.from_onnx(model)
    del onnx


# --------------------------------------------------------------------------------------------
# The graph builder (every adapter) and the framework adapters
# --------------------------------------------------------------------------------------------


def _builder(shape: tuple[int, ...]) -> GraphBuilder:
    return GraphBuilder(shape, adapter="from_test", supported=("Conv",))


def test_the_builder_rejects_invalid_geometry_before_the_native_build() -> None:
    b = _builder((1, 8, 8))
    w = np.ones((2, 1, 3, 3), np.float32)
    cases = [
        ("same", lambda: b.conv2d("c0", b.input, w, None, stride=0, padding="same")),
        ("stride", lambda: b.conv2d("c1", b.input, w, None, stride=(0, 1))),
        ("pads", lambda: b.conv2d("c2", b.input, w, None, padding=2**40)),
        ("pool", lambda: b.pool2d("p0", "avg_pool2d", b.input, 3, padding=2**20)),
        ("kernel", lambda: b.pool2d("p1", "max_pool2d", b.input, (0, 2))),
    ]
    for name, make in cases:
        b.translate(name, "Op", make)
    with pytest.raises(UnsupportedLayerError) as info:
        b.finish(b.input)
    message = str(info.value)
    assert message.startswith("5 layers are not supported")
    for name in ("same", "stride", "pads", "pool", "kernel"):
        assert f"layer {name!r} (Op)" in message
    assert "ZeroDivisionError" not in message and "must be smaller than the kernel" in message
    with pytest.raises(ValueError, match=r"input_shape: shape \(1, 3689348814741910325, 5\)"):
        _builder((1, BIG, 5))


def test_the_builder_rejects_non_finite_weights_and_negative_variances() -> None:
    b = _builder((3,))
    weight = np.ones((2, 3))
    weight[0, 1] = np.inf
    with pytest.raises(InvalidLayer, match=r"layer 'fc' \(Linear\): dense: weight 'weight' holds"):
        b.translate("fc", "Linear", lambda: b.dense("fc", b.input, weight, None))
    ones = np.ones(3)
    for var, match in ((np.array([1.0, -1.0, 1.0]), "variance -1"), (ones * np.nan, "variance")):
        with pytest.raises(
            InvalidLayer, match=rf"layer 'bn' \(BatchNorm1d\): batch norm: .*{match}"
        ):
            b.translate(
                "bn",
                "BatchNorm1d",
                lambda v=var: b.batch_norm("bn", b.input, ones, v, None, None, 1e-5),
            )
    with pytest.raises(InvalidLayer, match="variance"):
        b.batch_norm("bn", b.input, ones, ones * 0, None, None, 0.0)  # var + eps == 0
    with pytest.raises(InvalidLayer, match=r"scale_shift|batch_norm"):
        b.arithmetic("mul", "mul", b.input, np.array([1.0, np.inf, 2.0]))


def test_torch_models_with_invalid_weights_or_geometry() -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        net[2].weight[1, 1] = float("nan")
    with pytest.raises(ValueError, match=r"layer '2' \(.*Linear.*\): dense: weight 'weight' holds"):
        gb.from_torch(net)

    bn = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).eval()
    with torch.no_grad():
        bn[1].running_var[2] = -1.0
    with pytest.raises(
        ValueError, match=r"layer '1' \(.*BatchNorm1d.*\): batch norm: .* channel 2"
    ):
        gb.from_torch(bn)

    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten())
    with pytest.raises(ValueError, match=r"input_shape: .* more than the ceiling"):
        gb.from_torch(conv, input_shape=(1, 2**20, 2**20))
    model = gb.from_torch(conv)  # lazy: the shape comes with the first batch
    with pytest.raises(ValueError, match=r"more than the ceiling"):
        model.build((1, 2**15, 2**15))
    conv[0].stride = (0, 1)
    with pytest.raises(UnsupportedLayerError, match=r"layer '0'.*stride must be positive"):
        gb.from_torch(conv, input_shape=(1, 8, 8))
    for pool, pad in (
        (torch.nn.MaxPool2d(2, padding=2), 2),
        (torch.nn.AvgPool2d(3, padding=2**20), 2**20),
    ):
        net = torch.nn.Sequential(pool, torch.nn.Flatten())  # torch checks only when it runs
        with pytest.raises(ValueError, match=rf"layer '0'.*padding {pad} must be smaller than"):
            gb.from_torch(net, input_shape=(1, 8, 8))


def test_keras_batch_norm_with_a_negative_variance() -> None:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(name="bn")])
    bn = model.layers[0]
    bn.moving_variance.assign(np.array([1.0, -2.0, 0.5], np.float32))
    with pytest.raises(ValueError, match=r"layer 'bn' \(BatchNormalization\): batch norm: the"):
        gb.from_keras(model)


def test_sklearn_coefficients_with_nan() -> None:
    linear = pytest.importorskip("sklearn.linear_model")
    est = linear.LinearRegression().fit(np.eye(3), np.arange(3.0))
    est.coef_[1] = np.nan
    with pytest.raises(ValueError, match=r"layer '.*': dense: weight '(weight|bias)' holds NaN"):
        gb.from_sklearn(est)


# --------------------------------------------------------------------------------------------
# Pickled models
# --------------------------------------------------------------------------------------------


def _state() -> dict[str, Any]:
    spec = NetworkSpec(input_shape=(3,))
    spec.add("dense", "fc", weight=np.ones((2, 3)), bias=None)
    spec.add("relu", "act")
    return copy.deepcopy(build_network(spec).__getstate__())


def _leaky(layer: Any, slope: Any) -> None:
    layer.kind, layer.params = "leaky_relu", {"negative_slope": slope}


def _loads(state: Any) -> Any:
    from glassbox.models.native import NativeModel

    model = NativeModel.__new__(NativeModel)
    model.__setstate__(state)
    return model


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda s: s["spec"].__setattr__("input_shape", (1, BIG, 5)), ValueError, "input_shape"),
        (lambda s: s["spec"].__setattr__("input_shape", (2**64,)), ValueError, "more than"),
        (lambda s: s["spec"].__setattr__("input_shape", (3.5,)), TypeError, "tuple of ints"),
        (lambda s: s["spec"].layers[1].__setattr__("inputs", [1]), ValueError, "earlier layers"),
        (lambda s: s["spec"].layers[1].__setattr__("inputs", [2**40]), ValueError, "inputs"),
        (lambda s: s["spec"].layers[1].__setattr__("kind", "bogus"), ValueError, "unknown kind"),
        (lambda s: s["spec"].layers[1].params.update(x=[["a"]]), TypeError, "params must be"),
        (
            lambda s: s["spec"].layers[0].weights.update(weight=np.ones((2, 3), complex)),
            TypeError,
            "weight 'weight' must be a numeric NumPy array",
        ),
        (
            lambda s: s["spec"].layers[0].weights.update(weight=np.ones((2, 3)) * 1e300),
            ValueError,
            "layer 'fc': dense: weight 'weight' holds NaN or infinite",
        ),
        (
            lambda s: s["spec"].layers[0].weights.update(weight=np.ones((2, 1, 3))),
            ValueError,
            "dense: weight must be a 2-D array",
        ),
        (lambda s: s.pop("spec"), TypeError, "invalid pickled state"),
        (lambda s: s.update(factory=3), TypeError, "invalid pickled state"),
        (lambda s: s.update(spec=[1, 2]), TypeError, "expected a NetworkSpec"),
        # an int beyond float's range (an OverflowError before) and a string the core dropped
        (
            lambda s: _leaky(s["spec"].layers[1], -(10**400)),
            ValueError,
            r"layer 'act': leaky_relu: 'negative_slope' must be a finite float, got -inf",
        ),
        (
            lambda s: _leaky(s["spec"].layers[1], "0.1"),
            TypeError,
            r"layer 'act': parameter 'negative_slope' must be a number, got '0.1'",
        ),
    ],
)
def test_broken_pickles_raise_cleanly(mutate, error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    state = _state()
    mutate(state)
    with pytest.raises(error, match=match):
        _loads(state)
    with pytest.raises(error, match=match):
        pickle.loads(pickled(state))


def pickled(state: Any) -> bytes:
    """Pickle bytes that load as a ``NativeModel`` with ``state`` (any state, as a crafted
    file may hold): ``pickle.loads`` makes an empty NativeModel and calls its ``__setstate__``."""
    return pickle.dumps(_Reduced(state))


class _Reduced:
    def __init__(self, state: Any) -> None:
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        import copyreg

        from glassbox.models.native import NativeModel

        return (copyreg._reconstructor, (NativeModel, object, None), self.state)


# --------------------------------------------------------------------------------------------
# Bounded memory: what a load allocates follows the file's weights, not its declared sizes
# --------------------------------------------------------------------------------------------


def test_onnx_integer_inputs_are_rejected_naming_the_input() -> None:
    onnx = _onnx()
    from onnx import TensorProto

    model = onnx.load_from_string(_graph(["n", 1, 8, 8]))
    for elem_type, name in ((TensorProto.INT64, "INT64"), (TensorProto.BOOL, "BOOL")):
        model.graph.input[0].type.tensor_type.elem_type = elem_type
        with pytest.raises(ValueError, match=rf"'x' of the ONNX graph .* has element type {name}"):
            gb.from_onnx(model)
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.DOUBLE
    assert gb.from_onnx(model).n_outputs == 72


def test_constant_folding_cannot_grow_a_tiny_file_without_bound() -> None:
    """30 Concats of a constant with itself would fold to 2^30 floats (4 GiB) from 2 KB: folded
    constants get twice the file's weights + 2^24 elements in all."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Concat", ["c0", "c0"], ["c1"], name="cat1", axis=0)]
    nodes += [
        helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], name=f"cat{i + 1}", axis=0)
        for i in range(1, 30)
    ]
    nodes.append(helper.make_node("Add", ["x", "c30"], ["y"], name="add"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        initializer=[_tensor(np.ones(1, np.float32), "c0")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    assert len(model.SerializeToString()) < 4096
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(
        UnsupportedLayerError, match=r"constant folding failed \(.* left to folded constants"
    ):
        gb.from_onnx(model)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_a_huge_pooling_window_with_huge_pads_builds_a_small_model() -> None:
    """Pads of 2^20 below a kernel of 2^21 are valid: a 9 x 9 output, small tables, no
    allocation that follows the pads."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = _graph(
        ["n", 1, 8, 8], "AveragePool", {"kernel_shape": [2**21, 2**21], "pads": [2**20] * 4}
    )
    model = gb.from_onnx(data)
    out = model.predict(np.ones((2, 1, 8, 8), np.float32))
    assert len(data) < 2048 and out.shape == (2, 81) and np.isfinite(out).all()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024
