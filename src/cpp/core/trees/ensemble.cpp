// TreeEnsemble: validation of untrusted node arrays, the walk rule and the raw margin.
#include "core/trees/ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace glassbox {

namespace {

// Deeper trees are rejected: no real model comes near, and TreeSHAP's per-row path buffers
// are sized by the depth.
constexpr Index kMaxTreeDepth = 4096;

std::string node_name(Index node) { return "node " + std::to_string(node); }

void check_sizes(const TreeEnsembleArrays& a) {
    require(a.n_features >= 1, "TreeEnsemble: n_features must be >= 1, got " +
                                   std::to_string(a.n_features));
    require(a.n_outputs >= 1, "TreeEnsemble: n_outputs must be >= 1, got " +
                                  std::to_string(a.n_outputs));
    require(a.tree_offsets.size() >= 2,
            "TreeEnsemble: tree_offsets must hold n_trees + 1 >= 2 entries (at least one tree)");
    const std::size_t T = a.tree_offsets.size() - 1;
    const std::size_t N = a.features.size();
    const auto per_tree = [&](std::size_t size, const char* name) {
        require(size == T, std::string("TreeEnsemble: ") + name + " must have n_trees = " +
                               std::to_string(T) + " entries, got " + std::to_string(size));
    };
    per_tree(a.tree_outputs.size(), "tree_outputs");
    per_tree(a.tree_widths.size(), "tree_widths");
    const auto per_node = [&](std::size_t size, const char* name) {
        require(size == N, std::string("TreeEnsemble: ") + name + " must have n_nodes = " +
                               std::to_string(N) + " entries (as features), got " +
                               std::to_string(size));
    };
    per_node(a.children_left.size(), "children_left");
    per_node(a.children_right.size(), "children_right");
    per_node(a.thresholds.size(), "thresholds");
    per_node(a.default_left.size(), "default_left");
    per_node(a.cat_starts.size(), "cat_starts");
    per_node(a.cat_counts.size(), "cat_counts");
    per_node(a.covers.size(), "covers");
    per_node(a.value_offsets.size(), "value_offsets");
    require(a.base_scores.size() == static_cast<std::size_t>(a.n_outputs),
            "TreeEnsemble: base_scores must have n_outputs = " + std::to_string(a.n_outputs) +
                " entries, got " + std::to_string(a.base_scores.size()));
    require(N < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
            "TreeEnsemble: too many nodes for 32-bit child indices");
    require(a.tree_offsets.front() == 0, "TreeEnsemble: tree_offsets[0] must be 0");
    require(a.tree_offsets.back() == static_cast<std::int64_t>(N),
            "TreeEnsemble: tree_offsets[-1] must equal the number of nodes " + std::to_string(N));
    for (std::size_t t = 0; t < T; ++t) {
        require(a.tree_offsets[t] < a.tree_offsets[t + 1],
                "TreeEnsemble: tree_offsets must be strictly increasing (tree " +
                    std::to_string(t) + " is empty or reversed)");
        require(a.tree_widths[t] >= 1 && a.tree_outputs[t] >= 0 &&
                    static_cast<Index>(a.tree_outputs[t]) + a.tree_widths[t] <= a.n_outputs,
                "TreeEnsemble: tree " + std::to_string(t) + " writes outputs " +
                    std::to_string(a.tree_outputs[t]) + ".." +
                    std::to_string(static_cast<Index>(a.tree_outputs[t]) + a.tree_widths[t] - 1) +
                    " (tree_outputs, tree_widths), outside 0.." + std::to_string(a.n_outputs - 1));
    }
    for (std::size_t o = 0; o < a.base_scores.size(); ++o)
        require(std::isfinite(a.base_scores[o]), "TreeEnsemble: base_scores must be finite");
}

// One node's own fields (its children are checked by the walk over its tree).
void check_node(const TreeEnsembleArrays& a, Index i, Index width) {
    const Index W = static_cast<Index>(a.cat_bitsets.size());
    const Index V = static_cast<Index>(a.values.size());
    require(std::isfinite(a.covers[i]) && a.covers[i] >= 0,
            "TreeEnsemble: " + node_name(i) + " has a negative or non-finite cover");
    require(a.default_left[i] <= 1, "TreeEnsemble: default_left must be 0 or 1 (" +
                                        node_name(i) + ")");
    if (a.features[i] < 0) {
        require(a.features[i] == -1, "TreeEnsemble: " + node_name(i) + " has feature " +
                                         std::to_string(a.features[i]) + " (leaves use -1)");
        require(a.children_left[i] == -1 && a.children_right[i] == -1,
                "TreeEnsemble: leaf " + node_name(i) + " has children");
        require(a.cat_starts[i] == -1, "TreeEnsemble: leaf " + node_name(i) +
                                           " has a categorical bitset (cat_starts must be -1)");
        const std::int64_t off = a.value_offsets[i];
        require(off >= 0 && off <= V - width,
                "TreeEnsemble: leaf " + node_name(i) + " has value_offsets " + std::to_string(off) +
                    ", outside 0.." + std::to_string(V - width) + " for its " +
                    std::to_string(width) + " values");
        for (Index k = 0; k < width; ++k)
            require(std::isfinite(a.values[off + k]),
                    "TreeEnsemble: leaf " + node_name(i) + " has a non-finite value");
        return;
    }
    require(a.features[i] < a.n_features, "TreeEnsemble: " + node_name(i) + " splits on feature " +
                                              std::to_string(a.features[i]) + " >= n_features " +
                                              std::to_string(a.n_features));
    require(a.value_offsets[i] == -1,
            "TreeEnsemble: internal " + node_name(i) + " has value_offsets != -1");
    const std::int64_t start = a.cat_starts[i];
    if (start == -1) {
        require(std::isfinite(a.thresholds[i]),
                "TreeEnsemble: " + node_name(i) + " has a non-finite threshold");
        return;
    }
    const std::int32_t count = a.cat_counts[i];
    require(start >= 0 && count >= 1 && start <= W && count <= W - start,
            "TreeEnsemble: categorical " + node_name(i) + " has bitset words " +
                std::to_string(start) + " + " + std::to_string(count) +
                " (cat_starts, cat_counts) outside the " + std::to_string(W) +
                " cat_bitsets words");
}

}  // namespace

