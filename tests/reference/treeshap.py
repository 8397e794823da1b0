"""Literal TreeSHAP references on a TreeEnsembleSpec: Shapley values by enumerating subsets.

Exponential in the number of features the trees split on (keep it <= 8). The two value
functions, written from their definitions:

- path-dependent (Lundberg et al. 2018, Algorithm 1 EXPVALUE): E[f(x) | x_S] is the walk that
  follows x at a node splitting on a feature of S and otherwise averages both children weighted
  by their covers;
- interventional: the mean over background rows z of f at the row taking x on S and z elsewhere.

Interaction values follow shap's convention: for i != j the Shapley interaction index split in
half both ways, phi_ij = sum over S without i, j of |S|! (M - |S| - 2)! / (2 (M - 1)!) times
[v(S+i+j) - v(S+i) - v(S+j) + v(S)], and phi_ii = phi_i - sum over j != i of phi_ij.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np

from reference.trees import goes_left, margin


def used_features(spec) -> list[int]:
    """The features some node splits on: every other feature is a dummy player (value 0)."""
    return sorted({int(f) for f in spec.features if f >= 0})


def _expected(spec, tree: int, node: int, x: np.ndarray, S: frozenset[int]) -> np.ndarray:
    feature = int(spec.features[node])
    if feature < 0:
        offset, width = int(spec.value_offsets[node]), int(spec.tree_widths[tree])
        return np.asarray(spec.values[offset : offset + width], dtype=np.float64)
    left, right = int(spec.children_left[node]), int(spec.children_right[node])
    if feature in S:
        child = left if goes_left(spec, node, float(x[feature])) else right
        return _expected(spec, tree, child, x, S)
    cover = float(spec.covers[node])
    return (
        float(spec.covers[left]) * _expected(spec, tree, left, x, S)
        + float(spec.covers[right]) * _expected(spec, tree, right, x, S)
    ) / cover


def path_value(spec, x: np.ndarray, S: frozenset[int]) -> np.ndarray:
    """E[f(x) | x_S] of the raw margin, (n_outputs,), by the cover-weighted walk of every tree."""
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    out = np.asarray(spec.base_scores, dtype=np.float64).copy()
    for t in range(spec.n_trees):
        first, width = int(spec.tree_outputs[t]), int(spec.tree_widths[t])
        out[first : first + width] += _expected(spec, t, int(spec.tree_offsets[t]), x, S)
    return out


def interventional_value(spec, x: np.ndarray, Z: np.ndarray, S: frozenset[int]) -> np.ndarray:
    """f(x_S, z_S-bar) of the raw margin for every background row z, (m, n_outputs)."""
    hybrid = np.array(Z, dtype=np.float32, copy=True)
    for j in S:
        hybrid[:, j] = np.float32(x[j])
    return margin(spec, hybrid)


def shapley(value, players: list[int], d: int) -> np.ndarray:
    """Shapley values (d, k) of the game value(frozenset) over `players` (others get 0)."""
    M = len(players)
    cache = {
        frozenset(S): value(frozenset(S))
        for size in range(M + 1)
        for S in itertools.combinations(players, size)
    }
    k = len(cache[frozenset()])
    phi = np.zeros((d, k))
    for i in players:
        rest = [p for p in players if p != i]
        for size in range(M):
            weight = factorial(size) * factorial(M - size - 1) / factorial(M)
            for S in itertools.combinations(rest, size):
                S = frozenset(S)
                phi[i] += weight * (cache[S | {i}] - cache[S])
    return phi


def interactions(value, players: list[int], d: int) -> np.ndarray:
    """SHAP interaction values (d, d, k) of the game, shap's convention (see module docstring)."""
    M = len(players)
    phi = shapley(value, players, d)
    out = np.zeros((d, d, phi.shape[1]))
    for i, j in itertools.permutations(players, 2):
        rest = [p for p in players if p not in (i, j)]
        for size in range(M - 1):
            weight = factorial(size) * factorial(M - size - 2) / (2 * factorial(M - 1))
            for S in itertools.combinations(rest, size):
                S = frozenset(S)
                out[i, j] += weight * (
                    value(S | {i, j}) - value(S | {i}) - value(S | {j}) + value(S)
                )
    for i in players:
        out[i, i] = phi[i] - out[i].sum(axis=0) + out[i, i]
    return out


def path_dependent_values(spec, X: np.ndarray) -> np.ndarray:
    """Path-dependent SHAP values of the raw margin, (n, d, k)."""
    players = used_features(spec)
    return np.stack(
        [shapley(lambda S, x=x: path_value(spec, x, S), players, spec.n_features) for x in X]
    )


def path_dependent_interactions(spec, X: np.ndarray) -> np.ndarray:
    """Path-dependent SHAP interaction values of the raw margin, (n, d, d, k)."""
    players = used_features(spec)
    return np.stack(
        [interactions(lambda S, x=x: path_value(spec, x, S), players, spec.n_features) for x in X]
    )


def expected_value(spec) -> np.ndarray:
    """The path-dependent base value: E[f] = path_value with S empty, (k,)."""
    return path_value(spec, np.zeros(spec.n_features), frozenset())


def interventional_values(spec, X: np.ndarray, Z: np.ndarray, probabilities: bool = False):
    """Interventional SHAP values (n, d, k) and base (k,) against background Z.

    With ``probabilities`` (a logistic link), each background row's margin values are rescaled
    by (sigmoid(f(x)) - sigmoid(f(z))) / (f(x) - f(z)) before averaging, as shap does.
    """
    players = used_features(spec)
    Z = np.asarray(Z, dtype=np.float32)
    out = []
    fz = margin(spec, Z)
    for x in X:
        fx = margin(spec, x[None])[0]
        per_row = []
        for r, z in enumerate(Z):
            phi = shapley(
                lambda S, x=x, z=z: interventional_value(spec, x, z[None], S)[0],
                players,
                spec.n_features,
            )
            if probabilities:
                gap = fx - fz[r]
                sig_x, sig_z = 1 / (1 + np.exp(-fx)), 1 / (1 + np.exp(-fz[r]))
                slope = np.where(
                    gap != 0, (sig_x - sig_z) / np.where(gap != 0, gap, 1), sig_z * (1 - sig_z)
                )
                phi = phi * slope
            per_row.append(phi)
        out.append(np.mean(per_row, axis=0))
    base = 1 / (1 + np.exp(-fz)) if probabilities else fz
    return np.stack(out), base.mean(axis=0)
