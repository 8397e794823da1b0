// Leaf tables: the paths, the plan, the builders and the per-row reads (see the header).
#include "core/trees/treeshap_tables.hpp"
#include "core/trees/treeshap_linear.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::trees::detail {
namespace {

struct PathStep {
    std::int32_t feature;
    double zero;  // the product of the cover ratios of the path's splits on it so far
};

// Depth-first over a tree, keeping the unique features of the current path in order: the
// positions and leaf sizes, and with `store` the leaves' path features and the preorder.
void collect(const TreeEnsembleArrays& a, std::int32_t node, std::vector<PathStep>& path,
             LeafPaths& out, bool store) {
    const std::int32_t f = a.features[node];
    if (f < 0) {
        out.leaf_size[node] = static_cast<std::int32_t>(path.size());
        if (!store) return;
        out.leaves.push_back(node);
        out.leaf_start[node] = static_cast<std::int64_t>(out.features.size());
        for (const PathStep& step : path) {
            out.features.push_back(step.feature);
            out.zero.push_back(step.zero);
        }
        return;
    }
    auto at = std::find_if(path.begin(), path.end(),
                           [f](const PathStep& step) { return step.feature == f; });
    const bool fresh = at == path.end();
    const auto position = static_cast<std::int32_t>(at - path.begin());
    out.position[node] = position;
    if (store) out.preorder.push_back(node);
    if (fresh) path.push_back({f, 1.0});
    const double before = path[position].zero;
    for (const std::int32_t child : {a.children_left[node], a.children_right[node]}) {
        path[position].zero = before * a.covers[child] / a.covers[node];
        collect(a, child, path, out, store);
    }
    path[position].zero = before;
    if (fresh) path.pop_back();
}


int popcount(std::uint32_t v) { return __builtin_popcount(v); }

// Where pair p < r of m features sits among the pairs (row-major upper triangle).
Index pair_index(Index m, Index p, Index r) { return p * (2 * m - p - 1) / 2 + (r - p - 1); }

// The path-dependent rows of one leaf (values or pairs): for each disagree mask, each factor
// g_j at the rule's points, then the integrals of the products that leave one (or two) out.
void build_path_leaf(const LinearRule& rule, Index m, const double* zero, bool pairs,
                     double* out) {
    const Index q = static_cast<Index>(rule.t.size());
    const Index stride = table_stride(pairs ? TableKind::pairs : TableKind::values, m);
    std::vector<double> g(static_cast<std::size_t>(m * q)), left_out(g.size()),
        prefix(static_cast<std::size_t>(m + 1)), suffix(prefix.size());
    for (std::uint32_t mask = 0; mask < (1u << m); ++mask) {
        double* row = out + mask * stride;
        for (Index j = 0; j < m; ++j) {
            const double agree = (mask >> j) & 1u ? 0.0 : 1.0;
            for (Index i = 0; i < q; ++i) g[j * q + i] = rule.t[i] * agree + (1 - rule.t[i]) * zero[j];
        }
        // left_out[p * q + i]: prod_{j != p} g_j(t_i), by prefix and suffix products.
        for (Index i = 0; i < q; ++i) {
            prefix[0] = 1;
            for (Index j = 0; j < m; ++j) prefix[j + 1] = prefix[j] * g[j * q + i];
            suffix[m] = 1;
            for (Index j = m; j-- > 0;) suffix[j] = suffix[j + 1] * g[j * q + i];
            for (Index p = 0; p < m; ++p) left_out[p * q + i] = prefix[p] * suffix[p + 1];
        }
        auto weight = [&](Index j) { return ((mask >> j) & 1u ? 0.0 : 1.0) - zero[j]; };
        for (Index p = 0; p < m; ++p) {
            double integral = 0;
            for (Index i = 0; i < q; ++i) integral += rule.w[i] * left_out[p * q + i];
            row[p] = weight(p) * integral;
        }
        if (!pairs) continue;
        // Pairs p < r after the m values: prod_{j != p, r} g_j by prefix and suffix products
        // over the factors other than p (no division: a factor may be zero).
        double* pair = row + m;
        for (Index p = 0; p < m; ++p) {
            for (Index r = p + 1; r < m; ++r) pair[pair_index(m, p, r)] = 0;
            for (Index i = 0; i < q; ++i) {
                prefix[0] = 1;
                for (Index j = 0; j < m; ++j) {
                    prefix[j + 1] = prefix[j] * (j == p ? 1.0 : g[j * q + i]);
                }
                double after = 1;  // prod_{j > r, j != p} g_j
                for (Index r = m; r-- > p + 1;) {
                    pair[pair_index(m, p, r)] += rule.w[i] * prefix[r] * after;
                    after *= g[r * q + i];
                }
            }
            for (Index r = p + 1; r < m; ++r) {
                pair[pair_index(m, p, r)] *= weight(p) * weight(r) / 2;
            }
        }
    }
}

// The interventional rows of one leaf from its background counts per mask.
void build_interventional_leaf(Index m, const double* counts, double total,
                               const std::vector<double>& weights, Index stride_w,
                               double* out) {
    const std::uint32_t full = (1u << m) - 1;
    for (std::uint32_t x_mask = 0; x_mask <= full; ++x_mask) {
        double* row = out + x_mask * m;
        std::fill(row, row + m, 0.0);
        const int b = popcount(x_mask);
        const std::uint32_t free = full & ~x_mask;
        double taken_from_z = 0;  // the same for every feature of x's mask
        // Every submask of `free` (the empty one last).
        for (std::uint32_t z_mask = free;; z_mask = (z_mask - 1) & free) {
            const double c = counts[z_mask];
            if (c != 0) {
                const int na = popcount(z_mask);
                if (na > 0) {
                    const double share = c * weights[(na - 1) * stride_w + b];
                    for (std::uint32_t bits = z_mask; bits; bits &= bits - 1) {
                        row[__builtin_ctz(bits)] += share;
                    }
                }
                if (b > 0) taken_from_z += c * weights[na * stride_w + b - 1];
            }
            if (z_mask == 0) break;
        }
        for (std::uint32_t bits = x_mask; bits; bits &= bits - 1) {
            row[__builtin_ctz(bits)] -= taken_from_z;
        }
        for (Index p = 0; p < m; ++p) row[p] /= total;
    }
}

}  // namespace

