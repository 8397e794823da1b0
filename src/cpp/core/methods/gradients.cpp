#include "core/methods/gradients.hpp"

#include "core/methods/gradient_engine.hpp"
#include "core/methods/linear_path.hpp"
#include "core/sampling/counter_rng.hpp"

#include <cmath>
#include <limits>

namespace glassbox {

void check_targets(const Network& net, Index n_rows, const std::vector<int>& targets) {
    check_targets(n_rows, targets, net.n_outputs(), "outputs");
}

void check_targets(Index n_rows, const std::vector<int>& targets, Index width, const char* what) {
    require(static_cast<Index>(targets.size()) == n_rows,
            "target: expected one target per row (" + std::to_string(n_rows) + "), got " +
                std::to_string(targets.size()));
    for (int t : targets) {
        require(t >= 0 && t < width,
                "target: " + std::to_string(t) + " is out of range for " +
                    (std::string(what) == "outputs" ? "a model with " : "a layer of ") +
                    std::to_string(width) + " " + what);
    }
}

namespace {

// f_target(row) for each row of X, in double.
VectorXd target_outputs(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
                        const RunOptions& options) {
    RowMatrixXf outputs;
    net.predict(X, outputs, options);
    VectorXd picked(X.rows());
    for (Index i = 0; i < X.rows(); ++i) picked[i] = outputs(i, targets[i]);
    return picked;
}

// sum(values) - (f(x) - f(reference)) per row, in double.
VectorXd completeness_gap(const RowMatrixXf& values, const VectorXd& f_inputs,
                          const VectorXd& f_references) {
    return values.cast<double>().rowwise().sum() - (f_inputs - f_references);
}

void check_finite_option(double value, const char* name) {
    require(std::isfinite(value) && value >= 0.0,
            std::string(name) + ": must be a finite non-negative number");
}

// The noise of `stdev` added to X must stay a finite float32: the normal draws stay within
// 9 standard deviations (53-bit uniforms), so |X| + 9 stdev must not exceed FLT_MAX.
void check_noise_fits(const ConstRowRef& X, double stdev) {
    const double largest = X.size() ? static_cast<double>(X.cwiseAbs().maxCoeff()) : 0.0;
    const double limit = static_cast<double>(std::numeric_limits<float>::max());
    require(largest + 9.0 * stdev <= limit,
            "stdev: noise of " + std::to_string(stdev) + " added to inputs up to " +
                std::to_string(largest) + " overflows float32 (at most " +
                std::to_string((limit - largest) / 9.0) + ")");
}

}  // namespace

RowMatrixXf input_gradients(const Network& net, const ConstRowRef& X,
                            const std::vector<int>& targets, bool take_abs,
                            const RunOptions& options, VectorXd* target_values) {
    RowMatrixXf result(X.rows(), X.cols());
    if (target_values) target_values->resize(X.rows());
    for_each_gradient_block(
        net, X.rows(), 1, targets, options, 0,
        lambda_worker(
        [&](Index p, Index count, RowMatrixXf& points) { points = X.middleRows(p, count); },
        [&](Index p, Index count, const RowMatrixXf&, const RowMatrixXf& grads,
            const RowMatrixXf& outputs) {
            if (target_values) {
                for (Index i = 0; i < count; ++i) (*target_values)[p + i] = outputs(i, targets[p + i]);
            }
            if (take_abs) {
                result.middleRows(p, count) = grads.cwiseAbs();
            } else {
                result.middleRows(p, count) = grads;
            }
        }));
    return result;
}

Attribution input_x_gradient(const Network& net, const ConstRowRef& X,
                             const std::vector<int>& targets, const RunOptions& options) {
    Attribution out;
    VectorXd f_inputs;  // f_target(x), from the same forward pass as the gradients
    out.values = input_gradients(net, X, targets, false, options, &f_inputs).cwiseProduct(X);
    const RowMatrixXf zero = RowMatrixXf::Zero(1, X.cols());
    RowMatrixXf f_zero;
    net.predict(zero, f_zero, options);
    out.base_values.resize(X.rows());
    for (Index i = 0; i < X.rows(); ++i) out.base_values[i] = f_zero(0, targets[i]);
    out.delta = completeness_gap(out.values, f_inputs, out.base_values);
    return out;
}

namespace {

// sum_k w_k grad f(b + alpha_k (x - b)) per row, every path point through the whole network.
RowMatrixXd dense_path_weighted_gradients(const Network& net, const ConstRowRef& X,
                                          const ConstRowRef& baselines,
                                          const std::vector<int>& targets,
                                          const Quadrature& quadrature,
                                          const RunOptions& options) {
    const Index steps = static_cast<Index>(quadrature.alphas.size());
    RowMatrixXd weighted_grads = RowMatrixXd::Zero(X.rows(), X.cols());
    for_each_gradient_block(
        net, X.rows(), steps, targets, options, 0,
        lambda_worker(
            [&](Index p, Index count, RowMatrixXf& points) {
                for (Index i = 0; i < count; ++i) {
                    const Index row = (p + i) / steps;
                    const float alpha = static_cast<float>(quadrature.alphas[(p + i) % steps]);
                    points.row(i) = baselines.row(row) + alpha * (X.row(row) - baselines.row(row));
                }
            },
            [&](Index p, Index count, const RowMatrixXf&, const RowMatrixXf& grads,
                const RowMatrixXf&) {
                for (Index i = 0; i < count; ++i) {
                    const Index row = (p + i) / steps;
                    weighted_grads.row(row) +=
                        quadrature.weights[(p + i) % steps] * grads.row(i).cast<double>();
                }
            }));
    return weighted_grads;
}

}  // namespace

Attribution integrated_gradients(const Network& net, const ConstRowRef& X,
                                 const ConstRowRef& baselines, const std::vector<int>& targets,
                                 const Quadrature& quadrature, const RunOptions& options,
                                 bool fast_path) {
    require(baselines.rows() == X.rows() && baselines.cols() == X.cols(),
            "baselines: expected one row per row of X");
    mul_count(X.rows(), static_cast<Index>(quadrature.alphas.size()), "n_steps");
    // the path runs through X - baselines in float32: it must not overflow
    for (Index r = 0; r < X.rows(); ++r) {
        require(((X.row(r) - baselines.row(r)).array().abs() <= std::numeric_limits<float>::max())
                    .all(),
                "baselines: X - baselines overflows float32 in row " + std::to_string(r) +
                    " (a difference beyond 3.4e38); use baselines nearer X");
    }
    const RowMatrixXd weighted_grads =
        fast_path && linear_path_applies(net)
            ? linear_path_weighted_gradients(net, X, baselines, targets, quadrature, options)
            : dense_path_weighted_gradients(net, X, baselines, targets, quadrature, options);
    Attribution out;
    out.values = ((X - baselines).cast<double>().cwiseProduct(weighted_grads)).cast<float>();
    out.base_values = target_outputs(net, baselines, targets, options);
    out.delta = completeness_gap(out.values, target_outputs(net, X, targets, options), out.base_values);
    return out;
}

Attribution noise_tunnel(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
                         const NoiseTunnelOptions& tunnel, const RunOptions& options) {
    require_count(tunnel.n_samples, "n_samples", 1);
    mul_count(X.rows(), tunnel.n_samples, "n_samples");
    check_finite_option(tunnel.stdev, "stdev");
    check_noise_fits(X, tunnel.stdev);
    const Index samples = tunnel.n_samples;
    const CounterRng rng(tunnel.seed, kSmoothGradNoise);
    const float stdev = static_cast<float>(tunnel.stdev);
    // Sums over draws of q and q^2, where q is the per-draw attribution (or its square for
    // SmoothGrad^2), plus the plain sum of a for VarGrad.
    RowMatrixXd sum_q = RowMatrixXd::Zero(X.rows(), X.cols());
    RowMatrixXd sum_q2 = RowMatrixXd::Zero(X.rows(), X.cols());
    const bool squared = tunnel.type == NoiseTunnelType::SmoothGradSquared;
    for_each_gradient_block(
        net, X.rows(), samples, targets, options, 0,
        lambda_worker(
        [&](Index p, Index count, RowMatrixXf& points) {
            for (Index i = 0; i < count; ++i) {
                const Index row = (p + i) / samples, draw = (p + i) % samples;
                rng.normals(options.first_row + row, draw, points.row(i).data(), X.cols());
                points.row(i) = X.row(row) + stdev * points.row(i);
            }
        },
        [&](Index p, Index count, const RowMatrixXf& points, const RowMatrixXf& grads,
            const RowMatrixXf&) {
            for (Index i = 0; i < count; ++i) {
                const Index row = (p + i) / samples;
                for (Index f = 0; f < X.cols(); ++f) {
                    float a = grads(i, f);
                    if (tunnel.base == NoiseTunnelBase::AbsGradient) a = std::abs(a);
                    if (tunnel.base == NoiseTunnelBase::InputXGradient) a *= points(i, f);
                    const double q = squared ? static_cast<double>(a) * a : a;
                    sum_q(row, f) += q;
                    sum_q2(row, f) += q * q;
                }
            }
        }));
    Attribution out;
    const RowMatrixXd mean = sum_q / static_cast<double>(samples);
    const RowMatrixXd mean_sq = sum_q2 / static_cast<double>(samples);
    if (tunnel.type == NoiseTunnelType::VarGrad) {
        out.values = (mean_sq - mean.cwiseProduct(mean)).cast<float>();
        return out;
    }
    out.values = mean.cast<float>();
    if (samples > 1) {
        const RowMatrixXd variance =
            ((mean_sq - mean.cwiseProduct(mean)) * (samples / (samples - 1.0))).cwiseMax(0.0);
        out.std_error = (variance / static_cast<double>(samples)).cwiseSqrt().cast<float>();
    }
    return out;
}

namespace {

// The draws and accumulation of GradientSHAP; point (row, draw) mixes reference j with the
// (noisy) input at a random alpha.
struct GradientShapSetup {
    const ConstRowRef& X;
    const ConstRowRef& references;
    const GradientShapOptions& shap;
    RowMatrixXd& sum_a;
    RowMatrixXd& sum_a2;
    std::int64_t first_row;  // RunOptions::first_row: the streams' key of row 0
    CounterRng noise{shap.seed, kGradientShapNoise};
    CounterRng alphas{shap.seed, kGradientShapAlpha};
    CounterRng picks{shap.seed, kGradientShapBaseline};

