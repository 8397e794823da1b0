// Path-dependent TreeSHAP and its interaction values over the rows (the per-tree walk is
// treeshap_linear.cpp), the cover-weighted expected value, and the margin of one row.
#include "core/trees/treeshap.hpp"
#include "core/trees/treeshap_linear.hpp"
#include "core/trees/treeshap_tables.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace glassbox::trees {
namespace {

// The features tree t splits on (each once), for the interaction loop.
std::vector<std::vector<std::int32_t>> features_per_tree(const TreeEnsemble& model) {
    const TreeEnsembleArrays& a = model.arrays();
    std::vector<std::vector<std::int32_t>> out(static_cast<std::size_t>(model.n_trees()));
    std::vector<char> seen(static_cast<std::size_t>(a.n_features), 0);
    for (Index t = 0; t < model.n_trees(); ++t) {
        for (std::int64_t i = a.tree_offsets[t]; i < a.tree_offsets[t + 1]; ++i) {
            const std::int32_t f = a.features[i];
            if (f >= 0 && !seen[f]) {
                seen[f] = 1;
                out[t].push_back(f);
            }
        }
        for (std::int32_t f : out[t]) seen[f] = 0;
    }
    return out;
}

}  // namespace

RowMatrixXd detail::expected_values(const TreeEnsemble& model) {
    const TreeEnsembleArrays& a = model.arrays();
    const Index k = model.n_outputs();
    RowMatrixXd base(1, k);
    for (Index o = 0; o < k; ++o) base(0, o) = a.base_scores[o];
    for (Index t = 0; t < model.n_trees(); ++t) {
        const std::int32_t width = a.tree_widths[t];
        // Each node's weight is the product of cover ratios down to it (shap's expected value).
        const auto root = static_cast<std::int32_t>(a.tree_offsets[t]);
        std::vector<std::pair<std::int32_t, double>> stack{{root, 1.0}};
        while (!stack.empty()) {
            const auto [node, weight] = stack.back();
            stack.pop_back();
            if (a.features[node] < 0) {
                const double* leaf = a.values.data() + a.value_offsets[node];
                for (std::int32_t o = 0; o < width; ++o) {
                    base(0, a.tree_outputs[t] + o) += weight * leaf[o];
                }
                continue;
            }
            const std::int32_t left = a.children_left[node], right = a.children_right[node];
            const double cover = a.covers[node];
            stack.emplace_back(left, weight * a.covers[left] / cover);
            stack.emplace_back(right, weight * a.covers[right] / cover);
        }
    }
    return base;
}

TreeShapResult tree_shap_path(const TreeEnsemble& model, const ConstRowRef& X, TableUse use,
                              const RunOptions& options) {
    require(X.cols() == model.n_inputs(), "X: expected " + std::to_string(model.n_inputs()) +
                                              " columns, got " + std::to_string(X.cols()));
    const Index n = X.rows(), d = model.n_inputs(), k = model.n_outputs();
    TreeShapResult result;
    result.base = detail::expected_values(model);
    result.values = RowMatrixXd::Zero(n, d * k);
    result.fx.resize(n, k);
    const detail::LinearRule rule(model.max_depth());
    const detail::LeafPaths paths = detail::leaf_paths(model);
    const auto kind = detail::TableKind::values;
    const detail::TablePlan plan = detail::plan_tables(
        model, paths, kind, n, 0, std::vector<Index>(static_cast<std::size_t>(model.n_trees()), 1),
        use, options);
    detail::for_each_block(model, paths, kind, plan, n, X.topRows(0), options,
                           [&](const detail::LeafTables& tables, Index t0, Index t1, Index begin,
                               Index end) {
        detail::LinearScratch scratch;
        detail::TableScratch table_scratch;
        // Trees outer, the chunk's rows inner: a tree stays in cache for all of them (each
        // row still adds its trees in order, so the sums do not depend on the chunking).
        for (Index t = t0; t < t1; ++t) {
            if (plan.tabled[t]) {
                detail::add_rows_from_tables(model, paths, tables, t, X, begin, end, result.values,
                                             table_scratch);
                continue;
            }
            for (Index r = begin; r < end; ++r) {
                detail::linear_tree_values(model, rule, t, X.row(r).data(),
                                           result.values.row(r).data(), scratch);
            }
        }
        if (t1 < model.n_trees()) return;
        for (Index r = begin; r < end; ++r) {
            model.margin(X.row(r).data(), result.fx.row(r).data());
        }
    });
    return result;
}

TreeShapResult tree_shap_interactions(const TreeEnsemble& model, const ConstRowRef& X,
                                      TableUse use, const RunOptions& options) {
    require(X.cols() == model.n_inputs(), "X: expected " + std::to_string(model.n_inputs()) +
                                              " columns, got " + std::to_string(X.cols()));
    const Index n = X.rows(), d = model.n_inputs(), k = model.n_outputs();
    require_state_fits(bytes_of(mul_count(mul_count(n, d * d, "interactions"), k, "interactions"),
                                sizeof(double)),
                       options, "X", "the interaction values");
    const auto used = features_per_tree(model);
    TreeShapResult result;
    result.base = detail::expected_values(model);
    result.values = RowMatrixXd::Zero(n, d * d * k);
    result.fx.resize(n, k);
    const detail::LinearRule rule(model.max_depth());
    const detail::LeafPaths paths = detail::leaf_paths(model);
    const auto kind = detail::TableKind::pairs;
    std::vector<Index> walks(used.size());
    for (std::size_t t = 0; t < used.size(); ++t) walks[t] = 1 + static_cast<Index>(used[t].size());
    const detail::TablePlan plan = detail::plan_tables(model, paths, kind, n, 0, walks, use, options);
    detail::for_each_block(model, paths, kind, plan, n, X.topRows(0), options,
                           [&](const detail::LeafTables& tables, Index t0, Index t1, Index begin,
                               Index end) {
        detail::LinearScratch scratch;
        std::vector<double> pair(static_cast<std::size_t>(d * k)), diag(pair.size());
        for (Index r = begin; r < end; ++r) {
            const float* x = X.row(r).data();
            double* out = result.values.row(r).data();
            std::fill(diag.begin(), diag.end(), 0.0);
            for (Index t = t0; t < t1; ++t) {
                if (plan.tabled[t]) {
                    detail::add_pairs_from_tables(model, paths, tables, t, x, out);
                    continue;
                }
                // One walk per feature the tree splits on, with that feature's factor fixed.
                detail::linear_tree_values(model, rule, t, x, diag.data(), scratch);
                for (std::int32_t i : used[t]) {
                    std::fill(pair.begin(), pair.end(), 0.0);
                    detail::linear_tree_values(model, rule, t, x, pair.data(), scratch, i);
                    for (std::int32_t j : used[t]) {
                        if (j == i) continue;
                        for (Index o = 0; o < k; ++o) {
                            const double half = pair[j * k + o] / 2;
                            out[(i * d + j) * k + o] += half;
                            out[(i * d + i) * k + o] -= half;
                        }
                    }
                }
            }
            for (Index i = 0; i < d; ++i) {
                for (Index o = 0; o < k; ++o) out[(i * d + i) * k + o] += diag[i * k + o];
            }
            if (t1 == model.n_trees()) model.margin(x, result.fx.row(r).data());
        }
    });
    return result;
}

}  // namespace glassbox::trees
