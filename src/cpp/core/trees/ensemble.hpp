// TreeEnsemble: a fitted tree ensemble as flat node arrays, evaluated natively (a Model).
//
// The arrays and the walk rule are those of glassbox/models/trees/spec.py (TreeEnsembleSpec):
// node i is a row of every per-node array, children are global node indices (-1 at leaves);
// NaN goes to default_left; a numeric node goes left when x <= threshold; a categorical node
// goes left when x is a whole number whose bit is set in its bitset; a leaf adds its tree's
// `width` values to outputs output..output+width-1 of the margin, which starts at base_scores.
#pragma once

#include "core/model.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace glassbox {

enum class TreeLink { identity, logistic, softmax };

struct TreeEnsembleArrays {
    Index n_features = 0;
    Index n_outputs = 0;
    std::vector<std::int64_t> tree_offsets;   // T + 1
    std::vector<std::int32_t> tree_outputs;   // T
    std::vector<std::int32_t> tree_widths;    // T
    std::vector<std::int32_t> children_left;  // N
    std::vector<std::int32_t> children_right; // N
    std::vector<std::int32_t> features;       // N, -1 at leaves
    std::vector<float> thresholds;            // N
    std::vector<std::uint8_t> default_left;   // N
    std::vector<std::int64_t> cat_starts;     // N, -1 unless categorical
    std::vector<std::int32_t> cat_counts;     // N
    std::vector<std::uint32_t> cat_bitsets;   // W
    std::vector<double> covers;               // N
    std::vector<std::int64_t> value_offsets;  // N, -1 at internal nodes
    std::vector<double> values;               // V
    std::vector<double> base_scores;          // n_outputs
    TreeLink link = TreeLink::identity;
};

class TreeEnsemble final : public Model {
public:
    // Checks every array (sizes, child indices inside their own tree and forming a tree, feature
    // indices < n_features, bitset and value ranges, finite values, positive root cover) and
    // throws std::invalid_argument naming the first problem: the arrays may come from a file.
    // With `apply_link`, predict returns link(margin) (the probabilities) instead of the margin.
    explicit TreeEnsemble(TreeEnsembleArrays arrays, bool apply_link = false);

    Index n_inputs() const override { return a_.n_features; }
    Index n_outputs() const override { return a_.n_outputs; }
    // The raw margin accumulated in double (through the link when constructed with apply_link),
    // OpenMP-free (callers parallelise).
    void predict(const ConstRowRef& X, RowMatrixXf& Y) const override;
    // The raw margin of one row into margin[0..n_outputs), in double.
    void margin(const float* row, double* margin) const;
    // Maps one row's margin (n values) to probabilities in place.
    static void apply_link(TreeLink link, double* margin, Index n);
    bool applies_link() const { return apply_link_; }
    bool thread_safe() const override { return true; }

    const TreeEnsembleArrays& arrays() const { return a_; }
    Index n_trees() const { return static_cast<Index>(a_.tree_offsets.size()) - 1; }
    Index max_depth() const { return max_depth_; }

    // The child a row with `value` at the node's feature goes to (the walk rule above).
    std::int32_t next(std::int32_t node, float value) const;
    // The leaf `row` reaches in tree t.
    std::int32_t leaf(Index t, const float* row) const;

private:
    // A node packed in 16 bytes, so a walk reads one cache line per node and picks the child
    // without a branch: child[0] when x <= threshold, else child[1]. A categorical node has a
    // NaN threshold, which with a NaN x sends the walk to the arrays (next_special); a leaf is
    // {+inf, feature 0, itself, itself}.
    struct Split {
        float threshold;
        std::int32_t feature;
        std::int32_t child[2];
    };
    std::int32_t next_special(std::int32_t node, float value) const;
    std::vector<Index> tree_depths_;  // per tree: its deepest leaf's depth
    TreeEnsembleArrays a_;
    std::vector<Split> splits_;
    Index max_depth_ = 0;
    bool apply_link_ = false;
};

// Inline: every walk (predict, TreeSHAP) calls it once per node.
inline std::int32_t TreeEnsemble::next(std::int32_t node, float value) const {
    const Split& split = splits_[node];
    if (std::isnan(value) || std::isnan(split.threshold)) return next_special(node, value);
    return split.child[value > split.threshold];
}

inline std::int32_t TreeEnsemble::leaf(Index t, const float* row) const {
    auto node = static_cast<std::int32_t>(a_.tree_offsets[t]);
    for (std::int32_t f; (f = a_.features[node]) >= 0;) node = next(node, row[f]);
    return node;
}

}  // namespace glassbox
