"""``glassbox demo``: explain a small scikit-learn MLP on the bundled breast-cancer data.

It fits an ``MLPClassifier`` in a few seconds, converts it with ``glassbox.from_sklearn``, explains
every row with Integrated Gradients and Saliency, prints the most important features, and times
glassbox against a literal NumPy implementation of the same Integrated Gradients job.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

INSTALL_HINT = (
    "glassbox demo needs scikit-learn (for its bundled breast-cancer data and MLPClassifier).\n"
    'Install it with:  pip install "glassbox[demo]"   (or: pip install scikit-learn)'
)


def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Run ``fn`` once to warm up, then ``repeats`` times; return the fastest time and a result."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _fit_model(seed: int) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    """Fit the demo MLP; return it, the standardised data, the labels and the feature names."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data).astype(np.float32)
    mlp = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=300, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, data.target)
    return mlp, X, data.target, [str(name) for name in data.feature_names]


def _print_top_features(
    names: list[str], ig: np.ndarray, saliency: np.ndarray, top: int, print_: Callable[..., None]
) -> None:
    """Print the ``top`` features by mean |IG attribution|, with their mean saliency."""
    ig_mean = np.abs(ig).mean(axis=0)
    sal_mean = np.abs(saliency).mean(axis=0)
    order = np.argsort(-ig_mean)[:top]
    width = max(len(names[i]) for i in order)
    print_(f"\nTop {len(order)} features (mean |attribution| over rows, standardised inputs):")
    print_(f"  {'rank':>4}  {'feature':<{width}}  {'IG':>9}  {'saliency':>9}")
    for rank, i in enumerate(order, start=1):
        print_(f"  {rank:>4}  {names[i]:<{width}}  {ig_mean[i]:>9.4f}  {sal_mean[i]:>9.4f}")


def run_demo(
    rows: int | None = None,
    n_steps: int = 50,
    top: int = 10,
    seed: int = 0,
    print_: Callable[..., None] = print,
) -> int:
    """Run the demo and return the process exit code (0 on success, 2 without scikit-learn).

    Parameters
    ----------
    rows : int, optional
        Explain only the first ``rows`` rows (default: all 569).
    n_steps : int
        Integrated Gradients steps (Gauss-Legendre rule).
    top : int
        How many features to list.
    seed : int
        ``random_state`` of the ``MLPClassifier``.
    print_ : callable
        Where output goes (``print`` by default).

    Examples
    --------
    >>> import sklearn  # the demo fits a scikit-learn MLP
    >>> from glassbox.demo import run_demo
    >>> lines = []
    >>> run_demo(rows=5, n_steps=4, top=3, print_=lines.append)
    0
    >>> print(lines[1].split(";")[0])
    Converted with gb.from_sklearn(output='probabilities'): 30 inputs, 2 outputs
    >>> lines[3].split()  # the header of the top-features table
    ['rank', 'feature', 'IG', 'saliency']
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2

    import glassbox as gb
    from glassbox import _numpy_reference as ref

    start = time.perf_counter()
    mlp, X, y, names = _fit_model(seed)
    fit_s = time.perf_counter() - start
    hidden = "-".join(str(h) for h in mlp.hidden_layer_sizes)
    print_(
        f"Fitted MLPClassifier {X.shape[1]}-{hidden}-1 on the breast-cancer data ({len(X)} rows) "
        f"in {fit_s:.2f} s; training accuracy {mlp.score(X, y):.3f}."
    )
    X = X[:rows]

    model = gb.from_sklearn(mlp, output="probabilities")
    proba = model.predict(X)
    gap = float(np.abs(proba - mlp.predict_proba(X)).max())
    target = proba.argmax(axis=1)
    print_(
        f"Converted with gb.from_sklearn(output='probabilities'): {model.n_inputs} inputs, "
        f"{model.n_outputs} outputs; max |glassbox - sklearn predict_proba| = {gap:.2e}."
    )

    ig = gb.IntegratedGradients(model, n_steps=n_steps, method="gausslegendre")
    repeats = 3
    gb_s, exp = _best_time(lambda: ig(X, baselines=0.0, target=target), repeats)
    ref_s, (ref_values, _) = _best_time(
        lambda: ref.integrated_gradients(model.spec, X, 0.0, target, n_steps, "gausslegendre"),
        repeats,
    )
    saliency = gb.Saliency(model)(X, target=target)

    _print_top_features(names, exp.values, saliency.values, top, print_)

    diff = float(np.abs(exp.values - ref_values).max())
    mean_delta = float(np.abs(exp.delta).mean())
    print_(
        f"\nIntegrated Gradients (gausslegendre, {n_steps} steps, target = predicted class) "
        f"on {len(X)} rows x {X.shape[1]} features:"
    )
    print_(f"  glassbox          {gb_s * 1e3:9.2f} ms")
    print_(f"  NumPy reference   {ref_s * 1e3:9.2f} ms   (glassbox is {ref_s / gb_s:.1f}x faster)")
    print_(f"  max |glassbox - NumPy reference| = {diff:.2e}")
    print_(f"  mean |delta| (completeness gap: sum(IG) - (f(x) - f(0))) = {mean_delta:.2e}")
    return 0
