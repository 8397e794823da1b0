"""Explainers on models with several inputs: one attribution per attributed input (Captum's
tuple), integer inputs passed through as Captum's ``additional_forward_args``, and masks kept
per row in the model-agnostic methods' perturbations."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.explanation import Explanation
from reference import shapley

torch = pytest.importorskip("torch")
nn = torch.nn


class Tabular(nn.Module):
    """Numeric features and two category codes, each read by its own embedding."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.colour = nn.Embedding(5, 3)
        self.size = nn.Embedding(6, 2)
        self.hidden = nn.Linear(4 + 5, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, numeric, codes):
        parts = [numeric, self.colour(codes[:, 0]), self.size(codes[:, 1])]
        return self.out(torch.tanh(self.hidden(torch.cat(parts, dim=1))))


class TwoFloats(nn.Module):
    """Two real-valued inputs of different shapes."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.a = nn.Linear(3, 6)
        self.b = nn.Linear(8, 6)
        self.act = nn.Sigmoid()  # a module: Captum's DeepLift treats it as a non-linearity
        self.out = nn.Linear(6, 2)

    def forward(self, x, image):
        return self.out(self.act(self.a(x) + self.b(image.flatten(1))))


class MaskedBag(nn.Module):
    """Mean of the embeddings of the unmasked tokens: the mask is structure, not a feature."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.emb = nn.Embedding(10, 4, padding_idx=0)
        self.out = nn.Linear(4, 2)

    def forward(self, ids, mask):
        keep = mask.unsqueeze(-1).float()
        return self.out(torch.tanh((self.emb(ids) * keep).sum(1) / keep.sum(1)))


def tabular_rows(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    numeric = rng.normal(size=(n, 4)).astype(np.float32)
    codes = np.stack([rng.integers(0, 5, n), rng.integers(0, 6, n)], axis=1)
    return numeric, codes


def token_rows() -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5], [6, 7, 0, 0, 0], [2, 9, 2, 0, 0]])
    return ids, (ids > 0).astype(np.int64)


def tabular_model() -> tuple[object, gb.NativeModel]:
    module = Tabular().eval()
    return module, gb.from_torch(module, input_shape={"numeric": (4,), "codes": (2,)})


def test_codes_read_through_a_column_are_integer_inputs_and_the_model_matches_torch() -> None:
    module, model = tabular_model()
    assert [(s.name, s.dtype) for s in model.inputs] == [("numeric", "float"), ("codes", "int")]
    numeric, codes = tabular_rows()
    expected = module(torch.tensor(numeric), torch.tensor(codes)).detach().numpy()
    np.testing.assert_allclose(model.predict((numeric, codes)), expected, rtol=1e-5, atol=1e-6)


def test_integrated_gradients_pass_codes_through_as_captum_additional_forward_args() -> None:
    from captum.attr import IntegratedGradients

    module, model = tabular_model()
    numeric, codes = tabular_rows()
    exp = gb.IntegratedGradients(model, n_steps=24)((numeric, codes), target=1)
    assert exp.inputs == {"numeric": (4,)} and exp.values.shape == (5, 4)
    assert exp.feature_names == ["numeric[0]", "numeric[1]", "numeric[2]", "numeric[3]"]
    expected = (
        IntegratedGradients(module)
        .attribute(
            torch.tensor(numeric, requires_grad=True),
            additional_forward_args=(torch.tensor(codes),),
            target=1,
            n_steps=24,
        )
        .detach()
        .numpy()
    )
    np.testing.assert_allclose(
        exp.by_input()["numeric"], expected, atol=1e-4 * np.abs(expected).max()
    )
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-4)
    np.testing.assert_array_equal(exp.data, numeric)


