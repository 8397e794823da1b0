"""Save and load: a loaded native model predicts and explains bit-identically to the saved one
(specs, torch, scikit-learn, ONNX and Keras adapters; MLP, CNN, residual and concat networks),
and an Explanation comes back with every field, its names and its options."""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import inception_spec, lenet_spec, resnet_spec
from conftest import ARCH_BY_NAME, make_data, make_spec
from glassbox.explainers.base import ArraySummary
from glassbox.saving import SavedObject


def assert_same_explanation(got: gb.Explanation, want: gb.Explanation) -> None:
    """Every field equal: arrays bit for bit (dtype too), options as printed."""
    for f in fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b, strict=True, err_msg=f.name)
        elif f.name == "layer_relevance" and b is not None:
            assert list(a) == list(b)
            for key in b:
                np.testing.assert_array_equal(a[key], b[key], strict=True)
        elif f.name == "options":
            assert repr(a) == repr(b)
        else:
            assert a == b, f.name


def explainers(model: gb.NativeModel, X: np.ndarray) -> dict[str, Callable[[Any], Any]]:
    """Explainer calls to compare on the saved and the loaded model."""
    hidden = [layer.name for layer in model.spec.layers[:-1]][-1:]
    calls: dict[str, Callable[[Any], Any]] = {
        "saliency": lambda m: gb.Saliency(m)(X, target=0),
        "ig": lambda m: gb.IntegratedGradients(m, n_steps=8)(X, baselines=0.0, target=0),
        "lrp": lambda m: gb.LRP(m, epsilon=0.01)(X, target=0, layers=hidden),
    }
    if len(model.input_shape) == 3:
        calls["lrp_composite"] = lambda m: gb.LRP(m, "EpsilonPlusFlat")(X, target=0)
        calls["deeplift"] = lambda m: gb.DeepLift(m)(X, baselines=0.0, target=0)
    else:
        calls["kernel_shap"] = lambda m: gb.KernelShap(m, background=X[:4], n_samples=64)(
            X[:3], target=0
        )
    return calls


