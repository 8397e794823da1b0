"""TreeEnsembleSpec: one flat, framework-free description of a fitted tree ensemble.

Every tree adapter (scikit-learn, XGBoost, LightGBM) produces one; the compiled core builds its
``TreeEnsemble`` from it, and ``tests/reference/trees.py`` evaluates it literally. The arrays are
flat over all trees: node ``i`` of the ensemble is a row of every per-node array, and children
are global node indices.

How one row ``x`` walks a tree (the rule every adapter translates its library's rule into):

- at an internal node ``i`` with ``f = features[i]``: if ``x[f]`` is NaN, go to the left child
  when ``default_left[i]`` else the right;
- a numeric node (``cat_starts[i] == -1``) goes left when ``x[f] <= thresholds[i]`` (a float32
  threshold; a library comparing ``x < t`` is stored as the float32 just below ``t``, and a
  float64 threshold as the largest float32 not above it, so float32 rows walk exactly as the
  library walks them);
- a categorical node goes left when ``x[f]`` is a whole number ``c`` with ``0 <= c < 32 * n``
  whose bit is set in the ``n = cat_counts[i]`` words ``cat_bitsets[cat_starts[i]:][:n]``
  (bit ``c % 32`` of word ``c // 32``), and right otherwise (an adapter whose library sends the
  categories in its set to the right swaps the children and flips ``default_left``);
- a leaf (``features[i] == -1``) adds its ``tree_widths[t]`` values
  ``values[value_offsets[i]:][:width]`` to outputs ``tree_outputs[t]...`` of the margin.

The margin is ``base_scores + sum over trees``; leaf values already carry any learning rate or
averaging (a random forest's leaves are divided by its number of trees). ``link`` maps the
margin to probabilities: "identity" (regression, a forest's averaged class probabilities),
"logistic" (binary, one output) or "softmax" (multi-class). ``covers`` is each node's training
weight (sample count or hessian sum), which path-dependent TreeSHAP uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LINKS = ("identity", "logistic", "softmax")


@dataclass(frozen=True)
class TreeEnsembleSpec:
    """A fitted tree ensemble as flat arrays (see the module docstring for the walk rule)."""

    n_features: int
    n_outputs: int
    #: int64 (T + 1,): tree t owns nodes tree_offsets[t] .. tree_offsets[t + 1] - 1; its root
    #: is node tree_offsets[t]
    tree_offsets: np.ndarray
    #: int32 (T,): the first output tree t's leaf values add into
    tree_outputs: np.ndarray
    #: int32 (T,): how many values each leaf of tree t holds (1, or n_outputs for a forest
    #: classifier whose leaves hold class probabilities)
    tree_widths: np.ndarray
    #: int32 (N,): global child indices, -1 at leaves
    children_left: np.ndarray
    children_right: np.ndarray
    #: int32 (N,): the feature an internal node splits on, -1 at leaves
    features: np.ndarray
    #: float32 (N,): numeric nodes go left when x <= threshold (0 elsewhere)
    thresholds: np.ndarray
    #: bool (N,): where NaN goes
    default_left: np.ndarray
    #: int64 (N,): -1 for numeric nodes and leaves, else the first word of the node's bitset
    cat_starts: np.ndarray
    #: int32 (N,): the number of 32-bit words of a categorical node's bitset (0 elsewhere)
    cat_counts: np.ndarray
    #: uint32 (W,): the categorical nodes' bitsets (bit set = that category goes left)
    cat_bitsets: np.ndarray
    #: float64 (N,): training weight of each node (sample count or hessian sum), > 0 at the root
    covers: np.ndarray
    #: int64 (N,): offset of a leaf's values in `values`, -1 at internal nodes
    value_offsets: np.ndarray
    #: float64 (V,): leaf values
    values: np.ndarray
    #: float64 (n_outputs,): the margin before any tree
    base_scores: np.ndarray
    #: "identity", "logistic" or "softmax": margin -> probabilities
    link: str = "identity"
    #: where the model came from ("sklearn.GradientBoostingClassifier", "xgboost", ...)
    source: str = ""
    feature_names: tuple[str, ...] | None = None
    output_names: tuple[str, ...] | None = None
    #: anything an adapter wants to record (objective, n_classes, ...); never read by the core
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_trees(self) -> int:
        return len(self.tree_offsets) - 1

    @property
    def n_nodes(self) -> int:
        return len(self.features)
