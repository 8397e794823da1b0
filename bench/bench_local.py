"""Local model-agnostic methods: LIME, occlusion and feature ablation, glassbox vs lime / Captum.

Run ``python bench/bench_local.py [--quick]`` from the repository root (or ``bench/run.py`` for
the whole table). One run on breast-cancer (569 x 30): a scikit-learn pipeline (StandardScaler ->
MLP 64-32, trained for a few seconds) explained as a native network (``gb.from_sklearn``) and,
for the peers, as ``predict_proba`` (lime) or a torch twin with the same weights (Captum):

- LIME tabular, quartile bins, 5000 samples per row, 10 features (lime's defaults), class 1:
  glassbox (native network; also the same pipeline as a Python callable) vs lime's
  ``LimeTabularExplainer.explain_instance`` row by row, per-row times; the notes give how often
  the top-5 features (by |weight|) agree with lime's and the sign agreement of those features
  (both are sampled: agreement is statistical, not exact);
- Occlusion over every row, sliding window of 3 features with stride 1 (28 windows), zero
  baseline, vs Captum ``Occlusion`` (``perturbations_per_eval`` 32);
- Feature ablation over every row, 10 groups of 3 features (each measurement's mean / se / worst),
  training-mean baseline, vs Captum ``FeatureAblation`` (``perturbations_per_eval`` 10);
- Occlusion on images: a small CNN (conv 8 -> pool -> conv 16 -> pool -> dense 10, random
  weights, ``gb.from_torch``) on 28 x 28 images, window (1, 4, 4), stride (1, 2, 2) (169 windows),
  zero baseline, vs Captum ``Occlusion`` on the torch module (``perturbations_per_eval`` 32).

No NumPy-reference column: the references in tests/reference are literal per-row loops, checked
for equality in the tests, not meant to be timed.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np

from common import Row, format_text, time_it

TARGET = 1


def train_model() -> tuple[Any, np.ndarray]:
    """The breast-cancer pipeline and the data as float32."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    pipeline = make_pipeline(
        StandardScaler(), MLPClassifier((64, 32), max_iter=300, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X, y)
    return pipeline, X


def torch_twin(pipeline: Any) -> Any:
    """The pipeline as a torch function of a float32 tensor (for Captum)."""
    import torch

    scaler, mlp = pipeline[0], pipeline[-1]
    mean = torch.tensor(scaler.mean_, dtype=torch.float32)
    scale = torch.tensor(scaler.scale_, dtype=torch.float32)
    layers = [
        (torch.tensor(w, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
        for w, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)
    ]

    def forward(x: Any) -> Any:
        h = (x - mean) / scale
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        # binary MLPClassifier: one logistic unit -> [1 - p, p]
        p = torch.sigmoid(h)
        return torch.cat([1 - p, p], dim=1)

    return forward


def _top_k(values: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-np.abs(values))[:k].tolist())


