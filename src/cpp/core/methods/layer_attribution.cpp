#include "core/methods/layer_attribution.hpp"

#include "core/inspect/activations.hpp"
#include "core/methods/gradient_engine.hpp"

#include <algorithm>

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

namespace {

// One thread's running sum of conductance: the previous point's layer values and gradients
// (consecutive points of a row may sit in different blocks, which a thread runs in order).
struct ConductanceWorker {
    const RowMatrixXf* start;
    const RowMatrixXf* span;
    const Quadrature* quadrature;
    RowMatrixXd* sums;
    Index steps;  // points per row
    Index previous_row = -1;
    VectorXf previous_y, previous_g;

    void fill(Index p, Index count, RowMatrixXf& entry) const {
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / steps;
            const float alpha = static_cast<float>(quadrature->alphas[(p + i) % steps]);
            entry.row(i) = start->row(row) + alpha * span->row(row);
        }
    }
    void reduce(Index p, Index count, const RowMatrixXf& y, const RowMatrixXf& g) {
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / steps;
            if (row == previous_row) {
                sums->row(row) += (previous_g.cwiseProduct(y.row(i).transpose() - previous_y))
                                      .cast<double>()
                                      .transpose();
            }
            previous_row = row;
            previous_y = y.row(i).transpose();
            previous_g = g.row(i).transpose();
        }
    }
};

}  // namespace

Attribution layer_conductance(const Network& net, const ConstRowRef& X,
                              const ConstRowRef& baselines, const PassPoints& path, Index layer,
                              const std::vector<int>& targets, const Quadrature& quadrature,
                              const RunOptions& options) {
    require(baselines.rows() == X.rows() && baselines.cols() == X.cols(),
            "baselines: expected one row per row of X");
    require(layer >= 0 && layer < net.n_layers(), "layer: index out of range");
    require(layer > path.entry_layer && path.seed_layer < 0,
            "layer: conductance needs a layer after the path's entry layer");
    const Index steps = static_cast<Index>(quadrature.alphas.size());
    require(steps >= 2, "n_steps: conductance needs at least 1 step (2 path points)");
    require(std::is_sorted(quadrature.alphas.begin(), quadrature.alphas.end()),
            "conductance: the quadrature's points must be in ascending order");
    mul_count(X.rows(), steps, "n_steps");
    const RowMatrixXf end = entry_values(net, X, path, options);
    const RowMatrixXf start = entry_values(net, baselines, path, options);
    const RowMatrixXf span = end - start;
    require(span.allFinite(), "baselines: X minus the baselines overflows float32");
    const Index width = net.layer_size(layer);
    RowMatrixXd sums = RowMatrixXd::Zero(X.rows(), width);
    PassPoints at_layer;
    at_layer.entry_layer = layer;
    const Index entry_width = net.entry_width(path);
    run_point_blocks(
        net, X.rows(), steps, targets, options, entry_width * sizeof(float),
        [&] { return ConductanceWorker{&start, &span, &quadrature, &sums, steps, -1, {}, {}}; },
        [&](ConductanceWorker& worker, Tape& tape, const RowMatrixXf& seed, Index p, Index count) {
            RowMatrixXf& values = path.inner_entry() ? tape.entry : tape.input;
            values.resize(count, entry_width);
            worker.fill(p, count, values);
            if (path.inner_entry()) {
                tape.input.resize(count, net.n_inputs());
                for (Index i = 0; i < count; ++i) tape.input.row(i) = X.row((p + i) / steps);
                net.forward(tape, path, values);
            } else {
                net.forward(tape);
            }
            // the gradient at the layer's output: the layers after it are enough
            net.backward(tape, seed, at_layer, tape.activations[layer]);
            worker.reduce(p, count, tape.activations[layer], tape.input_grad);
        });
    Attribution out;
    out.values = sums.cast<float>();
    out.base_values = seeded_values(net, X, start, path, targets, options);
    const VectorXd f_end = seeded_values(net, X, end, path, targets, options);
    out.delta = sums.rowwise().sum() - (f_end - out.base_values);
    return out;
}

}  // namespace glassbox
