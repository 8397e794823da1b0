// Gradient attribution methods: saliency, input x gradient, integrated gradients, the noise
// tunnel (SmoothGrad, SmoothGrad^2, VarGrad) and GradientSHAP (expected gradients).
#pragma once

#include "core/methods/quadrature.hpp"
#include "core/network/network.hpp"

namespace glassbox {

struct Attribution {
    RowMatrixXf values;     // rows x n_inputs
    RowMatrixXf std_error;  // rows x n_inputs for sampled estimates, else empty
    VectorXd delta;         // completeness gap per row, or empty
    VectorXd base_values;   // f_target(reference) per row, or empty
};

// d f_target / d x at each row of X; |.| when take_abs. With target_values, also f_target(x).
RowMatrixXf input_gradients(const Network& net, const ConstRowRef& X,
                            const std::vector<int>& targets, bool take_abs,
                            const RunOptions& options, VectorXd* target_values = nullptr);

// x * grad f(x); delta = sum - (f(x) - f(0)).
Attribution input_x_gradient(const Network& net, const ConstRowRef& X,
                             const std::vector<int>& targets, const RunOptions& options);

// (x - b) * sum_k w_k grad f(b + alpha_k (x - b)); baselines has one row per row of X.
// With fast_path, networks that open with Dense -> ReLU/LeakyReLU -> Dense take the exact
// straight-path shortcut of linear_path.hpp.
Attribution integrated_gradients(const Network& net, const ConstRowRef& X,
                                 const ConstRowRef& baselines, const std::vector<int>& targets,
                                 const Quadrature& quadrature, const RunOptions& options,
                                 bool fast_path = true);

enum class NoiseTunnelType { SmoothGrad, SmoothGradSquared, VarGrad };
enum class NoiseTunnelBase { Gradient, AbsGradient, InputXGradient };

struct NoiseTunnelOptions {
    Index n_samples = 50;
    double stdev = 1.0;
    NoiseTunnelType type = NoiseTunnelType::SmoothGrad;
    NoiseTunnelBase base = NoiseTunnelBase::Gradient;
    std::uint64_t seed = 0;
};

Attribution noise_tunnel(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
                         const NoiseTunnelOptions& tunnel, const RunOptions& options);

struct GradientShapOptions {
    Index n_samples = 5;
    double stdev = 0.0;
    std::uint64_t seed = 0;
};

// Expected gradients over the reference distribution R (one reference per row of R).
Attribution gradient_shap(const Network& net, const ConstRowRef& X, const ConstRowRef& references,
                          const std::vector<int>& targets, const GradientShapOptions& shap,
                          const RunOptions& options);

}  // namespace glassbox
