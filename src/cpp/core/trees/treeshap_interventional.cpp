// Interventional TreeSHAP: for one row x and one background row z, the game
// v(S) = f(x_S, z_S-bar) of a tree is a sum over its leaves of v_leaf * [A subset of S,
// B disjoint from S], where A (B) are the features whose split sends x (z) the way to the leaf
// while the other row goes elsewhere. Such a game gives each feature of A
// v_leaf * (|A|-1)! |B|! / (|A|+|B|)! and each feature of B -v_leaf * |A|! (|B|-1)! / (|A|+|B|)!,
// so one walk over the nodes where x or z may go, returning the leaves' sums of both weights,
// gives every feature's value (shap's tree_shap_indep computes the same sums iteratively).
#include "core/trees/treeshap.hpp"
#include "core/trees/treeshap_tables.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace glassbox::trees {
namespace {

struct PairWalker {
    const TreeEnsemble& model;
    const TreeEnsembleArrays& a;
    const std::vector<double>& weights;  // weights[s * stride + t] = s! t! / (s + t + 1)!
    Index stride;
    const float* x;
    const float* z;
    double* phi;  // (d, k) of this pair
    Index k;
    std::int32_t first_output, width;
    std::vector<std::uint8_t>& side;  // per feature: 0 free, 1 taken from x, 2 taken from z
    std::vector<double>& sums;        // 4 * width per level: the branches' pos / neg sums

    // Adds into pos / neg (width each) the sums over the leaves below `node` of v * weight for
    // a feature of A (pos) and of B (neg), with `na` / `nb` features already in A / B.
    void walk(std::int32_t node, int level, int na, int nb, double* pos, double* neg) const {
        std::int32_t f = a.features[node];
        std::int32_t to_x = 0, to_z = 0;
        // Down the nodes where one child is all the pair can reach.
        for (; f >= 0; f = a.features[node]) {
            to_x = side[f] == 2 ? -1 : model.next(node, x[f]);
            to_z = side[f] == 1 ? -1 : model.next(node, z[f]);
            if (to_z < 0 || to_x == to_z) {
                node = to_x;
            } else if (to_x < 0) {
                node = to_z;
            } else {
                break;
            }
        }
        if (f < 0) {
            const double* leaf = a.values.data() + a.value_offsets[node];
            if (na > 0) {
                const double w = weights[(na - 1) * stride + nb];
                for (std::int32_t o = 0; o < width; ++o) pos[o] += w * leaf[o];
            }
            if (nb > 0) {
                const double w = weights[na * stride + nb - 1];
                for (std::int32_t o = 0; o < width; ++o) neg[o] += w * leaf[o];
            }
            return;
        }
        double* x_pos = sums.data() + static_cast<std::size_t>(level) * 4 * width;
        double* x_neg = x_pos + width;
        double* z_pos = x_neg + width;
        double* z_neg = z_pos + width;
        std::fill(x_pos, x_pos + 4 * width, 0.0);
        side[f] = 1;
        walk(to_x, level + 1, na + 1, nb, x_pos, x_neg);
        side[f] = 2;
        walk(to_z, level + 1, na, nb + 1, z_pos, z_neg);
        side[f] = 0;
        double* out = phi + static_cast<Index>(f) * k + first_output;
        for (std::int32_t o = 0; o < width; ++o) {
            out[o] += x_pos[o] - z_neg[o];
            pos[o] += x_pos[o] + z_pos[o];
            neg[o] += x_neg[o] + z_neg[o];
        }
    }
};


double sigmoid(double m) { return 1.0 / (1.0 + std::exp(-m)); }

}  // namespace

