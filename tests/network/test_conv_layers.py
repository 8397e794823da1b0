"""Native Conv2d, pooling, batch norm, reshape, add and concat: forward and input gradient match
the NumPy reference and a hand-built torch twin (float32 tolerance)."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import (
    LAYER_CASES,
    inception_spec,
    layer_case_spec,
    lenet_spec,
    multi_input_specs,
    resnet_spec,
    torch_forward,
)
from conftest import build, make_data
from glassbox import _core
from glassbox.models.spec import NetworkSpec
from reference.network import forward, gradient


def _check_native(spec: NetworkSpec, n_rows: int = 5, seed: int = 3) -> None:
    model = build(spec)
    X = make_data(tuple(spec.input_shape), n_rows=n_rows, seed=seed)
    out = model.predict(X)
    ref = forward(spec, X)
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * scale)
    targets = np.arange(n_rows) % model.n_outputs
    grad = gb.Saliency(model, abs=False)(X, target=targets).values
    assert grad.shape == X.shape
    ref_grad = gradient(spec, X, targets)
    gscale = max(1.0, float(np.abs(ref_grad).max()))
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-5 * gscale)

    torch = pytest.importorskip("torch")
    xt = torch.tensor(X, requires_grad=True)
    tout = torch_forward(spec, xt)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-5, atol=1e-5 * scale)
    tout[torch.arange(n_rows), torch.tensor(targets)].sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5 * gscale)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_matches_reference_and_torch(case: str) -> None:
    _check_native(layer_case_spec(case, seed=11))


@pytest.mark.parametrize("name", sorted(multi_input_specs()))
def test_multi_input_matches_reference_and_torch(name: str) -> None:
    _check_native(multi_input_specs(seed=1)[name])


@pytest.mark.parametrize(
    "builder", [lenet_spec, resnet_spec, inception_spec], ids=["lenet", "resnet", "inception"]
)
def test_cnn_matches_reference_and_torch(builder) -> None:  # type: ignore[no-untyped-def]
    _check_native(builder(seed=2), n_rows=4)


def test_batched_conv_blocks_agree_with_single_rows() -> None:
    # im2col runs over blocks of samples: many rows give the same outputs as one row at a time.
    spec = lenet_spec(seed=1, input_hw=16)
    model = build(spec)
    X = make_data((1, 16, 16), n_rows=70, seed=9)
    batched = model.predict(X, n_threads=1)
    single = np.concatenate([model.predict(X[i : i + 1], n_threads=1) for i in range(len(X))])
    np.testing.assert_allclose(batched, single, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X, n_threads=2), batched)
    # the direct kernels' gradient (the transpose) is the same whatever the thread count
    grads = [gb.Saliency(model, abs=False, n_threads=t)(X, target=1).values for t in (1, 2)]
    np.testing.assert_array_equal(grads[0], grads[1])


def test_layer_shapes_and_macs() -> None:
    model = build(lenet_spec(seed=0))
    shapes = [tuple(s) for s in model.network.layer_shapes]
    assert shapes[:6] == [(6, 24, 24)] * 2 + [(6, 12, 12)] + [(16, 8, 8)] * 2 + [(16, 4, 4)]
    conv_macs = 6 * 25 * 24 * 24 + 16 * 150 * 8 * 8
    dense_macs = 256 * 120 + 120 * 84 + 84 * 10
    assert model.network.macs_per_sample == conv_macs + dense_macs


def test_max_pool_gradient_goes_to_first_maximum_like_torch() -> None:
    spec = NetworkSpec(input_shape=(1, 2, 4))
    spec.add("max_pool2d", "pool", params={"kernel": (2, 2), "stride": (2, 2)})
    spec.add("flatten", "flat")
    spec.add("dense", "sum", weight=np.ones((1, 2)), bias=None)
    X = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]], dtype=np.float32)
    model = build(spec)
    np.testing.assert_array_equal(model.predict(X), [[5.0]])
    grad = gb.Saliency(model, abs=False)(X, target=0).values
    np.testing.assert_array_equal(grad[0, 0], [[0, 1, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(gradient(spec, X, 0)[0, 0], grad[0, 0])


def test_max_pool_padding_is_minus_infinity() -> None:
    spec = NetworkSpec(input_shape=(1, 2, 2))
    spec.add(
        "max_pool2d", "pool", params={"kernel": (2, 2), "stride": (1, 1), "padding": (1, 1, 1, 1)}
    )
    spec.add("flatten", "flat")
    X = -np.ones((1, 1, 2, 2), np.float32)
    np.testing.assert_array_equal(build(spec).predict(X), -np.ones((1, 9)))


def test_sequence_params_accept_pairs_and_scalars() -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(2, 1, 3, 3))
    specs = []
    for padding, stride in [((1, 1, 1, 1), (2, 2)), ((1, 1), (2, 2)), (1, 2)]:
        spec = NetworkSpec(input_shape=(1, 6, 6))
        spec.add(
            "conv2d", "c", params={"padding": padding, "stride": stride}, weight=weight, bias=None
        )
        spec.add("flatten", "f")
        specs.append(spec)
    X = make_data((1, 6, 6), n_rows=2)
    outs = [build(s).predict(X) for s in specs]
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


# --------------------------------------------------------------------------------------------
# Invalid layer parameters: clear ValueErrors naming the layer
# --------------------------------------------------------------------------------------------


def _conv_spec(
    input_shape: tuple[int, ...], weight_shape: tuple[int, ...], **params
) -> NetworkSpec:  # type: ignore[no-untyped-def]
    spec = NetworkSpec(input_shape=input_shape)
    spec.add("conv2d", "features.0", params=params, weight=np.ones(weight_shape), bias=None)
    return spec


@pytest.mark.parametrize(
    ("spec_factory", "match"),
    [
        (
            lambda: _conv_spec((1, 4, 4), (2, 1, 5, 5)),
            r"layer 'features\.0': conv2d: kernel height extent 5 .* larger than the padded input",
        ),
        (
            lambda: _conv_spec((1, 4, 4), (2, 1, 3, 3), dilation=(2, 2)),
            r"layer 'features\.0'.*kernel height extent 5",
        ),
        (
            lambda: _conv_spec((3, 6, 6), (4, 1, 3, 3), groups=2),
            r"layer 'features\.0': conv2d: groups=2 does not divide the 3 input channels",
        ),
        (
            lambda: _conv_spec((4, 6, 6), (3, 2, 3, 3), groups=2),
            r"layer 'features\.0': conv2d: groups=2 does not divide the 3 output channels",
        ),
        (
            lambda: _conv_spec((4, 6, 6), (4, 3, 3, 3)),
            r"layer 'features\.0': conv2d: weight expects 3 input channels",
        ),
        (lambda: _conv_spec((6,), (4, 6, 1, 1)), r"layer 'features\.0': conv2d: expects an image"),
        (
            lambda: _conv_spec((1, 6, 6), (4, 1, 3, 3), stride=(0, 1)),
            r"conv2d: stride must be positive",
        ),
    ],
)
def test_invalid_conv_params(spec_factory, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        build(spec_factory())


def test_invalid_pool_add_concat_reshape_params() -> None:
    spec = NetworkSpec(input_shape=(2, 3, 3))
    spec.add("max_pool2d", "pool1", params={"kernel": (4, 4)})
    with pytest.raises(ValueError, match=r"layer 'pool1': max_pool2d: kernel height extent 4"):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 3, 3))
    spec.add("avg_pool2d", "pool2", params={})
    with pytest.raises(ValueError, match=r"layer 'pool2': avg_pool2d: missing 'kernel'"):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    a = spec.add("max_pool2d", "p", inputs=[-1], params={"kernel": (2, 2)})
    spec.add("add", "layer1.0.add", inputs=[a, -1])
    with pytest.raises(
        ValueError,
        match=r"layer 'layer1\.0\.add': add: per-sample shapes \(2, 2, 2\), \(2, 4, 4\) "
        r"do not broadcast",
    ):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    spec.add("add", "add", inputs=[-1])
    with pytest.raises(ValueError, match=r"layer 'add': add: expects two or more inputs"):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    a = spec.add("max_pool2d", "p", inputs=[-1], params={"kernel": (2, 2)})
    spec.add("concat", "cat", inputs=[-1, a], params={"axis": 0})
    with pytest.raises(
        ValueError, match=r"layer 'cat': concat: inputs must match except along axis 0"
    ):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    spec.add("concat", "cat", inputs=[-1, -1], params={"axis": 3})
    with pytest.raises(ValueError, match=r"layer 'cat': concat: axis 3 is out of range"):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    spec.add("reshape", "view", params={"shape": (5, -1)})
    with pytest.raises(ValueError, match=r"layer 'view': reshape: cannot reshape \(2, 4, 4\)"):
        build(spec)

    spec = NetworkSpec(input_shape=(2, 4, 4))
    spec.add("reshape", "view", params={"shape": (-1, -1)})
    with pytest.raises(ValueError, match=r"layer 'view': reshape: at most one extent"):
        build(spec)

    spec = NetworkSpec(input_shape=(3, 4, 4))
    spec.add("batch_norm", "bn", scale=np.ones(2), shift=np.zeros(2))
    with pytest.raises(ValueError, match=r"layer 'bn': batch_norm: has 2 channels"):
        build(spec)

    spec = NetworkSpec(input_shape=(3, 4, 4))
    spec.add("batch_norm", "bn", scale=np.ones(3))
    with pytest.raises(ValueError, match=r"layer 'bn': batch_norm: missing 'shift'"):
        build(spec)


@pytest.mark.parametrize(
    ("kernel", "stride", "hw"),
    [
        (2, 2, (8, 8)),
        (2, 2, (7, 9)),
        (3, 3, (9, 6)),
        (3, 3, (10, 11)),
        (3, 2, (9, 9)),
        (2, 1, (5, 6)),
    ],
)
@pytest.mark.parametrize("with_nan", [False, True])
def test_max_pool_fast_paths_match_torch_with_ties_and_nan(
    kernel: int, stride: int, hw: tuple[int, int], with_nan: bool
) -> None:
    # Full-window pools take compile-time kernels (tiled when stride == kernel); ties (small
    # integers) must still send the gradient to the first maximum, and a NaN must win its window
    # (the core is called directly: the public API rejects NaN inputs).
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(kernel * 10 + stride)
    X = rng.integers(0, 3, size=(3, 2, *hw)).astype(np.float32)
    if with_nan:
        X[1, 1, 2, 3] = np.nan
    xt = torch.tensor(X, requires_grad=True)
    pooled = torch.nn.functional.max_pool2d(xt, kernel, stride).flatten(1)
    weights = rng.normal(size=(1, pooled.shape[1])).astype(np.float32)
    (pooled @ torch.tensor(weights[0])).sum().backward()

    spec = NetworkSpec(input_shape=(2, *hw))
    spec.add("max_pool2d", "pool", params={"kernel": (kernel, kernel), "stride": (stride, stride)})
    spec.add("flatten", "flat")
    flat = X.reshape(3, -1)
    np.testing.assert_array_equal(build(spec).network.predict(flat), pooled.detach().numpy())
    spec.add("dense", "mix", weight=weights, bias=None)
    grad = _core.input_gradients(
        build(spec).network,
        X=flat,
        targets=[0, 0, 0],
        abs=False,
        options=_core.RunOptions(1, memory_budget=1 << 24),
    )
    np.testing.assert_array_equal(grad.reshape(X.shape), xt.grad.numpy())