// s! t! / (s + t + 1)! at [s * stride + t] for s + t < stride.
std::vector<double> pair_weights(Index stride) {
    std::vector<double> w(static_cast<std::size_t>(stride * stride), 0.0);
    for (Index s = 0; s < stride; ++s) {
        for (Index t = 0; s + t < stride; ++t) {
            w[s * stride + t] =
                std::exp(std::lgamma(s + 1.0) + std::lgamma(t + 1.0) - std::lgamma(s + t + 2.0));
        }
    }
    return w;
}

Index table_stride(TableKind kind, Index m) {
    return kind == TableKind::pairs ? m * (m + 1) / 2 : m;
}

LeafPaths leaf_paths(const TreeEnsemble& model) {
    const TreeEnsembleArrays& a = model.arrays();
    const std::size_t nodes = a.features.size();
    LeafPaths out;
    out.position.assign(nodes, 0);
    out.leaf_start.assign(nodes, -1);
    out.leaf_size.assign(nodes, 0);
    out.tree_max_size.assign(static_cast<std::size_t>(model.n_trees()), 0);
    std::vector<PathStep> path;
    std::vector<std::int32_t> local(static_cast<std::size_t>(a.n_features), -1);
    out.tree_feature_start.push_back(0);
    out.tree_preorder_start.push_back(0);
    out.tree_leaf_start.push_back(0);
    for (Index t = 0; t < model.n_trees(); ++t) {
        const std::size_t first = out.features.size();
        const auto root = static_cast<std::int32_t>(a.tree_offsets[t]);
        collect(a, root, path, out, false);
        for (std::int64_t i = a.tree_offsets[t]; i < a.tree_offsets[t + 1]; ++i) {
            out.tree_max_size[t] = std::max(out.tree_max_size[t], out.leaf_size[i]);
        }
        // Only trees that may get tables keep their leaves' paths (a deep forest's would be
        // its leaves times their depths).
        if (out.tree_max_size[t] <= kMaxTableFeatures) collect(a, root, path, out, true);
        const auto start = static_cast<std::size_t>(out.tree_feature_start.back());
        for (std::size_t i = first; i < out.features.size(); ++i) {
            std::int32_t& id = local[out.features[i]];
            if (id < 0) {
                id = static_cast<std::int32_t>(out.tree_features.size() - start);
                out.tree_features.push_back(out.features[i]);
            }
            out.local.push_back(id);
        }
        for (std::size_t i = start; i < out.tree_features.size(); ++i) local[out.tree_features[i]] = -1;
        out.tree_feature_start.push_back(static_cast<std::int64_t>(out.tree_features.size()));
        out.tree_preorder_start.push_back(static_cast<std::int64_t>(out.preorder.size()));
        out.tree_leaf_start.push_back(static_cast<std::int64_t>(out.leaves.size()));
    }
    return out;
}