TreeShapResult tree_shap_interventional(const TreeEnsemble& model, const ConstRowRef& X,
                                        const ConstRowRef& background, bool probabilities,
                                        TableUse use, const RunOptions& options) {
    const Index n = X.rows(), d = model.n_inputs(), k = model.n_outputs(), m = background.rows();
    require(X.cols() == d, "X: expected " + std::to_string(d) + " columns, got " +
                               std::to_string(X.cols()));
    require(background.cols() == d, "background: expected " + std::to_string(d) +
                                        " columns, got " + std::to_string(background.cols()));
    require(m > 0, "background: expected at least one row");
    const TreeLink link = model.arrays().link;
    require(!probabilities || link != TreeLink::softmax,
            "output: 'probabilities' with interventional TreeSHAP supports a logistic or identity "
            "link, not softmax; use output='raw'");
    const bool logistic = probabilities && link == TreeLink::logistic;

    const TreeEnsembleArrays& a = model.arrays();
    const Index stride = model.max_depth() + 1;
    const std::vector<double> weights = detail::pair_weights(model.max_depth() + 1);
    RowMatrixXd bg_margin(m, k);
    for (Index j = 0; j < m; ++j) {
        model.margin(background.row(j).data(), bg_margin.row(j).data());
    }
    TreeShapResult result;
    result.base = RowMatrixXd::Zero(1, k);
    for (Index j = 0; j < m; ++j) {
        for (Index o = 0; o < k; ++o) {
            result.base(0, o) += logistic ? sigmoid(bg_margin(j, o)) : bg_margin(j, o);
        }
    }
    result.base /= static_cast<double>(m);
    result.values = RowMatrixXd::Zero(n, d * k);
    result.fx.resize(n, k);

    // Leaf tables average over the background for every row at once; shap's probability
    // rescaling depends on each pair's margins, so it keeps the per-pair walks.
    const detail::LeafPaths paths = detail::leaf_paths(model);
    const auto kind = detail::TableKind::interventional;
    detail::TablePlan plan = detail::plan_tables(
        model, paths, kind, n, m, std::vector<Index>(static_cast<std::size_t>(model.n_trees()), 1),
        use, options);
    if (logistic) {
        std::fill(plan.tabled.begin(), plan.tabled.end(), 0);
        plan.block_ends = {model.n_trees()};
    }
    detail::for_each_block(model, paths, kind, plan, n, background, options,
                           [&](const detail::LeafTables& tables, Index t0, Index t1, Index begin,
                               Index end) {
        const Index rows = end - begin;
        detail::TableScratch table_scratch;
        std::vector<std::uint8_t> side(static_cast<std::size_t>(d), 0);
        const std::size_t width_max = static_cast<std::size_t>(k);
        std::vector<double> sums(static_cast<std::size_t>(model.max_depth() + 2) * 4 * width_max);
        std::vector<double> pos(width_max), neg(width_max);
        // per row of the chunk: its margin, the walks' sums over the background, and
        // (logistic) one background row's values
        RowMatrixXd fx(rows, k), walked = RowMatrixXd::Zero(rows, d * k),
                                 pair = RowMatrixXd::Zero(logistic ? rows : 0, d * k);
        for (Index r = begin; r < end; ++r) {
            model.margin(X.row(r).data(), fx.row(r - begin).data());
        }
        const bool walks = std::find(plan.tabled.begin() + t0, plan.tabled.begin() + t1, 0) !=
                           plan.tabled.begin() + t1;
        for (Index j = 0; j < m && walks; ++j) {
            // Trees outer, the chunk's rows inner: a tree stays in cache for all of them (each
            // row still adds its (background row, tree) pairs in the same order).
            for (Index t = t0; t < t1; ++t) {
                if (plan.tabled[t]) continue;
                for (Index r = begin; r < end; ++r) {
                    double* target = logistic ? pair.row(r - begin).data()
                                              : walked.row(r - begin).data();
                    const PairWalker walker{model,
                                            a,
                                            weights,
                                            stride,
                                            X.row(r).data(),
                                            background.row(j).data(),
                                            target,
                                            k,
                                            a.tree_outputs[t],
                                            a.tree_widths[t],
                                            side,
                                            sums};
                    walker.walk(static_cast<std::int32_t>(a.tree_offsets[t]), 0, 0, 0, pos.data(),
                                neg.data());
                }
            }
            if (!logistic) continue;
            // shap's rescaling of the margin attributions to the probability difference (the
            // slope of the sigmoid where the margins coincide, its limit).
            for (Index r = 0; r < rows; ++r) {
                double* phi = walked.row(r).data();
                double* values = pair.row(r).data();
                for (Index o = 0; o < k; ++o) {
                    const double fr = fx(r, o), fz = bg_margin(j, o), gap = fr - fz;
                    const double scale = gap != 0 ? (sigmoid(fr) - sigmoid(fz)) / gap
                                                  : sigmoid(fz) * (1 - sigmoid(fz));
                    for (Index f = 0; f < d; ++f) phi[f * k + o] += scale * values[f * k + o];
                }
                std::fill(values, values + d * k, 0.0);
            }
        }
        for (Index r = begin; r < end && walks; ++r) {
            result.values.row(r) += walked.row(r - begin) / static_cast<double>(m);
        }
        for (Index t = t0; t < t1; ++t) {
            if (plan.tabled[t]) {
                detail::add_rows_from_tables(model, paths, tables, t, X, begin, end, result.values,
                                             table_scratch);
            }
        }
        for (Index r = begin; r < end; ++r) {
            if (t1 < model.n_trees()) break;
            for (Index o = 0; o < k; ++o) {
                const double margin = fx(r - begin, o);
                result.fx(r, o) = logistic ? sigmoid(margin) : margin;
            }
        }
    });
    return result;
}

}  // namespace glassbox::trees
