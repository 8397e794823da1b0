"""Global surrogate: a decision tree fitted to a model's own predictions, with its fidelity on
held-out rows and its rules as text. scikit-learn is an optional dependency, imported lazily.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._names import feature_labels, resolve
from glassbox._validation import (
    as_batch,
    check_choice,
    check_int,
    check_model_outputs,
    check_seed,
    named_nonfinite_rows,
)
from glassbox.data import check_numeric
from glassbox.inspection._common import prepare
from glassbox.models.agnostic import AgnosticModel, evaluate
from glassbox.tables import Tabular, surrogate_frame

TASKS = ("auto", "classification", "regression")
#: scikit-learn's ``random_state`` takes seeds below 2^32.
SKLEARN_MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class SurrogateTree(Tabular):
    """A decision tree that mimics a model.

    Attributes
    ----------
    tree : sklearn.tree.DecisionTreeClassifier or DecisionTreeRegressor
        Fitted to the model's predictions on the training rows.
    fidelity : float
        How well the tree reproduces the model on held-out rows: accuracy of the predicted
        labels (classification) or R^2 of the outputs (regression, averaged over outputs).
    fidelity_metric : str
        "accuracy" or "r2".
    train_fidelity : float
        The same figure on the rows the tree was fitted on.
    rules : str
        The tree as readable if/else rules (scikit-learn's ``export_text``).
    task : str
        "classification" (tree on the model's argmax labels) or "regression" (tree on its
        outputs).
    n_train, n_test : int
        Rows used to fit and to measure fidelity.
    target : int or None
        The output a regression tree mimics (None: all of them, or the classes).
    feature_names, output_names : list of str or None
        The names of X's columns (or ``feature_names=``) and of the model's outputs; None:
        unnamed (x0, x1, ... and "output 0", ... in rules and tables).

    Examples
    --------
    >>> import glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> result = gb.surrogate_tree(model, data.data, max_depth=2)
    >>> result.tree.get_depth(), result.fidelity_metric, round(result.fidelity, 2)
    (2, 'r2', 0.74)
    >>> result.n_train, result.n_test  # a 25% held-out split by default
    (332, 110)
    """

    tree: Any
    fidelity: float
    fidelity_metric: str
    train_fidelity: float
    rules: str
    task: str
    n_train: int
    n_test: int
    target: int | None = None
    feature_names: list[str] | None = None
    output_names: list[str] | None = None

    def to_frame(self, kind: str = "rules") -> Any:
        """A pandas DataFrame (``to_pandas`` is the same). ``kind="rules"``: one row per leaf
        with columns ``rule`` (its conditions joined by "and"), ``n_samples`` (training rows
        there) and the leaf's prediction: ``prediction`` (the output's name) for a classifier,
        one column per mimicked output (named) for a regressor. ``kind="importances"``: one row
        per feature with ``feature`` and ``importance`` (the tree's impurity importances)."""
        return surrogate_frame(self, kind)

    def to_pandas(self, kind: str = "rules") -> Any:
        """The same DataFrame as ``to_frame(kind)``."""
        return self.to_frame(kind)

    def __str__(self) -> str:
        return (
            f"Surrogate {self.task} tree (depth {self.tree.get_depth()}, "
            f"{self.tree.get_n_leaves()} leaves): held-out {self.fidelity_metric} "
            f"{self.fidelity:.4f} on {self.n_test} rows (train {self.train_fidelity:.4f} on "
            f"{self.n_train})\n{self.rules}"
        )


def surrogate_tree(
    model: object,
    X: object,
    *,
    max_depth: int | None = 3,
    X_test: object = None,
    test_size: float = 0.25,
    task: str = "auto",
    target: int | str | None = None,
    min_samples_leaf: int = 1,
    feature_names: list[str] | None = None,
    seed: int = 0,
    n_threads: int | None = None,
    memory_budget: int | None = None,
) -> SurrogateTree:
    """Fit a decision tree to ``model``'s predictions on ``X`` and measure its fidelity.

    Parameters
    ----------
    model : any model ``as_model`` accepts
    X : array (n, n_features)
        Rows to fit on (and, without ``X_test``, to hold ``test_size`` of them out).
    max_depth : int or None, default 3
        Depth of the tree; shallow trees give readable rules.
    X_test : array, optional
        Held-out rows for the fidelity; default: a random ``test_size`` split of ``X``.
    test_size : float, default 0.25
        Fraction of ``X`` held out when ``X_test`` is not given (0 < test_size < 1).
    task : {"auto", "classification", "regression"}, default "auto"
        "classification": a classifier on the model's argmax labels (fidelity = accuracy);
        "regression": a regressor on the model's outputs (all of them, or column ``target``;
        fidelity = R^2). "auto": classification when the model has several outputs, else
        regression. Probabilities can be mimicked as numbers with task="regression".
    target : int or str, optional
        Regression on one output column only (an index or an output name).
    min_samples_leaf : int, default 1
    feature_names : list of str, optional
        Names in the rules; default the data's or the model's, else x0, x1, ...
    seed : int, default 0
        The split and the tree's tie-breaking (0 .. 2^32 - 1, scikit-learn's range).

    Examples
    --------
    >>> import glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> result = gb.surrogate_tree(model, data.data, max_depth=1, feature_names=data.feature_names)
    >>> print(result.rules, end="")
    |--- s5 <= 0.0016
    |   |--- value: [127.6248]
    |--- s5 >  0.0016
    |   |--- value: [180.7356]
    >>> result.fidelity_metric, round(result.fidelity, 2)  # on held-out rows
    ('r2', 0.53)
    """
    try:
        from sklearn.metrics import accuracy_score, r2_score
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text
    except ImportError as error:
        raise ImportError("surrogate_tree needs scikit-learn: pip install scikit-learn") from error
    run, rows = prepare(model, X, n_threads, memory_budget, what="surrogate_tree")
    # the tree splits on thresholds of values: codes of a string column would be meaningless
    check_numeric(run.schema, "surrogate_tree", "its tree splits on thresholds of the values")
    m = run.model
    if max_depth is not None:
        max_depth = check_int(max_depth, "max_depth", 1)
    min_samples_leaf = check_int(min_samples_leaf, "min_samples_leaf", 1)
    seed = check_seed(seed, SKLEARN_MAX_SEED)
    task = check_choice(task, "task", TASKS)
    n_outputs = m.n_outputs
    if task == "auto":
        task = "classification" if n_outputs > 1 else "regression"
    if target is not None:
        target = resolve(
            target, run.output_names, n_outputs, "target", what="output", negative=False
        )
        if task == "classification":
            raise ValueError("target: only for task='regression' (a classifier uses all outputs)")
    if task == "classification" and n_outputs < 2:
        raise ValueError("task: 'classification' needs a model with one output per class")
    if X_test is None:
        if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
            raise TypeError(f"test_size: expected a number between 0 and 1, got {test_size!r}")
        if not 0.0 < float(test_size) < 1.0:  # NaN fails too
            raise ValueError(f"test_size: must be between 0 and 1, got {test_size}")
        order = np.random.default_rng(seed).permutation(rows.shape[0])
        n_test = round(rows.shape[0] * float(test_size))
        if n_test < 1 or n_test >= rows.shape[0]:
            raise ValueError(
                f"test_size: {test_size} of {rows.shape[0]} rows leaves no train or test rows"
            )
    options = run.options
    fitted = _outputs(m, rows, options, "X")
    if X_test is None:
        train, test = rows[order[n_test:]], rows[order[:n_test]]
        outputs = [fitted[order[n_test:]], fitted[order[:n_test]]]
    else:
        train, test = rows, as_batch(X_test, (m.n_inputs,), "X_test")
        outputs = [fitted, _outputs(m, test, options, "X_test")]
    if task == "classification":
        labels = [out.argmax(axis=1) for out in outputs]
        tree = DecisionTreeClassifier(
            max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=seed
        ).fit(train, labels[0])
        scores = [
            accuracy_score(lab, tree.predict(part))
            for lab, part in zip(labels, (train, test), strict=True)
        ]
        metric = "accuracy"
    else:
        values = [out if target is None else out[:, target] for out in outputs]
        values = [v[:, 0] if v.ndim == 2 and v.shape[1] == 1 else v for v in values]
        tree = DecisionTreeRegressor(
            max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=seed
        ).fit(train, values[0])
        scores = [
            float(r2_score(v, tree.predict(part)))
            for v, part in zip(values, (train, test), strict=True)
        ]
        metric = "r2"
    names = [str(n) for n in feature_names] if feature_names is not None else run.feature_names
    if names is not None and len(names) != m.n_inputs:
        raise ValueError(f"feature_names: expected {m.n_inputs} names, got {len(names)}")
    rules = export_text(tree, feature_names=feature_labels(names, m.n_inputs), decimals=4)
    return SurrogateTree(
        tree=tree,
        fidelity=float(scores[1]),
        fidelity_metric=metric,
        train_fidelity=float(scores[0]),
        rules=rules,
        task=task,
        n_train=int(train.shape[0]),
        n_test=int(test.shape[0]),
        target=target,
        feature_names=names,
        output_names=run.output_names,
    )


def _outputs(model: AgnosticModel, rows: np.ndarray, options: object, name: str) -> np.ndarray:
    """The model's outputs on ``rows`` (the rows of ``name``), which must be finite: a tree
    cannot mimic NaN or Inf."""
    what = f"surrogate_tree ({name})"
    with named_nonfinite_rows(what, model, rows):
        outputs = evaluate(model, rows, options=options)  # type: ignore[arg-type]
    check_model_outputs(what, outputs)
    return outputs
