"""Typed stubs for the compiled extension glassbox._core (checked by tests/test_core_stubs.py)."""

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

class Network:
    def __init__(self, input_shape: Sequence[int]) -> None: ...
    def add_layer(
        self,
        kind: str,
        name: str,
        inputs: Sequence[int],
        scalars: Mapping[str, float],
        arrays: Mapping[str, NDArray[np.float32]],
    ) -> None: ...
    def freeze(self) -> None: ...
    @property
    def frozen(self) -> bool: ...
    def predict(
        self, X: FloatArray, n_threads: int = 0, memory_budget: int = 67108864
    ) -> FloatArray: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def n_layers(self) -> int: ...
    @property
    def layer_names(self) -> list[str]: ...
    @property
    def input_shape(self) -> list[int]: ...
    @property
    def layer_shapes(self) -> list[list[int]]: ...
    @property
    def macs_per_sample(self) -> float: ...
    @property
    def bytes_per_point(self) -> int: ...

# --- run options and results (every function: the model first, everything else by keyword) ---
# The result classes are read-only; their arrays are views of the core's buffers.
class JobControl:
    def __init__(self) -> None: ...
    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def interrupted(self) -> bool: ...
    def interrupt(self) -> None: ...

class RunOptions:
    n_threads: int
    memory_budget: int
    first_row: int
    control: JobControl | None
    def __init__(self, n_threads: int = 0, *, memory_budget: int = 67108864) -> None: ...

Targets = NDArray[np.int64] | Sequence[int]
Float64Array = NDArray[np.float64]

class Attribution:
    values: FloatArray
    std_error: FloatArray | None
    delta: Float64Array | None
    base_values: Float64Array | None

class Quadrature:
    alphas: list[float]
    weights: list[float]

class LrpResult:
    values: FloatArray
    layer_relevance: list[FloatArray]
    sums: Float64Array
    output: Float64Array

def registered_layer_kinds() -> list[str]: ...
def layer_kind_traits() -> dict[str, dict[str, object]]: ...
def evaluate_model(
    model: Network | Callable[[NDArray[np.float32]], object],
    *,
    X: NDArray[np.float32],
    n_outputs: int,
    options: RunOptions = ...,
    chunk_rows: int = 0,
) -> NDArray[np.float32]: ...
def default_memory_budget() -> int: ...
def max_activation_size() -> int: ...
def input_gradients(
    network: Network, *, X: FloatArray, targets: Targets, abs: bool, options: RunOptions = ...
) -> FloatArray: ...
def input_x_gradient(
    network: Network, *, X: FloatArray, targets: Targets, options: RunOptions = ...
) -> Attribution: ...
def integrated_gradients(
    network: Network,
    *,
    X: FloatArray,
    baselines: FloatArray,
    targets: Targets,
    method: str,
    n_steps: int,
    options: RunOptions = ...,
    fast_path: bool = True,
) -> Attribution: ...
def linear_path_applies(network: Network) -> bool: ...
def path_integrated_gradients(
    network: Network,
    *,
    X: FloatArray,
    baselines: FloatArray,
    targets: Targets,
    method: str,
    n_steps: int,
    entry_layer: int = -1,
    entry_slot: int = -1,
    seed_layer: int = -1,
    options: RunOptions = ...,
) -> Attribution: ...
def layer_conductance(
    network: Network,
    *,
    X: FloatArray,
    baselines: FloatArray,
    targets: Targets,
    method: str,
    n_steps: int,
    layer: int,
    path_layer: int = -1,
    options: RunOptions = ...,
) -> Attribution: ...
def layer_gradient_x_activation(
    network: Network,
    *,
    X: FloatArray,
    targets: Targets,
    entry_layer: int,
    entry_slot: int = -1,
    gradient_only: bool = False,
    options: RunOptions = ...,
) -> Attribution: ...
def noise_tunnel(
    network: Network,
    *,
    X: FloatArray,
    targets: Targets,
    n_samples: int,
    stdev: float,
    nt_type: str,
    base: str,
    seed: int,
    options: RunOptions = ...,
) -> Attribution: ...
def gradient_shap(
    network: Network,
    *,
    X: FloatArray,
    references: FloatArray,
    targets: Targets,
    n_samples: int,
    stdev: float,
    seed: int,
    options: RunOptions = ...,
) -> Attribution: ...
def lrp(
    network: Network,
    *,
    X: FloatArray,
    targets: Targets,
    rules: list[tuple[str, dict[str, float], dict[str, FloatArray]] | None],
    record: Sequence[int],
    options: RunOptions = ...,
) -> LrpResult: ...
def lrp_rules() -> list[str]: ...
def quadrature(method: str, *, n_steps: int) -> Quadrature: ...
def normal_draws(
    seed: int, *, stream: int, n_rows: int, n_draws: int, n_features: int
) -> FloatArray: ...
def uniform_draws(
    seed: int, *, stream: int, n_rows: int, n_draws: int, n_features: int = 0
) -> Float64Array: ...
def index_draws(
    seed: int, *, stream: int, n_rows: int, n_draws: int, n: int
) -> NDArray[np.int64]: ...
def deeplift(
    network: Network,
    *,
    X: FloatArray,
    baselines: FloatArray,
    targets: Targets,
    options: RunOptions = ...,
) -> Attribution: ...
def deeplift_shap(
    network: Network,
    *,
    X: FloatArray,
    references: FloatArray,
    targets: Targets,
    options: RunOptions = ...,
) -> Attribution: ...
def modified_relu_gradients(
    network: Network, *, X: FloatArray, targets: Targets, mode: str, options: RunOptions = ...
) -> FloatArray: ...
def grad_cam(
    network: Network, *, X: FloatArray, targets: Targets, layer: int, options: RunOptions = ...
) -> FloatArray: ...

