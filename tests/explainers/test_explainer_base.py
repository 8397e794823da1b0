"""The one Explainer base: options from the constructor's signature, one repr, run options and
the model checked in one place, and models built lazily from the first batch they explain."""

from __future__ import annotations

import copy
import inspect
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import lenet_spec
from conftest import ARCH_BY_NAME, build, make_data, make_spec
from glassbox.explainers.base import AgnosticExplainer, ArraySummary, Explainer, summarize
from glassbox.models.native import NativeModel
from glassbox.models.spec import NetworkSpec

MLP = build(make_spec(ARCH_BY_NAME["relu"]))  # 5 inputs, 3 outputs
CNN_HW = 16
CNN = build(lenet_spec(input_hw=CNN_HW, n_outputs=3))
X_MLP = make_data(5, n_rows=4)
X_CNN = make_data((1, CNN_HW, CNN_HW), n_rows=2)
BACKGROUND = make_data(5, n_rows=200, seed=3)


def _mlp() -> Any:
    return MLP


def _cnn() -> Any:
    return CNN


def _forest() -> Any:
    """A small native random forest on the MLP's rows (5 inputs, 3 classes)."""
    from sklearn.ensemble import RandomForestClassifier

    y = np.arange(len(BACKGROUND)) % 3
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)
    return gb.from_trees(forest.fit(BACKGROUND, y))


# class -> (model, constructor arguments, call arguments besides X and target, Explanation.method)
CASES: dict[type, tuple[Callable[[], Any], dict[str, Any], dict[str, Any], str]] = {
    gb.Saliency: (_mlp, {"abs": False}, {}, "saliency"),
    gb.InputXGradient: (_mlp, {}, {}, "input_x_gradient"),
    gb.IntegratedGradients: (
        _mlp,
        {"n_steps": 7, "method": "riemann_middle", "n_threads": 2},
        {"baselines": 0.5},
        "integrated_gradients",
    ),
    gb.SmoothGrad: (
        _mlp,
        {"n_samples": 3, "stdev": 0.1, "nt_type": "vargrad", "seed": 4},
        {},
        "smoothgrad",
    ),
    gb.GradientShap: (
        _mlp,
        {"n_samples": 3, "seed": 2, "memory_budget": 1 << 20},
        {"baselines": BACKGROUND[:3]},
        "gradient_shap",
    ),
    gb.DeepLift: (_mlp, {}, {"baselines": np.zeros(5)}, "deeplift"),
    gb.DeepLiftShap: (_mlp, {}, {"baselines": BACKGROUND[:3]}, "deeplift_shap"),
    gb.LRP: (
        _cnn,
        {"composite": "EpsilonGammaBox", "low": np.full((1, CNN_HW, CNN_HW), -3.0), "high": 3.0},
        {},
        "lrp",
    ),
    gb.GuidedBackprop: (_cnn, {}, {}, "guided_backprop"),
    gb.Deconvolution: (_cnn, {}, {}, "deconvolution"),
    gb.GradCAM: (_cnn, {"layer": "conv2", "upsample": True}, {}, "grad_cam"),
    gb.GuidedGradCAM: (
        _cnn,
        {"layer": "conv2", "interpolate_mode": "bilinear"},
        {},
        "guided_grad_cam",
    ),
    gb.Occlusion: (
        _mlp,
        {"sliding_window_shapes": (2,), "baselines": np.zeros(5, np.float32)},
        {},
        "occlusion",
    ),
    gb.FeatureAblation: (
        _mlp,
        {"feature_mask": np.array([0, 0, 1, 1, 2]), "baselines": 0.5},
        {},
        "feature_ablation",
    ),
    gb.Lime: (_mlp, {"training_data": BACKGROUND, "num_samples": 40, "seed": 3}, {}, "lime"),
    gb.ExactShapley: (
        _mlp,
        {"background": BACKGROUND[:20], "groups": [[0, 1], [2], [3, 4]]},
        {},
        "exact_shapley",
    ),
    gb.ShapleyInteractions: (_mlp, {"background": BACKGROUND[:20]}, {}, "shapley_interactions"),
    gb.KernelShap: (
        _mlp,
        {"background": BACKGROUND, "n_samples": 20, "tol": 0.5, "seed": 1},
        {},
        "kernel_shap",
    ),
    gb.PermutationShapley: (
        _mlp,
        {"background": BACKGROUND[:20], "n_samples": 40, "seed": 1},
        {},
        "permutation_shapley",
    ),
    gb.TreeShap: (
        _forest,
        {"background": BACKGROUND[:10], "feature_perturbation": "interventional"},
        {},
        "tree_shap",
    ),
    gb.TreeShapInteractions: (_forest, {}, {}, "tree_shap_interactions"),
    gb.LayerIntegratedGradients: (
        _mlp,
        {"layer": "act0", "n_steps": 5, "method": "riemann_left"},
        {"baselines": 0.25},
        "layer_integrated_gradients",
    ),
    gb.LayerGradientXActivation: (
        _mlp,
        {"layer": "fc1", "multiply_by_inputs": False},
        {},
        "layer_gradient_x_activation",
    ),
    gb.LayerConductance: (
        _mlp,
        {"layer": "fc1", "n_steps": 4, "path_layer": "fc0"},
        {},
        "layer_conductance",
    ),
    gb.NeuronIntegratedGradients: (
        _mlp,
        {"layer": "act0", "n_steps": 6},
        {"neuron_selector": 2},
        "neuron_integrated_gradients",
    ),
}