@pytest.mark.filterwarnings(
    "ignore:Setting forward, backward hooks:UserWarning"
)  # Captum's DeepLift
def test_gradient_methods_on_two_real_inputs_equal_captum_tuples() -> None:
    from captum.attr import DeepLift, IntegratedGradients, Saliency

    module = TwoFloats().eval()
    model = gb.from_torch(module, input_shape={"x": (3,), "image": (2, 4)})
    rng = np.random.default_rng(4)
    x, image = rng.normal(size=(4, 3)), rng.normal(size=(4, 2, 4))
    inputs = tuple(torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (x, image))
    ours = {
        "ig": gb.IntegratedGradients(model, n_steps=16)({"x": x, "image": image}, target=0),
        "saliency": gb.Saliency(model, abs=False)((x, image), target=0),
        "deeplift": gb.DeepLift(model)((x, image), target=0),
    }
    theirs = {
        "ig": IntegratedGradients(module).attribute(inputs, target=0, n_steps=16),
        "saliency": Saliency(module).attribute(inputs, target=0, abs=False),
        "deeplift": DeepLift(module).attribute(inputs, target=0),
    }
    for name, exp in ours.items():
        assert exp.inputs == {"x": (3,), "image": (2, 4)}, name
        assert exp.values.shape == (4, 11), name
        for part, expected in zip(exp.by_input().values(), theirs[name], strict=True):
            expected = expected.detach().numpy()
            np.testing.assert_allclose(part, expected, atol=1e-5 * np.abs(expected).max() + 1e-7)


def test_baselines_are_given_per_input_and_integer_inputs_keep_their_values() -> None:
    _, model = tabular_model()
    numeric, codes = tabular_rows(3)
    ig = gb.IntegratedGradients(model, n_steps=32)
    shifted = ig((numeric, codes), baselines={"numeric": np.ones(4)}, target=0)
    gap = shifted.values.sum(axis=1) - (
        model.predict((numeric, codes))[:, 0] - model.predict((np.ones_like(numeric), codes))[:, 0]
    )
    np.testing.assert_allclose(gap, 0.0, atol=1e-4)
    with pytest.raises(ValueError, match=r"baselines\['codes'\].*own values"):
        ig((numeric, codes), baselines=(0.0, 1), target=0)
    with pytest.raises(ValueError, match=r"GradientShap draws references.*'codes'"):
        gb.GradientShap(model)((numeric, codes), baselines=(numeric, codes), target=0)


def test_noise_tunnel_perturbs_the_real_inputs_and_keeps_the_layout() -> None:
    _, model = tabular_model()
    numeric, codes = tabular_rows(3)
    tunnel = gb.NoiseTunnel(gb.Saliency(model, abs=False), nt_samples=4, stdevs=0.1, seed=1)
    exp = tunnel((numeric, codes), target=0)
    assert exp.inputs == {"numeric": (4,)} and exp.values.shape == (3, 4)
    np.testing.assert_array_equal(exp.data, numeric)
    # the mean of saliency at the same noisy copies, drawn as NoiseTunnel draws them
    rng = [np.random.default_rng([1, row]) for row in range(3)]
    noisy = [numeric[r] + rng[r].normal(0.0, 0.1, size=(4, 4)).astype(np.float32) for r in range(3)]
    expected = [
        gb.Saliency(model, abs=False)(
            (noisy[r], np.repeat(codes[r : r + 1], 4, 0)), target=0
        ).values.mean(axis=0)
        for r in range(3)
    ]
    np.testing.assert_allclose(exp.values, np.stack(expected), rtol=1e-5, atol=1e-7)


def test_a_model_of_integer_inputs_only_is_refused_by_input_gradients_before_any_work() -> None:
    model = gb.from_torch(MaskedBag().eval(), input_shape={"ids": (5,), "mask": (5,)})
    ids, mask = token_rows()
    calls = []
    with pytest.raises(
        ValueError, match=r"Saliency attributes real-valued inputs.*LayerIntegrated"
    ):
        gb.Saliency(model, progress=lambda done, total: calls.append(done))((ids, mask), target=0)
    assert calls == []


def masked_bag() -> tuple[object, gb.NativeModel]:
    module = MaskedBag().eval()
    return module, gb.from_torch(module, input_shape={"ids": (5,), "mask": (5,)})


def row_function(module: object, mask_row: np.ndarray) -> object:
    """The torch model of ids alone, the mask held at one row's values."""

    def f(ids: np.ndarray) -> np.ndarray:
        ids_t = torch.tensor(np.asarray(ids), dtype=torch.long)
        masks = torch.tensor(np.repeat(mask_row[None], len(ids), axis=0))
        return module(ids_t, masks).detach().numpy()

    return f


