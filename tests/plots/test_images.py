"""plots.image: the maps drawn are the values summed over channels (Grad-CAM resized), on one
colour scale symmetric about 0 shared by every panel; real explainers on a small torch CNN and a
channels-last Keras one."""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassbox as gb
from glassbox.explainers.guided import resize
from glassbox.plots.images import display_images
from plots.conftest import render

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 8 * 8, 3),
    )
    yy, xx = np.mgrid[0:16, 0:16]
    images = np.stack(
        [np.stack([np.sin(xx / 3 + i), np.cos(yy / 4), (xx + yy) / 30]) for i in range(4)]
    ).astype(np.float32)
    return gb.from_torch(net), images


def _panels(fig):
    """The figure's image Axes by column (input, map, overlay, ...), row by row."""
    axes = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    cell = [ax.get_subplotspec() for ax in axes]
    order = sorted(range(len(axes)), key=lambda i: (cell[i].rowspan.start, cell[i].colspan.start))
    return [axes[i] for i in order]


def _check_maps(fig, expected, columns):
    """Every map (and overlay) panel holds ``expected[row, output]`` on the scale
    [-max |expected|, max |expected|]."""
    limit = np.abs(expected).max()
    panels = _panels(fig)
    n, k = expected.shape[:2]
    assert len(panels) == n * columns
    for i in range(n):
        row = panels[i * columns : (i + 1) * columns]
        for j in range(k):
            drawn, overlay = row[1 + 2 * j].images[0], row[2 + 2 * j].images[-1]
            for image in (drawn, overlay):
                np.testing.assert_allclose(image.get_array(), expected[i, j], rtol=1e-6)
                assert image.norm.vmin == pytest.approx(-limit)
                assert image.norm.vmax == pytest.approx(limit)
    colour_bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 1


@pytest.mark.parametrize("explainer", ["saliency", "integrated_gradients", "lrp", "deeplift"])
def test_gradient_maps_are_the_summed_values(cnn, explainer):
    model, images = cnn
    make = {
        "saliency": lambda: gb.Saliency(model),
        "integrated_gradients": lambda: gb.IntegratedGradients(model, n_steps=8),
        "lrp": lambda: gb.LRP(model),
        "deeplift": lambda: gb.DeepLift(model),
    }[explainer]
    exp = make()(images, target=[0, 1, 2, 1])
    fig = gb.plots.image(exp)
    render(fig)
    expected = exp.values.astype(np.float64).sum(axis=1)[:, None]
    _check_maps(fig, expected, 3)
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels[:3]] == ["input", exp.method, "overlay"]
    assert "target output 2" in panels[6].get_ylabel()
    # the input is the image scaled to [0, 1], channels last
    shown = panels[0].images[0].get_array()
    np.testing.assert_allclose(shown, display_images(images.transpose(0, 2, 3, 1))[0], atol=1e-6)


def test_grad_cam_maps_are_upsampled_bilinearly(cnn):
    model, images = cnn
    exp = gb.GradCAM(model, layer="2")(images[:2], target=0)  # 8 x 8 maps of a 16 x 16 input
    assert exp.values.shape == (2, 8, 8)
    fig = gb.plots.image(exp)
    render(fig)
    expected = resize(exp.values.astype(np.float32), (16, 16), "bilinear")[:, None]
    _check_maps(fig, expected, 3)


def test_occlusion_and_kernel_shap_superpixels(cnn):
    model, images = cnn
    occlusion = gb.Occlusion(model, (3, 4, 4), strides=(3, 4, 4))(images[:2], target=1)
    fig = gb.plots.image(occlusion)
    render(fig)
    _check_maps(fig, occlusion.values.astype(np.float64).sum(axis=1)[:, None], 3)
    mask = gb.superpixels((3, 16, 16), 4)
    shap = gb.KernelShap(model, background=np.zeros_like(images[:1]), feature_mask=mask)
    exp = shap(images[:2], target=2)
    fig = gb.plots.image(exp)
    render(fig)
    _check_maps(fig, exp.values.astype(np.float64).sum(axis=1)[:, None], 3)


def test_output_axis_needs_outputs_and_gives_a_column_pair_each(cnn):
    images = cnn[1]
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 3, 16, 16, 3))  # every output of the model
    exp = gb.Explanation(
        values=values, data=images[:2], method="kernel_shap", output_names=["cat", "dog", "bird"]
    )
    with pytest.raises(ValueError, match=r"outputs=.*'cat', 'dog', 'bird'"):
        gb.plots.image(exp)
    fig = gb.plots.image(exp, outputs=["bird", 0])
    render(fig)
    expected = np.moveaxis(values[..., [2, 0]].sum(axis=1), -1, 1)
    _check_maps(fig, expected, 5)
    titles = [ax.get_title() for ax in _panels(fig)[:5]]
    assert titles == ["input", "kernel_shap (bird)", "overlay", "kernel_shap (cat)", "overlay"]
    with pytest.raises(ValueError, match="outputs: no output named 'cow'"):
        gb.plots.image(exp, outputs="cow")


def test_greyscale_channels_last_and_separate_images():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 10, 12))  # greyscale rows x H x W
    exp = gb.Explanation(values=rng.normal(size=(3, 10, 12)), data=data, method="saliency")
    fig = gb.plots.image(exp, max_images=2)
    render(fig)
    _check_maps(fig, exp.values[:2, None], 3)
    assert fig._suptitle.get_text() == "first 2 of 3 images (max_images=2)"
    # channels-last (Keras) RGB, the un-normalised pictures given separately
    data = rng.normal(size=(2, 6, 7, 3))
    pictures = rng.integers(0, 255, size=(2, 6, 7, 3))
    exp = gb.Explanation(values=rng.normal(size=(2, 6, 7, 3)), data=data, method="saliency")
    fig = gb.plots.image(exp, images=pictures)
    _check_maps(fig, exp.values.astype(np.float64).sum(axis=-1)[:, None], 3)
    drawn = _panels(fig)[0].images[0].get_array()
    np.testing.assert_allclose(drawn, display_images(pictures.astype(float))[0])
    # one row
    fig = gb.plots.image(exp[1])
    _check_maps(fig, exp.values[1:].astype(np.float64).sum(axis=-1)[:, None], 3)


def test_keras_channels_last_model():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layers = keras.layers
    net = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(2, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    model = gb.from_keras(net)
    images = np.random.default_rng(2).random((2, 8, 8, 3), dtype=np.float32)
    exp = gb.Saliency(model)(images, target=1)
    assert exp.values.shape == (2, 8, 8, 3)
    fig = gb.plots.image(exp)
    render(fig)
    _check_maps(fig, exp.values.astype(np.float64).sum(axis=-1)[:, None], 3)


def test_bad_input_is_refused():
    exp = gb.Explanation(values=np.ones((2, 4)), data=np.ones((2, 4)), method="saliency")
    with pytest.raises(ValueError, match="images"):
        gb.plots.image(exp)
    images = gb.Explanation(values=np.ones((2, 5, 5)), data=np.ones((2, 5, 5)), method="x")
    with pytest.raises(ValueError, match="images: expected 2 images of shape"):
        gb.plots.image(images, images=np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="outputs"):
        gb.plots.image(images, outputs=0)
    with pytest.raises(ValueError, match="max_images"):
        gb.plots.image(images, max_images=0)
    with pytest.raises(TypeError, match="Explanation"):
        gb.plots.image(np.ones((2, 5, 5)))
