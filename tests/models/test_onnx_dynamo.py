"""from_onnx on the graphs torch's default (dynamo) exporter writes, with a fixed or a dynamic
batch axis, and on the ONNX ops of the layer table's newer kinds (checked against onnx's
reference evaluator)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from glassbox.models.onnx_adapter import from_onnx  # noqa: E402

nn, F = torch.nn, torch.nn.functional
RTOL, ATOL = 1e-4, 1e-5
EXPORT_WARNINGS = ("ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning")


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _dynamo(net: Any, X: np.ndarray, dynamic: bool) -> Any:
    shapes = {"dynamic_shapes": ({0: torch.export.Dim("batch")},)} if dynamic else {}
    with contextlib.redirect_stdout(io.StringIO()):
        program = torch.onnx.export(net, (torch.from_numpy(X),), dynamo=True, **shapes)
    return program.model_proto


class _Activations(nn.Module):
    """Preprocessing arithmetic, every newer activation, a mean and a softplus head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x / 255.0 - 0.5))
        y = F.mish(y) + F.hardswish(y) + F.hardsigmoid(y) + F.relu6(y) + torch.clamp(y, -1, 2)
        y = y + F.selu(y) + F.elu(y) + F.leaky_relu(y, 0.1)
        y = F.avg_pool2d(y, 2, ceil_mode=True).mean((2, 3))
        return F.log_softmax(F.softplus(self.fc(y)) * 2 - 1, dim=1)


def _nets() -> dict[str, tuple[Any, tuple[int, ...]]]:
    sys.path.insert(0, str(Path(__file__).parent))
    import test_torch_cnn as nets

    return {
        "lenet": (nets.lenet(), (1, 28, 28)),
        "resnet": (nets._randomize_bn(nets.ResNetLike()), (3, 16, 16)),
        "inception": (nets.Inception(), (4, 9, 9)),
        "activations": (nets._randomize_bn(_Activations()), (3, 8, 8)),
        "mlp": (nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 3), nn.Softmax(-1)), (5,)),
    }


@pytest.mark.filterwarnings(*EXPORT_WARNINGS)
@pytest.mark.parametrize("dynamic", [False, True], ids=["fixed-batch", "dynamic-batch"])
@pytest.mark.parametrize("name", ["lenet", "resnet", "inception", "activations", "mlp"])
def test_dynamo_exports_match_torch(name: str, dynamic: bool) -> None:
    torch.manual_seed(0)
    net, shape = _nets()[name]
    net = net.eval()
    X = _data(3, *shape) * (100 if name == "activations" else 1)
    model = from_onnx(_dynamo(net, X, dynamic))
    assert model.input_shape == shape
    batch = np.concatenate([X, X[:1]])  # another batch size than the export's
    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(model.predict(batch), expected, rtol=RTOL, atol=ATOL)


def _single(node: Any, inits: list[Any] | None = None, opset: int = 20) -> Any:
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "k"])],
        initializer=inits or [],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _const(name: str, value: Any) -> Any:
    return numpy_helper.from_array(np.asarray(value), name)


_NODE = helper.make_node
_F32 = np.float32
_AXES = {axes: _const("axes", np.array(axes, np.int64)) for axes in ((1,), (-1,), (2, 3))}
OPS = {
    "clip": (
        _NODE("Clip", ["x", "lo", "hi"], ["y"]),
        [_const("lo", _F32(-0.5)), _const("hi", _F32(1.0))],
    ),
    "clip_upper_only": (_NODE("Clip", ["x", "", "hi"], ["y"]), [_const("hi", _F32(0.3))]),
    "hard_sigmoid_torch": (_NODE("HardSigmoid", ["x"], ["y"], alpha=1 / 6, beta=0.5), []),
    "hard_sigmoid_onnx_default": (_NODE("HardSigmoid", ["x"], ["y"]), []),
    "hard_swish": (_NODE("HardSwish", ["x"], ["y"]), []),
    "mish": (_NODE("Mish", ["x"], ["y"]), []),
    "selu": (_NODE("Selu", ["x"], ["y"]), []),
    "neg": (_NODE("Neg", ["x"], ["y"]), []),
    "reduce_mean_channels": (
        _NODE("ReduceMean", ["x", "axes"], ["y"], keepdims=0),
        [_AXES[(1,)]],
    ),
    "reduce_mean_keepdims": (_NODE("ReduceMean", ["x", "axes"], ["y"]), [_AXES[(-1,)]]),
    "reduce_mean_spatial": (
        _NODE("ReduceMean", ["x", "axes"], ["y"], keepdims=0),
        [_AXES[(2, 3)]],
    ),
    "global_max_pool": (_NODE("GlobalMaxPool", ["x"], ["y"]), []),
    "mul_per_element": (_NODE("Mul", ["x", "k"], ["y"]), [_const("k", _data(1, 2, 3, 4))]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_match_the_onnx_reference(name: str) -> None:
    node, inits = OPS[name]
    proto = _single(node, inits)
    X = _data(5, 2, 3, 4) * 3
    model = from_onnx(proto)
    expected = ReferenceEvaluator(proto).run(None, {"x": X})[0].reshape(5, -1)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-6)