@pytest.mark.parametrize("method", ["exact", "kernel", "permutation"])
def test_shapley_values_keep_each_rows_mask_and_equal_the_literal_game(method: str) -> None:
    module, model = masked_bag()
    ids, mask = token_rows()
    background = {"ids": np.zeros((1, 5))}  # the mask may be left out: each row keeps its own
    explainer = {
        "exact": gb.ExactShapley(model, background=background),
        "kernel": gb.KernelShap(model, background=background, n_samples=2**5),
        "permutation": gb.PermutationShapley(model, background=background, n_samples=400),
    }[method]
    exp = explainer((ids, mask), target=1)
    assert exp.inputs == {"ids": (5,)} and exp.values.shape == (5 - 1, 5)
    expected = np.concatenate(
        [
            shapley.shapley_values(row_function(module, m), ids[i : i + 1], np.zeros((1, 5)))
            for i, m in enumerate(mask)
        ]
    )[..., 1]
    atol = 1e-5 if method != "permutation" else 1e-3
    np.testing.assert_allclose(exp.values, expected, atol=atol)
    np.testing.assert_allclose(
        exp.base_values, [row_function(module, m)(np.zeros((1, 5)))[0, 1] for m in mask], atol=1e-6
    )


def test_feature_ablation_and_occlusion_swap_tokens_not_masks() -> None:
    module, model = masked_bag()
    ids, mask = token_rows()
    full = module(torch.tensor(ids), torch.tensor(mask)).detach().numpy()[:, 0]
    expected = np.stack(
        [
            full
            - module(torch.tensor(np.where(np.arange(5) == j, 0, ids)), torch.tensor(mask))
            .detach()
            .numpy()[:, 0]
            for j in range(5)
        ],
        axis=1,
    )
    ablation = gb.FeatureAblation(model, baselines={"ids": 0})((ids, mask), target=0)
    np.testing.assert_allclose(ablation.values, expected, atol=1e-6)
    occlusion = gb.Occlusion(model, (1,), baselines=0)((ids, mask), target=0)
    np.testing.assert_allclose(occlusion.values, expected, atol=1e-6)


def test_rows_grouped_by_mask_come_back_in_their_own_order() -> None:
    _, model = masked_bag()
    ids, mask = token_rows()
    order = np.array([2, 0, 3, 1])
    lime = gb.Lime(model, training_data={"ids": np.zeros((1, 5))}, seed=3, num_samples=64)
    batch = gb.ExactShapley(model, background={"ids": np.zeros((1, 5))})
    one_by_one = np.concatenate(
        [batch((ids[i : i + 1], mask[i : i + 1]), target=1).values for i in order]
    )
    np.testing.assert_allclose(
        batch((ids[order], mask[order]), target=1).values, one_by_one, atol=1e-6
    )
    exp = lime((ids, mask), target=1)
    assert exp.values.shape == (4, 5) and exp.score.shape == (4,)
    np.testing.assert_array_equal(exp.data, ids)


def test_explanation_inputs_survive_slicing_and_saving(tmp_path) -> None:
    _, model = tabular_model()
    numeric, codes = tabular_rows(3)
    exp = gb.KernelShap(model, background=(np.zeros((1, 4)), np.zeros((1, 2))))(
        (numeric, codes), target=0
    )
    assert exp.inputs == {"numeric": (4,), "codes": (2,)}  # codes are swapped with the background
    assert exp.feature_names[-2:] == ["codes[0]", "codes[1]"]
    row = exp[1].by_input()
    np.testing.assert_array_equal(row["codes"], exp.values[1, 4:])
    exp.save(tmp_path / "exp.npz")
    back = Explanation.load(tmp_path / "exp.npz")
    assert back.inputs == exp.inputs
    np.testing.assert_array_equal(back.by_input("data")["codes"], codes)


def test_inputs_that_do_not_add_up_to_the_values_are_refused() -> None:
    with pytest.raises(ValueError, match="inputs: the inputs hold 3 values per row"):
        Explanation(values=np.zeros((2, 4)), data=np.zeros((2, 4)), inputs={"a": (3,)})
    with pytest.raises(ValueError, match=r"inputs\['a'\]: expected a shape"):
        Explanation(values=np.zeros((2, 4)), data=np.zeros((2, 4)), inputs={"a": (0, 4)})
    with pytest.raises(ValueError, match="one input"):
        Explanation(values=np.zeros((2, 4)), data=np.zeros((2, 4))).by_input()
