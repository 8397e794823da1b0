// Integrated Gradients on a straight path through a network that opens with
// Dense -> ReLU/LeakyReLU -> Dense: an exact shortcut for the first three layers.
//
// On the path x(alpha) = b + alpha (x - b) the first pre-activation z1 = a + alpha * delta is
// linear, so each unit of the piecewise-linear activation switches at most once. The second Dense
// output at every path point is then updated incrementally (one column update per switching unit)
// instead of one mat-vec per point, and the backward sum over points through the same layers
// collapses, via prefix sums of the per-point gradients, to one mat-vec plus one dot product per
// switching unit. Layers after the second Dense run in the ordinary engine. Results equal the
// dense evaluation up to float rounding (the shortcut accumulates in double).
#pragma once

#include "core/methods/quadrature.hpp"
#include "core/network/network.hpp"

namespace glassbox {

bool linear_path_applies(const Network& net);

// sum_k w_k * grad f_target(b + alpha_k (x - b)) per row (rows x n_inputs), like the dense path.
RowMatrixXd linear_path_weighted_gradients(const Network& net, const ConstRowRef& X,
                                           const ConstRowRef& baselines,
                                           const std::vector<int>& targets,
                                           const Quadrature& quadrature, const RunOptions& options);

}  // namespace glassbox
