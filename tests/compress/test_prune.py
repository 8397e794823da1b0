"""compress.prune: masks equal torch.nn.utils.prune's (l1_unstructured, global_unstructured,
ln_structured) and the NumPy references'; relevance pruning removes the least relevant units
first; the original model is never touched; bad input is refused."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from torch.nn.utils import prune as torch_prune

import glassbox as gb
from cnn_nets import inception_spec, resnet_spec
from compress.conftest import affine_modules, torch_mlp, weights_of
from reference.compression import (
    global_unstructured_masks,
    l1_unstructured_mask,
    ln_structured_mask,
)


def pruned_weight(model: gb.NativeModel, name: str) -> np.ndarray:
    (layer,) = [layer for layer in model.spec.layers if layer.name == name]
    return np.asarray(layer.weights["weight"])


@pytest.mark.parametrize("amount", [0.3, 0.55])
def test_unstructured_masks_equal_torch_l1_unstructured(torch_net, amount):
    net, _ = torch_net
    model = gb.from_torch(
        net, input_shape=(6,) if net[0].__class__.__name__ == "Linear" else (1, 12, 12)
    )
    pruned = gb.compress.prune(model, amount)
    twin = copy.deepcopy(net)
    for name, module in affine_modules(twin):
        torch_prune.l1_unstructured(module, "weight", amount=amount)
        mask = module.weight_mask.numpy()
        np.testing.assert_array_equal(pruned_weight(pruned, name) != 0, mask == 1)
        np.testing.assert_array_equal(pruned_weight(pruned, name), module.weight.detach().numpy())
        size = mask.size
        assert pruned.sparsity[name] == pytest.approx(round(amount * size) / size)


def test_global_masks_equal_torch_global_unstructured(torch_net):
    net, X = torch_net
    model = gb.from_torch(net, input_shape=X.shape[1:])
    pruned = gb.compress.prune(model, 0.6, scope="global")
    twin = copy.deepcopy(net)
    modules = affine_modules(twin)
    torch_prune.global_unstructured(
        [(m, "weight") for _, m in modules], pruning_method=torch_prune.L1Unstructured, amount=0.6
    )
    for name, module in modules:
        np.testing.assert_array_equal(pruned_weight(pruned, name), module.weight.detach().numpy())
    total = sum(m.weight.numel() for _, m in modules)
    assert pruned.compression.total_sparsity == pytest.approx(round(0.6 * total) / total)
    with torch.no_grad():
        np.testing.assert_allclose(pruned.predict(X), twin(torch.from_numpy(X)).numpy(), atol=1e-5)


@pytest.mark.parametrize("n", [1, 2, np.inf])
def test_structured_masks_equal_torch_ln_structured_and_keep_biases(torch_net, n):
    net, X = torch_net
    model = gb.from_torch(net, input_shape=X.shape[1:])
    pruned = gb.compress.prune(model, 0.4, structured=True, n=n)
    twin = copy.deepcopy(net)
    for name, module in affine_modules(twin):
        torch_prune.ln_structured(module, "weight", amount=0.4, n=n, dim=0)
        np.testing.assert_array_equal(pruned_weight(pruned, name), module.weight.detach().numpy())
        removed = np.flatnonzero(
            module.weight_mask.numpy().reshape(module.weight.shape[0], -1)[:, 0] == 0
        )
        np.testing.assert_array_equal(pruned.compression.removed_units[name], removed)
    with torch.no_grad():  # torch's pruning leaves the biases: so does ours
        np.testing.assert_allclose(pruned.predict(X), twin(torch.from_numpy(X)).numpy(), atol=1e-5)


@pytest.mark.parametrize("make", [resnet_spec, inception_spec])
def test_masks_equal_the_numpy_references_on_dag_networks(make):
    model = gb.build_network(make(seed=3))
    affine = [layer for layer in model.spec.layers if layer.kind in ("dense", "conv2d")]
    weights = [np.asarray(layer.weights["weight"]) for layer in affine]
    layer_wise = gb.compress.prune(model, 0.35)
    joint = gb.compress.prune(model, 0.35, scope="global")
    rows = gb.compress.prune(model, 0.35, structured=True, n=2)
    for layer, w, mask in zip(
        affine, weights, global_unstructured_masks(weights, 0.35), strict=True
    ):
        np.testing.assert_array_equal(
            pruned_weight(layer_wise, layer.name), w * l1_unstructured_mask(w, 0.35)
        )
        np.testing.assert_array_equal(pruned_weight(joint, layer.name), w * mask)
        np.testing.assert_array_equal(
            pruned_weight(rows, layer.name), w * ln_structured_mask(w, 0.35, 2)
        )


def test_the_original_model_is_untouched_and_shares_no_array():
    model = gb.build_network(resnet_spec(seed=1))
    X = np.random.default_rng(0).normal(size=(6, 3, 12, 12)).astype(np.float32)
    before, weights = model.predict(X), weights_of(model)
    data = X.copy()
    results = [
        gb.compress.prune(model, 0.5),
        gb.compress.prune(model, 0.5, scope="global"),
        gb.compress.prune(model, 0.5, structured=True),
        gb.compress.prune(model, 0.5, method="relevance", data=X),
        gb.compress.quantize(model, bits=3),
    ]
    np.testing.assert_array_equal(model.predict(X), before)
    np.testing.assert_array_equal(X, data)
    for key, value in weights_of(model).items():
        np.testing.assert_array_equal(value, weights[key])
    originals = [v for layer in model.spec.layers for v in layer.weights.values() if v is not None]
    for result in results:
        assert isinstance(result, gb.NativeModel) and result is not model
        assert not np.array_equal(result.predict(X), before)
        for layer in result.spec.layers:
            for value in layer.weights.values():
                assert value is None or not any(np.shares_memory(value, o) for o in originals)


def planted_mlp() -> tuple[gb.NativeModel, np.ndarray]:
    """6 -> 16 -> 12 -> 3 MLP whose hidden unit 4 (first layer) and unit 2 (second layer)
    feed nothing: their outgoing weights are 0."""
    net = torch_mlp(seed=4)
    with torch.no_grad():
        net[2].weight[:, 4] = 0.0
        net[4].weight[:, 2] = 0.0
        net[4].weight[:, 7] *= 1e-3  # nearly irrelevant: the next to go
    X = np.random.default_rng(2).normal(size=(64, 6)).astype(np.float32)
    return gb.from_torch(net), X


def test_relevance_pruning_removes_the_planted_irrelevant_units_first():
    model, X = planted_mlp()
    smallest = gb.compress.prune(model, 0.07, method="relevance", data=X)  # one unit a layer
    assert {k: v.tolist() for k, v in smallest.compression.removed_units.items()} == {
        "0": [4],
        "2": [2],
    }
    relevance = smallest.compression.relevance
    assert relevance["0"][4] == 0 and relevance["2"][2] == 0
    two = gb.compress.prune(model, 0.13, method="relevance", data=X, layers=["2"])
    assert two.compression.removed_units["2"].tolist() == [2, 7]
    assert list(two.compression.removed_units) == ["2"]
    layer = two.spec.layers[2]  # weights in and the bias of the removed units are zero
    assert not layer.weights["weight"][[2, 7]].any() and not layer.weights["bias"][[2, 7]].any()
    assert np.delete(layer.weights["weight"][[0, 1, 3]], 4, axis=1).all()  # column 4 planted
    np.testing.assert_array_equal(model.predict(X).argmax(1), smallest.predict(X).argmax(1))


def test_relevance_is_the_mean_absolute_lrp_relevance_of_each_unit_summed_over_positions():
    model = gb.build_network(resnet_spec(seed=2))
    X = np.random.default_rng(5).normal(size=(10, 3, 12, 12)).astype(np.float32)
    pruned = gb.compress.prune(model, 0.25, method="relevance", data=X, target=1)
    affine = [layer.name for layer in model.spec.layers if layer.kind in ("dense", "conv2d")]
    hidden = affine[:-1]
    assert list(pruned.compression.relevance) == hidden  # the output layer is left whole
    exp = gb.LRP(model, composite="EpsilonPlus")(X, target=1, layers=hidden)
    for name in hidden:
        r = exp.layer_relevance[name].astype(np.float64)
        expected = np.abs(r.reshape(r.shape[0], r.shape[1], -1).sum(axis=2)).mean(axis=0)
        np.testing.assert_allclose(pruned.compression.relevance[name], expected, rtol=1e-6)
        units = len(expected)
        removed = np.sort(np.argsort(expected, kind="stable")[: round(0.25 * units)])
        np.testing.assert_array_equal(pruned.compression.removed_units[name], removed)


def test_global_relevance_pruning_ranks_units_across_layers():
    model, X = planted_mlp()
    pruned = gb.compress.prune(model, 0.1, method="relevance", data=X, scope="global")
    relevance = pruned.compression.relevance
    joined = np.concatenate(list(relevance.values()))
    threshold = np.sort(joined)[round(0.1 * joined.size) - 1]
    removed = pruned.compression.removed_units
    assert sum(len(u) for u in removed.values()) == round(0.1 * joined.size)
    for name, units in removed.items():
        assert (relevance[name][units] <= threshold).all()


def test_a_compressed_model_pickles_with_its_record():
    model, X = planted_mlp()
    pruned = gb.compress.prune(model, 0.3)
    again = pickle.loads(pickle.dumps(pruned))
    assert isinstance(again, gb.compress.CompressedModel)
    assert again.sparsity == pruned.sparsity
    np.testing.assert_array_equal(again.predict(X), pruned.predict(X))
    frame = pruned.compression.to_frame()
    assert list(frame.columns) == ["layer", "params", "zeros", "sparsity", "bits"]
    assert frame["sparsity"].tolist() == list(pruned.sparsity.values())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"amount": -0.1}, ValueError, r"amount: expected a fraction in \[0, 1\)"),
        ({"amount": 1.0}, ValueError, r"amount: expected a fraction in \[0, 1\)"),
        ({"amount": 5}, ValueError, r"amount: expected a fraction"),
        ({"amount": float("nan")}, ValueError, "amount"),
        ({"amount": True}, TypeError, "amount"),
        ({"amount": "0.5"}, TypeError, "amount"),
        ({"method": "random"}, ValueError, "method: expected one of 'magnitude', 'relevance'"),
        ({"scope": "model"}, ValueError, "scope"),
        ({"structured": True, "scope": "global"}, ValueError, "no global structured"),
        ({"method": "relevance"}, ValueError, "data: relevance pruning needs"),
        ({"method": "relevance", "structured": False, "data": 0}, ValueError, "structured"),
        ({"layers": ["nope"]}, ValueError, r"layers: \['nope'\] are not dense / conv2d"),
        ({"layers": ["1"]}, ValueError, "layers"),  # the ReLU
        ({"data": "X"}, ValueError, "only relevance pruning reads data"),
        ({"n": 0}, ValueError, "n: expected a norm order"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(kwargs, error, match):
    model, _ = planted_mlp()
    arguments = {"amount": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        gb.compress.prune(model, **arguments)


def test_a_model_that_is_not_a_network_is_refused():
    with pytest.raises(TypeError, match="model: compression needs a network it can look inside"):
        gb.compress.prune(gb.wrap(lambda X: X.sum(axis=1), n_inputs=3), 0.5)
    spec = gb.NetworkSpec(input_shape=(3,))
    spec.add("dense", "out", weight=np.ones((2, 3)), bias=None)
    with pytest.raises(ValueError, match="no hidden dense / conv2d layer"):
        gb.compress.prune(gb.build_network(spec), 0.5, method="relevance", data=np.ones((2, 3)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_scaler_pipeline_is_pruned_on_the_estimators_own_coefficients():
    """The scaler is a layer of its own, so magnitude pruning ranks the MLP's learned weights
    (not weights rescaled by the features' units) and leaves the scaler alone."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * np.array([1.0, 100.0, 0.01, 10.0, 1.0])
    y = (X[:, 0] + X[:, 1] / 100 > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=50, random_state=0))
    pipe.fit(X, y)
    pruned = gb.compress.prune(gb.from_sklearn(pipe, output="logits"), 0.4)
    mlp = pipe[-1]
    for i, coef in enumerate(mlp.coefs_):
        weight = np.asarray(coef.T, np.float32)
        mask = l1_unstructured_mask(weight, 0.4)
        np.testing.assert_array_equal(pruned_weight(pruned, f"mlpclassifier.{i}"), weight * mask)
    assert "standardscaler" not in pruned.sparsity
