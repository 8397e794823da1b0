"""compress.quantize: weights equal torch's fake-quantised weights bit for bit (per channel and
per tensor, symmetric observers) and the NumPy reference's; biases stay; bad bits refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

import glassbox as gb
from cnn_nets import lenet_spec
from compress.conftest import affine_modules, weights_of
from reference.compression import fake_quantize, symmetric_scales


def torch_fake_quantized(weight: torch.Tensor, bits: int, per_channel: bool) -> np.ndarray:
    """What torch's symmetric observer + fake_quantize make of ``weight``."""
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    dtype = torch.qint8 if bits <= 8 else torch.qint32
    if per_channel:
        observer = PerChannelMinMaxObserver(
            ch_axis=0,
            dtype=dtype,
            qscheme=torch.per_channel_symmetric,
            quant_min=qmin,
            quant_max=qmax,
        )
    else:
        observer = MinMaxObserver(
            dtype=dtype, qscheme=torch.per_tensor_symmetric, quant_min=qmin, quant_max=qmax
        )
    observer(weight)
    scale, zero_point = observer.calculate_qparams()
    assert not zero_point.any()
    if per_channel:
        out = torch.fake_quantize_per_channel_affine(
            weight, scale.float(), zero_point.int(), 0, qmin, qmax
        )
    else:
        out = torch.fake_quantize_per_tensor_affine(weight, float(scale), 0, qmin, qmax)
    return out.detach().numpy()


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 12, 16])
@pytest.mark.parametrize("per_channel", [True, False])
def test_weights_equal_torch_fake_quantize_bit_for_bit(torch_net, bits, per_channel):
    net, X = torch_net
    model = gb.from_torch(net, input_shape=X.shape[1:])
    quantized = gb.compress.quantize(model, bits=bits, per_channel=per_channel)
    assert quantized.compression.bits == bits
    layers = {layer.name: layer for layer in quantized.spec.layers}
    for name, module in affine_modules(net):
        expected = torch_fake_quantized(module.weight.detach(), bits, per_channel)
        np.testing.assert_array_equal(layers[name].weights["weight"], expected)
        np.testing.assert_array_equal(layers[name].weights["bias"], module.bias.detach().numpy())
        levels = np.unique(
            np.rint(
                expected.reshape(expected.shape[0], -1)
                / quantized.compression.scales[name].reshape(-1, 1)
            )
        )
        assert levels.min() >= -(2 ** (bits - 1)) and levels.max() <= 2 ** (bits - 1) - 1


@pytest.mark.parametrize("per_channel", [True, False])
def test_weights_equal_the_numpy_reference_and_the_original_is_untouched(per_channel):
    model = gb.build_network(lenet_spec(seed=2, input_hw=16))
    before = weights_of(model)
    quantized = gb.compress.quantize(model, bits=5, per_channel=per_channel)
    for layer in model.spec.layers:
        if layer.kind not in ("dense", "conv2d"):
            continue
        w = np.asarray(layer.weights["weight"])
        scales = symmetric_scales(w, 5, per_channel)
        np.testing.assert_array_equal(quantized.compression.scales[layer.name], scales)
        (new,) = [q for q in quantized.spec.layers if q.name == layer.name]
        np.testing.assert_array_equal(new.weights["weight"], fake_quantize(w, scales, 5))
    for key, value in weights_of(model).items():
        np.testing.assert_array_equal(value, before[key])