TablePlan plan_tables(const TreeEnsemble& model, const LeafPaths& paths, TableKind kind,
                      Index rows, Index background, const std::vector<Index>& uses,
                      TableUse use, const RunOptions& options) {
    const TreeEnsembleArrays& a = model.arrays();
    const auto block_bytes = static_cast<double>(options.memory_budget);
    TablePlan plan;
    plan.tabled.assign(static_cast<std::size_t>(model.n_trees()), 0);
    double block = 0;
    for (Index t = 0; t < model.n_trees(); ++t) {
        if (use == TableUse::never || paths.tree_max_size[t] > kMaxTableFeatures) continue;
        // Rough operation counts: building the tables and reading them for every row, against
        // the per-row walks they replace.
        double entries = 0, build = 0, reads = 0, nodes = 0;
        for (std::int64_t i = a.tree_offsets[t]; i < a.tree_offsets[t + 1]; ++i) {
            nodes += 1;
            if (a.features[i] >= 0) continue;
            const double m = paths.leaf_size[i], masks = std::ldexp(1.0, paths.leaf_size[i]);
            const double stride = static_cast<double>(table_stride(kind, paths.leaf_size[i]));
            entries += masks * stride;
            reads += stride;
            build += kind == TableKind::interventional ? std::pow(3.0, m) * (1 + m / 2)
                                                       : masks * stride * (m + 1) * (m + 2) / 2;
        }
        if (kind == TableKind::interventional) build += static_cast<double>(background) * nodes;
        const double tabled = build + static_cast<double>(rows) * (2 * nodes + reads);
        const double depth = model.max_depth() + 1.0;
        const double walks =
            kind == TableKind::interventional
                ? static_cast<double>(rows) * static_cast<double>(background) * 4 * depth
                : static_cast<double>(rows) * static_cast<double>(uses[t]) * nodes * depth * 4;
        const double bytes = entries * sizeof(double);
        if ((use == TableUse::automatic && tabled >= walks) || bytes > block_bytes) continue;
        plan.tabled[t] = 1;
        if (block + bytes > block_bytes) {
            plan.block_ends.push_back(t);
            block = 0;
        }
        block += bytes;
    }
    plan.block_ends.push_back(model.n_trees());
    return plan;
}