def _make(cls: type, **extra: Any) -> Explainer:
    model, kwargs, _, _ = CASES[cls]
    return cls(model(), **{**kwargs, **extra})


def _explain(explainer: Explainer, cls: type) -> gb.Explanation:
    model, _, call, _ = CASES[cls]
    X = X_CNN if model() is CNN else X_MLP
    if cls is gb.NeuronIntegratedGradients:  # the seed is a neuron, not a target output
        return explainer(X, **call)
    return explainer(X, target=1, **call)


def _parameter_names(cls: type) -> list[str]:
    return [name for name in inspect.signature(cls).parameters if name != "model"]


def test_every_public_explainer_derives_from_the_base_and_is_covered() -> None:
    public = {
        obj
        for obj in (getattr(gb, name) for name in gb.__all__)
        if isinstance(obj, type) and issubclass(obj, Explainer)
    }
    assert public == set(CASES)
    for cls in CASES:
        assert issubclass(cls, Explainer)
        assert issubclass(cls, AgnosticExplainer) is (not cls.needs_network)


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_options_are_the_constructor_parameters(cls: type) -> None:
    explainer = _make(cls)
    options = explainer.options
    assert list(options) == _parameter_names(cls)
    for name, value in options.items():
        attribute = getattr(explainer, name)
        assert value == summarize(attribute), name
        items = attribute.items() if isinstance(attribute, dict) else [(name, attribute)]
        for key, item in items:  # values as they are, arrays by shape and dtype
            recorded = value[key] if isinstance(attribute, dict) else value
            if isinstance(item, np.ndarray):
                assert recorded == ArraySummary(item.shape, str(item.dtype)), key
            else:
                assert recorded == item, key


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_the_explanation_records_the_options_and_the_method(cls: type) -> None:
    explainer = _make(cls)
    exp = _explain(explainer, cls)
    assert exp.method == CASES[cls][3] == cls.method_name
    for name, value in explainer.options.items():
        assert exp.options[name] == value, name


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_explainers_pickle_and_explain_the_same(cls: type) -> None:
    """glassbox.dask ships explainers to worker processes: every explainer pickles (what
    ``_setup`` made from the model, core objects among it, is made again on loading) and the
    copy explains bit for bit as the original; ``copy.copy`` shares the set-up state."""
    explainer = _make(cls, progress=False)
    loaded = pickle.loads(pickle.dumps(explainer))
    assert type(loaded) is cls and repr(loaded) == repr(explainer)
    expected, got = _explain(explainer, cls), _explain(loaded, cls)
    np.testing.assert_array_equal(got.values, expected.values, strict=True)
    assert repr(got.options) == repr(expected.options)
    shallow = copy.copy(explainer)
    assert all(getattr(shallow, name) is value for name, value in vars(explainer).items())


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_repr_shows_the_options_and_summarises_arrays(cls: type) -> None:
    explainer = _make(cls)
    text = repr(explainer)
    assert text.startswith(f"{cls.__name__}(") and text.endswith(")")
    for name, value in explainer.options.items():
        if name == "composite_options":
            assert all(f"{key}={item!r}" in text for key, item in value.items())
        else:
            assert f"{name}={value!r}" in text
    assert len(text) < 400  # no array printed in full (the background has 200 rows)
    assert "array([" not in text


