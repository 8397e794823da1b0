#include "core/methods/layer_attribution.hpp"

#include "core/inspect/activations.hpp"
#include "core/methods/gradient_engine.hpp"

namespace glassbox {
namespace {

// The seeded value (the target output, or a neuron of the seed layer) at `values` entering
// where `points` says, for each row, with the rows' network inputs X.
VectorXd seeded_values(const Network& net, const ConstRowRef& X, const RowMatrixXf& values,
                       const PassPoints& points, const std::vector<int>& targets,
                       const RunOptions& options) {
    VectorXd out(X.rows());
    for_each_gradient_block(
        net, X.rows(), 1, targets, options, 0,
        lambda_worker(
            [&](Index p, Index count, RowMatrixXf& entry) { entry = values.middleRows(p, count); },
            [&](Index p, Index count, const RowMatrixXf&, const RowMatrixXf&,
                const RowMatrixXf& seeded) {
                for (Index i = 0; i < count; ++i) out[p + i] = seeded(i, targets[p + i]);
            }),
        points, &X);
    return out;
}

}  // namespace

RowMatrixXf entry_values(const Network& net, const ConstRowRef& X, const PassPoints& points,
                         const RunOptions& options) {
    net.entry_width(points);  // checks the indices
    Index source = points.entry_layer;
    if (points.inner_entry() && points.entry_slot >= 0) {
        source = net.layer_inputs(points.entry_layer)[points.entry_slot];
    }
    if (source < 0) return X;
    return inspect::layer_features(net, X, source, inspect::Pool::none, options);
}

Attribution path_integrated_gradients(const Network& net, const ConstRowRef& X,
                                      const ConstRowRef& baselines, const PassPoints& points,
                                      const std::vector<int>& targets,
                                      const Quadrature& quadrature, const RunOptions& options) {
    require(baselines.rows() == X.rows() && baselines.cols() == X.cols(),
            "baselines: expected one row per row of X");
    const Index steps = static_cast<Index>(quadrature.alphas.size());
    mul_count(X.rows(), steps, "n_steps");
    const RowMatrixXf end = entry_values(net, X, points, options);
    const RowMatrixXf start = entry_values(net, baselines, points, options);
    const RowMatrixXf span = end - start;
    require(span.allFinite(), "baselines: the entry's values at X minus those at the baselines "
                              "overflow float32; use baselines nearer X");
    RowMatrixXd weighted = RowMatrixXd::Zero(X.rows(), span.cols());
    for_each_gradient_block(
        net, X.rows(), steps, targets, options, 0,
        lambda_worker(
            [&](Index p, Index count, RowMatrixXf& entry) {
                for (Index i = 0; i < count; ++i) {
                    const Index row = (p + i) / steps;
                    const float alpha = static_cast<float>(quadrature.alphas[(p + i) % steps]);
                    entry.row(i) = start.row(row) + alpha * span.row(row);
                }
            },
            [&](Index p, Index count, const RowMatrixXf&, const RowMatrixXf& grads,
                const RowMatrixXf&) {
                for (Index i = 0; i < count; ++i) {
                    weighted.row((p + i) / steps) +=
                        quadrature.weights[(p + i) % steps] * grads.row(i).cast<double>();
                }
            }),
        points, &X);
    Attribution out;
    out.values = (span.cast<double>().cwiseProduct(weighted)).cast<float>();
    out.base_values = seeded_values(net, X, start, points, targets, options);
    const VectorXd f_end = seeded_values(net, X, end, points, targets, options);
    out.delta = out.values.cast<double>().rowwise().sum() - (f_end - out.base_values);
    return out;
}

Attribution layer_gradient_x_activation(const Network& net, const ConstRowRef& X,
                                        const PassPoints& points,
                                        const std::vector<int>& targets, bool gradient_only,
                                        const RunOptions& options) {
    const RowMatrixXf at = entry_values(net, X, points, options);
    Attribution out;
    out.values.resize(at.rows(), at.cols());
    for_each_gradient_block(
        net, X.rows(), 1, targets, options, 0,
        lambda_worker(
            [&](Index p, Index count, RowMatrixXf& entry) { entry = at.middleRows(p, count); },
            [&](Index p, Index count, const RowMatrixXf& entry, const RowMatrixXf& grads,
                const RowMatrixXf&) {
                if (gradient_only) {
                    out.values.middleRows(p, count) = grads;
                } else {
                    out.values.middleRows(p, count) = grads.cwiseProduct(entry);
                }
            }),
        points, &X);
    return out;
}

}  // namespace glassbox