LeafTables build_tables(const TreeEnsemble& model, const LeafPaths& paths, TableKind kind,
                        const TablePlan& plan, Index t0, Index t1, const ConstRowRef& background,
                        const RunOptions& options) {
    const TreeEnsembleArrays& a = model.arrays();
    LeafTables tables;
    tables.first_node = a.tree_offsets[t0];
    tables.leaf_offset.assign(static_cast<std::size_t>(a.tree_offsets[t1] - tables.first_node),
                              -1);
    std::int64_t size = 0;
    int max_size = 0;
    for (Index t = t0; t < t1; ++t) {
        if (!plan.tabled[t]) continue;
        max_size = std::max(max_size, paths.tree_max_size[t]);
        for (std::int64_t i = a.tree_offsets[t]; i < a.tree_offsets[t + 1]; ++i) {
            if (a.features[i] >= 0) continue;
            tables.leaf_offset[i - tables.first_node] = size;
            size += (std::int64_t{1} << paths.leaf_size[i]) *
                    table_stride(kind, paths.leaf_size[i]);
        }
    }
    tables.values.assign(static_cast<std::size_t>(size), 0.0);
    std::vector<LinearRule> rules;
    for (int m = 0; m <= max_size; ++m) rules.emplace_back(m);
    const std::vector<double> weights = pair_weights(max_size + 1);
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team_size(options.n_threads, t1 - t0))
    for (Index t = t0; t < t1; ++t) {
        if (!plan.tabled[t]) continue;
        errors.run([&] {
            check_interrupt(options);
            const auto root = static_cast<std::int32_t>(a.tree_offsets[t]);
            // Interventional: the background rows per leaf and mask.
            std::vector<double> counts;
            std::vector<std::int64_t> count_at;
            if (kind == TableKind::interventional) {
                count_at.assign(static_cast<std::size_t>(a.tree_offsets[t + 1] - root), -1);
                std::int64_t n_counts = 0;
                for (std::int64_t i = root; i < a.tree_offsets[t + 1]; ++i) {
                    if (a.features[i] >= 0) continue;
                    count_at[i - root] = n_counts;
                    n_counts += std::int64_t{1} << paths.leaf_size[i];
                }
                counts.assign(static_cast<std::size_t>(n_counts), 0.0);
                auto count = [&](std::int32_t leaf, std::uint32_t mask) {
                    counts[count_at[leaf - root] + mask] += 1;
                };
                for (Index j = 0; j < background.rows(); ++j) {
                    walk_masks(model, paths, root, 0u, background.row(j).data(), count);
                }
            }
            for (std::int64_t i = root; i < a.tree_offsets[t + 1]; ++i) {
                if (a.features[i] >= 0) continue;
                const Index m = paths.leaf_size[i];
                double* out = tables.values.data() + tables.leaf_offset[i - tables.first_node];
                const double* zero = paths.zero.data() + paths.leaf_start[i];
                if (kind == TableKind::interventional) {
                    build_interventional_leaf(m, counts.data() + count_at[i - root],
                                              static_cast<double>(background.rows()), weights,
                                              max_size + 1, out);
                } else {
                    build_path_leaf(rules[m], m, zero, kind == TableKind::pairs, out);
                }
            }
        });
    }
    errors.rethrow();
    return tables;
}

void add_pairs_from_tables(const TreeEnsemble& model, const LeafPaths& paths,
                           const LeafTables& tables, Index t, const float* x, double* out) {
    const TreeEnsembleArrays& a = model.arrays();
    const Index d = model.n_inputs(), k = model.n_outputs();
    const std::int32_t first = a.tree_outputs[t], width = a.tree_widths[t];
    auto at_leaf = [&](std::int32_t leaf, std::uint32_t mask) {
        const Index m = paths.leaf_size[leaf];
        if (m == 0) return;
        const double* value = a.values.data() + a.value_offsets[leaf];
        const std::int32_t* features = paths.features.data() + paths.leaf_start[leaf];
        const double* row = tables.rows_of(leaf) + mask * table_stride(TableKind::pairs, m);
        // the values on the diagonal, then each pair p < r as phi_pr and phi_rp, both taken off
        // the diagonal (phi_ii = phi_i - sum_{j != i} phi_ij)
        for (Index p = 0; p < m; ++p) {
            const Index fp = features[p];
            for (std::int32_t o = 0; o < width; ++o) {
                out[(fp * d + fp) * k + first + o] += row[p] * value[o];
            }
        }
        const double* pair = row + m;
        for (Index p = 0; p < m; ++p) {
            const Index fp = features[p];
            for (Index r = p + 1; r < m; ++r, ++pair) {
                const Index fr = features[r];
                for (std::int32_t o = 0; o < width; ++o) {
                    const double share = *pair * value[o];
                    out[(fp * d + fr) * k + first + o] += share;
                    out[(fr * d + fp) * k + first + o] += share;
                    out[(fp * d + fp) * k + first + o] -= share;
                    out[(fr * d + fr) * k + first + o] -= share;
                }
            }
        }
    };
    walk_masks(model, paths, static_cast<std::int32_t>(a.tree_offsets[t]), 0u, x, at_leaf);
}

