// Path-dependent TreeSHAP and its interaction values: the recursion of Lundberg et al. (2018,
// Algorithm 2, as in shap's tree_shap_recursive), with shap's conditioning on one feature for
// the interaction values. A feature met twice on a path is unwound from its first occurrence
// and extended again with the product of both fractions.
#include "core/trees/treeshap.hpp"
#include "core/trees/treeshap_linear.hpp"

#include <vector>

namespace glassbox::trees {
namespace {

struct PathElement {
    std::int32_t feature;
    double zero_fraction;  // share of the cover that goes this way (feature not in S)
    double one_fraction;   // 1 if x goes this way (feature in S), else 0
    double weight;         // the permutation weight of the subsets of this size
};

void extend_path(PathElement* path, int depth, double zero_fraction, double one_fraction,
                 std::int32_t feature) {
    path[depth] = {feature, zero_fraction, one_fraction, depth == 0 ? 1.0 : 0.0};
    for (int i = depth - 1; i >= 0; --i) {
        path[i + 1].weight += one_fraction * path[i].weight * (i + 1) / (depth + 1.0);
        path[i].weight = zero_fraction * path[i].weight * (depth - i) / (depth + 1.0);
    }
}

void unwind_path(PathElement* path, int depth, int index) {
    const double one = path[index].one_fraction, zero = path[index].zero_fraction;
    double next = path[depth].weight;
    for (int i = depth - 1; i >= 0; --i) {
        if (one != 0) {
            const double saved = path[i].weight;
            path[i].weight = next * (depth + 1.0) / ((i + 1.0) * one);
            next = saved - path[i].weight * zero * (depth - i) / (depth + 1.0);
        } else {
            path[i].weight = path[i].weight * (depth + 1.0) / (zero * (depth - i));
        }
    }
    for (int i = index; i < depth; ++i) {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

// The sum of the weights the path would have with element `index` unwound.
double unwound_sum(const PathElement* path, int depth, int index) {
    const double one = path[index].one_fraction, zero = path[index].zero_fraction;
    double next = path[depth].weight, total = 0;
    for (int i = depth - 1; i >= 0; --i) {
        if (one != 0) {
            const double w = next * (depth + 1.0) / ((i + 1.0) * one);
            total += w;
            next = path[i].weight - w * zero * (depth - i) / (depth + 1.0);
        } else if (zero != 0) {
            total += path[i].weight / zero / ((depth - i) / (depth + 1.0));
        }
    }
    return total;
}

// One row through one tree. `condition`: 0 none, +1 feature `cond_feature` always in S (on),
// -1 never in S (off).
struct Walker {
    const TreeEnsemble& model;
    const TreeEnsembleArrays& a;
    const float* x;
    double* phi;  // (d, k) for this row
    Index k;
    std::int32_t first_output, width;
    int condition = 0;
    std::int32_t cond_feature = -1;

    void recurse(std::int32_t node, PathElement* parent_path, int depth, double parent_zero,
                 double parent_one, std::int32_t parent_feature, double cond_fraction) const {
        if (cond_fraction == 0) return;
        PathElement* path = parent_path + depth + 1;
        std::copy(parent_path, parent_path + depth + 1, path);
        if (condition == 0 || cond_feature != parent_feature) {
            extend_path(path, depth, parent_zero, parent_one, parent_feature);
        }
        const std::int32_t split = a.features[node];
        if (split < 0) {
            const double* leaf = a.values.data() + a.value_offsets[node];
            for (int i = 1; i <= depth; ++i) {
                const double scale = unwound_sum(path, depth, i) *
                                     (path[i].one_fraction - path[i].zero_fraction) * cond_fraction;
                double* out = phi + static_cast<Index>(path[i].feature) * k + first_output;
                for (std::int32_t o = 0; o < width; ++o) out[o] += scale * leaf[o];
            }
            return;
        }
        const std::int32_t hot = model.next(node, x[split]);
        const std::int32_t cold = hot == a.children_left[node] ? a.children_right[node]
                                                                : a.children_left[node];
        const double cover = a.covers[node];
        const double hot_zero = a.covers[hot] / cover, cold_zero = a.covers[cold] / cover;
        double incoming_zero = 1, incoming_one = 1;
        int index = 0;
        while (index <= depth && path[index].feature != split) ++index;
        if (index <= depth) {
            incoming_zero = path[index].zero_fraction;
            incoming_one = path[index].one_fraction;
            unwind_path(path, depth, index);
            --depth;
        }
        double hot_cond = cond_fraction, cold_cond = cond_fraction;
        if (condition != 0 && split == cond_feature) {
            if (condition > 0) {
                cold_cond = 0;
            } else {
                hot_cond *= hot_zero;
                cold_cond *= cold_zero;
            }
            --depth;
        }
        recurse(hot, path, depth + 1, hot_zero * incoming_zero, incoming_one, split, hot_cond);
        recurse(cold, path, depth + 1, cold_zero * incoming_zero, 0, split, cold_cond);
    }
};

// Path storage for a tree of depth D: the recursion keeps one copy per level.
std::size_t path_capacity(Index max_depth) {
    const std::size_t levels = static_cast<std::size_t>(max_depth) + 2;
    return levels * (levels + 1) / 2 + levels;
}

// Adds one row's path-dependent values for tree t into phi (d, k), conditioned as asked.
void tree_values(const TreeEnsemble& model, Index t, const float* x, double* phi,
                 std::vector<PathElement>& path, int condition, std::int32_t cond_feature) {
    const TreeEnsembleArrays& a = model.arrays();
    const Walker walker{model, a, x, phi, model.n_outputs(), a.tree_outputs[t], a.tree_widths[t],
                        condition, cond_feature};
    walker.recurse(static_cast<std::int32_t>(a.tree_offsets[t]), path.data(), 0, 1, 1, -1, 1);
}

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

void detail::margin(const TreeEnsemble& model, const float* x, double* out) {
    const TreeEnsembleArrays& a = model.arrays();
    std::copy(a.base_scores.begin(), a.base_scores.end(), out);
    for (Index t = 0; t < model.n_trees(); ++t) {
        const double* leaf = a.values.data() + a.value_offsets[model.leaf(t, x)];
        for (std::int32_t o = 0; o < a.tree_widths[t]; ++o) out[a.tree_outputs[t] + o] += leaf[o];
    }
}

RowMatrixXd detail::expected_values(const TreeEnsemble& model) {
    const TreeEnsembleArrays& a = model.arrays();
    const Index k = model.n_outputs();
    RowMatrixXd base(1, k);
    for (Index o = 0; o < k; ++o) base(0, o) = a.base_scores[o];
    for (Index t = 0; t < model.n_trees(); ++t) {
        const std::int32_t width = a.tree_widths[t];
        // Each node's weight is the product of cover ratios down to it (shap's expected value).
        std::vector<std::pair<std::int32_t, double>> stack{{static_cast<std::int32_t>(a.tree_offsets[t]), 1.0}};
        while (!stack.empty()) {
            const auto [node, weight] = stack.back();
            stack.pop_back();
            if (a.features[node] < 0) {
                const double* leaf = a.values.data() + a.value_offsets[node];
                for (std::int32_t o = 0; o < width; ++o) base(0, a.tree_outputs[t] + o) += weight * leaf[o];
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

TreeShapResult tree_shap_path(const TreeEnsemble& model, const ConstRowRef& X,
                              const RunOptions& options) {
    require(X.cols() == model.n_inputs(), "X: expected " + std::to_string(model.n_inputs()) +
                                              " columns, got " + std::to_string(X.cols()));
    const Index n = X.rows(), d = model.n_inputs(), k = model.n_outputs();
    TreeShapResult result;
    result.base = detail::expected_values(model);
    result.values = RowMatrixXd::Zero(n, d * k);
    result.fx.resize(n, k);
    const detail::LinearRule rule(model.max_depth());
    detail::for_each_chunk(n, options, [&](Index begin, Index end) {
        detail::LinearScratch scratch;
        for (Index r = begin; r < end; ++r) {
            for (Index t = 0; t < model.n_trees(); ++t) {
                detail::linear_tree_values(model, rule, t, X.row(r).data(),
                                           result.values.row(r).data(), scratch);
            }
            detail::margin(model, X.row(r).data(), result.fx.row(r).data());
        }
    });
    return result;
}

TreeShapResult tree_shap_interactions(const TreeEnsemble& model, const ConstRowRef& X,
                                      const RunOptions& options) {
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
    detail::for_each_chunk(n, options, [&](Index begin, Index end) {
        std::vector<PathElement> path(path_capacity(model.max_depth()));
        std::vector<double> on(static_cast<std::size_t>(d * k)), off(on.size()), diag(on.size());
        for (Index r = begin; r < end; ++r) {
            const float* x = X.row(r).data();
            double* out = result.values.row(r).data();
            std::fill(diag.begin(), diag.end(), 0.0);
            for (Index t = 0; t < model.n_trees(); ++t) {
                tree_values(model, t, x, diag.data(), path, 0, -1);
                for (std::int32_t i : used[t]) {
                    std::fill(on.begin(), on.end(), 0.0);
                    std::fill(off.begin(), off.end(), 0.0);
                    tree_values(model, t, x, on.data(), path, 1, i);
                    tree_values(model, t, x, off.data(), path, -1, i);
                    for (std::int32_t j : used[t]) {
                        if (j == i) continue;
                        for (Index o = 0; o < k; ++o) {
                            const double half = (on[j * k + o] - off[j * k + o]) / 2;
                            out[(i * d + j) * k + o] += half;
                            out[(i * d + i) * k + o] -= half;
                        }
                    }
                }
            }
            for (Index i = 0; i < d; ++i) {
                for (Index o = 0; o < k; ++o) out[(i * d + i) * k + o] += diag[i * k + o];
            }
            detail::margin(model, x, result.fx.row(r).data());
        }
    });
    return result;
}

}  // namespace glassbox::trees
