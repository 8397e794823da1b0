"""``glassbox.row_offset``: a job explained in parts (streamed batches, a resumed file, Dask
partitions) gives every seeded method's result of one call over all rows, bit for bit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import glassbox as gb

torch = pytest.importorskip("torch")


def _net() -> gb.NativeModel:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2), torch.nn.Softplus()
    )
    return gb.from_torch(net)


MODEL = _net()
RNG = np.random.default_rng(1)
X = RNG.normal(size=(9, 6)).astype(np.float32)
B = RNG.normal(size=(4, 6)).astype(np.float32)

METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "lime": lambda Z: gb.Lime(MODEL, training_data=B, num_samples=40, seed=3)(Z, target=1).values,
    "smoothgrad": lambda Z: gb.SmoothGrad(MODEL, n_samples=4, seed=3)(Z, target=1).values,
    "gradient_shap": lambda Z: gb.GradientShap(MODEL, n_samples=4, seed=3)(Z, B, target=1).values,
    "noise_tunnel": lambda Z: (
        gb.NoiseTunnel(gb.Saliency(MODEL), nt_samples=3, seed=3)(Z, target=1).values
    ),
    "noise_tunnel_of_smoothgrad": lambda Z: (
        gb.NoiseTunnel(gb.SmoothGrad(MODEL, n_samples=2, seed=5), nt_samples=3, seed=3)(
            Z, target=1
        ).values
    ),
    "kernel_shap": lambda Z: (
        gb.KernelShap(MODEL, background=B, n_samples=20, seed=3)(Z, target=1).values
    ),
    "permutation_shapley": lambda Z: (
        gb.PermutationShapley(MODEL, background=B, n_samples=30, seed=3)(Z, target=1).values
    ),
}


#: Methods whose model calls hold one explained row each on a native network: bit for bit.
#: The gradient methods batch path points of several rows into one pass, and a row's last bits
#: depend on its place in the GEMM: their draws are the same, their sums equal to rounding.
BIT_FOR_BIT = ("kernel_shap", "lime", "permutation_shapley")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_parts_at_their_offsets_equal_the_whole(method: str) -> None:
    explain = METHODS[method]
    whole = explain(X)
    parts = []
    for begin, end in [(0, 2), (2, 7), (7, 9)]:
        with gb.row_offset(begin):
            parts.append(explain(X[begin:end]))
    if method in BIT_FOR_BIT:
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    else:
        np.testing.assert_allclose(np.concatenate(parts), whole, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("method", ["lime", "smoothgrad", "gradient_shap", "noise_tunnel"])
def test_without_the_offset_a_part_draws_other_numbers(method: str) -> None:
    """The check above can fail: these methods' draws depend on the row's index in the job."""
    whole = METHODS[method](X)
    assert np.abs(METHODS[method](X[5:]) - whole[5:]).max() > 1e-4


def test_lime_samples_follow_the_offset() -> None:
    lime = gb.Lime(MODEL, training_data=B, num_samples=8, seed=1)
    inputs, _ = lime.samples(X)
    with gb.row_offset(6):
        tail, _ = lime.samples(X[6:])
    np.testing.assert_array_equal(tail, inputs[6:])


def test_masked_rows_grouped_by_mask_keep_their_draws() -> None:
    """A model with a mask input: rows are explained in groups of equal masks, each run of rows
    at its own offset, so the result is that of the rows explained one by one at theirs."""
    torch.manual_seed(2)

    class Bag(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(12, 4, padding_idx=0)
            self.out = torch.nn.Linear(4, 2)

        def forward(self, ids, mask):
            keep = mask.unsqueeze(-1).float()
            return self.out((self.emb(ids) * keep).sum(1) / keep.sum(1))

    model = gb.from_torch(Bag().eval(), input_shape={"ids": (4,), "mask": (4,)})
    ids = np.array([[3, 4, 0, 0], [5, 6, 7, 8], [1, 2, 0, 0], [9, 9, 9, 0], [2, 3, 4, 5]])
    mask = (ids > 0).astype(np.int64)
    lime = gb.Lime(model, training_data={"ids": np.zeros((1, 4))}, num_samples=32, seed=2)
    whole = lime((ids, mask), target=0).values
    for row in range(len(ids)):
        with gb.row_offset(row):
            one = lime((ids[row : row + 1], mask[row : row + 1]), target=0).values
        np.testing.assert_array_equal(one[0], whole[row])


def test_offsets_nest_and_are_checked() -> None:
    from glassbox.rows import first_row

    with gb.row_offset(5):
        with gb.row_offset(7):
            assert first_row() == 7
        assert first_row() == 5
    assert first_row() == 0
    with pytest.raises(ValueError, match="first_row: expected an integer between 0"):
        with gb.row_offset(-1):
            pass
    with pytest.raises(TypeError, match="first_row"):
        with gb.row_offset(1.5):  # type: ignore[arg-type]
            pass
