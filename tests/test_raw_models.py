"""Raw models passed to any explainer and to as_model: torch modules and Keras models go native
where possible, else (model-agnostic methods) are called in batches at inference; estimators go
native for gradients and through predict_proba / predict otherwise."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

import glassbox as gb
from glassbox.models.convert import framework

os.environ.setdefault("KERAS_BACKEND", "torch")


class Sorted(nn.Module):
    """A CNN with an op glassbox does not translate (torch.sort), and dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.drop, self.fc = nn.Conv2d(1, 2, 3), nn.Dropout(0.5), nn.Linear(72, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(torch.sort(self.conv(x).flatten(1), dim=1).values))


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)


def test_unsupported_torch_module_is_called_in_eval_mode(images) -> None:
    torch.manual_seed(0)
    module = Sorted().train()  # dropout on: eval mode must be used, and training restored
    mask = gb.superpixels((1, 8, 8), 4)
    exp = gb.FeatureAblation(module, feature_mask=mask)(images, target=1)
    assert module.training and exp.values.shape == images.shape
    module.eval()
    with torch.no_grad():
        full = module(torch.as_tensor(images))[:, 1].numpy()
        group = torch.as_tensor(images * (np.broadcast_to(mask, images.shape[1:]) != 0))
        dropped = module(group)[:, 1].numpy()  # group 0 replaced by the baseline 0
    np.testing.assert_allclose(exp.values[:, 0, 0, 0], full - dropped, atol=1e-5)
    with pytest.raises(ValueError, match=r"takes images.*\(n, C, H, W\)"):
        gb.as_model(module, n_inputs=64)  # flat rows cannot say the image's shape
    with pytest.raises(gb.UnsupportedLayerError, match="sort"):
        gb.Saliency(module)(images, target=0)  # gradients: the error names the op


def test_supported_torch_module_goes_native(images) -> None:
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 3))
    explainer = gb.Occlusion(cnn, (1, 2, 2), strides=(1, 2, 2))
    exp = explainer(images, target=0)
    assert isinstance(explainer.model, gb.NativeModel) and exp.values.shape == images.shape
    mlp = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    assert isinstance(gb.as_model(mlp), gb.NativeModel)
    X = np.random.default_rng(1).normal(size=(30, 5)).astype(np.float32)
    with torch.no_grad():
        y = mlp(torch.as_tensor(X))[:, 0].numpy()
    importance = gb.permutation_importance(mlp, X, y, metric="r2", n_repeats=2)
    assert importance.importances_mean.shape == (5,)


def test_keras_models(capsys) -> None:
    keras = pytest.importorskip("keras")
    X = np.random.default_rng(2).normal(size=(20, 4)).astype(np.float32)
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    assert framework(dense) == "keras"
    assert isinstance(gb.as_model(dense), gb.NativeModel)

    class Sort(keras.layers.Layer):
        def call(self, x):
            return keras.ops.sort(x, axis=-1)

    odd = keras.Sequential([keras.Input((4,)), Sort(), keras.layers.Dense(2)])
    model = gb.as_model(odd)  # the input shape comes from the Keras model
    assert isinstance(model, gb.CallableModel)
    expected = odd(X, training=False).detach().numpy()
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-5)
    capsys.readouterr()
    exp = gb.KernelShap(odd, background=X[:8])(X[:3], target=1)
    assert exp.values.shape == (3, 4) and np.abs(exp.delta).max() < 1e-4
    assert capsys.readouterr().out == ""  # no Keras progress bars
    unbuilt = keras.Sequential([keras.layers.Dense(2)])  # its input shape comes from the data
    exp = gb.KernelShap(unbuilt, background=X[:4])(X[:2], target=0)
    assert exp.values.shape == (2, 4) and np.abs(exp.delta).max() < 1e-4


def test_sklearn_estimators() -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    mlp = MLPClassifier((6,), max_iter=3000, random_state=0).fit(X, y)
    ours = gb.IntegratedGradients(mlp, n_steps=64)(X[:3], target=1)  # converted natively
    native = gb.IntegratedGradients(gb.from_sklearn(mlp), n_steps=64)(X[:3], target=1)
    np.testing.assert_allclose(ours.values, native.values)
    forest = RandomForestClassifier(5, random_state=0).fit(X, y)
    exp = gb.KernelShap(forest, background=X[:10])(X[:2], target=1)
    fx, base = forest.predict_proba(X[:2])[:, 1], forest.predict_proba(X[:10])[:, 1].mean()
    np.testing.assert_allclose(exp.values.sum(axis=1), fx - base, atol=1e-5)
    with pytest.raises(gb.UnsupportedLayerError, match="RandomForestClassifier"):
        gb.Saliency(forest)


def test_gradient_explainer_rejects_a_function() -> None:
    with pytest.raises(TypeError, match="needs gradients"):
        gb.Saliency(lambda X: X.sum(axis=1))
    with pytest.raises(TypeError, match="n_inputs"):
        gb.as_model(lambda X: X.sum(axis=1))


class Masked(nn.Module):
    """A mask made of two comparisons joined by ``|``, which has no native form."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x * ((x > 1) | (x < -1)))


def test_unsupported_ops_are_named_in_words() -> None:
    with pytest.raises(gb.UnsupportedLayerError) as caught:
        gb.from_torch(Masked())
    message = str(caught.value)
    assert "the logical operation | " in message
    assert "compute it outside the model" in message and "model-agnostic method" in message
    assert "nearest supported" not in message
    X = np.array([[1.0, 0.0, 2.0, -1.0]], np.float32)
    exp = gb.FeatureAblation(Masked())(X, target=0)  # the agnostic path calls it as it is
    assert exp.values[0, 1] == 0.0  # a masked-out feature ablated to 0 changes nothing


def test_plain_function_without_data_gets_the_frame() -> None:
    """A plain function converted at the first batch is called with DataFrames of X's columns
    when X is a DataFrame (the schema is adopted once the model is known)."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 1.0, -1.0]})
    seen = set()

    def f(X: object) -> np.ndarray:
        seen.add(type(X).__name__)
        values = np.asarray(X)
        return 2 * values[:, 0] + values[:, 1]

    exp = gb.FeatureAblation(f)(frame)
    np.testing.assert_allclose(exp.values, frame.to_numpy() * [2, 1])
    assert exp.feature_names == ["a", "b"] and seen == {"DataFrame"}