def test_repr_example() -> None:
    ig = gb.IntegratedGradients(MLP, n_steps=50, method="gausslegendre")
    assert repr(ig) == (
        "IntegratedGradients(n_steps=50, method='gausslegendre', n_threads=None, "
        "memory_budget=None, fast_path=True, progress=None)"
    )
    lime = gb.Lime(MLP, BACKGROUND, num_samples=40)
    assert "training_data=<array shape=(200, 5) dtype=float32>" in repr(lime)


def test_integrated_gradients_keeps_method_for_the_quadrature() -> None:
    ig = gb.IntegratedGradients(MLP, n_steps=7, method="riemann_middle")
    assert ig.method == ig.options["method"] == "riemann_middle"
    assert gb.IntegratedGradients.method_name == "integrated_gradients"
    assert ig(X_MLP, target=0).method == "integrated_gradients"


def test_occlusion_records_its_baselines() -> None:
    assert gb.Occlusion(MLP, (2,)).options["baselines"] == 0.0
    array = np.arange(5, dtype=np.float32)
    occlusion = gb.Occlusion(MLP, (2,), strides=1, baselines=array)
    assert occlusion.options["baselines"] == ArraySummary((5,), "float32")
    assert occlusion.baselines is array
    assert occlusion.options["strides"] == (1,) == occlusion.strides


def test_feature_ablation_records_its_feature_mask() -> None:
    groups = [[0, 1], [3]]
    ablation = gb.FeatureAblation(MLP, feature_mask=groups)
    assert ablation.options["feature_mask"] == groups and ablation.feature_mask is groups
    mask = np.array([0, 0, 1, 1, 2])
    ablation = gb.FeatureAblation(MLP, feature_mask=mask, baselines=0.5)
    assert ablation.options["feature_mask"] == ArraySummary((5,), str(mask.dtype))
    assert ablation.options["baselines"] == 0.5


def test_lrp_records_the_preset_options_without_changing_them() -> None:
    extra = {"gamma": 0.5}
    lrp = gb.LRP(CNN, "EpsilonGammaBox", epsilon=0.01, low=-3.0, high=3.0, **extra)
    assert lrp.options["composite"] == "EpsilonGammaBox"
    assert lrp.options["epsilon"] == 0.01
    assert lrp.options["composite_options"] == {"low": -3.0, "high": 3.0, "gamma": 0.5}
    assert lrp.composite_options == {"low": -3.0, "high": 3.0, "gamma": 0.5}  # no epsilon added
    assert "gamma=0.5" in repr(lrp) and "epsilon=0.01" in repr(lrp)
    assert lrp.resolved_composite.name == "EpsilonGammaBox"


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_run_options_are_checked_in_one_place(cls: type) -> None:
    with pytest.raises(ValueError, match="n_threads"):
        _make(cls, n_threads=0)
    with pytest.raises(ValueError, match="memory_budget"):
        _make(cls, memory_budget=0)
    with pytest.raises(TypeError, match="memory_budget"):
        _make(cls, memory_budget=1.5)
    if "seed" in _parameter_names(cls):
        with pytest.raises(ValueError, match="seed"):
            _make(cls, seed=-1)
        with pytest.raises(TypeError, match="seed"):
            _make(cls, seed="0")
    explainer = _make(cls, n_threads=1, memory_budget=1 << 16)
    options = explainer.core_options
    assert (options.n_threads, options.memory_budget) == (1, 1 << 16)
    assert _make(cls, n_threads=None).core_options.n_threads == 0  # the core's default


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_the_model_is_checked_in_one_place(cls: type) -> None:
    _, kwargs, _, _ = CASES[cls]
    function = gb.wrap(lambda A: A[:, :3], n_inputs=5)
    if cls.needs_network:
        with pytest.raises(TypeError, match="native network"):
            cls(function, **kwargs)
    elif issubclass(cls, gb.TreeShap):  # TreeSHAP reads the trees: a function has none
        with pytest.raises(TypeError, match="explains tree ensembles"):
            cls(function, **kwargs)
    else:
        explainer = cls(function, **kwargs)
        assert explainer.model is function
        assert _explain(explainer, cls).values.shape[0] == len(X_MLP)