def bench_lime(pipeline: Any, X: np.ndarray, quick: bool) -> list[Row]:
    import glassbox as gb

    native = gb.from_sklearn(pipeline)
    rows = X[:: 569 // (4 if quick else 20)][: 4 if quick else 20]
    n = rows.shape[0]
    samples = 5000
    ours = gb.Lime(native, X, num_samples=samples, seed=0)
    as_callable = gb.Lime(pipeline, X, num_samples=samples, seed=0)
    t_native = time_it(lambda: ours(rows, target=TARGET))
    t_callable = time_it(lambda: as_callable(rows, target=TARGET))
    notes = []
    result: list[Row] = []
    try:
        from lime.lime_tabular import LimeTabularExplainer
    except ImportError:
        notes.append("lime not installed")
        t_peer = None
    else:
        explainer = LimeTabularExplainer(X.astype(np.float64), random_state=0)

        def run_lime(explainer: Any = explainer) -> np.ndarray:
            out = np.zeros(rows.shape)
            for r in range(n):  # lime explains one row per call
                exp = explainer.explain_instance(
                    rows[r].astype(np.float64),
                    pipeline.predict_proba,
                    labels=(TARGET,),
                    num_features=10,
                    num_samples=samples,
                )
                for j, w in exp.local_exp[TARGET]:
                    out[r, j] = w
            return out

        t_peer = time_it(run_lime, repeats=5 if quick else 3, warmup=0 if quick else 1)
        theirs, mine = t_peer.result, t_native.result.values
        overlap = np.mean([len(_top_k(mine[r], 5) & _top_k(theirs[r], 5)) / 5 for r in range(n)])
        signs = np.mean(
            [
                np.mean(
                    np.sign(mine[r, list(_top_k(theirs[r], 5))])
                    == np.sign(theirs[r, list(_top_k(theirs[r], 5))])
                )
                for r in range(n)
            ]
        )
        # lime against itself with another seed: how much agreement sampling noise allows
        again = run_lime(LimeTabularExplainer(X.astype(np.float64), random_state=1))
        self_overlap = np.mean(
            [len(_top_k(again[r], 5) & _top_k(theirs[r], 5)) / 5 for r in range(n)]
        )
        notes.append(
            f"top-5 overlap with lime {overlap:.0%} (lime vs lime, other seed: "
            f"{self_overlap:.0%}), sign agreement {signs:.0%}"
        )
        notes.append(f"mean R^2 {np.mean(t_native.result.score):.2f}")
    size = f"{n} rows x {samples} samples (per row)"
    result.append(
        Row(
            "LIME tabular (native)",
            size,
            t_native.median / n,
            peer=None if t_peer is None else t_peer.median / n,
            peer_name="lime",
            notes=notes,
        )
    )
    result.append(
        Row(
            "LIME tabular (callable)",
            size,
            t_callable.median / n,
            peer=None if t_peer is None else t_peer.median / n,
            peer_name="lime",
            notes=["sklearn predict_proba called once per chunk"],
        )
    )
    return result


def bench_perturbation(pipeline: Any, X: np.ndarray, quick: bool) -> list[Row]:
    import glassbox as gb

    native = gb.from_sklearn(pipeline)
    rows = X[:100] if quick else X
    n = rows.shape[0]
    groups = [[j, j + 10, j + 20] for j in range(10)]
    mask = np.zeros(30, dtype=np.int64)
    for g, members in enumerate(groups):
        mask[members] = g
    baseline = X.mean(axis=0)
    occlusion = gb.Occlusion(native, (3,), strides=1, baselines=0.0)
    ablation = gb.FeatureAblation(native, feature_mask=groups, baselines=baseline)
    t_occ = time_it(lambda: occlusion(rows, target=TARGET))
    t_abl = time_it(lambda: ablation(rows, target=TARGET))
    peers: dict[str, Any] = {"occ": None, "abl": None}
    notes: dict[str, list[str]] = {"occ": [], "abl": []}
    try:
        import torch
        from captum.attr import FeatureAblation, Occlusion
    except ImportError:
        notes["occ"].append("captum not installed")
        notes["abl"].append("captum not installed")
    else:
        forward = torch_twin(pipeline)
        inputs = torch.tensor(rows)
        with torch.no_grad():
            peers["occ"] = time_it(
                lambda: (
                    Occlusion(forward)
                    .attribute(
                        inputs,
                        sliding_window_shapes=(3,),
                        strides=1,
                        baselines=0.0,
                        target=TARGET,
                        perturbations_per_eval=32,
                    )
                    .numpy()
                )
            )
            peers["abl"] = time_it(
                lambda: (
                    FeatureAblation(forward)
                    .attribute(
                        inputs,
                        baselines=torch.tensor(baseline)[None],
                        target=TARGET,
                        feature_mask=torch.tensor(mask)[None],
                        perturbations_per_eval=10,
                    )
                    .numpy()
                )
            )
        for key, timing in (("occ", t_occ), ("abl", t_abl)):
            error = np.max(np.abs(timing.result.values - peers[key].result))
            notes[key].append(f"max |glassbox - Captum| {error:.1e}")
    labels = {
        "occ": ("Occlusion (window 3, stride 1)", f"{n} rows x 28 windows", t_occ),
        "abl": ("FeatureAblation (10 groups)", f"{n} rows x 10 groups", t_abl),
    }
    return [
        Row(
            method,
            size,
            timing.median,
            peer=None if peers[key] is None else peers[key].median,
            peer_name="Captum",
            notes=notes[key],
        )
        for key, (method, size, timing) in labels.items()
    ]


def bench_image_occlusion(quick: bool) -> list[Row]:
    try:
        import torch
        from captum.attr import Occlusion
    except ImportError:
        return []
    import glassbox as gb

    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 7 * 7, 10),
    ).eval()
    model = gb.from_torch(module, (1, 28, 28))
    n = 8 if quick else 64
    images = np.random.default_rng(1).random((n, 1, 28, 28), dtype=np.float32)
    window, strides = (1, 4, 4), (1, 2, 2)
    occlusion = gb.Occlusion(model, window, strides=strides)
    mine = time_it(lambda: occlusion(images, target=3))
    inputs = torch.tensor(images)
    with torch.no_grad():
        theirs = time_it(
            lambda: (
                Occlusion(module)
                .attribute(
                    inputs,
                    sliding_window_shapes=window,
                    strides=strides,
                    baselines=0.0,
                    target=3,
                    perturbations_per_eval=32,
                )
                .numpy()
            ),
            repeats=5,
        )
    error = np.max(np.abs(mine.result.values - theirs.result))
    return [
        Row(
            "Occlusion, images (CNN)",
            f"{n} x 1x28x28, 169 windows",
            mine.median,
            peer=theirs.median,
            peer_name="Captum",
            notes=[f"max |glassbox - Captum| {error:.1e}"],
        )
    ]


def run(quick: bool = False) -> list[Row]:
    """Run the local-method benchmarks and return the table rows."""
    pipeline, X = train_model()
    rows = bench_lime(pipeline, X, quick) + bench_perturbation(pipeline, X, quick)
    return rows + bench_image_occlusion(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    print(format_text(run(args.quick)))


if __name__ == "__main__":
    main()