TreeEnsemble::TreeEnsemble(TreeEnsembleArrays arrays, bool apply_link)
    : a_(std::move(arrays)), apply_link_(apply_link) {
    check_sizes(a_);
    const Index T = n_trees();
    std::vector<std::uint8_t> seen(a_.features.size(), 0);
    std::vector<std::pair<std::int32_t, Index>> stack;  // (node, depth)
    tree_depths_.assign(static_cast<std::size_t>(T), 0);
    for (Index t = 0; t < T; ++t) {
        const Index begin = a_.tree_offsets[t], end = a_.tree_offsets[t + 1];
        const Index width = a_.tree_widths[t];
        require(a_.covers[begin] > 0,
                "TreeEnsemble: tree " + std::to_string(t) + " has a root cover <= 0");
        // Depth-first from the root: each child inside this tree and not seen before means no
        // cycles and no shared nodes; reaching end - begin nodes means none are orphaned.
        Index reached = 0;
        stack.assign(1, {static_cast<std::int32_t>(begin), 0});
        seen[begin] = 1;
        while (!stack.empty()) {
            const auto [node, depth] = stack.back();
            stack.pop_back();
            ++reached;
            max_depth_ = std::max(max_depth_, depth);
            tree_depths_[t] = std::max(tree_depths_[t], depth);
            require(depth <= kMaxTreeDepth, "TreeEnsemble: tree " + std::to_string(t) +
                                                " is deeper than " +
                                                std::to_string(kMaxTreeDepth));
            check_node(a_, node, width);
            if (a_.features[node] < 0) continue;
            for (const std::int32_t child : {a_.children_left[node], a_.children_right[node]}) {
                require(child >= begin && child < end,
                        "TreeEnsemble: " + node_name(node) + " has child " +
                            std::to_string(child) + " outside its tree (nodes " +
                            std::to_string(begin) + ".." + std::to_string(end - 1) + ")");
                require(!seen[child], "TreeEnsemble: " + node_name(child) +
                                          " is reached twice in tree " + std::to_string(t) +
                                          " (a cycle or a shared child)");
                seen[child] = 1;
                stack.emplace_back(child, depth + 1);
            }
        }
        require(reached == end - begin, "TreeEnsemble: tree " + std::to_string(t) + " has " +
                                            std::to_string(end - begin - reached) +
                                            " nodes not reachable from its root");
    }
    splits_.resize(a_.features.size());
    for (std::size_t i = 0; i < splits_.size(); ++i) {
        const auto node = static_cast<std::int32_t>(i);
        if (a_.features[i] < 0) {  // a leaf stays where it is (predict's fixed-depth walks)
            splits_[i] = {std::numeric_limits<float>::infinity(), 0, {node, node}};
            continue;
        }
        const bool categorical = a_.cat_starts[i] >= 0;
        splits_[i] = {categorical ? std::numeric_limits<float>::quiet_NaN() : a_.thresholds[i],
                      a_.features[i],
                      {a_.children_left[i], a_.children_right[i]}};
    }
}

