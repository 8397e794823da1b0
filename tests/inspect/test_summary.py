"""glassbox.inspect.summary: parameter counts equal torch's / Keras' / the ONNX initializers' and
hand counts, multiply-adds equal hand counts and the core's ``macs_per_sample``, shapes equal
torch's forward hooks, the text table and the SVG graph show every layer and edge."""

from __future__ import annotations

import os
import re
from xml.etree import ElementTree

import numpy as np
import pytest
import torch
from torch import nn

import glassbox as gb
from cnn_nets import inception_spec, lenet_spec, resnet_spec


def _torch_counts(net: nn.Module, summary: gb.inspect.Summary) -> dict[str, int]:
    """Parameters per module name (torch's), for the layers the summary lists by that name."""
    modules = dict(net.named_modules())
    return {
        name: sum(p.numel() for p in modules[name].parameters())
        for name in summary.layers
        if name in modules
    }


def _hook_shapes(net: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Per-sample output shape of every leaf module (a forward hook)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, module in net.named_modules():
        if not list(module.children()):
            module.register_forward_hook(
                lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:]))
            )
    net.eval()
    with torch.no_grad():
        net(x)
    return shapes


def test_mlp_counts_equal_torch_and_hand_counts():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(7, 16), nn.ReLU(), nn.Linear(16, 5), nn.Tanh(), nn.Linear(5, 2))
    result = gb.inspect.summary(net)
    assert result.layers == ["0", "1", "2", "3", "4"]
    assert result.kinds == ["dense", "relu", "dense", "tanh", "dense"]
    np.testing.assert_array_equal(result.params, [7 * 16 + 16, 0, 16 * 5 + 5, 0, 5 * 2 + 2])
    np.testing.assert_array_equal(result.macs, [7 * 16, 0, 16 * 5, 0, 5 * 2])
    assert result.total_params == sum(p.numel() for p in net.parameters())
    assert result.total_macs == gb.from_torch(net).network.macs_per_sample
    assert result.input_shapes == [(7,), (16,), (16,), (5,), (5,)]
    assert result.output_shapes == [(16,), (16,), (5,), (5,), (2,)]


class _LeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=1, stride=2, bias=False)
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x)).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


def test_lenet_counts_and_shapes_equal_torch():
    torch.manual_seed(0)
    net = _LeNet()
    result = gb.inspect.summary(net, input_shape=(1, 20, 20))
    counts = _torch_counts(net, result)
    assert set(counts) == {"conv1", "pool", "conv2", "fc1", "fc2"}
    frame = result.to_frame().set_index("layer")
    for name, count in counts.items():
        assert frame.loc[name, "params"] == count
    hooks = _hook_shapes(net, torch.zeros(1, 1, 20, 20))
    for name in counts:
        assert frame.loc[name, "output_shape"] == hooks[name]
    # hand counts: Cout * Cin * kh * kw * oh * ow, in * out
    assert frame.loc["conv1", "macs"] == 6 * 1 * 5 * 5 * 16 * 16
    assert frame.loc["conv2", "macs"] == 16 * 6 * 5 * 5 * 3 * 3
    assert frame.loc["fc1", "macs"] == 144 * 32
    assert frame.loc["fc2", "macs"] == 32 * 10
    assert frame["macs"].sum() == result.total_macs
    assert result.total_params == sum(p.numel() for p in net.parameters())
    assert result.total_macs == gb.from_torch(net, input_shape=(1, 20, 20)).network.macs_per_sample