    void fill(Index p, Index count, RowMatrixXf& points, RowMatrixXf& offset) const {
        const Index samples = shap.n_samples;
        const float stdev = static_cast<float>(shap.stdev);
        offset.resize(count, X.cols());
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / samples, draw = (p + i) % samples;
            const std::uint64_t key = static_cast<std::uint64_t>(first_row + row);
            const Index j = picks.index(key, draw, references.rows());
            const float alpha = static_cast<float>(alphas.uniform(key, draw));
            if (stdev > 0.0f) {
                noise.normals(key, draw, offset.row(i).data(), X.cols());
            } else {
                offset.row(i).setZero();  // no noise: skip the draws
            }
            // offset = noisy input - reference; the point lies alpha of the way from the reference
            offset.row(i) = X.row(row) + stdev * offset.row(i) - references.row(j);
            points.row(i) = references.row(j) + alpha * offset.row(i);
        }
    }

    // Rows are disjoint between workers, so the accumulators need no locking.
    void reduce(Index p, Index count, const RowMatrixXf& grads, const RowMatrixXf& offset) const {
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / shap.n_samples;
            const auto a = (grads.row(i).cwiseProduct(offset.row(i))).cast<double>().eval();
            sum_a.row(row) += a;
            sum_a2.row(row) += a.cwiseProduct(a);
        }
    }
};

}  // namespace

