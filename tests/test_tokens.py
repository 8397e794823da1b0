"""Token-level results: ``Explanation.with_tokens`` (a list or a tokenizer), ``token_values``,
tokens through slicing, tables and saved files, and token attributions of a token-id model
(model-agnostic over ids with a pad baseline, and LayerIntegratedGradients on an embedding)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import glassbox as gb

WORDS = ["[PAD]", "the", "film", "was", "dull", "great", "<b>", "$x$"]


class Tokenizer:
    """What glassbox uses of a Hugging Face tokenizer."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def convert_ids_to_tokens(self, ids):
        self.calls.append(list(ids))
        return [WORDS[i] for i in ids]


def explanation(n=3, T=4, D=None, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, len(WORDS), size=(n, T))
    ids[:, -1] = 0  # the last position is padding
    shape = (n, T) if D is None else (n, T, D)
    return gb.Explanation(values=rng.normal(size=shape), data=ids.astype(np.float32), method="m")


def test_tokens_from_a_tokenizer_read_the_explained_ids():
    exp = explanation()
    tokenizer = Tokenizer()
    named = exp.with_tokens(tokenizer=tokenizer)
    ids = exp.data.astype(int).tolist()
    assert tokenizer.calls == ids and all(type(i) is int for row in tokenizer.calls for i in row)
    assert named.tokens == [[WORDS[i] for i in row] for row in ids]
    assert named.feature_names is None  # rows differ: no one name per position
    other = np.ones((3, 4), int)
    assert exp.with_tokens(tokenizer=Tokenizer(), ids=other).tokens == [["the"] * 4] * 3
    assert exp.values is named.values  # nothing else changes


def test_one_row_gets_its_tokens_as_feature_names_and_slices_keep_tokens():
    exp = explanation().with_tokens([["a", "b", "c", "d"], ["e", "f", "g", "h"], list("ijkl")])
    assert exp[1].tokens == [["e", "f", "g", "h"]] and exp[1].feature_names == ["e", "f", "g", "h"]
    assert exp[1:].tokens == [["e", "f", "g", "h"], list("ijkl")] and exp[1:].feature_names is None
    assert exp[[2, 0]].tokens == [list("ijkl"), ["a", "b", "c", "d"]]
    assert exp[np.array([False, True, False])].tokens == [["e", "f", "g", "h"]]
    assert exp[-1].tokens == [list("ijkl")]
    one = explanation(n=1).with_tokens(["w", "x", "y", "z"])
    assert one.tokens == [["w", "x", "y", "z"]] and one.feature_names == ["w", "x", "y", "z"]
    assert exp[0].with_tokens(["p", "q", "r", "s"]).feature_names == ["p", "q", "r", "s"]


def test_token_values_sum_the_embedding_axis():
    exp = explanation(D=5)
    np.testing.assert_allclose(exp.token_values(), exp.values.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(exp[2].token_values(), exp.values[2].sum(-1), rtol=1e-12)
    flat = explanation()
    np.testing.assert_array_equal(flat.token_values(), flat.values)
    assert flat.token_values().dtype == np.float64


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda e: e.with_tokens([["a"] * 4, ["a"] * 3, ["a"] * 4]), ValueError, "row 1 has 3"),
        (lambda e: e.with_tokens([["a"] * 4] * 2), ValueError, r"one list of tokens per row \(3"),
        (lambda e: e.with_tokens(["a"] * 4), ValueError, "flat list of str names one row"),
        (lambda e: e.with_tokens([["a", "b", 3, "d"]] * 3), TypeError, "row 0 holds a non-str"),
        (lambda e: e.with_tokens("abcd"), TypeError, "tokens: expected a list"),
        (lambda e: e.with_tokens(), ValueError, "exactly one"),
        (lambda e: e.with_tokens(tokenizer=object()), TypeError, "convert_ids_to_tokens"),
        (
            lambda e: e.with_tokens(tokenizer=Tokenizer(), ids=np.full((3, 4), 0.5)),
            ValueError,
            "whole",
        ),
        (
            lambda e: e.with_tokens(tokenizer=Tokenizer(), ids=np.zeros((3, 4, 2))),
            ValueError,
            "ids",
        ),
        (lambda e: e.with_tokens([["a"] * 4] * 3, ids=np.zeros((3, 4))), ValueError, "ids: only"),
        (lambda e: e.with_tokens([["a"] * 4] * 3, skip="[PAD]"), TypeError, "skip"),
    ],
)
def test_bad_tokens_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(explanation())


def test_tokenizer_output_of_the_wrong_length_names_the_row():
    class Short(Tokenizer):  # drops a token of rows starting with id 7
        def convert_ids_to_tokens(self, ids):
            tokens = super().convert_ids_to_tokens(ids)
            return tokens[:-1] if ids[0] == 7 else tokens

    exp = explanation()
    ids = np.ones((3, 4), int)
    ids[2, 0] = 7
    with pytest.raises(ValueError, match="row 2 has 3 tokens, expected 4"):
        exp.with_tokens(tokenizer=Short(), ids=ids)


