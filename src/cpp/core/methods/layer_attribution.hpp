// Layer and neuron attribution (Captum's semantics): integrated gradients whose path runs in a
// layer's values, or whose target is a hidden neuron, and gradient x activation of a layer.
// Every method here is the one gradient loop (gradient_engine.hpp) with PassPoints saying where
// the points enter and where the seed sits.
#pragma once

#include "core/methods/gradients.hpp"

namespace glassbox {

// The values the entry of `points` takes for each row of X (rows x entry width): the network
// input, a layer's output, or what one input edge of a layer carries.
RowMatrixXf entry_values(const Network& net, const ConstRowRef& X, const PassPoints& points,
                         const RunOptions& options);

// Integrated gradients along the straight path, in the entry's values, from its value at the
// baseline inputs to its value at X; every other layer reads X (Captum's LayerIntegratedGradients
// replaces the layer's output by a forward hook the same way). The seed is d f_target / d(output
// of points.seed_layer): with a seed layer, `targets` index its neurons (NeuronIntegratedGradients).
// values: rows x entry width; delta = sum(values) - (f(end) - f(start)) of the seeded value along
// this path; base_values = f(start).
Attribution path_integrated_gradients(const Network& net, const ConstRowRef& X,
                                      const ConstRowRef& baselines, const PassPoints& points,
                                      const std::vector<int>& targets,
                                      const Quadrature& quadrature, const RunOptions& options);

// d f_target / d(entry) at X, times the entry's values unless `gradient_only`
// (Captum's LayerGradientXActivation, multiply_by_inputs=True / False).
Attribution layer_gradient_x_activation(const Network& net, const ConstRowRef& X,
                                        const PassPoints& points,
                                        const std::vector<int>& targets, bool gradient_only,
                                        const RunOptions& options);

// Layer conductance (Dhamdhere et al. 2018; Captum's LayerConductance): along the straight path
// in the values of `path` (the network input, or an inner entry such as an embedding) from the
// baselines to X, at quadrature points alpha_0 < ... < alpha_n (n_steps + 1 of them),
//   cond_j = sum_k d f_target / d y_j (alpha_k) * (y_j(alpha_{k+1}) - y_j(alpha_k))
// for each element j of the output of `layer` (after the path's entry). delta = sum(values) -
// (f(end) - f(start)) along the path.
Attribution layer_conductance(const Network& net, const ConstRowRef& X,
                              const ConstRowRef& baselines, const PassPoints& path, Index layer,
                              const std::vector<int>& targets, const Quadrature& quadrature,
                              const RunOptions& options);

}  // namespace glassbox