Attribution gradient_shap(const Network& net, const ConstRowRef& X, const ConstRowRef& references,
                          const std::vector<int>& targets, const GradientShapOptions& shap,
                          const RunOptions& options) {
    require_count(shap.n_samples, "n_samples", 1);
    mul_count(X.rows(), shap.n_samples, "n_samples");
    require(references.rows() >= 1, "baselines: the reference distribution is empty");
    require(references.cols() == X.cols(), "baselines: width does not match X");
    check_finite_option(shap.stdev, "stdev");
    check_noise_fits(X, shap.stdev);
    const Index samples = shap.n_samples, d = X.cols();
    RowMatrixXd sum_a = RowMatrixXd::Zero(X.rows(), d);
    RowMatrixXd sum_a2 = RowMatrixXd::Zero(X.rows(), d);
    // Each worker keeps (noisy input - reference) of its block's points for the reduce step.
    struct Worker {
        const GradientShapSetup* setup;
        RowMatrixXf offset;
        void fill(Index p, Index count, RowMatrixXf& points) { setup->fill(p, count, points, offset); }
        void reduce(Index p, Index count, const RowMatrixXf&, const RowMatrixXf& grads,
                    const RowMatrixXf&) {
            setup->reduce(p, count, grads, offset);
        }
    };
    const GradientShapSetup setup{X, references, shap, sum_a, sum_a2, options.first_row};
    for_each_gradient_block(net, X.rows(), samples, targets, options, d * sizeof(float),
                            [&] { return Worker{&setup, {}}; });
    Attribution out;
    const RowMatrixXd mean = sum_a / static_cast<double>(samples);
    out.values = mean.cast<float>();
    if (samples > 1) {
        const RowMatrixXd variance =
            ((sum_a2 / static_cast<double>(samples) - mean.cwiseProduct(mean)) *
             (samples / (samples - 1.0))).cwiseMax(0.0);
        out.std_error = (variance / static_cast<double>(samples)).cwiseSqrt().cast<float>();
    }
    RowMatrixXf f_references;
    net.predict(references, f_references, options);
    out.base_values.resize(X.rows());
    for (Index i = 0; i < X.rows(); ++i) {
        out.base_values[i] = f_references.col(targets[i]).cast<double>().mean();
    }
    out.delta = completeness_gap(out.values, target_outputs(net, X, targets, options), out.base_values);
    return out;
}

}  // namespace glassbox
