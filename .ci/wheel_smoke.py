"""Smoke-check an installed glassbox (the CI's wheel stage; run it away from the source tree).

Usage: python wheel_smoke.py [--save FILE.npz]
       python wheel_smoke.py --compare A.npz B.npz ...

Imports glassbox, prints the compiled core's CPU level and file, checks a native network's
predictions and Integrated Gradients (completeness) and ``wrap``; ``--save`` writes the
predictions and attributions. ``--compare`` checks that saved results agree within float32
tolerance (.ci/run saves one per CPU level, each run with GLASSBOX_CPU set to that level).
"""

from __future__ import annotations

import argparse

import numpy as np

# Levels differ in vector width and FMA contraction only: float32 rounding, not results.
RTOL, ATOL = 1e-4, 1e-5


def smoke(save: str | None) -> None:
    import glassbox as gb
    from glassbox import _core
    from glassbox.models.native import build_network
    from glassbox.models.spec import NetworkSpec

    print("glassbox", gb.__version__, "from", gb.__file__)
    print("extension", _core.__file__, "cpu level", gb.cpu_level())

    rng = np.random.default_rng(0)
    spec = NetworkSpec(input_shape=(4,))
    spec.add("dense", "fc1", weight=rng.standard_normal((8, 4)), bias=rng.standard_normal(8))
    spec.add("tanh", "act")
    spec.add("dense", "fc2", weight=rng.standard_normal((8, 8)), bias=rng.standard_normal(8))
    spec.add("gelu", "act2")
    spec.add("dense", "fc3", weight=rng.standard_normal((3, 8)), bias=rng.standard_normal(3))
    spec.add("softmax", "out")
    model = build_network(spec)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    predictions = model.predict(X)
    assert predictions.shape == (64, 3)
    exp = gb.IntegratedGradients(model, n_steps=64, method="gausslegendre")(X, target=2)
    assert exp.values.shape == X.shape, exp.values.shape
    assert np.abs(exp.delta).max() < 1e-3, np.abs(exp.delta).max()
    print("IntegratedGradients on a native network: OK, max |delta| =", np.abs(exp.delta).max())

    wrapped = gb.wrap(lambda x: x.sum(axis=1, keepdims=True), n_inputs=4)
    assert wrapped.n_inputs == 4
    print("wrap: OK")
    if save:
        np.savez(save, level=gb.cpu_level(), predictions=predictions, ig=exp.values)


def compare(paths: list[str]) -> None:
    first = np.load(paths[0])
    for path in paths[1:]:
        other = np.load(path)
        for key in ("predictions", "ig"):
            np.testing.assert_allclose(
                other[key],
                first[key],
                rtol=RTOL,
                atol=ATOL,
                err_msg=f"{key}: level {other['level']} vs level {first['level']}",
            )
        print(f"level {other['level']} agrees with level {first['level']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", help="write the predictions and attributions to this .npz")
    parser.add_argument("--compare", nargs="+", help="saved .npz files that must agree")
    args = parser.parse_args()
    if args.compare:
        compare(args.compare)
    else:
        smoke(args.save)