class _ResCat(nn.Module):
    """A residual block with batch norm (add) and two branches joined by concat."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv_a = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn_a = nn.BatchNorm2d(8)
        self.left = nn.Conv2d(8, 4, 1)
        self.right = nn.Conv2d(8, 6, 3, padding=1, groups=2)
        self.head = nn.Linear(10, 3)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = torch.relu(self.bn_a(self.conv_a(x)) + x)
        x = torch.cat([self.left(x), self.right(x)], dim=1)
        return self.head(x.mean(dim=(2, 3)))


def test_residual_concat_net_counts_equal_torch_and_hand_counts():
    torch.manual_seed(0)
    net = _ResCat().eval()
    result = gb.inspect.summary(net, input_shape=(3, 6, 6))
    frame = result.to_frame().set_index("layer")
    for name, count in _torch_counts(net, result).items():
        assert frame.loc[name, "params"] == count, name
    assert frame.loc["bn", "params"] == 2 * 8  # gamma and beta (running stats are buffers)
    assert frame.loc["bn", "macs"] == 0  # folded into the convolution at inference
    assert frame.loc["right", "macs"] == 6 * (8 // 2) * 3 * 3 * 6 * 6  # grouped
    assert frame.loc["left", "macs"] == 4 * 8 * 6 * 6
    assert result.total_params == sum(p.numel() for p in net.parameters())
    hand = 8 * 3 * 9 * 36 + 8 * 8 * 9 * 36 + 4 * 8 * 36 + 6 * 4 * 9 * 36 + 10 * 3
    assert result.total_macs == hand
    kinds = result.kinds
    add, cat = kinds.index("add"), kinds.index("concat")
    assert len(result.inputs[add]) == 2 and len(result.inputs[cat]) == 2
    assert result.input_shapes[cat] == ((4, 6, 6), (6, 6, 6))
    assert result.output_shapes[cat] == (10, 6, 6)


@pytest.mark.parametrize("build", [lenet_spec, resnet_spec, inception_spec])
def test_spec_nets_total_equals_the_core_and_weights(build):
    spec = build()
    model = gb.build_network(spec)
    result = gb.inspect.summary(model)
    assert result.total_macs == model.network.macs_per_sample
    weights = sum(w.size for layer in spec.layers for w in layer.weights.values() if w is not None)
    assert result.total_params == weights
    assert result.output_shapes == [tuple(s) for s in model.network.layer_shapes]


def test_keras_model_counts_equal_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    L = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((10, 10, 2)),
            L.Conv2D(4, 3, activation="relu", name="c1"),
            L.MaxPooling2D(name="p1"),
            L.Flatten(name="flat"),
            L.Dense(6, activation="tanh", name="d1"),
            L.Dense(3, name="out"),
        ]
    )
    result = gb.inspect.summary(model)
    frame = result.to_frame().set_index("layer")
    for name in ("c1", "d1", "out"):
        assert frame.loc[name, "params"] == model.get_layer(name).count_params()
    assert result.total_params == model.count_params()
    assert frame.loc["c1", "macs"] == 4 * 2 * 3 * 3 * 8 * 8
    assert frame.loc["c1", "output_shape"] == (4, 8, 8)  # native layout: channels first
    assert frame.loc["d1", "macs"] == 4 * 4 * 4 * 6


def test_onnx_model_counts_equal_the_initializers():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(5, 2, 3, 3)).astype(np.float32)
    b1 = rng.normal(size=5).astype(np.float32)
    w2 = rng.normal(size=(5 * 4 * 4, 3)).astype(np.float32)
    b2 = rng.normal(size=3).astype(np.float32)
    inits = [
        numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="gemm"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        initializer=inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    result = gb.inspect.summary(gb.from_onnx(proto))
    assert result.total_params == sum(a.size for a in (w1, b1, w2, b2))
    assert result.total_macs == 5 * 2 * 9 * 16 + 80 * 3
    assert onnx is not None


def test_sklearn_mlp_counts_equal_its_coefficients():
    from sklearn.neural_network import MLPClassifier

    X = np.random.default_rng(0).normal(size=(60, 4))
    mlp = MLPClassifier((6, 5), max_iter=20, random_state=0)
    with pytest.warns(Warning):  # not converged in 20 iterations
        mlp.fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))  # 3 classes: one output unit each
    result = gb.inspect.summary(mlp)
    expected = sum(c.size for c in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
    assert result.total_params == expected
    assert result.total_macs == sum(c.size for c in mlp.coefs_)


def test_text_is_an_aligned_table_with_totals():
    result = gb.inspect.summary(gb.build_network(lenet_spec()))
    text = str(result)
    lines = text.splitlines()
    table = lines[3 : 3 + len(result.layers)]
    assert len({len(line) for line in table}) == 1  # aligned columns
    for line, name, kind, count in zip(
        table, result.layers, result.kinds, result.params, strict=True
    ):
        assert line.startswith(f"{name} ({kind})")
        assert line.split()[-2] == f"{int(count):,}"
    assert "Total params: 44,426 (44.43K)" in text
    assert "Total mult-adds per sample: 281.6K" in text
    assert "Params size (float32): 177.70 KB" in text


def _svg(result: gb.inspect.Summary) -> ElementTree.Element:
    return ElementTree.fromstring(result.graph_svg().encode())


@pytest.mark.parametrize("build", [lenet_spec, resnet_spec, inception_spec])
def test_svg_has_a_node_per_layer_and_an_edge_per_input(build):
    result = gb.inspect.summary(gb.build_network(build()))
    root = _svg(result)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    nodes = root.findall(".//{*}g[@class='node layer']")
    assert [n.get("data-layer") for n in nodes] == result.layers
    assert len(root.findall(".//{*}g[@class='node input']")) == 1
    edges = root.findall(".//{*}path[@class='edge']")
    assert len(edges) == sum(len(inputs) for inputs in result.inputs)
    drawn = sorted((e.get("data-source"), e.get("data-target")) for e in edges)
    expected = sorted(
        (source, name) for i, name in enumerate(result.layers) for source in result.source_names(i)
    )
    assert drawn == expected
    # a merge (add, concat) is a box where two or more arrows end, at its top
    for i, kind in enumerate(result.kinds):
        if kind in ("add", "concat"):
            ends = {
                re.findall(r"[\d.]+,[\d.]+$", e.get("d"))[0]
                for e in edges
                if e.get("data-target") == result.layers[i]
            }
            assert len(ends) == 1 and len(result.inputs[i]) >= 2


def test_svg_escapes_names_and_boxes_do_not_overlap():
    spec = gb.NetworkSpec(input_shape=(3,))
    a = spec.add("dense", 'fc<"a"&b>', weight=np.eye(3), bias=None)
    b = spec.add("dense", "b", inputs=[-1], weight=np.eye(3), bias=None)
    c = spec.add("dense", "c", inputs=[-1], weight=np.eye(3), bias=None)
    spec.add("concat", "cat", inputs=[a, b, c])
    root = _svg(gb.inspect.summary(gb.build_network(spec)))
    names = [n.get("data-layer") for n in root.findall(".//{*}g[@class='node layer']")]
    assert names[0] == 'fc<"a"&b>'
    rects = [
        tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
        for r in root.findall(".//{*}rect")
    ]
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_a_model_without_a_network_is_a_type_error():
    with pytest.raises(TypeError, match="summary needs a network"):
        gb.inspect.summary(gb.wrap(lambda X: X.sum(axis=1), n_inputs=3))
    with pytest.raises(TypeError, match="summary needs a network"):
        gb.inspect.summary(lambda X: X)
    from sklearn.tree import DecisionTreeRegressor

    tree = DecisionTreeRegressor(max_depth=2).fit(np.eye(3), np.arange(3.0))
    with pytest.raises(TypeError, match="summary needs a network"):
        gb.inspect.summary(tree)
    net = nn.Sequential(nn.Linear(3, 4), nn.Softsign())  # no native Softsign: only callable
    with pytest.raises(TypeError, match=r"summary needs a network.*Softsign"):
        gb.inspect.summary(net)


def test_a_lazy_cnn_needs_an_input_shape():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
    with pytest.raises(ValueError, match="input_shape="):
        gb.inspect.summary(net)
    assert gb.inspect.summary(net, input_shape=(1, 5, 5)).output_shapes[-1] == (18,)
    with pytest.raises(ValueError, match="input_shape"):
        gb.inspect.summary(net, input_shape=(0, 5))
    with pytest.raises(ValueError, match="kind"):
        gb.inspect.summary(net, input_shape=(1, 5, 5)).to_frame("long")


def test_layers_plot_draws_params_and_macs_of_the_summary():
    from plots.conftest import render

    result = gb.inspect.summary(gb.build_network(resnet_spec()))
    fig = result.plot()  # the usual plot of a Summary: plots.layers
    params_ax, macs_ax = fig.axes
    shown = [i for i in range(len(result.layers)) if result.params[i] or result.macs[i]]
    top_down = [p for p in sorted(params_ax.patches, key=lambda p: -p.get_y())]
    np.testing.assert_array_equal([p.get_width() for p in top_down], result.params[shown])
    top_down = [p for p in sorted(macs_ax.patches, key=lambda p: -p.get_y())]
    np.testing.assert_array_equal([p.get_width() for p in top_down], result.macs[shown])
    labels = [t.get_text() for t in params_ax.get_yticklabels()][::-1]
    assert labels == [f"{result.layers[i]} ({result.kinds[i]})" for i in shown]
    render(fig)
    with pytest.raises(TypeError, match="Summary"):
        gb.plots.layers(gb.inspect.weights(gb.build_network(resnet_spec())))