# --- inspection (permutation importance, PDP/ICE, ALE, H-statistic) ---
_AnyModel = Network | Callable[[NDArray[np.float32]], object]

class PermutationScores:
    baseline: float
    scores: Float64Array

class PermutationIndices:
    rows: NDArray[np.int64]
    sources: NDArray[np.int64]

def permutation_scores(
    model: _AnyModel,
    *,
    X: FloatArray,
    y: Float64Array,
    sample_weight: Float64Array,
    groups: Sequence[Sequence[int]],
    n_outputs: int,
    metric: str,
    n_classes: int,
    n_repeats: int,
    seed: int,
    max_samples: int,
    options: RunOptions = ...,
) -> PermutationScores: ...
def permuted_predictions(
    model: _AnyModel,
    *,
    X: FloatArray,
    groups: Sequence[Sequence[int]],
    n_outputs: int,
    n_repeats: int,
    seed: int,
    max_samples: int,
    job_first: int,
    job_count: int,
    options: RunOptions = ...,
) -> FloatArray: ...
def permutation_indices(
    seed: int, *, n_rows: int, max_samples: int, n_groups: int, n_repeats: int
) -> PermutationIndices: ...
def metric_score(
    metric: str,
    *,
    predictions: FloatArray,
    y: Float64Array,
    sample_weight: Float64Array,
    n_classes: int,
) -> float: ...
def replaced_predictions(
    model: _AnyModel,
    *,
    background: FloatArray,
    points: FloatArray,
    sets: Sequence[Sequence[int]],
    job_set: Sequence[int],
    job_point: Sequence[int],
    sample_weight: Float64Array,
    n_outputs: int,
    individual: bool,
    options: RunOptions = ...,
) -> Float64Array | FloatArray: ...
def ale_differences(
    model: _AnyModel,
    *,
    X: FloatArray,
    features: Sequence[Sequence[int]],
    lower: FloatArray,
    upper: FloatArray,
    n_outputs: int,
    options: RunOptions = ...,
) -> Float64Array: ...

# --- Shapley engine ---
class ExactResult:
    values: Float64Array
    interactions: Float64Array | None
    fx: Float64Array
    base: Float64Array

class SampledResult:
    n_evaluated: int
    n_draws: int
    n_samples: NDArray[np.int64]
    values: Float64Array
    stderr: Float64Array
    fx: Float64Array
    base: Float64Array

class KernelDesign:
    n_pairs: int
    masks: NDArray[np.uint8]
    weights: Float64Array

def shapley_exact(
    model: _AnyModel,
    *,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    interactions: bool,
    options: RunOptions = ...,
    chunk_rows: int = 0,
) -> ExactResult: ...
def kernel_shap(
    model: _AnyModel,
    *,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    n_samples: int,
    tol: float,
    tol_relative: bool = True,
    seed: int,
    options: RunOptions = ...,
    chunk_rows: int = 0,
    targets: Sequence[int] = (),
    sampler: str = "kernel",
) -> SampledResult: ...
def permutation_shapley(
    model: _AnyModel,
    *,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    n_samples: int,
    tol: float,
    tol_relative: bool = True,
    seed: int,
    options: RunOptions = ...,
    chunk_rows: int = 0,
    targets: Sequence[int] = (),
    sampler: str = "kernel",
) -> SampledResult: ...
def coalition_values(
    model: _AnyModel,
    *,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    masks: NDArray[np.uint8],
    options: RunOptions = ...,
    chunk_rows: int = 0,
) -> Float64Array: ...
def kernel_shap_design(
    n_groups: int, *, n_samples: int, seed: int, sampler: str = "kernel"
) -> KernelDesign: ...
def shapley_permutations(n_groups: int, *, n_pairs: int, seed: int) -> NDArray[np.int64]: ...