def roundtrip(model: gb.NativeModel, X: np.ndarray, tmp_path: Path) -> gb.NativeModel:
    """Save + load ``model``; check predictions, names and every explainer bit for bit, and
    that each Explanation itself survives save + load."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.glassbox"
    model.save(path)
    assert os.listdir(tmp_path) == ["model.glassbox"]  # exactly the path, no suffix
    loaded = gb.load(str(path))
    assert isinstance(loaded, gb.NativeModel) and repr(loaded) == repr(model)
    assert loaded.feature_names == model.feature_names
    assert loaded.output_names == model.output_names
    assert loaded.layer_names == model.layer_names
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X), strict=True)
    for name, call in explainers(model, X).items():
        want, got = call(model), call(loaded)
        assert_same_explanation(got, want)
        exp_path = tmp_path / f"{name}.npz"
        want.save(exp_path)
        assert_same_explanation(gb.Explanation.load(exp_path), want)
    return loaded


@pytest.mark.parametrize("arch", ["relu", "gelu_tanh", "softplus", "relu_softmax", "linear"])
def test_mlp_specs(arch: str, tmp_path: Path) -> None:
    spec = make_spec(ARCH_BY_NAME[arch])
    names = [f"x{i}" for i in range(ARCH_BY_NAME[arch].n_inputs)]
    model = gb.build_network(spec, feature_names=names)
    loaded = roundtrip(model, make_data(len(names)), tmp_path)
    assert loaded.spec.layers[1].params == spec.layers[1].params if len(spec.layers) > 1 else True


@pytest.mark.parametrize(
    "spec",
    [lenet_spec(input_hw=16, n_outputs=3), resnet_spec(input_hw=8), inception_spec(input_hw=8)],
    ids=["lenet", "resnet", "inception"],
)
def test_cnn_specs(spec: gb.NetworkSpec, tmp_path: Path) -> None:
    roundtrip(gb.build_network(spec), make_data(spec.input_shape, n_rows=3), tmp_path)


def test_spec_round_trip_keeps_kinds_params_and_weight_dtypes(tmp_path: Path) -> None:
    spec = resnet_spec(input_hw=8)
    spec.layers[0].weights["weight"] = spec.layers[0].weights["weight"].astype(np.float64)
    model = gb.build_network(spec)
    model.save(tmp_path / "m")
    loaded = gb.load(tmp_path / "m").spec
    assert loaded.input_shape == spec.input_shape
    for a, b in zip(loaded.layers, spec.layers, strict=True):
        assert (a.kind, a.name, a.inputs, a.params) == (b.kind, b.name, b.inputs, b.params)
        assert a.weights.keys() == b.weights.keys()
        for key, w in b.weights.items():
            np.testing.assert_array_equal(a.weights[key], w, strict=True)


def test_torch_cnn_and_lazy_model(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    ).eval()
    with torch.no_grad():  # non-trivial running statistics
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
    X = make_data((1, 8, 8), n_rows=3)
    roundtrip(gb.from_torch(net, (1, 8, 8), output_names=["a", "b", "c"]), X, tmp_path / "built")
    lazy = gb.from_torch(net)
    with pytest.raises(ValueError, match=r"not built yet.*cannot be saved"):
        lazy.save(tmp_path / "lazy")
    assert not (tmp_path / "lazy").exists()
    lazy.predict(X)  # builds it
    roundtrip(lazy, X, tmp_path / "lazy")


def test_sklearn_mlp(tmp_path: Path) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = np.array(["cat", "dog", "eel"])[rng.integers(0, 3, 60)]
    with warnings.catch_warnings():  # not converged: fine for a round trip
        warnings.simplefilter("ignore")
        clf = neural.MLPClassifier((8,), max_iter=50, random_state=0).fit(X, y)
    model = gb.from_sklearn(clf, output="probabilities", feature_names=["a", "b", "c", "d"])
    loaded = roundtrip(model, X[:6], tmp_path)
    assert loaded.output_names == ["cat", "dog", "eel"]


def test_onnx_model(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n)
        for n, s in [("W1", (6, 4)), ("b1", (6,)), ("W2", (3, 6)), ("b2", (3,))]
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Gelu", ["h"], ["a"], name="act", approximate="tanh"),
        helper.make_node("Gemm", ["a", "W2", "b2"], ["z"], name="fc2", transB=1),
        helper.make_node("Softmax", ["z"], ["y"], name="sm", axis=1),
    ]
    x, y = (
        helper.make_tensor_value_info(v, TensorProto.FLOAT, ["n", k])
        for v, k in [("x", 4), ("y", 3)]
    )
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    onnx.checker.check_model(proto)
    roundtrip(gb.from_onnx(proto, output="logits"), make_data(4), tmp_path)


def test_keras_models(tmp_path: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    L = keras.layers
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((5,)), L.Dense(8, activation="tanh"), L.Dense(2)])
    roundtrip(gb.from_keras(mlp), make_data(5), tmp_path / "mlp")
    cnn = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            L.Conv2D(3, 3, activation="relu"),
            L.BatchNormalization(),
            L.AveragePooling2D(2),
            L.Flatten(),
            L.Dense(2, activation="softmax"),
        ]
    )
    model = gb.from_keras(cnn)
    roundtrip(model, make_data(model.input_shape, n_rows=3), tmp_path / "cnn")


def test_the_file_is_an_npz_numpy_reads_without_pickle(tmp_path: Path) -> None:
    spec = make_spec(ARCH_BY_NAME["relu"])
    gb.build_network(spec).save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["arrays/0"], spec.layers[0].weights["weight"])
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_save_matches_pickle_and_needs_a_path(tmp_path: Path) -> None:
    model = gb.build_network(make_spec(ARCH_BY_NAME["tanh"]), output_names=["p", "q", "r"])
    model.save(tmp_path / "m")
    X = make_data(5)
    np.testing.assert_array_equal(
        gb.load(tmp_path / "m").predict(X), pickle.loads(pickle.dumps(model)).predict(X)
    )
    with pytest.raises(TypeError, match="path: expected a file path"):
        model.save(3)


# ---- Explanations -----------------------------------------------------------------------------


def test_explanation_every_field_and_single_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    exp = gb.Explanation(
        values=rng.normal(size=(4, 3)).astype(np.float32),
        data=rng.normal(size=(4, 3)).astype(np.float32),
        base_values=rng.normal(size=4),
        feature_names=["a", "b", "c"],
        output_names=["yes", "no"],
        target=np.array([0, 1, 1, 0]),
        method="demo",
        options={"n": 3, "t": (1, 2.5), "f": np.float32(0.1), "nested": {"x": [None, "s"]}},
        delta=np.array([0.0, np.nan, np.inf, -1.0]),
        stderr=np.zeros((4, 3)),
        layer_relevance={"fc/1": rng.normal(size=(4, 2)), "act": rng.normal(size=(4, 2))},
        conservation=rng.normal(size=(4, 3)),
        conservation_layers=["<input>", "fc/1", "act"],
        score=rng.random(4),
        local_prediction=rng.random(4),
        n_samples=np.array([64, 128, 64, 32]),
    )
    for item in (exp, exp[2], exp[1:3]):
        item.save(tmp_path / "e")
        back = gb.load(tmp_path / "e")
        assert_same_explanation(back, item)
        assert back.options == item.options  # tuples and NumPy scalars come back as such
        assert type(back.options["f"]) is np.float32


def test_explanation_options_with_objects_keep_their_repr(tmp_path: Path) -> None:
    spec = resnet_spec(input_hw=8)
    X = make_data(spec.input_shape, n_rows=2)
    progress = []
    exp = gb.LRP(gb.build_network(spec), gb.Composite(), progress=lambda d, t: progress.append(d))(
        X, target=0
    )
    exp.save(tmp_path / "e")
    back = gb.Explanation.load(tmp_path / "e")
    assert repr(back.options) == repr(exp.options)
    assert isinstance(back.options["composite"], SavedObject)
    shap = gb.KernelShap(lambda x: x.sum(1, keepdims=True), background=np.zeros((3, 2)))
    exp = shap(np.ones((2, 2)), target=0)
    exp.save(tmp_path / "k")
    back = gb.Explanation.load(tmp_path / "k")
    assert back.options["background"] == ArraySummary((3, 2), "float64")
    assert_same_explanation(back, exp)


def test_names_are_kept_as_given(tmp_path: Path) -> None:
    exp = gb.Explanation(values=np.ones((1, 2)), data=np.ones((1, 2)), feature_names=[0, "b"])
    exp.save(tmp_path / "e")
    assert gb.Explanation.load(tmp_path / "e").feature_names == [0, "b"]


def test_empty_fortran_and_big_endian_arrays(tmp_path: Path) -> None:
    values = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    exp = gb.Explanation(values=values, data=np.arange(6, dtype=">i4").reshape(3, 2))
    for item in (exp, gb.Explanation(values=np.zeros((0, 3)), data=np.zeros((0, 3), np.float32))):
        item.save(tmp_path / "e")
        assert_same_explanation(gb.Explanation.load(tmp_path / "e"), item)


def test_object_data_round_trips_by_value(tmp_path: Path) -> None:
    data = np.array(
        [["red", 1.5, 3, True], [None, float("nan"), np.int64(-7), np.float64(2.0)]], dtype=object
    )
    exp = gb.Explanation(values=np.ones((2, 4)), data=data, feature_names=list("abcd"))
    exp.save(tmp_path / "e")
    back = gb.Explanation.load(tmp_path / "e").data
    assert back.dtype == object and back.shape == (2, 4)
    assert back[0].tolist() == ["red", 1.5, 3, True]
    assert [type(v) for v in back[0]] == [str, float, int, bool]
    assert back[1, 0] is None and np.isnan(back[1, 1]) and back[1, 2] == -7
    assert type(back[1, 2]) is int and type(back[1, 3]) is float


def test_object_data_that_needs_pickle_is_refused(tmp_path: Path) -> None:
    import datetime

    data = np.array([[datetime.date(2024, 1, 1), 1.0]], dtype=object)
    exp = gb.Explanation(values=np.ones((1, 2)), data=data)
    with pytest.raises(TypeError, match=r"data: cannot save the date .* flat index 0"):
        exp.save(tmp_path / "e")
    assert not (tmp_path / "e").exists()


def test_load_dispatches_and_checks_the_kind(tmp_path: Path) -> None:
    gb.build_network(make_spec(ARCH_BY_NAME["linear"])).save(tmp_path / "m")
    with pytest.raises(ValueError, match=r"'glassbox\.model' file, not 'glassbox\.explanation'"):
        gb.Explanation.load(tmp_path / "m")
    exp = gb.Explanation(values=np.ones((1, 2)), data=np.ones((1, 2)))
    exp.save(tmp_path / "e")
    assert isinstance(gb.load(tmp_path / "e"), gb.Explanation)
