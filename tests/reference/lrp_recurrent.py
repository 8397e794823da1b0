"""Literal NumPy (float64) LRP of one LSTM / GRU layer (Arras et al., 2017: relevance follows the
signal, the gates get none), step by step from the layer's equations, for
``tests/explainers/test_lrp_recurrent.py``.

Per step of an LSTM, h_t = o * tanh(c_t) gives all of R(h_t) to c_t; c_t = f c_{t-1} + i g is
split by contribution (epsilon rule): R(c_{t-1}) = f c_{t-1} / stab(c_t) R(c_t), R(g) = i g /
stab(c_t) R(c_t); g = tanh(a) passes R(g) to a; a = W_x x_t + W_h h_{t-1} + b is split by the
contributions w_xj x_j and w_hj h_j. A GRU's h_t = (1 - z) n + z h_{t-1} splits R(h_t) between n
and h_{t-1}; n = tanh(a) with a = W_in x + b_in + r (W_hn h + b_hn) is split with r fixed.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def _stab(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, z + EPS, z - EPS)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def relevance(
    kind: str, weights: dict, x: np.ndarray, r_out: np.ndarray, suffix: str = ""
) -> np.ndarray:
    """Relevance of the input sequence ``x`` (n, T, I) of one direction ("" or "_reverse")
    given the relevance ``r_out`` (n, T, H) of that direction's outputs."""
    w_ih = np.asarray(weights["weight_ih" + suffix], np.float64)
    w_hh = np.asarray(weights["weight_hh" + suffix], np.float64)
    gates = w_ih.shape[0] // w_hh.shape[1]
    b_ih = weights.get("bias_ih" + suffix)
    b_hh = weights.get("bias_hh" + suffix)
    b_ih = np.zeros(w_ih.shape[0]) if b_ih is None else np.asarray(b_ih, np.float64)
    b_hh = np.zeros(w_ih.shape[0]) if b_hh is None else np.asarray(b_hh, np.float64)
    n, steps, _ = x.shape
    hidden = w_hh.shape[1]
    order = list(range(steps - 1, -1, -1)) if suffix else list(range(steps))
    # the forward pass, step by step, keeping what the rule reads
    h, c = np.zeros((n, hidden)), np.zeros((n, hidden))
    record = []
    for t in order:
        xi, hh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if kind == "lstm":
            i, f, g, o = np.split(xi + hh, gates, axis=1)
            i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
            c_new = f * c + i * g
            record.append((h, c, i, f, g, c_new, None, None))
            h, c = o * np.tanh(c_new), c_new
        else:
            xr, xz, xn = np.split(xi, 3, axis=1)
            hr, hz, hn = np.split(hh, 3, axis=1)
            r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
            nn = np.tanh(xn + r * hn)
            h_new = (1 - z) * nn + z * h
            record.append((h, None, r, z, nn, h_new, xn, r * hn))
            h = h_new
    # relevance backwards through time
    r_x = np.zeros_like(x)
    r_h, r_c = np.zeros((n, hidden)), np.zeros((n, hidden))
    rows = slice(2 * hidden, 3 * hidden)  # the signal's rows (g for an LSTM, n for a GRU)
    for k in range(steps - 1, -1, -1):
        t = order[k]
        h_prev, c_prev, first, second, signal, total, a_x, a_h = record[k]
        r_h = r_h + r_out[:, t]
        if kind == "lstm":
            r_c = r_c + r_h  # h_t = o * tanh(c_t): all to c_t
            ratio = r_c / _stab(total)
            r_signal, r_c = first * signal * ratio, second * c_prev * ratio
            a = x[:, t] @ w_ih[rows].T + h_prev @ w_hh[rows].T + b_ih[rows] + b_hh[rows]
            from_h = h_prev[:, None, :] * w_hh[rows][None]  # contributions (n, H_out, H_in)
        else:
            ratio = r_h / _stab(total)
            r_signal, r_h = (1 - second) * signal * ratio, second * h_prev * ratio
            a = a_x + a_h  # W_in x + b_in + r (W_hn h + b_hn)
            from_h = first[:, :, None] * h_prev[:, None, :] * w_hh[rows][None]
        from_x = x[:, t][:, None, :] * w_ih[rows][None]  # (n, H_out, I)
        share = r_signal / _stab(a)
        r_x[:, t] += np.einsum("noi,no->ni", from_x, share)
        carried = np.einsum("noi,no->ni", from_h, share)
        r_h = carried if kind == "lstm" else r_h + carried
    return r_x
