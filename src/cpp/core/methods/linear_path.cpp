#include "core/methods/linear_path.hpp"

#include "core/methods/gradient_engine.hpp"
#include "core/network/dense.hpp"

#include <algorithm>

namespace glassbox {
namespace {

const Dense* as_dense(const Network& net, Index i) {
    return dynamic_cast<const Dense*>(&net.layer(i));
}

// Read-only data shared by every worker.
struct PathSetup {
    const ConstRowRef& X;
    const ConstRowRef& baselines;
    const Quadrature& quadrature;
    RowMatrixXd& weighted_grads;  // output; workers write disjoint rows
    RowMatrixXd w1;               // first Dense, (H1 x d)
    VectorXd b1;
    RowMatrixXf w2t;              // second Dense transposed (H1 x H2): column j is a row; float
                                  // storage halves the memory traffic, sums run in double
    VectorXd b2;
    double slope;                 // activation slope left of zero
};

// Where each first-layer unit sits along one row's path.
struct RowPath {
    VectorXd a, delta;                 // z1(alpha) = a + alpha * delta
    VectorXd mask_first, mask_last;    // activation slope before / after the unit's switch
    std::vector<Index> event_begin;    // units switching at step k: event_units[begin[k], begin[k+1])
    std::vector<Index> event_units;

    void prepare(const PathSetup& s, Index row) {
        const VectorXd x = s.X.row(row).transpose().cast<double>();
        const VectorXd b = s.baselines.row(row).transpose().cast<double>();
        a.noalias() = s.w1 * b;
        a += s.b1;
        delta.noalias() = s.w1 * (x - b);
        const auto& alphas = s.quadrature.alphas;
        const Index steps = static_cast<Index>(alphas.size()), units = a.size();
        mask_first.resize(units);
        mask_last.resize(units);
        std::vector<Index> switch_step(units, steps);
        for (Index j = 0; j < units; ++j) {
            const auto active = [&](double alpha) { return a[j] + alpha * delta[j] > 0.0; };
            const bool first = active(alphas.front());
            // z1 is monotone in alpha, so the state changes at most once: find where.
            const auto it = std::partition_point(alphas.begin(), alphas.end(),
                                                 [&](double alpha) { return active(alpha) == first; });
            switch_step[j] = static_cast<Index>(it - alphas.begin());
            mask_first[j] = first ? 1.0 : s.slope;
            const bool last = switch_step[j] < steps ? !first : first;
            mask_last[j] = last ? 1.0 : s.slope;
        }
        event_begin.assign(steps + 1, 0);
        for (Index j = 0; j < units; ++j) {
            if (switch_step[j] < steps) ++event_begin[switch_step[j] + 1];
        }
        for (Index k = 0; k < steps; ++k) event_begin[k + 1] += event_begin[k];
        event_units.resize(event_begin[steps]);
        std::vector<Index> cursor(event_begin.begin(), event_begin.end() - 1);
        for (Index j = 0; j < units; ++j) {
            if (switch_step[j] < steps) event_units[cursor[switch_step[j]]++] = j;
        }
    }
};

// Per-thread state: the forward side (fill) and the backward side (reduce) each walk the rows'
// points in order, possibly a block apart, so each keeps its own RowPath.
class PathWorker {
public:
    explicit PathWorker(const PathSetup* setup) : s_(setup) {}

    // Writes the second Dense layer's output at each point.
    void fill(Index p, Index count, RowMatrixXf& z2) {
        const Index steps = static_cast<Index>(s_->quadrature.alphas.size());
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / steps, k = (p + i) % steps;
            if (row != fill_row_) {
                fill_row_ = row;
                fill_path_.prepare(*s_, row);
                start_row_state();
            }
            for (Index e = fill_path_.event_begin[k]; e < fill_path_.event_begin[k + 1]; ++e) {
                const Index j = fill_path_.event_units[e];
                const double change = fill_path_.mask_last[j] - fill_path_.mask_first[j];
                const auto column = s_->w2t.row(j).transpose().cast<double>();
                u_ += (change * fill_path_.a[j]) * column;
                v_ += (change * fill_path_.delta[j]) * column;
            }
            z2.row(i) = (u_ + s_->quadrature.alphas[k] * v_ + s_->b2).transpose().cast<float>();
        }
    }

