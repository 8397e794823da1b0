"""Progress and interruption of long jobs: ``progress=`` on every explainer and inspection
function, Ctrl-C (SIGINT) and ``JobControl.interrupt`` stopping a running job between chunks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import glassbox as gb
from glassbox import _core
from glassbox.models.native import build_network
from glassbox.models.spec import NetworkSpec
from glassbox.progress import check_progress

RNG = np.random.default_rng(0)


def _mlp(width: int = 6, hidden: int = 16, outputs: int = 2) -> gb.NativeModel:
    spec = NetworkSpec(input_shape=(width,))
    spec.add("dense", "fc", weight=RNG.normal(size=(hidden, width)), bias=RNG.normal(size=hidden))
    spec.add("tanh", "act")
    spec.add("dense", "out", weight=RNG.normal(size=(outputs, hidden)), bias=None)
    return build_network(spec)


MODEL = _mlp()
X = RNG.normal(size=(40, 6)).astype(np.float32)
Y = np.argmax(MODEL.predict(X), axis=1)

JOBS = {
    "IntegratedGradients": lambda p: gb.IntegratedGradients(MODEL, n_steps=16, progress=p)(
        X, target=1
    ),
    "DeepLift": lambda p: gb.DeepLift(MODEL, progress=p)(X, target=0),
    "LRP": lambda p: gb.LRP(MODEL, progress=p)(X, target=0),
    "Occlusion": lambda p: gb.Occlusion(MODEL, (2,), progress=p)(X, target=0),
    "KernelShap": lambda p: gb.KernelShap(MODEL, background=X[:5], n_samples=40, progress=p)(
        X[:10]
    ),
    "KernelShap-callable": lambda p: gb.KernelShap(
        lambda A: MODEL.predict(A), background=X[:5], n_samples=40, progress=p
    )(X[:10]),
    "Lime": lambda p: gb.Lime(MODEL, X, num_samples=200, progress=p)(X[:5], target=0),
    "permutation_importance": lambda p: gb.permutation_importance(
        MODEL, X, Y, n_repeats=3, progress=p
    ),
    "partial_dependence": lambda p: gb.partial_dependence(MODEL, X, [0, 1], progress=p),
    "ale": lambda p: gb.ale(MODEL, X, [0], progress=p),
    "h_statistic": lambda p: gb.h_statistic(MODEL, X[:15], [0, 1, 2], progress=p),
}


@pytest.mark.parametrize("name", sorted(JOBS))
def test_a_callable_sees_rows_done_up_to_the_total(name: str) -> None:
    seen: list[tuple[int, int]] = []
    JOBS[name](lambda done, total: seen.append((done, total)))
    assert seen, "the callable was never called"
    done = [d for d, _ in seen]
    total = seen[-1][1]
    assert seen[-1] == (total, total) and total > 0
    assert all(0 <= d <= total for d in done) and all(t == total for _, t in seen)


@pytest.mark.parametrize("name", ["IntegratedGradients", "KernelShap", "partial_dependence"])
def test_progress_true_draws_a_line_on_stderr_and_false_nothing(name: str, capfd) -> None:
    JOBS[name](True)
    err = capfd.readouterr().err
    assert "rows" in err or "row" in err, err
    JOBS[name](False)
    JOBS[name](None)  # not a terminal: no bar
    assert capfd.readouterr().err == ""


def test_progress_is_recorded_in_options_and_checked() -> None:
    ig = gb.IntegratedGradients(MODEL, progress=False)
    assert ig.options["progress"] is False and "progress=False" in repr(ig)
    with pytest.raises(TypeError, match="progress"):
        gb.IntegratedGradients(MODEL, progress="yes")
    with pytest.raises(TypeError, match="progress"):
        gb.partial_dependence(MODEL, X, [0], progress=3)
    assert check_progress(print) is print


class _Stop(Exception):
    pass


def test_a_callable_that_raises_cancels_the_job() -> None:
    calls = []

    def stop(done: int, total: int) -> None:
        calls.append(done)
        raise _Stop

    big = RNG.normal(size=(20000, 6)).astype(np.float32)
    with pytest.raises(_Stop):
        gb.IntegratedGradients(MODEL, n_steps=400, progress=stop, fast_path=False)(big, target=0)
    assert len(calls) == 1
    assert gb.Saliency(MODEL)(X[:2], target=0).values.shape == (2, 6)  # the next call works


def _long_job_control(run: object) -> tuple[float, float]:
    """Start ``run(options)`` with a JobControl, interrupt it from this thread after it started;
    returns (seconds until the interrupt was asked, seconds from the ask to KeyboardInterrupt)."""
    control = _core.JobControl()
    result: dict[str, object] = {}

    def target() -> None:
        options = _core.RunOptions()
        options.control = control
        try:
            run(options)  # type: ignore[operator]
            result["outcome"] = "finished"
        except KeyboardInterrupt:
            result["outcome"] = "interrupted"
        result["end"] = time.perf_counter()

    thread = threading.Thread(target=target)
    thread.start()
    while control.done == 0 and thread.is_alive():
        time.sleep(0.01)
    asked = time.perf_counter()
    control.interrupt()
    thread.join(60)
    assert result.get("outcome") == "interrupted", result
    return asked, float(result["end"]) - asked  # type: ignore[arg-type]


def test_job_control_interrupt_stops_gradient_and_model_chunk_loops() -> None:
    big = RNG.normal(size=(50000, 6)).astype(np.float32)
    targets = np.zeros(len(big), np.int64)
    _long_job_control(
        lambda o: _core.integrated_gradients(
            MODEL.network, X=big, baselines=np.zeros_like(big), targets=targets,
            method="riemann_left", n_steps=2000, options=o, fast_path=False,
        )
    )  # fmt: skip
    _long_job_control(
        lambda o: _core.evaluate_model(
            MODEL.network, X=np.repeat(big, 200, axis=0), n_outputs=2, options=o
        )
    )
    many = np.repeat(big, 40, axis=0)  # inspect's chunk loop (for_each_chunk) on the Tape
    layers, ranges = [MODEL.network.n_layers - 1], np.full((1, 2), np.nan)
    _long_job_control(
        lambda o: _core.activation_stats(
            MODEL.network, X=many, layers=layers, ranges=ranges, bins=10, options=o
        )
    )
    _long_job_control(
        lambda o: _core.layer_features(MODEL.network, X=many, layer=0, pool="none", options=o)
    )
    assert MODEL.predict(X[:3]).shape == (3, 2)  # the network and its threads are fine


SIGINT_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np, glassbox as gb
    from glassbox.models.native import build_network
    from glassbox.models.spec import NetworkSpec
    rng = np.random.default_rng(0)
    spec = NetworkSpec(input_shape=(16,))
    spec.add("dense", "fc", weight=rng.normal(size=(256, 16)), bias=None)
    spec.add("tanh", "act")
    spec.add("dense", "out", weight=rng.normal(size=(2, 256)), bias=None)
    model = build_network(spec)
    X = rng.normal(size=(4000, 16)).astype(np.float32)
    y = np.argmax(model.predict(X), axis=1)
    jobs = {
        "ig": lambda: gb.IntegratedGradients(model, n_steps=100000, method="riemann_left",
                                             fast_path=False)(X, target=0),
        "kernelshap": lambda: gb.KernelShap(model, background=X[:200], n_samples=100000)(X),
        "lime": lambda: gb.Lime(model, X, num_samples=200000)(X, target=0),
        "permutation": lambda: gb.permutation_importance(model, X, y, n_repeats=100000),
        "pdp": lambda: gb.partial_dependence(
            model, np.repeat(X, 5, axis=0) + rng.normal(size=(20000, 16)).astype(np.float32),
            [0], grid_resolution=20000),
    }
    fired = {}
    def fire():
        time.sleep(1.0)
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=fire).start()
    try:
        jobs[sys.argv[1]]()
        print("finished")
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter() - fired["t"])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    print("predict after", model.predict(X[:2]).shape)
    """
)


@pytest.mark.parametrize("job", ["ig", "kernelshap", "lime", "permutation", "pdp"])
def test_ctrl_c_interrupts_a_long_native_job(job: str) -> None:
    """SIGINT one second into a job that would run for minutes: KeyboardInterrupt, the Python
    handler restored, and the model usable. (The latency is measured by bench, not asserted.)"""
    out = subprocess.run(
        [sys.executable, "-c", SIGINT_SCRIPT, job], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0].startswith("interrupted"), out.stdout
    assert float(lines[0].split()[1]) < 30  # far sooner than the job's own minutes
    assert lines[1] == "predict after (2, 2)"