def test_to_frame_shows_the_tokens():
    pytest.importorskip("pandas")
    exp = explanation(n=2, T=3, D=2).with_tokens([["a", "b", "c"], ["d", "e", "[PAD]"]])
    long = exp.to_frame("long")
    assert list(long["token"]) == [
        "a",
        "a",
        "b",
        "b",
        "c",
        "c",
        "d",
        "d",
        "e",
        "e",
        "[PAD]",
        "[PAD]",
    ]
    np.testing.assert_array_equal(long["value"], exp.values.reshape(-1))
    flat = explanation(n=2, T=3).with_tokens([["a", "b", "c"], ["d", "e", "f"]])
    assert list(flat.to_frame("long")["token"]) == list("abcdef")
    wide = flat[1].to_frame()
    assert list(wide.columns) == ["d", "e", "f"]
    np.testing.assert_array_equal(wide.to_numpy()[0], flat.values[1])


def test_saved_tokens_load_back(tmp_path):
    exp = explanation().with_tokens(tokenizer=Tokenizer(), skip=["[PAD]", "<b>"])
    exp.save(tmp_path / "e.npz")
    back = gb.Explanation.load(tmp_path / "e.npz")
    assert back.tokens == exp.tokens and back.skip_tokens == ["<b>", "[PAD]"]
    np.testing.assert_array_equal(back.token_values(), exp.token_values())
    one = exp[1]
    one.save(tmp_path / "one.npz")
    loaded = gb.Explanation.load(tmp_path / "one.npz")
    assert loaded.tokens == one.tokens and loaded.feature_names == one.tokens[0]


def _rewrite_tokens(path, tokens):
    """The file at ``path`` with its document's tokens replaced (a hostile or corrupt file)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(members["glassbox.json"])
    document["content"]["tokens"] = tokens
    members["glassbox.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    ("tokens", "match"),
    [
        ([["a"] * 4, ["a"] * 4, ["a"] * 2], "row 2 has 2 tokens"),
        ([["a"] * 4] * 2, "one list of tokens per row"),
        ([["a", 1, "b", "c"]] * 3, "field 'tokens'"),
        ("abc", "field 'tokens'"),
    ],
)
def test_a_file_with_bad_tokens_is_a_clear_error(tmp_path, tokens, match):
    path = tmp_path / "e.npz"
    explanation().with_tokens(tokenizer=Tokenizer()).save(path)
    _rewrite_tokens(path, tokens)
    with pytest.raises(ValueError, match=match) as caught:
        gb.Explanation.load(path)
    assert str(path) in str(caught.value)


def test_feature_ablation_over_token_ids_with_a_pad_baseline():
    """A model-agnostic explainer over ids (rows, T): one value per token, the pad id as the
    baseline; each value is f(x) - f(x with that token padded), by hand."""
    rng = np.random.default_rng(1)
    weight = rng.normal(size=len(WORDS))
    weight[0] = 0.0

    def score(ids):  # a bag of words: each id's weight, averaged over the non-pad tokens
        ids = np.asarray(ids).astype(int)
        count = np.maximum((ids != 0).sum(1), 1)
        return (weight[ids].sum(1) / count)[:, None]

    model = gb.wrap(score, n_inputs=5)
    ids = np.array([[1, 2, 3, 4, 0], [1, 5, 2, 0, 0]], dtype=np.float32)
    exp = gb.FeatureAblation(model, baselines=0.0)(ids).with_tokens(tokenizer=Tokenizer())
    expected = np.zeros((2, 5))
    for r in range(2):
        for t in range(5):
            padded = ids[r].copy()
            padded[t] = 0
            expected[r, t] = score(ids[r : r + 1])[0, 0] - score(padded[None])[0, 0]
    np.testing.assert_allclose(exp.token_values(), expected, rtol=1e-5, atol=1e-6)
    assert exp.tokens[1] == ["the", "great", "film", "[PAD]", "[PAD]"]


def test_layer_integrated_gradients_per_token():
    """LayerIG on an embedding: (rows, T, D) values; token_values sums D, and the per-token
    scores add up to f(x) - f(pad baseline) (completeness)."""
    rng = np.random.default_rng(2)
    T, D = 5, 3
    spec = gb.NetworkSpec(input_shape=(T,))
    spec.add("embedding", "emb", weight=rng.normal(size=(len(WORDS), D)), params={"padding_idx": 0})
    spec.add("reduce_mean", "pool", params={"axes": (0,)})
    spec.add("dense", "fc", weight=rng.normal(size=(2, D)), bias=np.zeros(2))
    model = gb.build_network(spec)
    ids = np.array([[1, 2, 3, 4, 0], [1, 5, 2, 0, 0]])
    exp = gb.LayerIntegratedGradients(model, "emb")(ids, target=1).with_tokens(
        tokenizer=Tokenizer()
    )
    assert exp.values.shape == (2, T, D) and exp.token_values().shape == (2, T)
    gap = model.predict(ids)[:, 1] - model.predict(np.zeros_like(ids))[:, 1]
    np.testing.assert_allclose(exp.token_values().sum(1), gap, rtol=1e-4, atol=1e-5)
    assert exp.tokens[0] == ["the", "film", "was", "dull", "[PAD]"]
    np.testing.assert_allclose(exp.token_values()[:, -1], 0.0, atol=1e-7)  # the pad row is 0
