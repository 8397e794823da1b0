"""Real explanations the tabular plot tests draw (built once per session): KernelShap of a
random forest on sklearn's diabetes data, integrated gradients of a small torch net on the
breast-cancer data, a two-output model, a DataFrame with strings, permutation importance."""

from __future__ import annotations

import functools

import numpy as np

import glassbox as gb


@functools.cache
def diabetes():
    """(model, X, KernelShap explanation of 120 rows) on the diabetes data."""
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = RandomForestRegressor(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    exp = gb.KernelShap(model, background=X.iloc[:25], n_samples=128)(X.iloc[:120])
    return model, X, exp


@functools.cache
def cancer_net():
    """(torch net, standardised X float32, feature names) of the breast-cancer data."""
    import torch
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = ((data.data - data.data.mean(0)) / data.data.std(0)).astype(np.float32)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    return net, X, list(data.feature_names)


@functools.cache
def product():
    """KernelShap of f = x0 * x1 + x2 (x3 unused) on 300 normal rows: x0 and x1 interact."""
    X = np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32)
    model = gb.wrap(lambda X: X[:, 0] * X[:, 1] + X[:, 2], n_inputs=4)
    return gb.KernelShap(model, background=X[:40])(X)


@functools.cache
def two_outputs():
    """KernelShap of a model with two named outputs, every output at once (target=None)."""
    X = np.random.default_rng(2).normal(size=(40, 3)).astype(np.float32)

    def f(X):
        return np.stack([X[:, 0] - 2 * X[:, 1], X[:, 2] ** 2], axis=1)

    exp = gb.KernelShap(gb.wrap(f, n_inputs=3), background=X[:10])(X)
    import dataclasses

    return dataclasses.replace(exp, output_names=["price", "risk"])


@functools.cache
def mixed_frame():
    """KernelShap on a DataFrame with a string column, NaN and ints (object data)."""
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 150
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "size": rng.normal(size=n),
            "count": rng.integers(0, 5, n),
        }
    )
    frame.loc[::7, "size"] = np.nan

    def f(d):
        red = (d["colour"] == "red").to_numpy()
        return red * d["size"].fillna(0).to_numpy() + 0.5 * d["count"].to_numpy()

    return frame, gb.KernelShap(f, background=frame.iloc[:30])(frame)


@functools.cache
def importance():
    """Permutation importance (mse, 5 repeats) of the diabetes forest."""
    model, X, _ = diabetes()
    from sklearn.datasets import load_diabetes

    _, y = load_diabetes(return_X_y=True)
    return gb.permutation_importance(model, X, y, metric="mse", n_repeats=5, seed=0)