    // Folds the gradients at the second Dense output into the row's input-gradient sum.
    void reduce(Index p, Index count, const RowMatrixXf&, const RowMatrixXf& g2,
                const RowMatrixXf&) {
        const Index steps = static_cast<Index>(s_->quadrature.alphas.size());
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / steps, k = (p + i) % steps;
            if (row != reduce_row_) {
                reduce_row_ = row;
                reduce_path_.prepare(*s_, row);
                prefix_.setZero(s_->w2t.cols());
                dots_.setZero(s_->w2t.rows());
            }
            for (Index e = reduce_path_.event_begin[k]; e < reduce_path_.event_begin[k + 1]; ++e) {
                const Index j = reduce_path_.event_units[e];
                // prefix_ sums the steps before k
                dots_[j] = s_->w2t.row(j).cast<double>().dot(prefix_.transpose());
            }
            prefix_ += s_->quadrature.weights[k] * g2.row(i).transpose().cast<double>();
            if (k == steps - 1) finish_row(row);
        }
    }

private:
    // u = W2 (m ⊙ a), v = W2 (m ⊙ delta) at the first step, accumulated in double: these values
    // decide the signs of the next activation, so they must not carry float noise.
    void start_row_state() {
        u_.setZero(s_->w2t.cols());
        v_.setZero(s_->w2t.cols());
        for (Index j = 0; j < s_->w2t.rows(); ++j) {
            const double mask = fill_path_.mask_first[j];
            if (mask == 0.0) continue;
            const auto column = s_->w2t.row(j).transpose().cast<double>();
            u_ += (mask * fill_path_.a[j]) * column;
            v_ += (mask * fill_path_.delta[j]) * column;
        }
    }

    void finish_row(Index row) {
        const RowPath& path = reduce_path_;
        const VectorXf pulled = s_->w2t * prefix_.cast<float>();
        VectorXd hidden = path.mask_last.cwiseProduct(pulled.cast<double>());
        hidden += (path.mask_first - path.mask_last).cwiseProduct(dots_);
        s_->weighted_grads.row(row) = (s_->w1.transpose() * hidden).transpose();
    }

    const PathSetup* s_;
    Index fill_row_ = -1, reduce_row_ = -1;
    RowPath fill_path_, reduce_path_;
    VectorXd u_, v_, prefix_, dots_;
};

}  // namespace

bool linear_path_applies(const Network& net) {
    if (net.n_layers() < 3) return false;
    const auto single_input = [&](Index i, int from) {
        return net.layer_inputs(i).size() == 1 && net.layer_inputs(i)[0] == from;
    };
    return as_dense(net, 0) && as_dense(net, 0)->positions() == 1 && single_input(0, -1) &&
           net.layer(1).negative_slope() &&
           single_input(1, 0) && as_dense(net, 2) && single_input(2, 1) && net.reads_only_from(2);
}

RowMatrixXd linear_path_weighted_gradients(const Network& net, const ConstRowRef& X,
                                           const ConstRowRef& baselines,
                                           const std::vector<int>& targets,
                                           const Quadrature& quadrature,
                                           const RunOptions& options) {
    require(linear_path_applies(net), "linear path shortcut: network does not open with "
                                      "Dense -> ReLU/LeakyReLU -> Dense");
    const Dense& first = *as_dense(net, 0);
    const Dense& second = *as_dense(net, 2);
    RowMatrixXd weighted_grads = RowMatrixXd::Zero(X.rows(), X.cols());
    const PathSetup setup{X,
                          baselines,
                          quadrature,
                          weighted_grads,
                          first.weight().cast<double>(),
                          first.bias().cast<double>(),
                          second.weight().transpose(),
                          second.bias().cast<double>(),
                          *net.layer(1).negative_slope()};  // ReLU-like: checked above
    const Index steps = static_cast<Index>(quadrature.alphas.size());
    for_each_gradient_block(net, X.rows(), steps, targets, options, 0,
                            [&] { return PathWorker(&setup); }, /*entry_layer=*/2);
    return weighted_grads;
}

}  // namespace glassbox