std::int32_t TreeEnsemble::next_special(std::int32_t node, float value) const {
    if (a_.features[node] < 0) return node;
    const bool left = [&] {
        if (std::isnan(value)) return a_.default_left[node] != 0;
        const std::int64_t start = a_.cat_starts[node];
        if (start < 0) return value <= a_.thresholds[node];
        const float limit = 32.0f * static_cast<float>(a_.cat_counts[node]);
        if (!(value >= 0.0f) || value >= limit || value != std::floor(value)) return false;
        const auto category = static_cast<std::uint32_t>(value);
        return ((a_.cat_bitsets[start + category / 32] >> (category % 32)) & 1u) != 0;
    }();
    return left ? a_.children_left[node] : a_.children_right[node];
}

void TreeEnsemble::margin(const float* row, double* margin) const {
    std::copy(a_.base_scores.begin(), a_.base_scores.end(), margin);
    const Index T = n_trees();
    for (Index t = 0; t < T; ++t) {
        const std::int64_t off = a_.value_offsets[leaf(t, row)];
        const Index first = a_.tree_outputs[t], width = a_.tree_widths[t];
        for (Index k = 0; k < width; ++k) margin[first + k] += a_.values[off + k];
    }
}

void TreeEnsemble::apply_link(TreeLink link, double* margin, Index n) {
    if (link == TreeLink::logistic) {
        for (Index k = 0; k < n; ++k) margin[k] = 1.0 / (1.0 + std::exp(-margin[k]));
    } else if (link == TreeLink::softmax) {
        const double top = *std::max_element(margin, margin + n);
        double total = 0.0;
        for (Index k = 0; k < n; ++k) total += (margin[k] = std::exp(margin[k] - top));
        for (Index k = 0; k < n; ++k) margin[k] /= total;
    }
}

void TreeEnsemble::predict(const ConstRowRef& X, RowMatrixXf& Y) const {
    require(X.cols() == a_.n_features, "TreeEnsemble: X has " + std::to_string(X.cols()) +
                                           " columns, the model takes " +
                                           std::to_string(a_.n_features));
    Y.resize(X.rows(), a_.n_outputs);
    // Blocks of rows, trees outer: a tree stays in cache for the block, and the rows' walks
    // (branch-free) overlap. Each row still adds base + trees in order, as margin() does.
    constexpr Index kBlock = 512;
    const Index k = a_.n_outputs;
    std::vector<double> margins(static_cast<std::size_t>(kBlock * k));
    for (Index begin = 0; begin < X.rows(); begin += kBlock) {
        const Index rows = std::min(kBlock, X.rows() - begin);
        for (Index r = 0; r < rows; ++r) {
            std::copy(a_.base_scores.begin(), a_.base_scores.end(), margins.begin() + r * k);
        }
        for (Index t = 0; t < n_trees(); ++t) {
            const Index first = a_.tree_outputs[t], width = a_.tree_widths[t];
            const auto root = static_cast<std::int32_t>(a_.tree_offsets[t]);
            // Groups of rows walk the tree in step for its depth (leaves loop to themselves):
            // independent walks the CPU overlaps, with no branch on where each one ends.
            constexpr Index kGroup = 16;
            for (Index g = 0; g < rows; g += kGroup) {
                const Index n = std::min(kGroup, rows - g);
                std::int32_t nodes[kGroup];
                const float* xs[kGroup];
                for (Index i = 0; i < n; ++i) {
                    nodes[i] = root;
                    xs[i] = X.row(begin + g + i).data();
                }
                for (Index step = 0; step < tree_depths_[t]; ++step) {
                    for (Index i = 0; i < n; ++i) {
                        nodes[i] = next(nodes[i], xs[i][splits_[nodes[i]].feature]);
                    }
                }
                for (Index i = 0; i < n; ++i) {
                    const double* leaf_values = a_.values.data() + a_.value_offsets[nodes[i]];
                    double* out = margins.data() + (g + i) * k + first;
                    for (Index o = 0; o < width; ++o) out[o] += leaf_values[o];
                }
            }
        }
        for (Index r = 0; r < rows; ++r) {
            double* row_margin = margins.data() + r * k;
            if (apply_link_) apply_link(a_.link, row_margin, k);
            for (Index o = 0; o < k; ++o) Y(begin + r, o) = static_cast<float>(row_margin[o]);
        }
    }
}

}  // namespace glassbox