def test_only_the_named_layers_are_quantised_and_sizes_count_their_bits():
    model = gb.build_network(lenet_spec(seed=0, input_hw=16))
    quantized = gb.compress.quantize(model, bits=4, layers=["fc1"])
    assert list(quantized.compression.scales) == ["fc1"]
    old = {layer.name: layer for layer in model.spec.layers}
    for layer in quantized.spec.layers:
        for key, value in layer.weights.items():
            if layer.name != "fc1" or key == "bias":
                np.testing.assert_array_equal(value, old[layer.name].weights[key])
    frame = quantized.compression.to_frame()
    assert dict(zip(frame["layer"], frame["bits"], strict=True)) == {
        "conv1": 32,
        "conv2": 32,
        "fc1": 4,
        "fc2": 32,
        "fc3": 32,
    }
    fid = gb.compress.fidelity(model, quantized, np.zeros((1, 1, 16, 16)), attributions=False)
    bits = 0
    for layer in quantized.spec.layers:
        for key, value in layer.weights.items():
            width = 4 if (layer.name, key) == ("fc1", "weight") else 32
            bits += np.count_nonzero(value) * width
    bits += 32 * quantized.compression.scales["fc1"].size
    assert fid.bytes_after == -(-bits // 8)
    assert fid.bytes_before == 4 * fid.params_before


@pytest.mark.parametrize(
    ("bits", "error"),
    [(1, ValueError), (17, ValueError), (33, ValueError), (8.0, TypeError), (True, TypeError)],
)
def test_bad_bits_are_refused(bits, error):
    model = gb.build_network(lenet_spec(seed=0, input_hw=16))
    with pytest.raises(error, match="bits: expected an integer between 2 and 16"):
        gb.compress.quantize(model, bits=bits)
    with pytest.raises(TypeError, match="per_channel"):
        gb.compress.quantize(model, per_channel="yes")


def torch_activation_quantized(net: torch.nn.Module, X: np.ndarray, bits: int) -> np.ndarray:
    """torch's post-training static quantisation, simulated: a per-tensor symmetric
    MinMaxObserver on the input of every Linear / Conv2d, calibrated on X with the float model,
    then each such input fake-quantised with the observer's scale (weights per channel)."""
    import copy

    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    net = copy.deepcopy(net)
    observers, handles = {}, []
    for name, module in affine_modules(net):
        observer = MinMaxObserver(
            dtype=torch.qint8 if bits <= 8 else torch.qint32,
            qscheme=torch.per_tensor_symmetric,
            quant_min=qmin,
            quant_max=qmax,
        )
        observers[name] = observer
        handles.append(module.register_forward_pre_hook(lambda m, a, o=observer: o(a[0])))
    with torch.no_grad():
        net(torch.from_numpy(X))
    for handle in handles:
        handle.remove()
    for name, module in affine_modules(net):
        scale = float(observers[name].calculate_qparams()[0])
        module.weight.data = torch.from_numpy(torch_fake_quantized(module.weight.data, bits, True))
        module.register_forward_pre_hook(
            lambda m, a, s=scale: (torch.fake_quantize_per_tensor_affine(a[0], s, 0, qmin, qmax),)
        )
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


@pytest.mark.parametrize("bits", [4, 8])
def test_activation_quantisation_equals_torch_static_quantisation_simulated(torch_net, bits):
    net, X = torch_net
    model = gb.from_torch(net, input_shape=X.shape[1:])
    quantized = gb.compress.quantize(model, bits=bits, activations=True, data=X)
    expected = torch_activation_quantized(net, X, bits)
    np.testing.assert_allclose(quantized.predict(X), expected, rtol=1e-5, atol=1e-5)
    inserted = [layer for layer in quantized.spec.layers if layer.kind == "fake_quant"]
    assert inserted[0].name == "input/quant"
    assert len(inserted) == len(affine_modules(net))
    assert set(quantized.compression.activation_scales) == {layer.name for layer in inserted}
    # the quantisation is visible: coarser than the weight-only model's outputs
    weights_only = gb.compress.quantize(model, bits=bits).predict(X)
    assert not np.allclose(quantized.predict(X), weights_only, atol=1e-6)
    assert model.spec.layers[0].kind != "fake_quant"  # the original is untouched


def test_activation_quantisation_of_a_dag_shares_one_quantiser_per_tensor():
    from cnn_nets import inception_spec

    model = gb.build_network(inception_spec(seed=0))
    X = np.random.default_rng(0).normal(size=(8, *model.input_shape)).astype(np.float32)
    quantized = gb.compress.quantize(model, bits=8, activations=True, data=X)
    spec = quantized.spec
    sources = {
        tuple(spec.layers[i].inputs)
        for i, layer in enumerate(spec.layers)
        if layer.kind in ("dense", "conv2d")
    }
    for (source,) in sources:  # every affine layer reads a quantiser
        assert source == -1 or spec.layers[source].kind == "fake_quant"
    names = [layer.name for layer in spec.layers if layer.kind == "fake_quant"]
    assert len(names) == len(set(names))
    # each quantiser's grid: outputs are whole multiples of its scale
    for name, scale in quantized.compression.activation_scales.items():
        out = gb.inspect.features(quantized, X, name)
        np.testing.assert_allclose(out / scale, np.rint(out / scale), atol=1e-3)


def test_activation_quantisation_needs_calibration_data():
    model = gb.build_network(lenet_spec(seed=2, input_hw=16))
    with pytest.raises(ValueError, match="data: activations=True needs calibration rows"):
        gb.compress.quantize(model, activations=True)
    with pytest.raises(ValueError, match="data"):
        gb.compress.quantize(model, activations=True, data=np.ones((3, 5)))
    with pytest.raises(TypeError, match="activations: expected True or False"):
        gb.compress.quantize(model, activations="yes", data=np.ones((3, 1, 16, 16)))