# --- local model-agnostic methods (LIME, occlusion, feature ablation) ---
class LimeStats:
    n_features: int
    binned: list[bool]
    sampled: list[bool]
    edges: list[list[float]]
    bin_mean: list[list[float]]
    bin_std: list[list[float]]
    bin_min: list[list[float]]
    bin_max: list[list[float]]
    values: list[list[float]]
    cumulative: list[list[float]]
    mean: list[float]
    scale: list[float]
    def __init__(
        self, training_data: FloatArray, *, categorical: list[bool], discretizer: int
    ) -> None: ...
    def bin_of(self, feature: int, *, value: float) -> int: ...

class LimeSamples:
    inputs: FloatArray
    interpretable: Float64Array

class LimeResult:
    values: Float64Array
    intercept: Float64Array
    score: Float64Array
    local_prediction: Float64Array
    prediction: Float64Array

def lime_samples(
    stats: LimeStats, *, X: FloatArray, num_samples: int, seed: int, first_row: int = 0
) -> LimeSamples: ...
def lime_tabular(
    model: _AnyModel,
    *,
    X: FloatArray,
    stats: LimeStats,
    targets: Targets,
    n_outputs: int,
    num_samples: int,
    num_features: int,
    feature_selection: str,
    kernel_width: float,
    seed: int,
    options: RunOptions = ...,
) -> LimeResult: ...
def occlusion(
    model: _AnyModel,
    *,
    X: FloatArray,
    baselines: FloatArray,
    sample_shape: list[int],
    window: list[int],
    strides: list[int],
    targets: Targets,
    n_outputs: int,
    options: RunOptions = ...,
) -> Float64Array: ...
def feature_ablation(
    model: _AnyModel,
    *,
    X: FloatArray,
    baselines: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    targets: Targets,
    n_outputs: int,
    options: RunOptions = ...,
) -> Float64Array: ...

# glassbox.inspect (bind_inspect.cpp)
class ActivationStats:
    layers: list[int]
    n_rows: int
    units: NDArray[np.int64]
    mean: Float64Array
    std: Float64Array
    zero_rows: NDArray[np.int64]
    saturated_rows: NDArray[np.int64]
    edges: Float64Array
    counts: NDArray[np.int64]
    outside: NDArray[np.int64]
    min: Float64Array
    max: Float64Array

def activation_stats(
    network: Network,
    *,
    X: FloatArray,
    layers: Sequence[int],
    ranges: Float64Array,
    bins: int,
    options: RunOptions = ...,
) -> ActivationStats: ...
def layer_features(
    network: Network,
    *,
    X: FloatArray,
    layer: int,
    pool: str,
    options: RunOptions = ...,
) -> FloatArray: ...

class TreeEnsemble:
    def __init__(
        self,
        n_features: int,
        *,
        n_outputs: int,
        tree_offsets: NDArray[np.int64],
        tree_outputs: NDArray[np.int32],
        tree_widths: NDArray[np.int32],
        children_left: NDArray[np.int32],
        children_right: NDArray[np.int32],
        features: NDArray[np.int32],
        thresholds: NDArray[np.float32],
        default_left: NDArray[np.bool_],
        cat_starts: NDArray[np.int64],
        cat_counts: NDArray[np.int32],
        cat_bitsets: NDArray[np.uint32],
        covers: NDArray[np.float64],
        value_offsets: NDArray[np.int64],
        values: NDArray[np.float64],
        base_scores: NDArray[np.float64],
        link: str = "identity",
        apply_link: bool = False,
    ) -> None: ...
    def predict(self, X: FloatArray, *, options: RunOptions = ...) -> FloatArray: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def n_trees(self) -> int: ...
    @property
    def max_depth(self) -> int: ...
    @property
    def apply_link(self) -> bool: ...

# --- TreeSHAP ---
class TreeShapResult:
    values: Float64Array
    base: Float64Array
    fx: Float64Array

def tree_shap(
    model: TreeEnsemble,
    *,
    X: FloatArray,
    mode: str,
    background: FloatArray,
    probabilities: bool = False,
    tables: str = "auto",
    options: RunOptions = ...,
) -> TreeShapResult: ...