void add_rows_from_tables(const TreeEnsemble& model, const LeafPaths& paths,
                          const LeafTables& tables, Index t, const ConstRowRef& X, Index begin,
                          Index end, RowMatrixXd& out, TableScratch& scratch) {
    const TreeEnsembleArrays& a = model.arrays();
    const Index k = model.n_outputs(), rows = end - begin;
    const std::int32_t first = a.tree_outputs[t], width = a.tree_widths[t];
    const std::int64_t root = a.tree_offsets[t];
    const std::int64_t leaf0 = paths.tree_leaf_start[t];
    const Index n_leaves = paths.tree_leaf_start[t + 1] - leaf0;
    const std::int64_t feature0 = paths.tree_feature_start[t];
    const Index u = paths.tree_feature_start[t + 1] - feature0;
    // Each row's disagree mask at every leaf: the nodes in preorder pass theirs down.
    scratch.node_masks.resize(static_cast<std::size_t>(a.tree_offsets[t + 1] - root));
    scratch.leaf_masks.resize(static_cast<std::size_t>(n_leaves * rows));
    std::uint32_t* masks = scratch.node_masks.data() - root;  // indexed by global node
    for (Index r = 0; r < rows; ++r) {
        const float* x = X.row(begin + r).data();
        masks[root] = 0;
        for (std::int64_t i = paths.tree_preorder_start[t]; i < paths.tree_preorder_start[t + 1];
             ++i) {
            const std::int32_t node = paths.preorder[i];
            const std::int32_t hot = model.next(node, x[a.features[node]]);
            const std::int32_t left = a.children_left[node], right = a.children_right[node];
            const std::uint32_t bit = 1u << paths.position[node];
            masks[left] = masks[node] | (hot == left ? 0u : bit);
            masks[right] = masks[node] | (hot == right ? 0u : bit);
        }
        for (Index l = 0; l < n_leaves; ++l) {
            scratch.leaf_masks[l * rows + r] = masks[paths.leaves[leaf0 + l]];
        }
    }
    // Leaf by leaf: sums[(j * width + o) * rows + r] for the tree's feature j.
    scratch.sums.assign(static_cast<std::size_t>(u * width * rows), 0.0);
    for (Index l = 0; l < n_leaves; ++l) {
        const std::int32_t leaf = paths.leaves[leaf0 + l];
        const Index m = paths.leaf_size[leaf];
        if (m == 0) continue;
        const double* table = tables.rows_of(leaf);
        const double* value = a.values.data() + a.value_offsets[leaf];
        const std::int32_t* local = paths.local.data() + paths.leaf_start[leaf];
        const std::uint32_t* leaf_masks = scratch.leaf_masks.data() + l * rows;
        for (Index p = 0; p < m; ++p) {
            for (std::int32_t o = 0; o < width; ++o) {
                double* sums = scratch.sums.data() + (local[p] * width + o) * rows;
                const double v = value[o];
                for (Index r = 0; r < rows; ++r) sums[r] += table[leaf_masks[r] * m + p] * v;
            }
        }
    }
    for (Index j = 0; j < u; ++j) {
        const Index column = paths.tree_features[feature0 + j] * k + first;
        for (std::int32_t o = 0; o < width; ++o) {
            const double* sums = scratch.sums.data() + (j * width + o) * rows;
            for (Index r = 0; r < rows; ++r) out(begin + r, column + o) += sums[r];
        }
    }
}

}  // namespace glassbox::trees::detail
