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

AttributionTuple = tuple[
    FloatArray, FloatArray | None, NDArray[np.float64] | None, NDArray[np.float64] | None
]

def registered_layer_kinds() -> list[str]: ...
def layer_kind_traits() -> dict[str, dict[str, object]]: ...
def evaluate_model(
    model: Network | Callable[[NDArray[np.float32]], object],
    X: NDArray[np.float32],
    n_outputs: int,
    n_threads: int = 0,
    memory_budget: int = ...,
    chunk_rows: int = 0,
) -> NDArray[np.float32]: ...
def default_memory_budget() -> int: ...
def input_gradients(
    network: Network,
    X: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    abs: bool,
    n_threads: int,
    memory_budget: int,
) -> FloatArray: ...
def input_x_gradient(
    network: Network,
    X: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    n_threads: int,
    memory_budget: int,
) -> AttributionTuple: ...
def integrated_gradients(
    network: Network,
    X: FloatArray,
    baselines: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    method: str,
    n_steps: int,
    n_threads: int,
    memory_budget: int,
    fast_path: bool = True,
) -> AttributionTuple: ...
def linear_path_applies(network: Network) -> bool: ...
def noise_tunnel(
    network: Network,
    X: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    n_samples: int,
    stdev: float,
    nt_type: str,
    base: str,
    seed: int,
    n_threads: int,
    memory_budget: int,
) -> AttributionTuple: ...
def gradient_shap(
    network: Network,
    X: FloatArray,
    references: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    n_samples: int,
    stdev: float,
    seed: int,
    n_threads: int,
    memory_budget: int,
) -> AttributionTuple: ...
def lrp(
    network: Network,
    X: FloatArray,
    targets: NDArray[np.int64] | Sequence[int],
    rules: list[tuple[str, dict[str, float], dict[str, FloatArray]] | None],
    record: Sequence[int],
    n_threads: int,
    memory_budget: int,
) -> tuple[FloatArray, list[FloatArray], NDArray[np.float64], NDArray[np.float64]]: ...
def lrp_rules() -> list[str]: ...
def quadrature(method: str, n_steps: int) -> tuple[list[float], list[float]]: ...
def normal_draws(
    seed: int, stream: int, n_rows: int, n_draws: int, n_features: int
) -> FloatArray: ...
def uniform_draws(
    seed: int, stream: int, n_rows: int, n_draws: int, n_features: int = 0
) -> NDArray[np.float64]: ...
def index_draws(seed: int, stream: int, n_rows: int, n_draws: int, n: int) -> NDArray[np.int64]: ...
def deeplift(
    network: Network,
    X: NDArray[np.float32],
    baselines: NDArray[np.float32],
    targets: NDArray[np.int64],
    n_threads: int,
    memory_budget: int,
) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.float64]]: ...
def deeplift_shap(
    network: Network,
    X: NDArray[np.float32],
    references: NDArray[np.float32],
    targets: NDArray[np.int64],
    n_threads: int,
    memory_budget: int,
) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.float64]]: ...
def modified_relu_gradients(
    network: Network,
    X: NDArray[np.float32],
    targets: NDArray[np.int64],
    mode: str,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float32]: ...
def grad_cam(
    network: Network,
    X: NDArray[np.float32],
    targets: NDArray[np.int64],
    layer: int,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float32]: ...

# --- inspection (issue 5: permutation importance, PDP/ICE, ALE, H-statistic) ---
_AnyModel = Network | Callable[[NDArray[np.float32]], object]

def permutation_scores(
    model: _AnyModel,
    X: NDArray[np.float32],
    y: NDArray[np.float64],
    sample_weight: NDArray[np.float64],
    groups: Sequence[Sequence[int]],
    n_outputs: int,
    metric: str,
    n_classes: int,
    n_repeats: int,
    seed: int,
    max_samples: int,
    n_threads: int,
    memory_budget: int,
) -> tuple[float, NDArray[np.float64]]: ...
def permuted_predictions(
    model: _AnyModel,
    X: NDArray[np.float32],
    groups: Sequence[Sequence[int]],
    n_outputs: int,
    n_repeats: int,
    seed: int,
    max_samples: int,
    job_first: int,
    job_count: int,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float32]: ...
