"""Captum as a peer oracle for DeepLift, DeepLiftShap, GuidedBackprop, Deconvolution,
LayerGradCam and GuidedGradCam, on the same float32 weights and data.

Semantics that differ on purpose (docs/methods.md): Captum applies the rescale rule only to
ReLU, ELU, LeakyReLU, Sigmoid, Tanh, Softplus (GELU and SiLU get the plain gradient there, the
rescale rule here), and normalises its softmax multipliers over the whole batch where we
normalise per sample, so softmax networks are compared one (row, reference) pair at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

captum_attr = pytest.importorskip("captum.attr")
torch = pytest.importorskip("torch")

import glassbox as gb  # noqa: E402
from conftest import build, make_data, make_torch_net, torch_from_spec  # noqa: E402
from reference.spatial_nets import image_spec  # noqa: E402

# Captum warns about hooks and input gradients on every call.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CAPTUM_RESCALED = ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "regression_tanh"]


def t(X: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(X, dtype=np.float32), requires_grad=True)


def close(actual, desired, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    desired = desired.detach().numpy() if isinstance(desired, torch.Tensor) else desired
    desired = np.asarray(desired, dtype=np.float64)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), desired, rtol=rtol, atol=atol * scale
    )


def targets(n_outputs: int, n: int) -> list[int] | None:
    return None if n_outputs == 1 else [i % n_outputs for i in range(n)]


@pytest.mark.parametrize("name", CAPTUM_RESCALED)
def test_deeplift_matches_captum(name: str) -> None:
    net = make_torch_net(name)
    X, B = make_data(net.arch.n_inputs, 8), make_data(net.arch.n_inputs, 8, seed=3)
    target = targets(net.arch.n_outputs, 8)
    exp = gb.DeepLift(net.model)(X, baselines=B, target=target)
    attr, delta = captum_attr.DeepLift(net.module).attribute(
        t(X), t(B), target=target, return_convergence_delta=True
    )
    close(exp.values, attr)
    close(exp.delta, delta, atol=1e-4)


@pytest.mark.parametrize("name", CAPTUM_RESCALED[:4])
def test_deeplift_shap_matches_captum(name: str) -> None:
    net = make_torch_net(name)
    X, R = make_data(net.arch.n_inputs, 6), make_data(net.arch.n_inputs, 5, seed=4)
    target = targets(net.arch.n_outputs, 6)
    exp = gb.DeepLiftShap(net.model)(X, baselines=R, target=target)
    attr, delta = captum_attr.DeepLiftShap(net.module).attribute(
        t(X), t(R), target=target, return_convergence_delta=True
    )
    close(exp.values, attr)
    # Captum returns one delta per (row, reference) pair; ours is their mean per row
    close(exp.delta, delta.detach().numpy().reshape(6, 5).mean(axis=1), atol=1e-4)


def test_deeplift_softmax_head_matches_captum_pair_by_pair() -> None:
    net = make_torch_net("relu_softmax")
    X, R = make_data(5, 4), make_data(5, 3, seed=4)
    dl = captum_attr.DeepLift(net.module)
    pairs = np.array(
        [
            [
                dl.attribute(t(X[i : i + 1]), t(R[j : j + 1]), target=2).detach().numpy()[0]
                for j in range(3)
            ]
            for i in range(4)
        ]
    )
    close(gb.DeepLiftShap(net.model)(X, baselines=R, target=2).values, pairs.mean(axis=1))
    close(gb.DeepLift(net.model)(X, baselines=R[0], target=2).values, pairs[:, 0])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "relu_softmax"])
def test_guided_backprop_and_deconvolution_match_captum(name: str) -> None:
    net = make_torch_net(name)
    X = make_data(net.arch.n_inputs, 8)
    target = targets(net.arch.n_outputs, 8)
    close(
        gb.GuidedBackprop(net.model)(X, target=target).values,
        captum_attr.GuidedBackprop(net.module).attribute(t(X), target=target),
    )
    close(
        gb.Deconvolution(net.model)(X, target=target).values,
        captum_attr.Deconvolution(net.module).attribute(t(X), target=target),
    )


def test_grad_cam_and_guided_grad_cam_match_captum() -> None:
    spec = image_spec()
    model, module = build(spec), torch_from_spec(spec)
    X = make_data((2, 4, 4), 6)
    target = [i % 3 for i in range(6)]
    layer = module[1]  # "act"
    cam = captum_attr.LayerGradCam(module, layer).attribute(
        t(X), target=target, relu_attributions=True
    )
    close(gb.GradCAM(model, layer="act")(X, target=target).values, cam[:, 0])
    up = captum_attr.LayerAttribution.interpolate(cam, (4, 4), interpolate_mode="bilinear")
    close(gb.GradCAM(model, layer="act", upsample=True)(X, target=target).values, up[:, 0])
    close(
        gb.GuidedGradCAM(model, layer="act")(X, target=target).values,
        captum_attr.GuidedGradCam(module, layer).attribute(t(X), target=target),
    )
