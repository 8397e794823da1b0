"""compress.distill: a seeded scikit-learn student fitted to the logits, as a native model with
the teacher's inputs, outputs and head, that agrees with the teacher on a simple task."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import glassbox as gb
from compress.conftest import weights_of


def blobs_teacher() -> tuple[gb.NativeModel, np.ndarray]:
    """A softmax MLP that separates three blobs, and rows around them."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3), nn.Softmax(dim=1))
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    rng = np.random.default_rng(0)
    X = (centres[rng.integers(0, 3, 300)] + rng.normal(size=(300, 2))).astype(np.float32)
    with torch.no_grad():  # weights that separate the blobs: a linear readout of the centres
        net[0].weight.copy_(torch.randn(16, 2))
        net[0].bias.zero_()
        hidden = np.tanh(centres @ net[0].weight.numpy().T)
        net[2].weight.copy_(torch.from_numpy(3 * np.linalg.pinv(hidden).T.astype(np.float32)))
        net[2].bias.zero_()
    return gb.from_torch(net), X


def test_the_student_agrees_with_the_teacher_and_ends_in_its_head():
    teacher, X = blobs_teacher()
    before = weights_of(teacher)
    student = gb.compress.distill(teacher, X, hidden=(16,))
    assert [layer.kind for layer in student.spec.layers][-1] == "softmax"
    assert student.input_shape == teacher.input_shape and student.n_outputs == 3
    fid = gb.compress.fidelity(teacher, student, X)
    assert fid.agreement > 0.97
    assert fid.params_after < fid.params_before * 2
    np.testing.assert_allclose(student.predict(X).sum(axis=1), 1.0, rtol=1e-5)
    for key, value in weights_of(teacher).items():
        np.testing.assert_array_equal(value, before[key])


def test_the_student_is_the_seeded_sklearn_fit_on_the_logits():
    teacher, X = blobs_teacher()
    X = X[:60]
    student = gb.compress.distill(teacher, X, hidden=(8, 4), activation="tanh", seed=3)
    logits = teacher.spec.layers[-2]  # the teacher's last dense layer
    body = gb.build_network(gb.NetworkSpec(teacher.input_shape, teacher.spec.layers[:-1]))
    assert logits.kind == "dense"
    fitted = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(8, 4), activation="tanh", max_iter=1000, random_state=3),
    ).fit(X, body.predict(X))
    z = fitted.predict(X)
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(student.predict(X), expected, rtol=1e-4, atol=1e-6)
    again = gb.compress.distill(teacher, X, hidden=(8, 4), activation="tanh", seed=3)
    np.testing.assert_array_equal(again.predict(X), student.predict(X))


def test_an_image_teacher_gets_a_student_that_reads_images():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 2))
    X = np.random.default_rng(0).normal(size=(120, 1, 8, 8)).astype(np.float32)
    teacher = gb.from_torch(net, input_shape=(1, 8, 8))
    student = gb.compress.distill(teacher, X, hidden=(32,))
    assert student.input_shape == (1, 8, 8) and student.spec.layers[0].kind == "flatten"
    fid = gb.compress.fidelity(teacher, student, X, attributions=False)
    assert fid.output_mse < 0.1 * np.var(teacher.predict(X))  # a regression fit of the logits


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden": (0,)}, ValueError, "hidden"),
        ({"hidden": "32"}, TypeError, "hidden"),
        ({"activation": "gelu"}, ValueError, "activation"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_input_is_refused(kwargs, error, match):
    teacher, X = blobs_teacher()
    with pytest.raises(error, match=match):
        gb.compress.distill(teacher, X, **kwargs)
    with pytest.raises(ValueError, match="X: expected"):
        gb.compress.distill(teacher, X[:, :1])
