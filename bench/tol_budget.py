"""`tol` budgets: model evaluations KernelShap / PermutationShapley spend per row with and without
`tol`, counted (not timed), on a smooth 30-feature model.

Run ``python bench/tol_budget.py [--quick] [--tol 0.01] [--mode relative]`` from the repository
root. The model is a NumPy Tanh MLP 30-64-64-1 with seeded weights drawn as torch's default
initialisation draws them (uniform in +-1/sqrt(fan_in)), times ``--scale`` (default 1; larger
scales drive the units into their curved range: a rougher model), wrapped with ``gb.wrap``; it
counts the rows it is called with. Per explained row the script prints:

- the coalitions the row used under `tol` (``exp.n_samples``) and the fixed default budget
  (2048 + 2d without `tol`);
- the model rows spent on that row's coalitions with and without `tol` (coalitions x background
  rows), and their ratio; the totals include the endpoints (explained + background rows) and are
  checked against the rows the model was called with;
- the achieved largest standard error and the row's tolerance (tol x |f(x) - E f(background)| in
  relative mode, tol in absolute mode);
- the largest error against a reference: KernelShap with a budget of ``--reference`` coalitions
  (default 50 000; its own largest standard error is printed, so the reference noise is known),
  both for the `tol` run and for the fixed-budget run.

The issue's figure: on rows where the model is smooth, `tol=0.01` reaches its tolerance with at
least 3x fewer model evaluations than the default budget (see the "rows >= 3x" line).
"""

from __future__ import annotations

import argparse

import numpy as np

import glassbox as gb

D, HIDDEN = 30, 64


class CountingMLP:
    """f(z) = tanh(tanh(z W1 + b1) W2 + b2) W3 + b3, counting the rows it evaluates."""

    def __init__(self, scale: float = 1.0, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)

        def layer(fan_in: int, fan_out: int) -> tuple[np.ndarray, np.ndarray]:
            bound = scale / np.sqrt(fan_in)  # torch.nn.Linear's default init, scaled
            return (
                rng.uniform(-bound, bound, size=(fan_in, fan_out)),
                rng.uniform(-bound, bound, size=fan_out),
            )

        (self.W1, self.b1), (self.W2, self.b2) = layer(D, HIDDEN), layer(HIDDEN, HIDDEN)
        self.W3, self.b3 = layer(HIDDEN, 1)
        self.rows = 0

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        self.rows += len(Z)
        Z = np.asarray(Z, dtype=np.float64)
        hidden = np.tanh(np.tanh(Z @ self.W1 + self.b1) @ self.W2 + self.b2)
        return hidden @ self.W3 + self.b3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 rows, 10 background rows")
    parser.add_argument("--tol", type=float, default=0.01)
    parser.add_argument("--mode", choices=["relative", "absolute"], default="relative")
    parser.add_argument("--scale", type=float, default=1.0, help="weight scale (1: torch's)")
    parser.add_argument("--reference", type=int, default=50_000, help="reference budget")
    parser.add_argument(
        "--explainer", choices=["KernelShap", "PermutationShapley"], default="KernelShap"
    )
    args = parser.parse_args()

    n_rows, n_background = (4, 10) if args.quick else (12, 50)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_rows, D)).astype(np.float32)
    B = rng.normal(size=(n_background, D)).astype(np.float32)
    mlp = CountingMLP(args.scale)
    model = gb.wrap(mlp, n_inputs=D, n_outputs=1)
    explainer = getattr(gb, args.explainer)
    m = len(B)

    def run(**options: object) -> tuple[gb.Explanation, int]:
        mlp.rows = 0
        exp = explainer(model, background=B, **options)(X)
        expected = n_rows + m + m * int(exp.n_samples.sum())
        assert mlp.rows == expected, (mlp.rows, expected)  # the counted rows are the coalitions
        return exp, mlp.rows

    fixed, fixed_rows = run()
    early, early_rows = run(tol=args.tol, tol_mode=args.mode)
    reference = gb.KernelShap(model, background=B, n_samples=args.reference, seed=1)(X)

    gap = np.abs(early.values.sum(axis=1))  # efficiency: f(x) - E f(background)
    limit = args.tol * gap if args.mode == "relative" else np.full(n_rows, args.tol)
    err_early = np.abs(early.values - reference.values).max(axis=1)
    err_fixed = np.abs(fixed.values - reference.values).max(axis=1)
    print(
        f"{args.explainer}, d={D}, MLP weight scale {args.scale}, {n_rows} rows, {m} background "
        f"rows, tol={args.tol} "
        f"({args.mode}); reference: n_samples={args.reference}, its largest stderr "
        f"{reference.stderr.max():.2e}"
    )
    header = (
        f"{'row':>3} {'|gap|':>8} {'coal tol':>8} {'coal fix':>8} {'rows tol':>9} "
        f"{'rows fix':>9} {'fewer':>6} {'max se':>9} {'limit':>9} {'err tol':>9} {'err fix':>9}"
    )
    print(header)
    print("-" * len(header))
    for i in range(n_rows):
        used, full = int(early.n_samples[i]), int(fixed.n_samples[i])
        print(
            f"{i:>3} {gap[i]:>8.4f} {used:>8} {full:>8} {m * used:>9} {m * full:>9} "
            f"{full / used:>5.1f}x {early.stderr[i].max():>9.2e} {limit[i]:>9.2e} "
            f"{err_early[i]:>9.2e} {err_fixed[i]:>9.2e}"
        )
    stopped = early.n_samples < fixed.n_samples
    fewer = fixed.n_samples / early.n_samples
    print(
        f"model rows: {early_rows} with tol, {fixed_rows} without "
        f"({fixed_rows / early_rows:.1f}x fewer overall)"
    )
    print(
        f"rows stopped early: {int(stopped.sum())}/{n_rows}; rows >= 3x: "
        f"{int((fewer >= 3).sum())}/{n_rows}; stopped rows within their tolerance: "
        f"{bool(np.all(early.stderr.max(axis=1)[stopped] <= limit[stopped]))}"
    )


if __name__ == "__main__":
    main()