def permutation_indices(
    seed: int, n_rows: int, max_samples: int, n_groups: int, n_repeats: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]: ...
def metric_score(
    metric: str,
    predictions: NDArray[np.float32],
    y: NDArray[np.float64],
    sample_weight: NDArray[np.float64],
    n_classes: int,
) -> float: ...
def replaced_predictions(
    model: _AnyModel,
    background: NDArray[np.float32],
    points: NDArray[np.float32],
    sets: Sequence[Sequence[int]],
    job_set: Sequence[int],
    job_point: Sequence[int],
    sample_weight: NDArray[np.float64],
    n_outputs: int,
    individual: bool,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float64] | NDArray[np.float32]: ...
def ale_differences(
    model: _AnyModel,
    X: NDArray[np.float32],
    features: Sequence[int],
    lower: NDArray[np.float32],
    upper: NDArray[np.float32],
    n_outputs: int,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float64]: ...

# --- issue 4: Shapley engine ---------------------------------------------------------------
ShapleyModel = Network | Callable[[NDArray[np.float32]], object]
SampledTuple = tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int, int
]

def shapley_exact(
    model: ShapleyModel,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    interactions: bool,
    n_threads: int,
    memory_budget: int,
    chunk_rows: int = 0,
) -> tuple[
    NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64], NDArray[np.float64]
]: ...
def kernel_shap(
    model: ShapleyModel,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    n_samples: int,
    tol: float,
    seed: int,
    n_threads: int,
    memory_budget: int,
    chunk_rows: int = 0,
    targets: Sequence[int] = (),
) -> SampledTuple: ...
def permutation_shapley(
    model: ShapleyModel,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    n_samples: int,
    tol: float,
    seed: int,
    n_threads: int,
    memory_budget: int,
    chunk_rows: int = 0,
    targets: Sequence[int] = (),
) -> SampledTuple: ...
def coalition_values(
    model: ShapleyModel,
    X: FloatArray,
    background: FloatArray,
    group_of: NDArray[np.int64],
    n_groups: int,
    n_outputs: int,
    masks: NDArray[np.uint8],
    n_threads: int,
    memory_budget: int,
    chunk_rows: int = 0,
) -> NDArray[np.float64]: ...
def kernel_shap_design(
    n_groups: int, n_samples: int, seed: int
) -> tuple[NDArray[np.uint8], NDArray[np.float64], int]: ...
def shapley_permutations(n_groups: int, n_pairs: int, seed: int) -> NDArray[np.int64]: ...

# --- local model-agnostic methods (issue 5: LIME, occlusion, feature ablation) ---
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
        self, training_data: NDArray[np.float32], categorical: list[bool], discretizer: int
    ) -> None: ...
    def bin_of(self, feature: int, value: float) -> int: ...

def lime_samples(
    stats: LimeStats, X: NDArray[np.float32], num_samples: int, seed: int
) -> tuple[NDArray[np.float32], NDArray[np.float64]]: ...
def lime_tabular(
    model: object,
    X: NDArray[np.float32],
    stats: LimeStats,
    targets: NDArray[np.int64],
    n_outputs: int,
    num_samples: int,
    num_features: int,
    feature_selection: str,
    kernel_width: float,
    seed: int,
    n_threads: int,
    memory_budget: int,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]: ...
def occlusion(
    model: object,
    X: NDArray[np.float32],
    baselines: NDArray[np.float32],
    sample_shape: list[int],
    window: list[int],
    strides: list[int],
    targets: NDArray[np.int64],
    n_outputs: int,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float64]: ...
def feature_ablation(
    model: object,
    X: NDArray[np.float32],
    baselines: NDArray[np.float32],
    group_of: NDArray[np.int64],
    n_groups: int,
    targets: NDArray[np.int64],
    n_outputs: int,
    n_threads: int,
    memory_budget: int,
) -> NDArray[np.float64]: ...