# ---- models built on first use ----------------------------------------------------------------


class LazyLeNet(NativeModel):
    """A NativeModel converted without an input shape (as ``from_torch`` makes for a CNN): its
    factory compiles a LeNet for the first batch's sample shape; ``builds`` records the calls."""

    def __init__(self) -> None:
        self.builds: list[tuple[int, ...]] = []
        super().__init__(factory=self._factory, what="LeNet")

    def _factory(self, sample_shape: tuple[int, ...]) -> NetworkSpec:
        self.builds.append(tuple(sample_shape))
        if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
            raise ValueError(f"conv1: expects (C, H, W) square images, got {sample_shape}")
        return _lenet(sample_shape[1])


def _lenet(hw: int) -> NetworkSpec:
    return lenet_spec(input_hw=hw, n_outputs=3)


LAZY_CASES = [
    (gb.GradCAM, {"layer": "conv2", "upsample": True}),
    (gb.GuidedGradCAM, {"layer": "conv2"}),
    (gb.LRP, {"composite": "EpsilonPlusFlat"}),
    (gb.IntegratedGradients, {"n_steps": 4}),
    (gb.DeepLift, {}),
    (gb.Occlusion, {"sliding_window_shapes": (1, 4, 4), "strides": 4}),
    (gb.FeatureAblation, {}),
]


@pytest.mark.parametrize(("cls", "kwargs"), LAZY_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_a_lazy_model_is_built_from_the_first_batch(cls: type, kwargs: dict[str, Any]) -> None:
    model = LazyLeNet()
    explainer = cls(model, **kwargs)  # touches no network: LazyLeNet would raise
    assert not model.built and model.builds == []
    assert "n_threads=None" in repr(explainer) and explainer.options
    setups = []
    setup = explainer._setup
    explainer._setup = lambda: (setups.append(1), setup())[1]  # type: ignore[method-assign]
    lazy = explainer(X_CNN, target=1)
    again = explainer(X_CNN[:1], target=2)
    assert model.built and model.builds == [(1, CNN_HW, CNN_HW)] and len(setups) == 1
    eager = cls(build(_lenet(CNN_HW)), **kwargs)
    np.testing.assert_allclose(lazy.values, eager(X_CNN, target=1).values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again.values, eager(X_CNN[:1], target=2).values, rtol=1e-5)


def test_explainers_sharing_a_lazy_model_build_it_once() -> None:
    model = LazyLeNet()
    saliency, cam = gb.Saliency(model), gb.GradCAM(model, layer="conv2")
    saliency(X_CNN, target=0)
    assert model.builds == [(1, CNN_HW, CNN_HW)]
    assert cam(X_CNN, target=0).values.shape == (2, 2, 2)  # its setup runs, no second build
    assert model.builds == [(1, CNN_HW, CNN_HW)]


def test_layer_errors_raise_at_construction_for_a_built_model_and_at_the_first_call_if_lazy():
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        gb.GradCAM(CNN, layer="conv9")
    explainer = gb.GradCAM(LazyLeNet(), layer="conv9")
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        explainer(X_CNN, target=0)


@pytest.mark.parametrize("X", [X_CNN[0, 0, 0], 3.0, None], ids=["1-D", "scalar", "None"])
def test_a_lazy_model_needs_a_batch_to_be_built_from(X: object) -> None:
    model = LazyLeNet()
    explainer = gb.Saliency(model)
    with pytest.raises(ValueError, match=r"^X: .*input_shape="):
        explainer(X, target=0)
    assert not model.built and model.builds == []


def test_a_batch_the_model_cannot_be_built_from_says_so() -> None:
    """Flat rows for an image model: the build fails, and the error says what to do."""
    model = LazyLeNet()
    with pytest.raises(ValueError, match=r"X: could not build the model .*input_shape="):
        gb.Saliency(model)(X_CNN.reshape(2, -1), target=0)
    assert not model.built
    assert gb.Saliency(model)(X_CNN, target=0).values.shape == X_CNN.shape  # a later batch works
