"""Every integer argument of every public entry point is range-checked in Python, before it
reaches the core: a clear TypeError / ValueError naming the argument and its allowed range, never
pybind11's "incompatible function arguments" or an OverflowError.

The table INTS lists, per entry point, its integer parameters and their ranges; a test compares
it with the signatures, so a new integer parameter without an entry (and so without a range
check) fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

import glassbox as gb
from glassbox._validation import MAX_COUNT, MAX_MEMORY_BUDGET, MAX_SEED, MAX_THREADS_ARG
from glassbox.explainers import Explainer
from glassbox.surrogate import SKLEARN_MAX_SEED

D, K = 4, 3
PROBES = [-1, 0, 2**31, 2**63, 2**64, 10**10, True, 1.5, np.int64(-5)]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, D)).astype(np.float32)
B = RNG.normal(size=(3, D)).astype(np.float32)
W = RNG.normal(size=(D, K))


def _dense() -> gb.NativeModel:
    spec = gb.NetworkSpec(input_shape=(D,))
    spec.add("dense", "fc0", weight=RNG.normal(size=(5, D)), bias=np.zeros(5))
    spec.add("relu", "act")
    spec.add("dense", "fc1", weight=RNG.normal(size=(K, 5)), bias=np.zeros(K))
    return gb.build_network(spec)


NET = _dense()
PY = gb.wrap(lambda rows: rows @ W, n_inputs=D, n_outputs=K)
torch.manual_seed(0)
CNN = gb.from_torch(
    torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, K)
    ),
    input_shape=(1, 4, 4),
)
IMAGES = RNG.random((2, 1, 4, 4), dtype=np.float32)
IMPORTANCE = gb.permutation_importance(PY, X, np.arange(len(X)) % K, n_repeats=2)

COMMON = {"n_threads": (1, MAX_THREADS_ARG), "memory_budget": (1, MAX_MEMORY_BUDGET)}
SEED = {"seed": (0, MAX_SEED)}
TARGET = {"target": (0, K - 1)}
FEATURES = (-D, D - 1)


@dataclass
class Case:
    """An entry point: ``run(**arguments)`` calls it on a tiny model; ``ints`` are its integer
    parameters and their (low, high) ranges; ``valid`` more values that must work (cheap ones);
    ``place`` turns a probe into the argument (e.g. a feature index into a pair)."""

    run: Callable[..., Any]
    ints: dict[str, tuple[int, int]]
    signature: Callable[..., Any] | None = None
    valid: dict[str, list[int]] = field(default_factory=dict)
    place: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


def explainer(cls: type, model: object, batch: np.ndarray, *, call: dict | None = None, **fixed):
    """A Case runner: construct ``cls(model, **fixed, **constructor ints)``, then call it on
    ``batch`` with ``target`` (a call-time int) and ``call``."""
    init = set(inspect.signature(cls.__init__).parameters)

    def run(**arguments: Any) -> Any:
        built = cls(model, **{**fixed, **{k: v for k, v in arguments.items() if k in init}})
        at_call = {k: v for k, v in arguments.items() if k not in init}
        return built(batch, **{"target": 1, **(call or {}), **at_call})

    return run


def gradient(cls: type, **fixed: Any) -> Case:
    return Case(explainer(cls, NET, X[:2], **fixed), {**COMMON, **TARGET}, cls)


def shapley(cls: type, extra: dict, **valid: list[int]) -> Case:
    return Case(
        explainer(cls, PY, X[:2], background=B),
        {**COMMON, **TARGET, **SEED, **extra},
        cls,
        valid=valid,
    )


def _forest() -> object:
    """A tiny native random forest of K classes on rows of width D."""
    from sklearn.ensemble import RandomForestClassifier

    rows = np.random.default_rng(1).normal(size=(30, D))
    forest = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0)
    return gb.from_trees(forest.fit(rows, np.arange(30) % K))


FOREST = _forest()


def _neuron_ig(**arguments: Any) -> Any:
    """NeuronIntegratedGradients: the seed is a neuron (no target)."""
    init = set(inspect.signature(gb.NeuronIntegratedGradients.__init__).parameters)
    built = gb.NeuronIntegratedGradients(
        NET, **{"layer": "act", **{k: v for k, v in arguments.items() if k in init}}
    )
    return built(X[:2], neuron_selector=1, **{k: v for k, v in arguments.items() if k not in init})


LAYERS = {"layer": (-3, 2)}  # NET's three layers, by position
STEPS = {"n_steps": (1, MAX_COUNT)}

CASES: dict[str, Case] = {
    "LayerIntegratedGradients": Case(
        explainer(gb.LayerIntegratedGradients, NET, X[:2], layer="act"),
        {**COMMON, **TARGET, **STEPS, **LAYERS},
        gb.LayerIntegratedGradients,
        valid={"n_steps": [1], "layer": [-3, 2]},
    ),
    "LayerGradientXActivation": Case(
        explainer(gb.LayerGradientXActivation, NET, X[:2], layer="act"),
        {**COMMON, **TARGET, **LAYERS},
        gb.LayerGradientXActivation,
    ),
    "LayerConductance": Case(
        explainer(gb.LayerConductance, NET, X[:2], layer="fc1"),
        {**COMMON, **TARGET, **STEPS, **LAYERS, "path_layer": (-3, 2)},
        gb.LayerConductance,
        valid={"n_steps": [1]},
    ),
    "NeuronIntegratedGradients": Case(
        _neuron_ig, {**COMMON, **STEPS, **LAYERS}, gb.NeuronIntegratedGradients
    ),
    "TreeShap": Case(
        explainer(gb.TreeShap, FOREST, X[:2], background=B), {**COMMON, **TARGET}, gb.TreeShap
    ),
    "TreeShapInteractions": Case(
        explainer(gb.TreeShapInteractions, FOREST, X[:2]),
        {**COMMON, **TARGET},
        gb.TreeShapInteractions,
    ),
    "Saliency": gradient(gb.Saliency),
    "InputXGradient": gradient(gb.InputXGradient),
    "DeepLift": gradient(gb.DeepLift),
    "GuidedBackprop": gradient(gb.GuidedBackprop),
    "Deconvolution": gradient(gb.Deconvolution),
    "LRP": gradient(gb.LRP),
    "IntegratedGradients": Case(
        explainer(gb.IntegratedGradients, NET, X[:2]),
        {**COMMON, **TARGET, "n_steps": (1, MAX_COUNT)},
        gb.IntegratedGradients,
        valid={"n_steps": [1]},
    ),
    "SmoothGrad": Case(
        explainer(gb.SmoothGrad, NET, X[:2], stdev=0.1),
        {**COMMON, **TARGET, **SEED, "n_samples": (1, MAX_COUNT)},
        gb.SmoothGrad,
        valid={"n_samples": [1]},
    ),
    "GradientShap": Case(
        explainer(gb.GradientShap, NET, X[:2], call={"baselines": B}),
        {**COMMON, **TARGET, **SEED, "n_samples": (1, MAX_COUNT)},
        gb.GradientShap,
        valid={"n_samples": [1]},
    ),
    "DeepLiftShap": Case(
        explainer(gb.DeepLiftShap, NET, X[:2], call={"baselines": B}),
        {**COMMON, **TARGET},
        gb.DeepLiftShap,
    ),
    "GradCAM": Case(
        explainer(gb.GradCAM, CNN, IMAGES, layer="0"), {**COMMON, **TARGET}, gb.GradCAM
    ),
    "GuidedGradCAM": Case(
        explainer(gb.GuidedGradCAM, CNN, IMAGES, layer="0"), {**COMMON, **TARGET}, gb.GuidedGradCAM
    ),
    "Occlusion": Case(
        explainer(gb.Occlusion, PY, X[:2], sliding_window_shapes=(1,)),
        {**COMMON, **TARGET, "sliding_window_shapes": (1, MAX_COUNT), "strides": (1, MAX_COUNT)},
        gb.Occlusion,
        valid={"sliding_window_shapes": [1, D], "strides": [1]},
        place={"sliding_window_shapes": lambda v: (v,), "strides": lambda v: (v,)},
    ),
    "FeatureAblation": Case(
        explainer(gb.FeatureAblation, PY, X[:2]), {**COMMON, **TARGET}, gb.FeatureAblation
    ),
    "Lime": Case(
        explainer(gb.Lime, PY, X[:2], training_data=X, num_samples=50),
        {**COMMON, **TARGET, **SEED, "num_samples": (1, MAX_COUNT), "num_features": (1, MAX_COUNT)},
        gb.Lime,
        valid={"num_samples": [1, 2], "num_features": [1, D]},
    ),
    "ExactShapley": shapley(gb.ExactShapley, {}),
    "ShapleyInteractions": shapley(gb.ShapleyInteractions, {}),
    "KernelShap": shapley(gb.KernelShap, {"n_samples": (1, MAX_COUNT)}, n_samples=[10]),
    "PermutationShapley": shapley(
        gb.PermutationShapley, {"n_samples": (1, MAX_COUNT)}, n_samples=[12]
    ),
    "partial_dependence": Case(
        lambda **a: gb.partial_dependence(PY, X, **{"features": 0, "grid_resolution": 3, **a}),
        {**COMMON, **TARGET, "features": FEATURES, "grid_resolution": (2, MAX_COUNT)},
        gb.partial_dependence,
        valid={"grid_resolution": [2]},
    ),
    "ale": Case(
        lambda **a: gb.ale(PY, X, **{"features": 0, **a}),
        {**COMMON, **TARGET, "features": FEATURES, "bins": (1, MAX_COUNT)},
        gb.ale,
        valid={"bins": [1, 10**6]},  # more bins than rows: the rows' values are the edges
    ),
    "h_statistic": Case(
        lambda **a: gb.h_statistic(PY, X, **{"n_samples": 4, **a}),
        {**COMMON, **TARGET, **SEED, "features": FEATURES, "n_samples": (2, MAX_COUNT)},
        gb.h_statistic,
        valid={"n_samples": [2]},
        place={"features": lambda v: [v, 1] if v != 1 else [v, 0]},
    ),
    "permutation_importance": Case(
        lambda **a: gb.permutation_importance(
            PY, X, np.arange(len(X)) % K, **{"n_repeats": 2, **a}
        ),
        {
            **COMMON,
            **SEED,
            "n_repeats": (1, MAX_COUNT),
            "groups": FEATURES,
            "max_samples": (1, len(X)),
        },
        gb.permutation_importance,
        valid={"n_repeats": [1]},
        place={"groups": lambda v: [[v]]},
    ),
    "surrogate_tree": Case(
        lambda **a: gb.surrogate_tree(PY, X, **{"task": "regression", **a}),
        {
            **COMMON,
            "seed": (0, SKLEARN_MAX_SEED),
            "target": (0, K - 1),
            "max_depth": (1, MAX_COUNT),
            "min_samples_leaf": (1, MAX_COUNT),
        },
        gb.surrogate_tree,
        valid={"max_depth": [1], "min_samples_leaf": [1]},
    ),
    "PermutationImportance.permuted_data": Case(
        lambda **a: IMPORTANCE.permuted_data(X, **{"group": 0, "repeat": 0, **a}),
        {"group": (0, D - 1), "repeat": (0, 1)},
        gb.PermutationImportance.permuted_data,
        valid={"group": [D - 1], "repeat": [1]},
    ),
    "wrap": Case(
        lambda **a: gb.wrap(lambda rows: rows @ W, **{"n_inputs": D, **a}),
        {"n_inputs": (1, MAX_COUNT), "n_outputs": (1, MAX_COUNT)},
        gb.wrap,
    ),
    "CallableModel": Case(
        lambda **a: gb.CallableModel(lambda rows: rows @ W, **{"n_inputs": D, **a}),
        {"n_inputs": (1, MAX_COUNT), "n_outputs": (1, MAX_COUNT)},
        gb.CallableModel,
    ),
    "as_model": Case(
        lambda **a: gb.as_model(lambda rows: rows.sum(axis=1), **{"n_inputs": D, **a}),
        {"n_inputs": (1, MAX_COUNT)},
        gb.as_model,
    ),
}

#: The public explainers: every one must have a case.
EXPLAINERS = {
    name
    for name in gb.__all__
    if isinstance(getattr(gb, name), type) and issubclass(getattr(gb, name), Explainer)
}
FUNCTIONS = {"partial_dependence", "ale", "h_statistic", "permutation_importance"}
FUNCTIONS |= {"surrogate_tree", "wrap", "as_model", "CallableModel"}
FUNCTIONS |= {"PermutationImportance.permuted_data"}


def _int_parameters(function: Callable[..., Any]) -> set[str]:
    """Parameters annotated with ``int`` anywhere, or with an int default (of the constructor
    and ``__call__`` for a class)."""
    targets = [function.__init__, function.__call__] if isinstance(function, type) else [function]
    parameters = [p for t in targets for p in inspect.signature(t).parameters.values()]
    found = set()
    for p in parameters:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in ("self", "X"):
            continue
        annotated = isinstance(p.annotation, str) and re.search(r"\bint\b", p.annotation)
        int_default = isinstance(p.default, int) and not isinstance(p.default, bool)
        if annotated or int_default:
            found.add(p.name)
    return found


def test_every_public_entry_point_has_a_case():
    assert EXPLAINERS | FUNCTIONS == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_int_parameter_is_in_the_table(name):
    """A new integer parameter must come with a range check (and a line in CASES)."""
    case = CASES[name]
    assert case.signature is not None
    missing = _int_parameters(case.signature) - set(case.ints)
    assert not missing, f"{name}: integer parameters without a range check: {sorted(missing)}"


def _probes() -> list[tuple[str, str, object]]:
    return [(name, p, v) for name, c in CASES.items() for p in c.ints for v in PROBES]


def _valid(value: object, low: int, high: int) -> bool:
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    return is_int and low <= int(value) <= high


@pytest.mark.parametrize(("name", "parameter", "value"), _probes(), ids=repr)
def test_out_of_range_ints_give_a_clear_error(name, parameter, value):
    case = CASES[name]
    low, high = case.ints[parameter]
    argument = case.place.get(parameter, lambda v: v)(value)
    if _valid(value, low, high):
        if parameter in ("n_threads", "memory_budget", "seed", "target") or parameter in (
            "features",
            "groups",
        ):
            case.run(**{parameter: argument})  # cheap whatever the value
        return
    with pytest.raises((TypeError, ValueError)) as caught:
        case.run(**{parameter: argument})
    message = str(caught.value)
    assert "incompatible function arguments" not in message
    assert message.startswith(f"{parameter}:") or f"{parameter}:" in message, message
    assert f"between {low} and {high}" in message, message


@pytest.mark.parametrize(
    ("name", "parameter", "value"),
    [(n, p, v) for n, c in CASES.items() for p, vs in c.valid.items() for v in vs]
    + [(n, "n_threads", MAX_THREADS_ARG) for n in ("Saliency", "KernelShap", "ale")]
    + [(n, "memory_budget", MAX_MEMORY_BUDGET) for n in ("IntegratedGradients", "Lime")]
    + [(n, "seed", MAX_SEED) for n in ("SmoothGrad", "KernelShap", "h_statistic")]
    + [("surrogate_tree", "seed", SKLEARN_MAX_SEED), ("Saliency", "target", K - 1)]
    + [("partial_dependence", "features", -D), ("ale", "features", D - 1)],
    ids=repr,
)
def test_boundary_values_work(name, parameter, value):
    case = CASES[name]
    assert case.run(**{parameter: case.place.get(parameter, lambda v: v)(value)}) is not None


def test_message_names_argument_and_range():
    with pytest.raises(ValueError) as caught:
        gb.IntegratedGradients(NET, n_steps=2**64)
    assert str(caught.value) == (
        "n_steps: expected an integer between 1 and 1000000000, got 18446744073709551616"
    )


def test_numpy_integers_are_ints_and_bools_are_not():
    assert gb.IntegratedGradients(NET, n_steps=np.int32(7)).n_steps == 7
    assert gb.KernelShap(PY, background=B, seed=np.uint64(MAX_SEED)).seed == MAX_SEED
    with pytest.raises(TypeError, match="n_steps: expected an integer between 1 and"):
        gb.IntegratedGradients(NET, n_steps=np.bool_(True))


def test_thread_counts_above_the_ceiling_are_clamped():
    from glassbox._validation import MAX_THREADS, run_options

    assert run_options(MAX_THREADS_ARG).n_threads == MAX_THREADS
    assert run_options(3).n_threads == 3


@pytest.mark.parametrize("target", [[0, 2**64], np.array([0, 2**63], dtype=np.uint64), [0, -1]])
def test_per_row_targets_are_checked_before_any_cast(target):
    with pytest.raises(ValueError, match=r"target: .* \(expected an integer between 0 and 2\)"):
        gb.Saliency(NET)(X[:2], target=target)


@pytest.mark.parametrize("rows", [2**63, 2**64, -7, 6])
def test_explanation_rows_out_of_range_raise_index_error(rows):
    exp = gb.Saliency(NET)(X, target=0)
    with pytest.raises(IndexError, match=r"rows: expected an integer between -6 and 5"):
        exp[rows]
    assert exp[np.int64(-1)].values.shape == (D,)


def test_shapley_design_helpers_check_their_ints():
    from glassbox.explainers.shapley import kernel_shap_design, shapley_permutations

    with pytest.raises(ValueError, match="n_pairs: expected an integer between 1 and"):
        shapley_permutations(3, 2**63)
    with pytest.raises(ValueError, match="seed: expected an integer between 0 and"):
        kernel_shap_design(3, 6, seed=2**64)


def test_a_huge_partial_dependence_grid_fails_before_work():
    rows = RNG.normal(size=(40000, 2)).astype(np.float32)
    model = gb.wrap(lambda r: r.sum(axis=1), n_inputs=2)
    with pytest.raises(ValueError, match=r"grid: \d+ x \d+ grid points; at most 1000000000 values"):
        gb.partial_dependence(model, rows, [0, 1], grid_resolution=10**6)
    with pytest.raises(ValueError, match=r"grid: \d+ grid points x 40000 rows \(kind='both'\)"):
        gb.partial_dependence(model, rows, 0, grid_resolution=10**6, kind="both")


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: gb.SmoothGrad(NET, stdev=float("inf")), ValueError, "stdev: must be a finite"),
        (lambda: gb.KernelShap(PY, background=B, tol=float("nan")), ValueError, "tol: must be"),
        (lambda: gb.Lime(PY, X, kernel_width=float("nan")), ValueError, "kernel_width: must"),
        (lambda: gb.LRP(NET, epsilon=float("inf")), ValueError, "epsilon: expected a finite"),
        (
            lambda: gb.partial_dependence(PY, X, 0, percentiles=("a", 1)),
            TypeError,
            "percentiles: expected two numbers",
        ),
        (
            lambda: gb.partial_dependence(PY, X, 0, percentiles=(float("nan"), 1)),
            ValueError,
            "percentiles: expected 0 <= low < high <= 1",
        ),
        (lambda: gb.surrogate_tree(PY, X, test_size="x"), TypeError, "test_size: expected"),
        (lambda: gb.surrogate_tree(PY, X, test_size=float("nan")), ValueError, "test_size:"),
        (
            lambda: gb.IntegratedGradients(NET)(X[:2], baselines=np.inf, target=0),
            ValueError,
            "baselines: must be finite",
        ),
    ],
)
def test_floats_that_must_be_finite(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_permutation_jobs_are_bounded_before_work():
    with pytest.raises(ValueError, match=r"n_repeats: 4 groups x 500000000 repeats is more than"):
        gb.permutation_importance(PY, X, np.arange(len(X)) % K, n_repeats=5 * 10**8)


def test_the_scan_finds_int_parameters():
    def entry(
        X: object,
        count: int,
        limit: int | None = None,
        repeats=3,
        scale: float = 1.0,
        flag: bool = True,
        features: Sequence[int] = (),
    ) -> None: ...

    assert _int_parameters(entry) == {"count", "limit", "repeats", "features"}
