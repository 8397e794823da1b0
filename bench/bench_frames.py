"""DataFrames through a black-box model: what reading a frame by value and calling the model with
frames costs, against the same job on arrays, shap's KernelExplainer and the evaluation floor.

Run ``python bench/bench_frames.py [--quick]`` from the repository root (or ``bench/run.py``).

Problems (scikit-learn pipelines, class-1 probability, 100 background rows, KernelShap with a
budget of 256 coalitions per row, so 258 x 100 model rows per explained row):

- breast cancer (30 float64 columns): ``StandardScaler + LogisticRegression`` fitted on the
  DataFrame, explained on the DataFrame; the same pipeline fitted on the NumPy array, explained
  on the array (the cost of frames is the difference);
- mixed (2 string columns, a categorical, 2 numeric columns with missing values):
  ``OneHotEncoder + SimpleImputer + LogisticRegression`` on the DataFrame (d = 5: every one of
  the 30 coalitions is evaluated).

Floor: one ``predict_proba`` call on a DataFrame holding as many rows as the method evaluates
(the model's own cost; glassbox cannot be faster than its model). Peer: shap's KernelExplainer
(``nsamples=256``, ``l1_reg=False``, the same estimator) on the same frame, its model wrapped
to rebuild the frame from the NumPy arrays shap passes (what a shap user writes for a pipeline).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from common import Row, bench_main, time_it

BUDGET = 256
N_BACKGROUND = 100


def _breast_cancer() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer(as_frame=True)
    frame, y = data.data, data.target
    on_frame = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(frame, y)
    array = frame.to_numpy()
    on_array = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(array, y)
    return frame, on_frame, array, on_array


def _mixed(n: int = 2000) -> tuple[Any, Any]:
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["paris", "lyon", "nice", "lille"], n).astype(object),
            "plan": rng.choice(["free", "pro"], n).astype(object),
            "tier": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "age": rng.normal(40, 10, n),
            "spend": rng.gamma(2.0, 50.0, n),
        }
    )
    frame.loc[::11, "age"] = np.nan
    frame.loc[::13, "spend"] = np.nan
    y = (frame["plan"] == "pro") ^ (frame["spend"].fillna(100) > 100)
    encode = make_column_transformer(
        (OneHotEncoder(), ["city", "plan", "tier"]), (SimpleImputer(), ["age", "spend"])
    )
    return frame, make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(frame, y)


def _shap_kernel(model: Any, background: Any, rows: Any) -> Any:
    import pandas as pd
    import shap

    columns, dtypes = background.columns, background.dtypes

    def predict(values: np.ndarray) -> np.ndarray:
        # shap hands the model NumPy object arrays: a pipeline fitted on a frame needs the frame
        return model.predict_proba(pd.DataFrame(values, columns=columns).astype(dtypes))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.KernelExplainer(predict, background)
        return explainer.shap_values(rows, nsamples=BUDGET, l1_reg=False, silent=True)


def _floor(model: Any, background: Any, n_rows: int, exp: Any) -> float:
    """One predict_proba over as many frame rows as the method evaluated for ``exp``."""
    import pandas as pd

    coalitions = int(exp.options["n_evaluated"]) + 2  # and the empty and full coalitions
    total = n_rows * coalitions * len(background)
    reps = int(np.ceil(total / len(background)))
    rows = pd.concat([background] * reps, ignore_index=True).iloc[:total]
    return time_it(lambda: model.predict_proba(rows), repeats=5).median


def run(quick: bool) -> list[Row]:
    import glassbox as gb

    n_rows = 2 if quick else 10
    rows: list[Row] = []
    frame, on_frame, array, on_array = _breast_cancer()
    background, explained = frame.iloc[:N_BACKGROUND], frame.iloc[200 : 200 + n_rows]

    def glassbox_frame() -> Any:
        shap_ = gb.KernelShap(on_frame, background=background, n_samples=BUDGET, n_threads=2)
        return shap_(explained, target=1)

    def glassbox_array() -> Any:
        shap_ = gb.KernelShap(
            on_array, background=array[:N_BACKGROUND], n_samples=BUDGET, n_threads=2
        )
        return shap_(array[200 : 200 + n_rows], target=1)

    t_frame = time_it(glassbox_frame)
    t_array = time_it(glassbox_array)
    t_shap = time_it(lambda: _shap_kernel(on_frame, background, explained))
    floor = _floor(on_frame, background, n_rows, t_frame.result)
    size = f"breast cancer d=30, {n_rows} rows, bg {N_BACKGROUND}, b={BUDGET}"
    rows.append(
        Row(
            "KernelShap, pipeline on a DataFrame",
            size,
            t_frame.median / n_rows,
            peer=t_shap.median / n_rows,
            peer_name="shap KernelExplainer l1_reg=False",
            notes=[
                f"arrays: {t_array.median / n_rows * 1e3:.1f} ms/row "
                f"(frames cost {t_frame.median / t_array.median:.2f}x)",
                f"floor (one predict_proba of the same rows): {floor / n_rows * 1e3:.1f} ms/row "
                f"= {t_frame.median / floor:.2f}x the floor",
            ],
        )
    )
    mixed, model = _mixed()
    background, explained = mixed.iloc[:N_BACKGROUND], mixed.iloc[500 : 500 + n_rows]

    def glassbox_mixed() -> Any:
        shap_ = gb.KernelShap(model, background=background, n_samples=BUDGET, n_threads=2)
        return shap_(explained, target=1)

    t_mixed = time_it(glassbox_mixed)
    t_shap = time_it(lambda: _shap_kernel(model, background, explained))
    floor = _floor(model, background, n_rows, t_mixed.result)
    rows.append(
        Row(
            "KernelShap, mixed DataFrame (strings, categorical, NaN)",
            f"d=5, {n_rows} rows, bg {N_BACKGROUND}, b={BUDGET}",
            t_mixed.median / n_rows,
            peer=t_shap.median / n_rows,
            peer_name="shap KernelExplainer l1_reg=False",
            notes=[
                f"floor (one predict_proba of the same rows): {floor / n_rows * 1e3:.1f} ms/row "
                f"= {t_mixed.median / floor:.2f}x the floor"
            ],
        )
    )
    return rows


def main() -> None:
    bench_main(run, __doc__, "small sizes, for a smoke run")


if __name__ == "__main__":
    main()
